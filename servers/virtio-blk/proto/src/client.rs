//! A blocking client: one `send` per call, the caller's buffer lent to the
//! driver for the data. Several threads may share one [`Client`] (each call
//! is its own message), which is how a client keeps several requests in
//! flight.

use core::time::Duration;

use abi::Error;
use libipc::ipc::{Connection, SendOptions};

use crate::wire::{BlkError, Info, Op, Request, SECTOR_SIZE};

/// A connection to a block driver.
#[derive(Debug)]
pub struct Client {
    conn: Connection,
    /// Give up on a request after this long (`None`: wait forever).
    timeout: Option<Duration>,
}

impl Client {
    /// Talks to the driver through `conn`.
    pub fn new(conn: Connection) -> Client {
        Client { conn, timeout: None }
    }

    /// The same client, failing a request with `Ipc(TimedOut)` when no
    /// reply came within `timeout` (e.g. the name is registered but no
    /// driver serves it). A transfer cut short this way has left the
    /// buffer (or the disk, for a write) partly done.
    pub fn with_timeout(mut self, timeout: Duration) -> Client {
        self.timeout = Some(timeout);
        self
    }

    /// The connection (to duplicate it for another process, say).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The device's size and properties.
    pub fn info(&self) -> Result<Info, BlkError> {
        let mut reply = [0u8; Info::SIZE];
        let r = self.conn.send_with(&Request::new(Op::Info).encode(), &mut reply, &self.options())?;
        BlkError::from_status(r.status)?;
        Ok(Info::decode(&reply[..r.len])?)
    }

    /// Reads `buf.len() / 512` sectors from `sector` into `buf` (whose
    /// length must be a multiple of 512).
    pub fn read(&self, sector: u64, buf: &mut [u8]) -> Result<(), BlkError> {
        let req = Request::io(Op::Read, sector, sectors(buf.len())?);
        let options = self.options().lease_write(buf);
        self.exchange(&req, options)
    }

    /// Writes `buf` (a multiple of 512 bytes) at `sector`.
    pub fn write(&self, sector: u64, buf: &[u8]) -> Result<(), BlkError> {
        let req = Request::io(Op::Write, sector, sectors(buf.len())?);
        let options = self.options().lease_read(buf);
        self.exchange(&req, options)
    }

    /// Makes every write that completed so far durable.
    pub fn flush(&self) -> Result<(), BlkError> {
        self.exchange(&Request::new(Op::Flush), self.options())
    }

    /// The options every request starts from (the timeout, if any).
    fn options<'a>(&self) -> SendOptions<'a> {
        match self.timeout {
            Some(t) => SendOptions::new().timeout(t),
            None => SendOptions::new(),
        }
    }

    /// Sends `req` with `options` and decodes the status.
    fn exchange(&self, req: &Request, options: SendOptions<'_>) -> Result<(), BlkError> {
        let reply = self.conn.send_with(&req.encode(), &mut [], &options)?;
        BlkError::from_status(reply.status)
    }
}

/// The sector count for a buffer of `len` bytes.
fn sectors(len: usize) -> Result<u32, BlkError> {
    if !len.is_multiple_of(SECTOR_SIZE) {
        return Err(BlkError::Ipc(Error::BadArgument));
    }
    u32::try_from(len / SECTOR_SIZE).map_err(|_| BlkError::Ipc(Error::BadArgument))
}
