//! The tests. Each writes only inside the scratch region (`Ctx::base`..),
//! with a pattern that encodes the sector number and a per-test tag, so a
//! sector that lands in the wrong place or a stale read shows.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use abi::ipc::rights;
use abi::ipc::MAX_MESSAGE;
use abi::Error;
use blk_proto::{AsyncClient, BlkError, Op, Request, MAX_INLINE_READ, MAX_INLINE_WRITE, SECTOR_SIZE};
use libipc::ipc::{Channel, Received, SendOptions};
use libipc::server::Server;

use crate::{Ctx, Test, REGION};

pub const ALL: &[Test] = &[
    ("info", info),
    ("write_read_one", write_read_one),
    ("write_read_sizes", write_read_sizes),
    ("write_read_large", write_read_large),
    ("last_sector", last_sector),
    ("threads_in_flight", threads_in_flight),
    ("async_in_flight", async_in_flight),
    ("executor_client", executor_client),
    ("out_of_range", out_of_range),
    ("bad_requests", bad_requests),
    ("flush", flush),
    ("device_error", device_error),
];

/// The pattern for `sectors` sectors from `sector`, tagged `tag`.
fn pattern(tag: u8, sector: u64, sectors: usize) -> Vec<u8> {
    let mut v = vec![0u8; sectors * SECTOR_SIZE];
    for (i, chunk) in v.chunks_mut(SECTOR_SIZE).enumerate() {
        let s = sector + i as u64;
        chunk[..8].copy_from_slice(&s.to_le_bytes());
        chunk[8] = tag;
        for (j, b) in chunk.iter_mut().enumerate().skip(9) {
            *b = (j as u8).wrapping_mul(tag | 1) ^ (s as u8);
        }
    }
    v
}

/// Where two buffers first differ, as a message.
fn compare(what: &str, got: &[u8], want: &[u8]) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!("{what}: {} bytes, want {}", got.len(), want.len()));
    }
    match got.iter().zip(want).position(|(a, b)| a != b) {
        None => Ok(()),
        Some(i) => Err(format!("{what}: byte {i} (sector +{}) is {:#x}, want {:#x}", i / 512, got[i], want[i])),
    }
}

/// Writes the pattern at `sector` and reads it back.
fn round_trip(ctx: &Ctx, tag: u8, sector: u64, sectors: usize) -> Result<(), String> {
    let data = pattern(tag, sector, sectors);
    ctx.client.write(sector, &data).map_err(|e| format!("write {sectors} at {sector}: {e}"))?;
    let mut back = vec![0u8; data.len()];
    ctx.client.read(sector, &mut back).map_err(|e| format!("read {sectors} at {sector}: {e}"))?;
    compare(&format!("{sectors} sectors at {sector}"), &back, &data)
}

fn info(ctx: &Ctx) -> Result<(), String> {
    let i = ctx.info;
    if i.sector_size != 512 || i.capacity == 0 || i.max_transfer == 0 || i.block_size < 512 {
        return Err(format!("implausible info {i:?}"));
    }
    if let Some(n) = ctx.expect_sectors {
        if i.capacity != n {
            return Err(format!("capacity {} sectors, want {n}", i.capacity));
        }
    }
    Ok(())
}

fn write_read_one(ctx: &Ctx) -> Result<(), String> {
    round_trip(ctx, 1, ctx.base, 1)?;
    // A second write to the same sector replaces the first.
    round_trip(ctx, 2, ctx.base, 1)
}

fn write_read_sizes(ctx: &Ctx) -> Result<(), String> {
    let max = ctx.info.max_transfer as usize;
    let mut at = ctx.base + 8;
    for (tag, n) in [(3u8, 2usize), (4, 7), (5, 8), (6, 9), (7, max - 1), (8, max), (9, max + 1), (10, 3 * max + 5)] {
        round_trip(ctx, tag, at, n)?;
        at += n as u64;
    }
    // Each write stayed in its place: read the whole span back at once.
    let mut back = vec![0u8; (at - ctx.base - 8) as usize * SECTOR_SIZE];
    ctx.client.read(ctx.base + 8, &mut back).map_err(|e| format!("read span: {e}"))?;
    let mut want = Vec::new();
    let mut s = ctx.base + 8;
    for (tag, n) in [(3u8, 2usize), (4, 7), (5, 8), (6, 9), (7, max - 1), (8, max), (9, max + 1), (10, 3 * max + 5)] {
        want.extend(pattern(tag, s, n));
        s += n as u64;
    }
    compare("span", &back, &want)
}

