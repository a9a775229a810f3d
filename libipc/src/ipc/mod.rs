//! Message passing for userspace: channels and connections, send / receive
//! / reply, pulses, asynchronous sends, leases, handle duplication, and the
//! device calls drivers need (interrupts as pulses, I/O ports, DMA memory).
//!
//! The shapes follow the kernel (`abi::syscall`, `docs/ipc.md`):
//!
//! - A server makes a [`Channel`] and receives on it; clients hold a
//!   [`Connection`] to it (made by [`Channel::connect`], passed at spawn or
//!   in a message) and [`send`](Connection::send), blocking until the reply.
//! - [`Channel::receive`] yields a [`Received`]: a message to answer with
//!   [`reply`] / [`error_reply`] / [`Channel::reply_receive`], a pulse, an
//!   asynchronous message (answered the same way), or the reply to one of
//!   this process's own [`send_async`](Connection::send_async)s.
//! - While a client waits, the server reads and writes the memory it lent
//!   ([`SendOptions::lease_read`] etc.) with [`lease_read`] and [`lease_write`].
//!
//! Every kernel object is held through an owned [`Handle`] that closes on
//! drop; [`Handle::raw`] gives the number for passing it along, and the
//! handles a spawner gave are claimed with [`Handle::initial`]. Every call
//! returns `Result<_, abi::Error>` and nothing here panics on what the
//! kernel returns. The unsafe code is all in [`raw`].
#![deny(unsafe_code)]

mod channel;
mod connection;
mod device;
pub mod raw;
mod system;

pub use abi::ipc::{IpcStats, Kind, MAX_ASYNC_OUTSTANDING, MAX_LEASES, MAX_MESSAGE, PULSE_QUEUE};
pub use abi::syscall::ProcessInfo;
pub use channel::{error_reply, reply, reply_with_handle, Channel, Message, Received};
pub use connection::{Connection, Reply, SendOptions};
pub use device::{dma_alloc, ioports_enable, ioports_narrow, DmaRegion, Irq};
pub use raw::Handle;
pub use system::{ipc_stats, processes, set_priority};

use crate::Result;

/// Copies from the client's lease `index`, starting `offset` bytes into
/// it, into `buf`; returns the bytes copied (all of `buf`).
///
/// Errors: `BadArgument` (no such lease, or the range passes its end),
/// `PermissionDenied` (not lent for reading), `PeerDied` (the client is
/// gone or no longer waits for this process), `BadAddress`.
pub fn lease_read(rcvid: u64, index: usize, offset: usize, buf: &mut [u8]) -> Result<usize> {
    raw::lease_read(rcvid, index as u64, offset as u64, buf)
}

/// Copies `buf` into the client's lease `index` at `offset`; errors as
/// [`lease_read`] (`PermissionDenied`: not lent for writing).
pub fn lease_write(rcvid: u64, index: usize, offset: usize, buf: &[u8]) -> Result<usize> {
    raw::lease_write(rcvid, index as u64, offset as u64, buf)
}

/// A second handle to the same object with `rights` (a subset of
/// `handle`'s, which must include `DUPLICATE`; else `PermissionDenied`).
pub fn handle_dup(handle: &Handle, rights: u64) -> Result<Handle> {
    raw::handle_dup(handle.raw(), rights)
}

/// Nanoseconds for the kernel from a `Duration`, where 0 means "forever":
/// a zero duration becomes 1 ns, a huge one saturates.
pub(crate) fn timeout_ns(d: core::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;

    #[test]
    fn timeouts_never_mean_forever() {
        assert_eq!(timeout_ns(Duration::ZERO), 1);
        assert_eq!(timeout_ns(Duration::from_millis(3)), 3_000_000);
        assert_eq!(timeout_ns(Duration::MAX), u64::MAX);
    }

    #[test]
    fn too_many_leases_fail_the_send_not_the_builder() {
        let a = [0u8; 4];
        let mut o = SendOptions::new();
        for _ in 0..=MAX_LEASES {
            o = o.lease_read(&a);
        }
        assert_eq!(o.first_error(), Some(abi::Error::BadArgument));
    }
}
