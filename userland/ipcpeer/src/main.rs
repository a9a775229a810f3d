//! `ipcpeer`: the other process in `ipctest`'s IPC tests. `ipctest` spawns
//! it with a mode word and hands it channels or connections at spawn
//! (`first_handle(0)`, `first_handle(1)`, ...).
//!
//! Modes (`h0`, `h1` = the handles given, in order):
//! - `sizes` (h0 channel): serves the size exchange (`proto::serve_sizes`);
//!   exits with the number of damaged messages.
//! - `sizes-client` (h0 connection): runs the size exchange as the client,
//!   then pulses `PULSE_STOP`; exits 0, or 1 after printing what broke.
//! - `serve [prio=N]` (h0 channel, h1 optional control channel): serves the
//!   `proto::OP_*` operations with `reply_receive`, at priority N.
//! - `holder N` (h0 channel, h1 connection): receives N messages (sync or
//!   async) and answers none, pulses `PULSE_READY` on h1, then sleeps.
//! - `client` (h0 connection): sends `OP_HOLD` with a 4 KiB write lease and
//!   waits for ever; exits 1 if the send ever returns.
//! - `nohandle V`: tries to send and pulse on handle number V and on the
//!   numbers handles given at spawn would have; exits with the number of
//!   attempts that did not fail with `BadHandle`.
//! - `async-rev N` (h0 channel): takes N asynchronous messages, answers them
//!   in reverse order (status = arrival index, data = the bytes reversed);
//!   repeats until `PULSE_STOP`.
//! - `async-die` (h0 connection, h1 channel): sends one asynchronous
//!   message (token 9, reply to h1) and exits at once.
//! - `pulser` (h0 connection): pulses `PULSE_BULK` with values 0, 1, ...
//!   until `QueueFull`; exits with the number queued.
//! - `hog ms=N prio=P` (h0 connection): at priority P, pulses
//!   `PULSE_READY`, then computes for N ms without a system call between
//!   clock reads; exits 0.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

mod proto;

use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use libipc::ipc::{self, Channel, Connection, Handle, Received, SendOptions, MAX_MESSAGE};
use libipc::{println, Args, Error};
use proto::*;

libipc::main!(main);

fn main(args: Args) -> i32 {
    let mode = args.word(0).unwrap_or("");
    let result = match mode {
        "sizes" => sizes(),
        "sizes-client" => sizes_client(),
        "serve" => serve(args),
        "holder" => holder(args),
        "client" => client(),
        "nohandle" => nohandle(args),
        "async-rev" => async_rev(args),
        "async-die" => async_die(),
        "pulser" => pulser(),
        "hog" => hog(args),
        _ => Err(alloc::format!("unknown mode {mode:?}")),
    };
    match result {
        Ok(status) => status,
        Err(why) => {
            println!("ipcpeer {mode}: {why}");
            100
        }
    }
}

type Outcome = Result<i32, alloc::string::String>;

fn channel(n: u64) -> Channel {
    Channel::from_handle(Handle::initial(n).unwrap_or_else(|| libipc::exit(101)))
}

fn connection(n: u64) -> Connection {
    Connection::from_handle(Handle::initial(n).unwrap_or_else(|| libipc::exit(101)))
}

