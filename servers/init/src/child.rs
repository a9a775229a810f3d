//! Starting a child with its grants, and knowing its pid.
//!
//! The grants of a manifest entry become the handle list `spawn` copies
//! into the child: a fresh connection to init's channel for
//! [`Grant::Names`], init's own device handles for the rest (the kernel
//! copies them; init keeps its originals for the next start).
//!
//! `spawn` returns a process handle but not the pid, which init needs for
//! its log lines and to forget the names a dead server registered. So a
//! spawn and the look-up of the new pid in the kernel's process list
//! (the one live child of init with that name and a pid init has not seen
//! yet) happen under one lock. (A pid in `spawn`'s second result register
//! would make this a plain read.)

use alloc::vec::Vec;

use abi::ipc::rights;
use abi::syscall::init_handles;
use abi::Error;
use init::manifest::Grant;
use libipc::ipc::{self, Channel, Handle};
use libipc::sys::{self, OwnedHandle};
use libipc::Result;

/// A process init started.
#[derive(Debug)]
pub struct Child {
    handle: OwnedHandle,
    /// Its process id (0 if it could not be found, which would be a kernel bug).
    pub pid: u64,
}

impl Child {
    /// Blocks until it ends; its exit status.
    pub fn wait(&self) -> Result<i64> {
        sys::wait(self.handle.raw())
    }

    /// The process handle's number, so another thread can [`kill`] it.
    pub fn raw(&self) -> u64 {
        self.handle.raw()
    }
}

/// Ends the child whose process handle is `raw` (from [`Child::raw`]).
/// A handle that is already closed gives `BadHandle`, never another process.
pub fn kill(raw: u64) -> Result<()> {
    sys::kill(raw)
}

/// What the grants of one spawn need besides init's own handles.
pub struct Extras<'a> {
    /// init's channel, for [`Grant::Names`].
    pub names: &'a Channel,
    /// The server's own channel, for [`Grant::Channel`].
    pub channel: Option<&'a Channel>,
}

/// Starts `program` with `args` and the handles `grants` name.
pub fn spawn(program: &str, args: &str, grants: &[Grant], extras: &Extras<'_>) -> Result<Child> {
    // Handles made for this spawn only; closed when it returns (the child
    // has its copies by then).
    let mut made: Vec<Handle> = Vec::new();
    let mut raw = Vec::new();
    for grant in grants {
        let h = match *grant {
            Grant::Names => {
                let conn = extras.names.connect()?.into_handle();
                let v = conn.raw();
                made.push(conn);
                v
            }
            Grant::IoPorts { first, last } => {
                let count = u32::from(last.saturating_sub(first)) + 1;
                let ports = ipc::raw::ioports_narrow(init_handles::IOPORTS, first, count)?;
                let v = ports.raw();
                made.push(ports);
                v
            }
            Grant::Irq(line) => init_handles::irq(u64::from(line)),
            Grant::Dma => init_handles::DMA,
            Grant::Channel => {
                let chan = extras.channel.ok_or(Error::BadArgument)?;
                // The server receives on it; it may not make connections or
                // copies of its own.
                let copy = ipc::handle_dup(chan.handle(), rights::RECEIVE | rights::TRANSFER)?;
                let v = copy.raw();
                made.push(copy);
                v
            }
        };
        raw.push(h);
    }
    let (handle, pid) = sys::spawn_pid(program.as_bytes(), args.as_bytes(), &raw)?;
    drop(made);
    Ok(Child { handle, pid })
}
