//! The server loop: messages become engine requests, interrupts become
//! engine completions, and the engine answers through [`IpcHost`].
//!
//! One thread, never blocked on the device: the loop blocks only in
//! `receive`, so while the device works on some requests, new ones keep
//! arriving and are queued onto free slots, and each interrupt finishes
//! whatever completed. Clients are reply-blocked (their leases stay valid)
//! until the engine answers them.
//!
//! If the interrupt line is unknown (or never fires), completions are
//! found by polling: `receive` gets a timeout whenever requests are in
//! flight, and each timeout looks at the used ring.

use alloc::vec;
use core::time::Duration;

use abi::ipc::{MAX_MESSAGE, PULSE_CODE_IRQ};
use abi::Error;
use blk_proto::{BlkError, Request};
use libipc::ipc::{self, Channel, Irq, Received};
use libipc::println;
use vblk::engine::{ClientId, Host};

use crate::legacy::Legacy;
use crate::setup::DmaEngine;

/// How long to wait for an interrupt before looking anyway, with and
/// without an interrupt line.
const SAFETY_POLL: Duration = Duration::from_millis(100);
const POLL: Duration = Duration::from_millis(2);

/// The engine's view of IPC and the doorbell.
struct IpcHost<'a, 'b> {
    dev: &'a Legacy<'b>,
}

impl Host for IpcHost<'_, '_> {
    fn lease_check(&mut self, client: ClientId, len: usize, device_to_client: bool) -> Result<(), Error> {
        // An empty copy at the end checks the lease's length and rights
        // without touching the client's memory.
        if device_to_client {
            ipc::lease_write(client, 0, len, &[]).map(drop)
        } else {
            ipc::lease_read(client, 0, len, &mut []).map(drop)
        }
    }

    fn lease_read(&mut self, client: ClientId, offset: usize, buf: &mut [u8]) -> Result<(), Error> {
        ipc::lease_read(client, 0, offset, buf).map(drop)
    }

    fn lease_write(&mut self, client: ClientId, offset: usize, buf: &[u8]) -> Result<(), Error> {
        ipc::lease_write(client, 0, offset, buf).map(drop)
    }

    fn reply(&mut self, client: ClientId, result: Result<&[u8], BlkError>) {
        let sent = match result {
            Ok(data) => ipc::reply(client, 0, data),
            Err(e) => match e.status() {
                Some(status) => ipc::reply(client, status, &[]),
                None => ipc::error_reply(client, if let BlkError::Ipc(e) = e { e } else { Error::BadState }),
            },
        };
        // A reply too long for the client's buffer leaves it waiting: fail
        // it instead. `PeerDied` needs nothing: the client is gone.
        if sent == Err(Error::MessageTooLong) {
            let _ = ipc::error_reply(client, Error::MessageTooLong);
        }
    }

    fn notify(&mut self) {
        self.dev.notify(0);
    }
}

/// Serves `channel` forever (returns only if the channel stops).
pub fn run(channel: &Channel, irq: Option<&Irq>, dev: &Legacy<'_>, engine: &mut DmaEngine) -> Error {
    let mut host = IpcHost { dev };
    let mut buf = vec![0u8; MAX_MESSAGE];
    let mut warned = false;
    loop {
        let received = if engine.busy() {
            channel.receive_timeout(&mut buf, if irq.is_some() { SAFETY_POLL } else { POLL })
        } else {
            channel.receive(&mut buf)
        };
        match received {
            Ok(Received::Message(m) | Received::AsyncMessage(m)) => {
                // A handle sent along means nothing here; dropping closes it.
                drop(m.handle);
                match Request::decode(buf.get(..m.len).unwrap_or(&[])) {
                    Ok((req, inline)) => engine.request(&mut host, m.rcvid, req, inline),
                    Err(e) => {
                        let _ = ipc::error_reply(m.rcvid, e);
                    }
                }
            }
            Ok(Received::Pulse { code: PULSE_CODE_IRQ, .. }) => {
                // Reading the ISR lowers the (level-triggered) line before
                // it is unmasked again.
                dev.isr();
                engine.interrupt(&mut host);
                if let Some(irq) = irq {
                    let _ = irq.ack();
                }
            }
            Ok(Received::Pulse { .. } | Received::AsyncReply { .. }) => {}
            Err(Error::TimedOut) => {
                if engine.interrupt(&mut host) > 0 && irq.is_some() && !warned {
                    println!("virtio-blk: requests completed without an interrupt; polling as well");
                    warned = true;
                }
            }
            Err(e) => return e,
        }
    }
}