fn number(args: Args, key: &str, default: u64) -> u64 {
    args.value(key).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn sizes() -> Outcome {
    let bad = serve_sizes(&channel(0))?;
    Ok(bad.min(99) as i32)
}

fn sizes_client() -> Outcome {
    let conn = connection(0);
    let result = send_sizes(&conn);
    conn.pulse(PULSE_STOP, 0).map_err(|e| alloc::format!("stop pulse: {e:?}"))?;
    result.map(|()| 0)
}

fn u32_at(msg: &[u8], at: usize) -> usize {
    let mut b = [0u8; 4];
    if let Some(s) = msg.get(at..at + 4) {
        b.copy_from_slice(s);
    }
    u32::from_le_bytes(b) as usize
}

fn serve(args: Args) -> Outcome {
    let ch = channel(0);
    let control = Handle::initial(1).map(Channel::from_handle);
    if let Some(p) = args.value("prio").and_then(|v| v.parse().ok()) {
        ipc::set_priority(p).map_err(|e| alloc::format!("set_priority({p}): {e:?}"))?;
    }
    let mut buf = vec![0u8; MAX_MESSAGE];
    let mut out = vec![0u8; MAX_MESSAGE];
    let mut big = Vec::new();
    let (mut rcvid, mut status, mut out_len) = (0u64, 0i32, 0usize);
    let mut seq = 0;
    loop {
        let got = ch.reply_receive(rcvid, status, &out[..out_len], &mut buf);
        (rcvid, status, out_len) = (0, 0, 0);
        let m = match got {
            Ok(Received::Message(m)) | Ok(Received::AsyncMessage(m)) => m,
            Ok(Received::Pulse { code: PULSE_STOP, .. }) => return Ok(0),
            Ok(_) => continue,
            // The client died before the reply: carry on with the others.
            Err(Error::PeerDied) => continue,
            Err(e) => return Err(alloc::format!("receive: {e:?}")),
        };
        let msg = &buf[..m.len];
        let op = msg.first().copied().unwrap_or(0);
        match op {
            OP_ECHO => {
                out[..m.len].copy_from_slice(msg);
                (rcvid, status, out_len) = (m.rcvid, m.len as i32, m.len);
            }
            OP_LEASE_FILL | OP_LEASE_CHECK => {
                let (seed, len) = (msg.get(1).copied().unwrap_or(0), u32_at(msg, 2));
                big.resize(len, 0);
                status = if op == OP_LEASE_FILL {
                    lease_fill(m.rcvid, seed, &mut big)
                } else {
                    lease_check(m.rcvid, seed, &mut big)
                };
                rcvid = m.rcvid;
            }
            OP_LEASE_PROBE => {
                status = lease_probe(m.rcvid, u32_at(msg, 1));
                rcvid = m.rcvid;
            }
            OP_HOLD => {}
            OP_BUSY => {
                seq = 0;
                let _ = ipc::reply(m.rcvid, 0, &[]);
                match &control {
                    Some(c) => loop {
                        match c.receive(&mut out) {
                            Ok(Received::Pulse { code: PULSE_GO, .. }) => break,
                            Ok(_) => {}
                            Err(e) => return Err(alloc::format!("control receive: {e:?}")),
                        }
                    },
                    None => return Err("OP_BUSY without a control channel".into()),
                }
            }
            OP_SPIN => {
                spin(Duration::from_millis(u32_at(msg, 1) as u64));
                rcvid = m.rcvid;
            }
            OP_USE_HANDLE => {
                let mut value = [0u8; 8];
                if let Some(v) = msg.get(1..9) {
                    value.copy_from_slice(v);
                }
                status = match m.handle {
                    None => 1,
                    Some(h) => match Connection::from_handle(h).pulse(PULSE_HELLO, u64::from_le_bytes(value)) {
                        Ok(()) => 0,
                        Err(e) => 1 + e as i32,
                    },
                };
                rcvid = m.rcvid;
            }
            OP_GIVE_HANDLE => match ch.connect() {
                Ok(c) => {
                    let _ = ipc::reply_with_handle(m.rcvid, 0, &[], c.handle());
                }
                Err(e) => {
                    let _ = ipc::error_reply(m.rcvid, e);
                }
            },
            OP_EXIT => {
                let _ = ipc::reply(m.rcvid, 0, &[]);
                return Ok(0);
            }
            OP_SEQ => {
                out[0] = msg.get(1).copied().unwrap_or(0xff);
                (rcvid, status, out_len) = (m.rcvid, seq, 1);
                seq += 1;
            }
            _ => {
                let _ = ipc::error_reply(m.rcvid, Error::BadArgument);
            }
        }
    }
}

/// Writes `pattern(len, seed)` into lease 0 in odd-sized pieces.
fn lease_fill(rcvid: u64, seed: u8, buf: &mut [u8]) -> i32 {
    fill(buf, seed);
    let mut at = 0;
    while at < buf.len() {
        let end = (at + 5000).min(buf.len());
        match ipc::lease_write(rcvid, 0, at, &buf[at..end]) {
            Ok(n) if n == end - at => at = end,
            Ok(_) => return 1000,
            Err(e) => return 1000 + e as i32,
        }
    }
    0
}

/// Reads lease 0 in one piece and checks it.
fn lease_check(rcvid: u64, seed: u8, buf: &mut [u8]) -> i32 {
    buf.fill(0);
    match ipc::lease_read(rcvid, 0, 0, buf) {
        Ok(n) if n == buf.len() => first_mismatch(buf, seed).map_or(0, |i| 1 + i as i32),
        Ok(_) => -1000,
        Err(e) => -1000 - e as i32,
    }
}

/// Lease 0 is READ, lease 1 is WRITE, both `len` bytes.
fn lease_probe(rcvid: u64, len: usize) -> i32 {
    let mut buf = [0u8; 64];
    let probes: [(Result<usize, Error>, Result<usize, Error>); 8] = [
        // The last bytes, exactly to the end: fine.
        (ipc::lease_read(rcvid, 0, len - 16, &mut buf[..16]), Ok(16)),
        // Ten bytes past the end.
        (ipc::lease_read(rcvid, 0, len - 10, &mut buf[..20]), Err(Error::BadArgument)),
        (ipc::lease_write(rcvid, 1, len, &buf[..1]), Err(Error::BadArgument)),
        // An offset that overflows.
        (ipc::lease_read(rcvid, 0, usize::MAX - 4, &mut buf[..8]), Err(Error::BadArgument)),
        // Wrong rights.
        (ipc::lease_write(rcvid, 0, 0, &buf[..8]), Err(Error::PermissionDenied)),
        (ipc::lease_read(rcvid, 1, 0, &mut buf[..8]), Err(Error::PermissionDenied)),
        // No such lease.
        (ipc::lease_read(rcvid, 2, 0, &mut buf[..8]), Err(Error::BadArgument)),
        // Not a receive id of ours.
        (ipc::lease_read(rcvid ^ (1 << 20), 0, 0, &mut buf[..8]), Err(Error::PeerDied)),
    ];
    for (i, (got, want)) in probes.iter().enumerate() {
        if got != want {
            println!("ipcpeer: lease probe {i}: got {got:?}, expected {want:?}");
            return 1 + i as i32;
        }
    }
    0
}

/// Computes until `d` has passed, reading the clock between chunks.
fn spin(d: Duration) {
    let end = libipc::time_ns().saturating_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    let mut acc = 1u64;
    while libipc::time_ns() < end {
        for i in 0..2000 {
            acc = core::hint::black_box(acc.wrapping_mul(6364136223846793005).wrapping_add(i));
        }
    }
}

fn holder(args: Args) -> Outcome {
    let ch = channel(0);
    let notify = connection(1);
    let n: usize = args.word(1).and_then(|w| w.parse().ok()).unwrap_or(1);
    let mut buf = vec![0u8; MAX_MESSAGE];
    let mut held = Vec::new();
    while held.len() < n {
        match ch.receive(&mut buf) {
            Ok(Received::Message(m)) | Ok(Received::AsyncMessage(m)) => held.push(m.rcvid),
            Ok(_) => {}
            Err(e) => return Err(alloc::format!("receive: {e:?}")),
        }
    }
    notify.pulse(PULSE_READY, n as u64).map_err(|e| alloc::format!("ready pulse: {e:?}"))?;
    loop {
        libipc::sleep(Duration::from_secs(3600));
    }
}

fn client() -> Outcome {
    let conn = connection(0);
    let mut lent = vec![0u8; 4096];
    let mut reply = [0u8; 16];
    let r = conn.send_with(&[OP_HOLD], &mut reply, &SendOptions::new().lease_write(&mut lent));
    println!("ipcpeer client: send returned {r:?}");
    Ok(1)
}

fn nohandle(args: Args) -> Outcome {
    let mut guesses: Vec<u64> = args.word(1).and_then(|w| w.parse().ok()).into_iter().collect();
    guesses.extend((0..16).map(abi::syscall::first_handle));
    let mut wrong = 0;
    let mut reply = [0u8; 8];
    for g in guesses {
        let sent = ipc::raw::send(g, &[OP_ECHO], &mut reply, &ipc::raw::LeaseTable::new(), 0, 0).map(|r| r.status);
        let pulsed = ipc::raw::pulse(g, PULSE_HELLO, 0);
        if sent.err() != Some(Error::BadHandle) || pulsed != Err(Error::BadHandle) {
            println!("ipcpeer nohandle: handle {g:#x}: send {sent:?}, pulse {pulsed:?}");
            wrong += 1;
        }
    }
    Ok(wrong)
}

fn async_rev(args: Args) -> Outcome {
    let ch = channel(0);
    let n: usize = args.word(1).and_then(|w| w.parse().ok()).unwrap_or(1);
    let mut buf = vec![0u8; MAX_MESSAGE];
    loop {
        let mut batch = Vec::new();
        while batch.len() < n {
            match ch.receive(&mut buf).map_err(|e| alloc::format!("receive: {e:?}"))? {
                Received::AsyncMessage(m) => {
                    let mut data = buf[..m.len].to_vec();
                    data.reverse();
                    batch.push((m.rcvid, data));
                }
                Received::Pulse { code: PULSE_STOP, .. } => return Ok(0),
                Received::Message(m) => {
                    let _ = ipc::error_reply(m.rcvid, Error::BadArgument);
                }
                _ => {}
            }
        }
        for (i, (rcvid, data)) in batch.iter().enumerate().rev() {
            ipc::reply(*rcvid, i as i64, data).map_err(|e| alloc::format!("async reply {i}: {e:?}"))?;
        }
    }
}

fn async_die() -> Outcome {
    let conn = connection(0);
    let reply_to = channel(1);
    conn.send_async(b"from beyond", 9, &reply_to).map_err(|e| alloc::format!("send_async: {e:?}"))?;
    Ok(0)
}

fn pulser() -> Outcome {
    let conn = connection(0);
    for i in 0.. {
        match conn.pulse(PULSE_BULK, i) {
            Ok(()) => {}
            Err(Error::QueueFull) => return Ok(i as i32),
            Err(e) => return Err(alloc::format!("pulse {i}: {e:?}")),
        }
        if i > 10_000 {
            return Err("no QueueFull after 10000 pulses".into());
        }
    }
    Ok(-1)
}

fn hog(args: Args) -> Outcome {
    let notify = connection(0);
    let prio = number(args, "prio", 8) as u8;
    ipc::set_priority(prio).map_err(|e| alloc::format!("set_priority({prio}): {e:?}"))?;
    notify.pulse(PULSE_READY, 0).map_err(|e| alloc::format!("ready pulse: {e:?}"))?;
    spin(Duration::from_millis(number(args, "ms", 300)));
    Ok(0)
}
