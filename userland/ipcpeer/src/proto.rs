//! What `ipctest` and `ipcpeer` agree on: the operations of the peer's
//! server, pulse codes, the byte patterns messages carry, and the message
//! size exchange both sides run (compiled into both programs).
#![forbid(unsafe_code)]
#![allow(dead_code)] // each program uses its own half

use alloc::format;
use alloc::string::String;
use alloc::vec;

use libipc::ipc::{Channel, Connection, Received, MAX_MESSAGE};

// Operations of `ipcpeer serve`: the first byte of a message.
/// Reply with the message itself; status = its length.
pub const OP_ECHO: u8 = 1;
/// `[op, seed, len: u32 le]`: write `pattern(len, seed)` into lease 0.
pub const OP_LEASE_FILL: u8 = 2;
/// `[op, seed, len: u32 le]`: check lease 0 holds `pattern(len, seed)`;
/// status 0, or 1 + the first wrong index.
pub const OP_LEASE_CHECK: u8 = 3;
/// `[op, len: u32 le]` with lease 0 READ and lease 1 WRITE, both `len`
/// bytes: probe out-of-bounds and wrong-rights accesses; status 0, or the
/// number of the first probe that did not get the expected answer.
pub const OP_LEASE_PROBE: u8 = 4;
/// Never answered.
pub const OP_HOLD: u8 = 5;
/// Reply, then wait for a pulse on the control channel (`first_handle(1)`)
/// without receiving on the main channel: the server is busy.
pub const OP_BUSY: u8 = 6;
/// `[op, ms: u32 le]`: compute for `ms` milliseconds, then reply.
pub const OP_SPIN: u8 = 7;
/// The message carries a connection: pulse `PULSE_HELLO` with value
/// `[1..9]` on it, then reply 0 (or `1 + error code`).
pub const OP_USE_HANDLE: u8 = 8;
/// Reply with a new connection to the server's own channel.
pub const OP_GIVE_HANDLE: u8 = 9;
/// Reply, then exit with status 0.
pub const OP_EXIT: u8 = 10;
/// `[op, i]`: status = how many `OP_SEQ` arrived before this one since the
/// last `OP_BUSY`; the reply is `[i]`.
pub const OP_SEQ: u8 = 11;

/// Ends a serving loop.
pub const PULSE_STOP: u64 = 1;
/// Lets a busy server go on.
pub const PULSE_GO: u64 = 2;
/// Sent through a handle that travelled in a message.
pub const PULSE_HELLO: u64 = 3;
/// A hog or holder says it is in position.
pub const PULSE_READY: u64 = 4;
/// Sent in bulk by `ipcpeer pulser`.
pub const PULSE_BULK: u64 = 5;

/// Message directions for [`pattern`].
pub const UP: u8 = 0;
pub const DOWN: u8 = 1;

/// Byte `i` of a message of `len` bytes going in direction (or seed) `dir`.
pub fn pattern(len: usize, dir: u8, i: usize) -> u8 {
    (i.wrapping_mul(31).wrapping_add(len.wrapping_mul(7)).wrapping_add(usize::from(dir) * 101) % 251) as u8
}

/// Fills `buf` with the pattern of a `buf.len()`-byte message.
pub fn fill(buf: &mut [u8], dir: u8) {
    let len = buf.len();
    for (i, b) in buf.iter_mut().enumerate() {
        *b = pattern(len, dir, i);
    }
}

/// The first index where `buf` differs from its pattern.
pub fn first_mismatch(buf: &[u8], dir: u8) -> Option<usize> {
    buf.iter().enumerate().position(|(i, &b)| b != pattern(buf.len(), dir, i))
}

/// Every size the exchange tries: each from 0 to 64, then a spread over
/// the page size and up to the limit.
pub const BIG_SIZES: &[usize] = &[
    65, 100, 127, 128, 129, 255, 256, 257, 511, 512, 513, 1000, 1023, 1024, 1025, 2047, 2048, 2049, 3000, 4000, 4095,
    4096,
];

pub fn sizes() -> impl Iterator<Item = usize> {
    (0..=64).chain(BIG_SIZES.iter().copied())
}

/// Where in a scratch area the `n`th buffer starts: varies so that
/// messages straddle page boundaries at different points.
pub fn offset(n: usize) -> usize {
    (n.wrapping_mul(1237) + 3) % 4096
}

/// Filler the receiver puts around its buffer to see over-long copies.
const GUARD: u8 = 0xee;

/// Serves the size exchange on `ch` until `PULSE_STOP`: checks each
/// message against `pattern(len, UP)` (and that nothing past it was
/// written), answers `pattern(len, DOWN)` of the same length with status 0,
/// or status 1 + the first bad index. Returns the number of bad messages.
pub fn serve_sizes(ch: &Channel) -> Result<u64, String> {
    let mut area = vec![0u8; 2 * 4096 + MAX_MESSAGE];
    let mut reply = vec![0u8; 4096 + MAX_MESSAGE];
    let (mut rcvid, mut status, mut reply_len) = (0u64, 0i32, 0usize);
    let mut bad = 0;
    for n in 0.. {
        let at = offset(n);
        let buf = &mut area[at..at + MAX_MESSAGE];
        buf.fill(GUARD);
        let rat = offset(n + 7);
        let got = ch.reply_receive(rcvid, status, &reply[rat..rat + reply_len], buf);
        match got.map_err(|e| format!("server receive: {e:?}"))? {
            Received::Message(m) => {
                let msg = &buf[..m.len];
                let past = &buf[m.len..];
                status = match (first_mismatch(msg, UP), past.iter().position(|&b| b != GUARD)) {
                    (None, None) => 0,
                    (Some(i), _) => 1 + i as i32,
                    (None, Some(i)) => 1 + (m.len + i) as i32,
                };
                if status != 0 {
                    bad += 1;
                }
                let rat = offset(n + 8);
                fill(&mut reply[rat..rat + m.len], DOWN);
                (rcvid, reply_len) = (m.rcvid, m.len);
            }
            Received::Pulse { code: PULSE_STOP, .. } => return Ok(bad),
            other => return Err(format!("server: unexpected {other:?}")),
        }
    }
    Ok(bad)
}

/// Sends every size of the exchange through `conn` and checks each reply.
pub fn send_sizes(conn: &Connection) -> Result<(), String> {
    let mut out = vec![0u8; 2 * 4096 + MAX_MESSAGE];
    let mut back = vec![0u8; 2 * 4096 + MAX_MESSAGE + 64];
    for (k, n) in sizes().enumerate() {
        let at = offset(k * 3 + 1);
        fill(&mut out[at..at + n], UP);
        let bat = offset(k * 5 + 2);
        // Room for 32 more bytes than expected, all guard, to see an
        // over-long reply.
        let reply = &mut back[bat..bat + n + 32];
        reply.fill(GUARD);
        let (status, len) = conn.send(&out[at..at + n], reply).map_err(|e| format!("send of {n} bytes: {e:?}"))?;
        if status != 0 {
            return Err(format!("{n}-byte message arrived damaged at byte {}", status - 1));
        }
        if len != n {
            return Err(format!("{n}-byte message: reply of {len} bytes"));
        }
        if let Some(i) = first_mismatch(&reply[..n], DOWN) {
            return Err(format!("{n}-byte reply damaged at byte {i}"));
        }
        if let Some(i) = reply[n..].iter().position(|&b| b != GUARD) {
            return Err(format!("{n}-byte reply wrote {} bytes past its end", i + 1));
        }
    }
    Ok(())
}
