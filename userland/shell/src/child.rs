//! Starting programs from the shell (`run`, `bench`).
//!
//! A program gets what every program init starts gets: a connection to the
//! name service as its first handle (`first_handle(0)`, the convention in
//! init's manifest), so its `println!` goes through the console server and
//! it can find the fs. If the connection cannot be passed, the program
//! starts without it (its output then goes to the kernel log).

use libipc::sys::{self, OwnedHandle};
use libipc::{Error, Result};

/// A program the shell started: its process handle.
#[derive(Debug)]
pub struct Child {
    handle: OwnedHandle,
}

/// Starts the initrd program `program` with argument bytes `args`.
pub fn spawn(program: &str, args: &[u8]) -> Result<Child> {
    if let Ok(names) = libipc::names::service() {
        match sys::spawn(program.as_bytes(), args, &[names.handle().raw()]) {
            Err(Error::PermissionDenied | Error::BadHandle) => {}
            r => return r.map(|handle| Child { handle }),
        }
    }
    sys::spawn(program.as_bytes(), args, &[]).map(|handle| Child { handle })
}

impl Child {
    /// Blocks until it ends; its exit status.
    pub fn wait(&self) -> Result<i64> {
        sys::wait(self.handle.raw())
    }

    /// Ends it.
    pub fn kill(&self) -> Result<()> {
        sys::kill(self.handle.raw())
    }

    /// The process handle's number (a helper thread waits on it).
    pub fn raw(&self) -> u64 {
        self.handle.raw()
    }
}