fn write_read_large(ctx: &Ctx) -> Result<(), String> {
    // Half the region in one request: the driver splits it over all its slots.
    round_trip(ctx, 11, ctx.base + REGION / 2, REGION as usize / 2)
}

fn last_sector(ctx: &Ctx) -> Result<(), String> {
    round_trip(ctx, 12, ctx.info.capacity - 1, 1)?;
    round_trip(ctx, 13, ctx.info.capacity - 5, 5)
}

/// Four threads, each with its own blocking request in flight at a time,
/// writing and reading back their own quarter of a span.
fn threads_in_flight(ctx: &Ctx) -> Result<(), String> {
    const THREADS: u64 = 4;
    const ROUNDS: u64 = 6;
    const SECTORS: u64 = 24;
    let base = ctx.base + REGION / 2;
    let mut joins = Vec::new();
    for t in 0..THREADS {
        let client = Arc::clone(&ctx.client);
        let join = libipc::thread::spawn(move || {
            for r in 0..ROUNDS {
                let sector = base + (r * THREADS + t) * SECTORS;
                let data = pattern(20 + t as u8, sector, SECTORS as usize);
                if client.write(sector, &data).is_err() {
                    return 1;
                }
                let mut back = vec![0u8; data.len()];
                if client.read(sector, &mut back).is_err() || back != data {
                    return 2;
                }
            }
            0
        });
        joins.push(join.map_err(|e| format!("spawn: {e}"))?);
    }
    for (t, join) in joins.into_iter().enumerate() {
        match join.join() {
            Ok(0) => {}
            Ok(1) => return Err(format!("thread {t}: write failed")),
            Ok(_) => return Err(format!("thread {t}: read back wrong")),
            Err(e) => return Err(format!("join: {e}")),
        }
    }
    // And the interleaved result is right as a whole.
    let count = (THREADS * ROUNDS * SECTORS) as usize;
    let mut back = vec![0u8; count * SECTOR_SIZE];
    ctx.client.read(base, &mut back).map_err(|e| format!("read all: {e}"))?;
    for i in 0..THREADS * ROUNDS {
        let sector = base + i * SECTORS;
        let want = pattern(20 + (i % THREADS) as u8, sector, SECTORS as usize);
        let at = (i * SECTORS) as usize * SECTOR_SIZE;
        compare(&format!("block {i}"), &back[at..at + want.len()], &want)?;
    }
    Ok(())
}

/// Many requests from one thread at once: asynchronous sends with the data
/// inline, all queued before the first reply is collected.
fn async_in_flight(ctx: &Ctx) -> Result<(), String> {
    const N: u64 = 12;
    let replies = Channel::create().map_err(|e| format!("channel: {e}"))?;
    let conn = ctx.client.connection();
    let sector_of = |i: u64| ctx.base + 200 + i * 16;
    let mut buf = vec![0u8; MAX_MESSAGE];

    for i in 0..N {
        let n = 1 + (i as u32 % MAX_INLINE_WRITE);
        let mut msg = Request::io(Op::Write, sector_of(i), n).inline().encode().to_vec();
        msg.extend(pattern(40 + i as u8, sector_of(i), n as usize));
        conn.send_async(&msg, i, &replies).map_err(|e| format!("send_async write {i}: {e}"))?;
    }
    collect(&replies, &mut buf, N, |token, status, _| {
        BlkError::from_status(status).map_err(|e| format!("write {token}: {e}"))
    })?;

    // Read back the same sectors (an inline write is never longer than an
    // inline read may be).
    const _: () = assert!(MAX_INLINE_WRITE <= MAX_INLINE_READ);
    for i in 0..N {
        let n = 1 + (i as u32 % MAX_INLINE_WRITE);
        let msg = Request::io(Op::Read, sector_of(i), n).inline().encode();
        conn.send_async(&msg, 100 + i, &replies).map_err(|e| format!("send_async read {i}: {e}"))?;
    }
    collect(&replies, &mut buf, N, |token, status, data| {
        BlkError::from_status(status).map_err(|e| format!("read {token}: {e}"))?;
        let i = token - 100;
        let n = 1 + (i as usize % MAX_INLINE_WRITE as usize);
        compare(&format!("async read {i}"), data, &pattern(40 + i as u8, sector_of(i), n))
    })
}

