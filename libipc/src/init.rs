//! Requests to init, the supervisor: power off, the list of supervised
//! servers, and ending one of them (init restarts it by its manifest).
//!
//! They travel on init's channel, the same one the name service answers
//! on (another protocol ID, so the two never mix), through the connection
//! every process init starts gets as `first_handle(0)`:
//!
//! ```ignore
//! libipc::init::shutdown(0)?;                  // the shell's `shutdown`
//! for s in libipc::init::services()? { ... }   // `ps`-like listing
//! libipc::init::kill(pid)?;                    // the shell's `kill` of a server
//! ```
#![forbid(unsafe_code)]

use alloc::string::String;
use alloc::vec::Vec;

use crate::Result;

crate::wire! {
    /// One supervised server, as [`services`] reports it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ServiceInfo {
        /// Its program (and name in logs).
        pub program: String,
        /// The name clients find it by, if any.
        pub name: Option<String>,
        /// Its current process id (0 while not running).
        pub pid: u64,
        /// A [`state`] value.
        pub state: u8,
        /// Times init restarted it.
        pub restarts: u32,
        /// The exit status of its last death, if it died.
        pub last_status: Option<i64>,
    }
}

/// [`ServiceInfo::state`] values.
pub mod state {
    /// Not started yet (or being started).
    pub const STARTING: u8 = 0;
    /// Running.
    pub const RUNNING: u8 = 1;
    /// Died; init restarts it after its back-off.
    pub const RESTARTING: u8 = 2;
    /// Ended and not restarted (exited normally, or gave up after too many
    /// deaths).
    pub const STOPPED: u8 = 3;
    /// Its program is not in the initrd.
    pub const ABSENT: u8 = 4;

    /// A word for the state.
    pub fn describe(state: u8) -> &'static str {
        match state {
            STARTING => "starting",
            RUNNING => "running",
            RESTARTING => "restarting",
            STOPPED => "stopped",
            ABSENT => "absent",
            _ => "?",
        }
    }
}

crate::protocol! {
    /// init's own requests (beside the name service's, on the same channel).
    pub mod proto = "init", version 1 {
        /// Syncs the file system (if it runs), then powers off; `status` 0
        /// means success (under QEMU, the exit status). The reply comes
        /// before the power goes.
        Shutdown = 1 => fn shutdown(status: i64) -> ();
        /// The supervised servers, in manifest order.
        Services = 2 => fn services() -> Vec<ServiceInfo>;
        /// Ends the supervised server with process id `pid` (init restarts
        /// it as its manifest says). Errors: `NotFound` (no server of init
        /// has that pid).
        Kill = 3 => fn kill(pid: u64) -> ();
    }
}

fn client() -> Result<crate::protocol::Peer> {
    let conn = crate::names::service()?;
    Ok(crate::protocol::Peer::unowned(conn.handle().raw()))
}

/// Asks init to sync the file system and power off.
pub fn shutdown(status: i64) -> Result<()> {
    proto::Client::from(client()?).blocking().shutdown(status)
}

/// The servers init supervises.
pub fn services() -> Result<Vec<ServiceInfo>> {
    proto::Client::from(client()?).blocking().services()
}

/// Asks init to end the server with process id `pid` (it is restarted).
pub fn kill(pid: u64) -> Result<()> {
    proto::Client::from(client()?).blocking().kill(pid)
}
