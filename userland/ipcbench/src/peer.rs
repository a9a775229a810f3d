//! The other side of each case: `ipcbench peer <kind>` runs in its own
//! process (the benchmark spawns it with the handles the kind needs); the
//! echo loop also runs as a thread of the benchmark for the same-address-
//! space rows.
//!
//! | kind | handles | does |
//! |---|---|---|
//! | `echo` | channel | replies to each message (sync or async) with its own bytes, raw `reply_receive` |
//! | `lease` | channel | reads or writes the sender's lease, timing the call; replies the ticks |
//! | `pulse` | channel, connection back | answers each ping pulse with a pong pulse |
//! | `yield` | — | yields for ever |
//! | `typed` | channel | the typed protocol with libipc's blocking `Channel::reply_receive` |
//! | `executor` | channel | the typed protocol served by libipc's executor |
//!
//! Peers end when killed; the echo loop also ends at a pulse (how the
//! benchmark stops its echo thread).
#![forbid(unsafe_code)]

use alloc::vec;

use abi::ipc::{Kind, MAX_MESSAGE};
use abi::syscall::first_handle;
use libipc::executor::{Executor, KernelBackend};
use libipc::ipc::{error_reply, Channel, Handle, Received};
use libipc::wire::{self, Wire, Writer};

use crate::measure::Timer;
use crate::proto::{self, bench};
use crate::raw;

/// Pulse code of a ping (benchmark → peer) and of a pong (peer → benchmark).
pub const PING: u64 = 1;
pub const PONG: u64 = 2;

/// Lease operations (the first word of a lease request).
pub const LEASE_READ: u64 = 1;
pub const LEASE_WRITE: u64 = 2;
/// Largest lease the lease peer serves.
pub const MAX_LEASE: usize = 64 * 1024;

/// Runs peer `kind`; its exit status.
pub fn run(kind: Option<&str>) -> i32 {
    let (h0, h1) = (first_handle(0), first_handle(1));
    match kind {
        Some("echo") => echo(h0) as i32,
        Some("lease") => lease(h0),
        Some("pulse") => pulse(h0, h1),
        Some("yield") => loop {
            raw::yield_now();
        },
        Some("typed") => typed(),
        Some("executor") => executor(),
        _ => {
            libipc::println!("ipcbench: no such peer {kind:?}");
            2
        }
    }
}

/// Whether a receive's `kind` is a message to answer.
#[inline(always)]
fn is_message(kind: u64) -> bool {
    kind == Kind::Message as u64 || kind == Kind::AsyncMessage as u64
}

/// Echoes every message on `chan` back to its sender with raw
/// `reply_receive`; returns 0 at a pulse, 1 at an error.
pub fn echo(chan: u64) -> i64 {
    let mut buf = vec![0u8; MAX_MESSAGE];
    let (mut rcvid, mut len) = (0u64, 0usize);
    loop {
        let (rax, n, kind) = raw::reply_receive(rcvid, len, chan, &mut buf);
        if raw::is_err(rax) {
            return 1;
        }
        if !is_message(kind) {
            return 0;
        }
        (rcvid, len) = (rax, n as usize);
    }
}