/// Receives `n` asynchronous replies (in any order) and checks each once.
fn collect(
    replies: &Channel,
    buf: &mut [u8],
    n: u64,
    mut check: impl FnMut(u64, i64, &[u8]) -> Result<(), String>,
) -> Result<(), String> {
    let mut seen = Vec::new();
    while (seen.len() as u64) < n {
        match replies.receive_timeout(buf, core::time::Duration::from_secs(10)) {
            Ok(Received::AsyncReply { token, status, len }) => {
                if seen.contains(&token) {
                    return Err(format!("token {token} answered twice"));
                }
                seen.push(token);
                check(token, status, &buf[..len])?;
            }
            Ok(other) => return Err(format!("unexpected {other:?}")),
            Err(e) => return Err(format!("receive: {e} after {} replies", seen.len())),
        }
    }
    Ok(())
}

/// The async client as an executor task uses it (the fs server's way):
/// transfers longer than one inline request go out as several requests at
/// once; errors come back typed.
fn executor_client(ctx: &Ctx) -> Result<(), String> {
    let conn = ctx.client.connection().dup(rights::SEND).map_err(|e| format!("dup: {e}"))?;
    let client = AsyncClient::new(conn);
    let mut executor = Server::unregistered("blktest").map_err(|e| format!("executor: {e}"))?.into_executor();
    let (base, cap) = (ctx.base + 400, ctx.info.capacity);
    // 45 sectors: seven inline writes, then six inline reads, in flight at
    // once. (The pattern is made and checked outside the task, which then
    // only waits.)
    let data = pattern(90, base, 45);
    let outcome = executor.block_on(async move {
        let info = client.info().await.map_err(|e| format!("info: {e}"))?;
        if info.capacity != cap {
            return Err(format!("info says {} sectors", info.capacity));
        }
        client.write(base, &data).await.map_err(|e| format!("write: {e}"))?;
        let mut back = vec![0u8; data.len()];
        client.read(base, &mut back).await.map_err(|e| format!("read: {e}"))?;
        client.flush().await.map_err(|e| format!("flush: {e}"))?;
        match client.read(cap - 4, &mut [0u8; 8 * SECTOR_SIZE]).await {
            Err(BlkError::OutOfRange) => Ok((data, back)),
            other => Err(format!("read across the end: {other:?}")),
        }
    });
    let (data, back) = outcome.map_err(|e| format!("block_on: {e}"))??;
    compare("async client read", &back, &data)
}

fn out_of_range(ctx: &Ctx) -> Result<(), String> {
    let cap = ctx.info.capacity;
    let mut buf = vec![0u8; 2 * SECTOR_SIZE];
    let expect = |what: &str, r: Result<(), BlkError>| match r {
        Err(BlkError::OutOfRange) => Ok(()),
        other => Err(format!("{what}: {other:?}, want OutOfRange")),
    };
    expect("read at capacity", ctx.client.read(cap, &mut buf[..SECTOR_SIZE]))?;
    expect("read across the end", ctx.client.read(cap - 1, &mut buf))?;
    expect("read far beyond", ctx.client.read(u64::MAX - 1, &mut buf))?;
    expect("write at capacity", ctx.client.write(cap, &buf[..SECTOR_SIZE]))?;
    expect("write across the end", ctx.client.write(cap - 1, &buf))?;
    // The driver still works afterwards.
    round_trip(ctx, 60, ctx.base + 100, 2)
}

