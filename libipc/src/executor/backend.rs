//! The executor's only door to the kernel: the [`Backend`] trait.
//!
//! The executor never issues a system call itself. Everything it needs from
//! the kernel — the clock, blocking in `receive` with a timeout, replying,
//! asynchronous sends, leases, waking itself up — goes through this trait,
//! which the real system calls implement ([`KernelBackend`](super::KernelBackend),
//! in QEMU) and a simulated kernel implements for host tests
//! ([`SimKernel`](super::sim::SimKernel): scripted arrivals, a fake clock).
//! So the executor's logic — wake-ups, timers, token routing, overrun
//! detection, shutdown — is tested on the host with `cargo test`.
#![forbid(unsafe_code)]

use alloc::sync::Arc;

use crate::ipc::Handle;
use crate::Result;

/// What one `receive` delivered (the data, if any, is at the start of the
/// buffer passed to [`Backend::receive`]).
#[derive(Debug)]
pub enum Arrival {
    /// A request to answer with [`Backend::reply`].
    Message {
        /// The receive id to reply to.
        rcvid: u64,
        /// The sender's process id.
        pid: u64,
        /// Bytes of message.
        len: usize,
        /// A handle given with the message (synchronous messages only; the
        /// simulated kernel never delivers one).
        handle: Option<Handle>,
        /// True for an asynchronous message (its sender does not wait; no
        /// leases, no handles).
        asynchronous: bool,
    },
    /// A pulse.
    Pulse {
        /// The pulse code (`abi::ipc::PULSE_CODE_IRQ` for interrupts).
        code: u64,
        /// The pulse value.
        value: u64,
    },
    /// The reply to one of our asynchronous sends.
    AsyncReply {
        /// The token it was sent with.
        token: u64,
        /// The server's status, or `-(error code)`.
        status: i64,
        /// Bytes of reply.
        len: usize,
    },
}

/// The kernel as the executor sees it. All methods take `&self`: the
/// executor and the futures it runs share one backend. Implementations are
/// `Send + Sync` so that the executor's shared state can be reached from a
/// waker on any thread.
pub trait Backend: Send + Sync {
    /// Nanoseconds on a monotonic clock.
    fn now_ns(&self) -> u64;

    /// Blocks until something arrives on the server's channel, at most
    /// `timeout_ns` nanoseconds if given (then `Err(TimedOut)`).
    fn receive(&self, buf: &mut [u8], timeout_ns: Option<u64>) -> Result<Arrival>;

    /// Answers message `rcvid` with `status` (negative: `-(error code)`),
    /// the reply bytes and optionally a handle (its number; the caller keeps
    /// it alive for the call) for the client to get a copy of.
    fn reply(&self, rcvid: u64, status: i64, msg: &[u8], handle: Option<u64>) -> Result<()>;

    /// Queues `msg` on connection number `conn` without waiting; the reply
    /// comes back through [`receive`](Self::receive) as
    /// [`Arrival::AsyncReply`] with `token`.
    fn send_async(&self, conn: u64, msg: &[u8], token: u64) -> Result<()>;

    /// Copies from lease `index` of the client of `rcvid` into `buf`.
    fn lease_read(&self, rcvid: u64, index: usize, offset: usize, buf: &mut [u8]) -> Result<usize>;

    /// Copies `data` into lease `index` of the client of `rcvid`.
    fn lease_write(&self, rcvid: u64, index: usize, offset: usize, data: &[u8]) -> Result<usize>;

    /// Makes a blocked (or the next) [`receive`](Self::receive) return soon,
    /// e.g. with a pulse the executor ignores. Used by
    /// [`ShutdownHandle`](super::ShutdownHandle) from other threads.
    fn interrupt(&self) -> Result<()>;

    /// Writes one line of diagnostics (overrun reports).
    fn log(&self, line: &str);
}

impl<B: Backend + ?Sized> Backend for Arc<B> {
    fn now_ns(&self) -> u64 {
        (**self).now_ns()
    }
    fn receive(&self, buf: &mut [u8], timeout_ns: Option<u64>) -> Result<Arrival> {
        (**self).receive(buf, timeout_ns)
    }
    fn reply(&self, rcvid: u64, status: i64, msg: &[u8], handle: Option<u64>) -> Result<()> {
        (**self).reply(rcvid, status, msg, handle)
    }
    fn send_async(&self, conn: u64, msg: &[u8], token: u64) -> Result<()> {
        (**self).send_async(conn, msg, token)
    }
    fn lease_read(&self, rcvid: u64, index: usize, offset: usize, buf: &mut [u8]) -> Result<usize> {
        (**self).lease_read(rcvid, index, offset, buf)
    }
    fn lease_write(&self, rcvid: u64, index: usize, offset: usize, data: &[u8]) -> Result<usize> {
        (**self).lease_write(rcvid, index, offset, data)
    }
    fn interrupt(&self) -> Result<()> {
        (**self).interrupt()
    }
    fn log(&self, line: &str) {
        (**self).log(line)
    }
}
