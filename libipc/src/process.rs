//! Processes: starting programs from the initrd, waiting for them, ending
//! them, and ending oneself. A [`Process`] owns its handle and closes it when
//! dropped (the process itself keeps running).
#![forbid(unsafe_code)]

use crate::sys::{self, OwnedHandle};
use crate::Result;

/// A child process this program started.
#[derive(Debug)]
pub struct Process {
    handle: OwnedHandle,
    pid: u64,
}

/// Starts the initrd program `name` with argument bytes `args`.
///
/// Errors: `NotFound` (no such program), `BadElf` (malformed or hostile
/// image), `NoMemory` / `LimitReached` (out of resources), `BadAddress`.
pub fn spawn(name: &str, args: &[u8]) -> Result<Process> {
    sys::spawn_pid(name.as_bytes(), args, &[]).map(|(handle, pid)| Process { handle, pid })
}

impl Process {
    /// Blocks until the process ends; its exit status: what it passed to
    /// `exit` (or returned from `main`), `abi::EXIT_KILLED` or
    /// `abi::EXIT_FAULTED`.
    pub fn wait(&self) -> Result<i64> {
        sys::wait(self.handle.raw())
    }

    /// Ends the process.
    pub fn kill(&self) -> Result<()> {
        sys::kill(self.handle.raw())
    }

    /// Its process id.
    pub fn pid(&self) -> u64 {
        self.pid
    }

    /// The handle's number (for tests and diagnostics).
    pub fn raw_handle(&self) -> u64 {
        self.handle.raw()
    }
}

/// Ends this process with `status`.
pub fn exit(status: i64) -> ! {
    sys::exit(status)
}

/// This process's id.
pub fn getpid() -> u64 {
    sys::getpid()
}
