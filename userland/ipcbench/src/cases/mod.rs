//! The cases, one module per group, run in the order of the list:
//! the null system call, the synchronous round trips (fast path, forced
//! through the scheduler, within one address space), the asynchronous
//! paths (raw, the runtime's `call_async`, pulses), leases, the typed
//! library calls, and the context switch by `yield`.
//!
//! Each case makes its peer (a process, see [`peer`](crate::peer), or a
//! thread), runs [`Bench::measure`] and adds a row per size; every peer is
//! ended before the next case, so no case runs beside another's leftovers.
#![forbid(unsafe_code)]

mod asynchronous;
mod lease;
mod switch;
mod sync;
mod typed;

use alloc::format;
use alloc::string::String;

use libipc::ipc::{Channel, Connection};
use libipc::sys::OwnedHandle;

use crate::bench::Bench;

/// The program the peers run (this one).
const PROGRAM: &[u8] = b"ipcbench";

/// Message sizes of the synchronous round-trip rows.
pub const SIZES: [usize; 6] = [0, 8, 64, 256, 1024, 4096];

/// Runs every case.
pub fn run_all(b: &mut Bench) {
    sync::handoff_on();
    sync::null_syscall(b);
    sync::fast(b);
    sync::slow(b);
    sync::same_space(b);
    asynchronous::raw(b);
    asynchronous::runtime(b);
    asynchronous::pulses(b);
    lease::run(b);
    typed::run(b);
    switch::run(b);
}

/// A peer process; killed (and waited for) by [`Peer::stop`].
pub struct Peer {
    process: OwnedHandle,
}

impl Peer {
    /// Starts `ipcbench peer <kind>` with copies of `handles`.
    pub fn spawn(kind: &str, handles: &[u64]) -> Result<Peer, String> {
        let args = format!("peer {kind}");
        libipc::sys::spawn(PROGRAM, args.as_bytes(), handles)
            .map(|process| Peer { process })
            .map_err(|e| format!("cannot start peer {kind}: {e}"))
    }

    /// Ends the peer and waits until it has.
    pub fn stop(self) {
        let _ = libipc::sys::kill(self.process.raw());
        let _ = libipc::sys::wait(self.process.raw());
    }
}

/// A channel for a peer to serve, a connection to it, and the peer.
pub struct Served {
    pub conn: Connection,
    pub peer: Peer,
    /// Kept so the channel lives as long as the case.
    _chan: Channel,
}

impl Served {
    /// Makes a channel and starts peer `kind` serving it.
    pub fn start(kind: &str) -> Result<Served, String> {
        let chan = Channel::create().map_err(|e| format!("channel_create: {e}"))?;
        let conn = chan.connect().map_err(|e| format!("connect: {e}"))?;
        let peer = Peer::spawn(kind, &[chan.handle().raw()])?;
        Ok(Served { conn, peer, _chan: chan })
    }

    /// The connection's number, for the raw calls.
    pub fn raw(&self) -> u64 {
        self.conn.handle().raw()
    }

    /// Ends the peer.
    pub fn stop(self) {
        self.peer.stop();
    }
}

/// Fills `msg` with a pattern that changes with `i` (the first 8 bytes are
/// `i` itself), so a reply left over from an earlier iteration never passes
/// for this one's.
#[inline(always)]
pub fn pattern(msg: &mut [u8], i: u64) {
    let b = i.to_le_bytes();
    for (k, byte) in msg.iter_mut().take(8).enumerate() {
        *byte = b[k];
    }
}

/// Fills `msg` with a fixed pattern (once, before a case).
pub fn fill(msg: &mut [u8]) {
    for (k, byte) in msg.iter_mut().enumerate() {
        *byte = (k as u8).wrapping_mul(31).wrapping_add(7);
    }
}

/// Checks an echoed reply: status 0, `len` bytes equal to `msg`.
pub fn check_echo(rax: u64, len: u64, msg: &[u8], reply: &[u8]) -> Result<(), String> {
    if rax != 0 {
        return Err(format!("send returned {}", rax as i64));
    }
    if len as usize != msg.len() {
        return Err(format!("reply of {len} bytes to a message of {}", msg.len()));
    }
    if reply.get(..msg.len()) != Some(msg) {
        return Err(String::from("the reply differs from the message"));
    }
    Ok(())
}