fn bad_requests(ctx: &Ctx) -> Result<(), String> {
    let conn = ctx.client.connection();
    let bad_arg = |what: &str, r: libipc::Result<libipc::ipc::Reply>| match r {
        Err(Error::BadArgument) => Ok(()),
        other => Err(format!("{what}: {other:?}, want BadArgument")),
    };
    // A lease shorter than the request.
    let mut small = [0u8; SECTOR_SIZE];
    let req = Request::io(Op::Read, ctx.base, 2).encode();
    bad_arg("short lease", conn.send_with(&req, &mut [], &SendOptions::new().lease_write(&mut small)))?;
    // No lease at all.
    bad_arg("no lease", conn.send_with(&req, &mut [], &SendOptions::new()))?;
    // Garbage instead of a header; a header cut short.
    bad_arg("garbage", conn.send_with(&[0xee; 24], &mut [], &SendOptions::new()))?;
    bad_arg("short header", conn.send_with(&req[..10], &mut [], &SendOptions::new()))?;
    // A write whose buffer was lent for writing only: the driver may not read it.
    let data = pattern(61, ctx.base, 1);
    let mut lent = data.clone();
    let req = Request::io(Op::Write, ctx.base, 1).encode();
    match conn.send_with(&req, &mut [], &SendOptions::new().lease_write(&mut lent)) {
        Err(Error::PermissionDenied) => {}
        other => return Err(format!("write lease without read right: {other:?}")),
    }
    // The buffer size of a plain call must be whole sectors.
    match ctx.client.read(ctx.base, &mut small[..100]) {
        Err(BlkError::Ipc(Error::BadArgument)) => {}
        other => return Err(format!("partial sector: {other:?}")),
    }
    round_trip(ctx, 62, ctx.base + 100, 1)
}

fn flush(ctx: &Ctx) -> Result<(), String> {
    let data = pattern(70, ctx.base + 120, 4);
    ctx.client.write(ctx.base + 120, &data).map_err(|e| format!("write: {e}"))?;
    ctx.client.flush().map_err(|e| format!("flush: {e}"))?;
    ctx.client.flush().map_err(|e| format!("second flush: {e}"))?;
    let mut back = vec![0u8; data.len()];
    ctx.client.read(ctx.base + 120, &mut back).map_err(|e| format!("read: {e}"))?;
    compare("after flush", &back, &data)
}

/// Puts the scratch region back as it was and checks it.
pub fn restore(ctx: &Ctx, saved: &[u8]) -> Result<(), String> {
    ctx.client.write(ctx.base, saved).map_err(|e| format!("write: {e}"))?;
    ctx.client.flush().map_err(|e| format!("flush: {e}"))?;
    let mut back = vec![0u8; saved.len()];
    ctx.client.read(ctx.base, &mut back).map_err(|e| format!("read: {e}"))?;
    compare("restored region", &back, saved)
}

/// With `ioerr=N` (QEMU's blkdebug failing reads of sector N, outside the
/// scratch region): a read touching N fails with `Io`, its neighbours
/// still read. Without the argument there is nothing to check.
fn device_error(ctx: &Ctx) -> Result<(), String> {
    let Some(bad) = ctx.ioerr else { return Ok(()) };
    let mut buf = vec![0u8; 4 * SECTOR_SIZE];
    match ctx.client.read(bad, &mut buf[..SECTOR_SIZE]) {
        Err(BlkError::Io) => {}
        other => return Err(format!("read of sector {bad}: {other:?}, want Io")),
    }
    match ctx.client.read(bad.saturating_sub(2), &mut buf) {
        Err(BlkError::Io) => {}
        other => return Err(format!("read across sector {bad}: {other:?}, want Io")),
    }
    ctx.client.read(bad + 1, &mut buf).map_err(|e| format!("read after sector {bad}: {e}"))
}