/// The lease peer. A request is three little-endian words: operation,
/// sequence number, lease length. A read checks that the lease starts and
/// ends with the sequence number; a write puts it there. The reply is two
/// words: the ticks the lease call took, and 1 if all was well.
fn lease(chan: u64) -> i32 {
    let timer = Timer::overhead_only();
    let mut data = vec![0u8; MAX_LEASE];
    let mut buf = vec![0u8; MAX_MESSAGE];
    let (mut rcvid, mut reply_len) = (0u64, 0usize);
    loop {
        let (rax, n, kind) = raw::reply_receive(rcvid, reply_len, chan, &mut buf);
        if raw::is_err(rax) {
            return 1;
        }
        (rcvid, reply_len) = (0, 0);
        if !is_message(kind) || n < 24 {
            continue;
        }
        let [op, seq, len] = [word(&buf, 0), word(&buf, 1), word(&buf, 2)];
        let len = (len as usize).min(MAX_LEASE);
        let Some(lease) = data.get_mut(..len) else { continue };
        let (ticks, ok) = match op {
            LEASE_READ => {
                let t0 = raw::rdtsc();
                let r = raw::lease_read(rax, lease);
                let t1 = raw::rdtsc();
                (timer.ticks(t0, t1), r == len as u64 && ends_with_seq(lease, seq))
            }
            _ => {
                stamp_ends(lease, seq);
                let t0 = raw::rdtsc();
                let r = raw::lease_write(rax, lease);
                let t1 = raw::rdtsc();
                (timer.ticks(t0, t1), r == len as u64)
            }
        };
        buf[..8].copy_from_slice(&ticks.to_le_bytes());
        buf[8..16].copy_from_slice(&u64::from(ok).to_le_bytes());
        (rcvid, reply_len) = (rax, 16);
    }
}

/// Little-endian word `i` of `buf` (0 past its end).
pub fn word(buf: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    if let Some(b) = buf.get(i * 8..i * 8 + 8) {
        w.copy_from_slice(b);
    }
    u64::from_le_bytes(w)
}

/// Writes `seq` into the first and last 8 bytes of `buf` (at least 16 long).
pub fn stamp_ends(buf: &mut [u8], seq: u64) {
    let n = buf.len();
    if n >= 16 {
        buf[..8].copy_from_slice(&seq.to_le_bytes());
        buf[n - 8..].copy_from_slice(&seq.to_le_bytes());
    }
}

/// Whether `buf` starts and ends with `seq` (see [`stamp_ends`]).
pub fn ends_with_seq(buf: &[u8], seq: u64) -> bool {
    let n = buf.len();
    n >= 16 && word(buf, 0) == seq && buf[n - 8..] == seq.to_le_bytes()
}

/// Answers each ping pulse on `chan` with a pong (value + 1) on `back`.
fn pulse(chan: u64, back: u64) -> i32 {
    let mut buf = [0u8; 16];
    loop {
        let r = raw::receive(chan, &mut buf);
        if raw::is_err(r.rax) || r.kind != Kind::Pulse as u64 || r.word != PING {
            return 1;
        }
        if raw::is_err(raw::pulse(back, PONG, r.value.wrapping_add(1))) {
            return 1;
        }
    }
}

/// The typed protocol over libipc's blocking channel calls: decode, answer,
/// encode (into a reused `Writer`: no allocation per request),
/// `reply_receive`.
fn typed() -> i32 {
    let Some(handle) = Handle::initial(0) else { return 1 };
    let chan = Channel::from_handle(handle);
    let mut buf = vec![0u8; MAX_MESSAGE];
    let mut reply = Writer::new();
    let mut rcvid = 0;
    loop {
        let got = chan.reply_receive(rcvid, 0, reply.as_slice(), &mut buf);
        rcvid = 0;
        reply.clear();
        match got {
            Ok(Received::Message(m) | Received::AsyncMessage(m)) => {
                match wire::from_bytes::<bench::Request>(buf.get(..m.len).unwrap_or(&[])) {
                    Ok(req) => {
                        proto::answer(req).encode(&mut reply);
                        rcvid = m.rcvid;
                    }
                    Err(e) => {
                        let _ = error_reply(m.rcvid, e);
                    }
                }
            }
            Ok(_) => {}
            Err(_) => return 1,
        }
    }
}

/// The typed protocol served by libipc's executor (a task per request).
fn executor() -> i32 {
    let Some(handle) = Handle::initial(0) else { return 1 };
    let backend = match KernelBackend::new(Channel::from_handle(handle)) {
        Ok(b) => b,
        Err(e) => {
            libipc::println!("ipcbench peer: {e}");
            return 1;
        }
    };
    let mut server = Executor::new(backend).serve(|req: bench::Request, _ctx| async move { Ok(proto::answer(req)) });
    libipc::server::exit_code("ipcbench peer", server.run())
}
