//! init, as the shell uses it (`libipc::init` is the protocol): the
//! servers init supervises, ending one by pid (init holds their handles and
//! restarts what it ends), and powering off after syncing the file system.

use alloc::vec::Vec;

use libipc::init::{self, ServiceInfo};
use libipc::Result;

/// The shell's link to init (stateless: `libipc::init` uses the connection
/// every process init starts gets).
#[derive(Default)]
pub struct Init;

impl Init {
    /// The link.
    pub fn new() -> Init {
        Init
    }

    /// The supervised servers, in manifest order.
    pub fn services(&mut self) -> Result<Vec<ServiceInfo>> {
        init::services()
    }

    /// Ends the supervised server with process id `pid`. `NotFound` if no
    /// server of init has that pid.
    pub fn kill(&mut self, pid: u64) -> Result<()> {
        init::kill(pid)
    }

    /// Syncs the file system and powers off (the reply comes just before
    /// the power goes).
    pub fn shutdown(&mut self) -> Result<()> {
        init::shutdown(0)
    }
}
