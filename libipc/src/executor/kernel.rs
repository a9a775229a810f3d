//! The real [`Backend`]: the executor's calls as system calls on the
//! server's channel. (It compiles on the host too, but host tests use the
//! simulated kernel and never make one.)
#![forbid(unsafe_code)]

use core::time::Duration;

use super::backend::{Arrival, Backend};
use super::WAKE_PULSE;
use crate::ipc::{self, raw, Channel, Connection, Received};
use crate::Result;

/// The executor's channel and a connection to it (for
/// [`interrupt`](Backend::interrupt)).
#[derive(Debug)]
pub struct KernelBackend {
    channel: Channel,
    wake: Connection,
}

impl KernelBackend {
    /// A backend receiving on `channel`.
    ///
    /// Errors: those of `connect` (`LimitReached`, `PermissionDenied` if the
    /// handle lacks CONNECT).
    pub fn new(channel: Channel) -> Result<KernelBackend> {
        let wake = channel.connect()?;
        Ok(KernelBackend { channel, wake })
    }

    /// The channel.
    pub fn channel(&self) -> &Channel {
        &self.channel
    }
}

impl Backend for KernelBackend {
    fn now_ns(&self) -> u64 {
        crate::time::time_ns()
    }

    fn receive(&self, buf: &mut [u8], timeout_ns: Option<u64>) -> Result<Arrival> {
        let received = match timeout_ns {
            None => self.channel.receive(buf)?,
            Some(ns) => self.channel.receive_timeout(buf, Duration::from_nanos(ns))?,
        };
        Ok(match received {
            Received::Message(m) => Arrival::Message {
                rcvid: m.rcvid,
                pid: m.sender_pid,
                len: m.len,
                handle: m.handle,
                asynchronous: false,
            },
            Received::AsyncMessage(m) => {
                Arrival::Message { rcvid: m.rcvid, pid: m.sender_pid, len: m.len, handle: m.handle, asynchronous: true }
            }
            Received::Pulse { code, value } => Arrival::Pulse { code, value },
            Received::AsyncReply { token, status, len } => Arrival::AsyncReply { token, status, len },
        })
    }

    fn reply(&self, rcvid: u64, status: i64, msg: &[u8], handle: Option<u64>) -> Result<()> {
        raw::reply(rcvid, status, msg, handle.unwrap_or(0))
    }

    fn send_async(&self, conn: u64, msg: &[u8], token: u64) -> Result<()> {
        raw::send_async(conn, msg, token, self.channel.handle().raw())
    }

    fn lease_read(&self, rcvid: u64, index: usize, offset: usize, buf: &mut [u8]) -> Result<usize> {
        ipc::lease_read(rcvid, index, offset, buf)
    }

    fn lease_write(&self, rcvid: u64, index: usize, offset: usize, data: &[u8]) -> Result<usize> {
        ipc::lease_write(rcvid, index, offset, data)
    }

    fn interrupt(&self) -> Result<()> {
        self.wake.pulse(WAKE_PULSE, 0)
    }

    fn log(&self, line: &str) {
        crate::println!("{line}");
    }
}
