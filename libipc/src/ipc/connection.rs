//! The client's side: a [`Connection`] to a channel, synchronous sends
//! (with [`SendOptions`]: leases, a handle to give, a timeout), pulses and
//! asynchronous sends.
#![forbid(unsafe_code)]

use core::time::Duration;

use super::channel::Channel;
use super::raw::{self, Handle, LeaseTable};
use crate::Result;

/// A link to a channel (handle rights: SEND, DUPLICATE, TRANSFER).
#[derive(Debug)]
pub struct Connection {
    handle: Handle,
}

/// What the server answered to a [`send_with`](Connection::send_with).
#[derive(Debug)]
pub struct Reply {
    /// The server's status (>= 0; a negative one arrives as an error).
    pub status: i64,
    /// Bytes of reply at the start of the reply buffer.
    pub len: usize,
    /// A handle the server gave with the reply.
    pub handle: Option<Handle>,
}

/// The extras of one send: memory lent to the server (at most
/// `MAX_LEASES` leases, borrowed until the send returns), a handle to give
/// it, and a timeout.
#[derive(Debug, Default)]
pub struct SendOptions<'a> {
    leases: LeaseTable<'a>,
    handle: Option<&'a Handle>,
    timeout_ns: u64,
    /// The first error while adding leases, reported by the send.
    error: Option<abi::Error>,
}

impl<'a> SendOptions<'a> {
    /// No extras.
    pub fn new() -> Self {
        Self::default()
    }

    fn note(&mut self, r: Result<()>) {
        if let (Err(e), None) = (r, self.error) {
            self.error = Some(e);
        }
    }

    /// Lends `buf` for the server to read ([`lease_read`](super::lease_read));
    /// leases are numbered from 0 in the order added.
    pub fn lease_read(mut self, buf: &'a [u8]) -> Self {
        let r = self.leases.read(buf);
        self.note(r);
        self
    }

    /// Lends `buf` for the server to write ([`lease_write`](super::lease_write)).
    pub fn lease_write(mut self, buf: &'a mut [u8]) -> Self {
        let r = self.leases.write(buf);
        self.note(r);
        self
    }

    /// Lends `buf` for reading and writing.
    pub fn lease_read_write(mut self, buf: &'a mut [u8]) -> Self {
        let r = self.leases.read_write(buf);
        self.note(r);
        self
    }

    /// Gives the server a copy of `handle` (needs TRANSFER); it arrives as
    /// `Message::handle`.
    pub fn handle(mut self, handle: &'a Handle) -> Self {
        self.handle = Some(handle);
        self
    }

    /// The first error adding leases (a send with these options fails with it).
    pub fn first_error(&self) -> Option<abi::Error> {
        self.error
    }

    /// Gives up with `TimedOut` if no reply came within `timeout` (waiting
    /// to be received included).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout_ns = super::timeout_ns(timeout);
        self
    }
}

impl Connection {
    /// Wraps a handle naming a connection (say one given at spawn or
    /// received); whether it is one shows at the first use.
    pub fn from_handle(handle: Handle) -> Connection {
        Connection { handle }
    }

    /// A connection to `channel` (same as [`Channel::connect`]).
    pub fn connect(channel: &Channel) -> Result<Connection> {
        channel.connect()
    }

    /// The handle, e.g. to pass at spawn or with a message.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Gives the handle back.
    pub fn into_handle(self) -> Handle {
        self.handle
    }

    /// Another handle to the same channel with fewer `rights`.
    pub fn dup(&self, rights: u64) -> Result<Connection> {
        raw::handle_dup(self.handle.raw(), rights).map(Connection::from_handle)
    }

    /// Sends `msg` (at most `MAX_MESSAGE` bytes) and blocks until the reply,
    /// which lands at the start of `reply`. Returns the server's status and
    /// the reply's length.
    ///
    /// Errors: `PeerDied` (the server ended or the channel stopped, before
    /// or during the exchange), `MessageTooLong` (the message does not fit
    /// the server's receive buffer; a reply too long for `reply` is refused
    /// to the server instead), `BadHandle`, `PermissionDenied` (no SEND
    /// right), `BadAddress`, or an error the server replied with.
    pub fn send(&self, msg: &[u8], reply: &mut [u8]) -> Result<(i64, usize)> {
        let r = raw::send(self.handle.raw(), msg, reply, &LeaseTable::new(), 0, 0)?;
        Ok((r.status, r.len))
    }

    /// [`send`](Self::send) with leases, a handle and/or a timeout.
    /// `BadArgument` if more than `MAX_LEASES` leases were added.
    pub fn send_with(&self, msg: &[u8], reply: &mut [u8], options: &SendOptions<'_>) -> Result<Reply> {
        if let Some(e) = options.first_error() {
            return Err(e);
        }
        let handle = options.handle.map_or(0, Handle::raw);
        let r = raw::send(self.handle.raw(), msg, reply, &options.leases, handle, options.timeout_ns)?;
        Ok(Reply { status: r.status, len: r.len, handle: r.handle })
    }

    /// Queues a pulse (`code` below `abi::ipc::PULSE_CODE_KERNEL`) on the
    /// channel; never blocks.
    ///
    /// Errors: `QueueFull` (`PULSE_QUEUE` pulses wait already), `PeerDied`,
    /// `BadArgument` (a kernel code), `BadHandle`, `PermissionDenied`.
    pub fn pulse(&self, code: u64, value: u64) -> Result<()> {
        raw::pulse(self.handle.raw(), code, value)
    }

    /// Queues `msg` without waiting; the server's answer arrives on
    /// `reply_channel` (which this process receives on) as
    /// `Received::AsyncReply` with `token`.
    ///
    /// Errors: `QueueFull` (`MAX_ASYNC_OUTSTANDING` sends of this process
    /// await their replies), `PeerDied`, `MessageTooLong`, `BadHandle`,
    /// `PermissionDenied`, `BadAddress`.
    pub fn send_async(&self, msg: &[u8], token: u64, reply_channel: &Channel) -> Result<()> {
        raw::send_async(self.handle.raw(), msg, token, reply_channel.handle().raw())
    }
}
