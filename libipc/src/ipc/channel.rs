//! The server's side: a [`Channel`] to receive on, what [`Received`] can
//! be, and the replies.
//!
//! Receive ids name the waiting client (or an asynchronous message) until
//! the reply; they are plain `u64`s because the kernel checks them on every
//! use (a stale or foreign one is `PeerDied` or `BadArgument`).
#![forbid(unsafe_code)]

use core::time::Duration;

use abi::ipc::Kind;
use abi::Error;

use super::connection::Connection;
use super::raw::{self, Handle, RawReceived};
use crate::Result;

/// A receive point. Dropping the last channel handle (in every process)
/// stops it: blocked and later senders get `PeerDied`.
#[derive(Debug)]
pub struct Channel {
    handle: Handle,
}

/// A message to answer: from [`Channel::receive`] as
/// [`Received::Message`] or [`Received::AsyncMessage`].
#[derive(Debug)]
pub struct Message {
    /// What to pass to [`reply`]; valid until then.
    pub rcvid: u64,
    /// Bytes of the message at the start of the receive buffer.
    pub len: usize,
    /// The sender's process id.
    pub sender_pid: u64,
    /// A handle that came with the message (synchronous messages only).
    pub handle: Option<Handle>,
}

/// What a receive delivered, in arrival order.
#[derive(Debug)]
pub enum Received {
    /// A synchronous message: its sender waits for the reply.
    Message(Message),
    /// A pulse: nothing to answer. Interrupts come as pulses with the code
    /// given to [`Irq::bind`](super::Irq::bind) and the line as value.
    Pulse {
        /// The sender's code (below `abi::ipc::PULSE_CODE_KERNEL`), or the
        /// kernel's.
        code: u64,
        /// The sender's value.
        value: u64,
    },
    /// An asynchronous message: answered like any message; its sender does
    /// not wait (the reply goes to the sender's reply channel).
    AsyncMessage(Message),
    /// The reply to one of this process's asynchronous sends; the data is
    /// at the start of the receive buffer.
    AsyncReply {
        /// The token given to `send_async`.
        token: u64,
        /// The replier's status, or `-(error code)` (`PeerDied` if the
        /// server ended first, `MessageTooLong` if the reply did not fit).
        status: i64,
        /// Bytes of reply data.
        len: usize,
    },
}

impl Received {
    fn from_raw(r: RawReceived) -> Received {
        let message = |r: RawReceived| Message { rcvid: r.rcvid, len: r.len, sender_pid: r.word, handle: r.handle };
        match r.kind {
            Kind::Message => Received::Message(message(r)),
            Kind::AsyncMessage => Received::AsyncMessage(message(r)),
            Kind::Pulse => Received::Pulse { code: r.word, value: r.value },
            Kind::AsyncReply => Received::AsyncReply { token: r.word, status: r.value as i64, len: r.len },
        }
    }
}

impl Channel {
    /// A new channel (handle rights: RECEIVE, CONNECT, DUPLICATE, TRANSFER).
    ///
    /// Errors: `LimitReached` (channels or handles exhausted).
    pub fn create() -> Result<Channel> {
        raw::channel_create().map(|handle| Channel { handle })
    }

    /// Wraps a handle naming a channel (say one given at spawn); whether it
    /// is one shows at the first use (`BadHandle` otherwise).
    pub fn from_handle(handle: Handle) -> Channel {
        Channel { handle }
    }

    /// The handle, e.g. to pass at spawn or with a message.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Gives the handle back.
    pub fn into_handle(self) -> Handle {
        self.handle
    }

    /// A new connection to this channel (needs CONNECT).
    pub fn connect(&self) -> Result<Connection> {
        raw::connect(self.handle.raw()).map(Connection::from_handle)
    }

    /// Another handle to this channel with fewer `rights`.
    pub fn dup(&self, rights: u64) -> Result<Channel> {
        raw::handle_dup(self.handle.raw(), rights).map(Channel::from_handle)
    }

    /// Blocks for the next message, pulse or asynchronous reply; the data
    /// lands at the start of `buf` (at most `MAX_MESSAGE` bytes of it are
    /// used). A message longer than `buf` is refused to its sender with
    /// `MessageTooLong` and never shows here.
    ///
    /// Errors: `BadHandle`, `PermissionDenied` (no RECEIVE right),
    /// `PeerDied` (the channel stopped), `BadAddress`.
    pub fn receive(&self, buf: &mut [u8]) -> Result<Received> {
        raw::receive(self.handle.raw(), buf, 0).map(Received::from_raw)
    }

    /// Like [`receive`](Self::receive), giving up with `TimedOut` after
    /// `timeout`.
    pub fn receive_timeout(&self, buf: &mut [u8], timeout: Duration) -> Result<Received> {
        raw::receive(self.handle.raw(), buf, super::timeout_ns(timeout)).map(Received::from_raw)
    }

    /// Replies `status` and `msg` to `rcvid` (0 = no reply) and receives the
    /// next item into `buf`, in one call: with nothing pending, the CPU goes
    /// straight back to the client.
    ///
    /// Errors of the reply (`PeerDied`: the client is gone;
    /// `MessageTooLong`; `BadArgument`) come back before anything is
    /// received, so after an error call [`receive`](Self::receive).
    pub fn reply_receive(&self, rcvid: u64, status: i32, msg: &[u8], buf: &mut [u8]) -> Result<Received> {
        raw::reply_receive(rcvid, status, msg, self.handle.raw(), buf).map(Received::from_raw)
    }
}

/// Answers the message `rcvid` with `status` (>= 0, given to the sender)
/// and the reply `msg`.
///
/// Errors: `PeerDied` (the sender died or timed out; nothing to do),
/// `MessageTooLong` (`msg` is longer than the sender's reply buffer; the
/// sender still waits, so reply again), `BadArgument`, `BadAddress`.
pub fn reply(rcvid: u64, status: i64, msg: &[u8]) -> Result<()> {
    raw::reply(rcvid, status, msg, 0)
}

/// Like [`reply`], giving the sender a copy of `handle` (which needs the
/// TRANSFER right); it arrives as `Reply::handle`.
pub fn reply_with_handle(rcvid: u64, status: i64, msg: &[u8], handle: &Handle) -> Result<()> {
    raw::reply(rcvid, status, msg, handle.raw())
}

/// Fails the message `rcvid`: its sender's `send` returns `Err(error)`.
pub fn error_reply(rcvid: u64, error: Error) -> Result<()> {
    raw::reply(rcvid, error.to_raw(), &[], 0)
}
