//! Powering off: what init does for a `shutdown` request (the shell's
//! `shutdown` command) and at the end of a test run.
//!
//! 1. Mark the system as shutting down, so supervisors do not restart
//!    servers that end from here on.
//! 2. Sync the file system, if it runs (`fs_proto`'s `Shutdown`: sync,
//!    then refuse changes).
//! 3. Flush the console, so the last lines printed reach the terminal.
//! 4. The `shutdown` system call (init only): under QEMU the run ends
//!    through isa-debug-exit, successfully if the status is 0.

use core::time::Duration;

use alloc::format;
use alloc::string::String;
use libipc::console::Console;

use libipc::ipc::{Connection, SendOptions};
use libipc::println;

use crate::system::System;

/// How long the file system may take to sync.
pub const SYNC_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the console may take to drain.
const FLUSH_TIMEOUT: Duration = Duration::from_millis(500);

/// Syncs, flushes and powers off with `status`.
pub fn power_off(system: &System, status: i64) -> ! {
    system.state.lock().shutting_down = true;
    println!("init: shutting down (status {status})");
    sync_filesystem(system);
    if let Ok(conn) = system.connection_to(libipc::console::NAME) {
        let _ = Console::from_connection(conn).flush(FLUSH_TIMEOUT);
    }
    let e = libipc::sys::shutdown(status);
    println!("init: the shutdown call failed: {e}");
    libipc::exit(status)
}

/// Asks the file system server, if it runs, to write everything it holds
/// to the disk and refuse further changes (`fs_proto` `Shutdown`).
fn sync_filesystem(system: &System) {
    let Ok(fs) = system.connection_to(fs_proto::NAME) else { return };
    match request_shutdown(&fs) {
        Ok(()) => println!("init: file system synced"),
        Err(why) => println!("init: file system sync failed: {why}"),
    }
}

/// Sends fs its `Shutdown` with [`SYNC_TIMEOUT`]: the fs may itself be
/// waiting for init's channel, which is busy with this shutdown, and the
/// timeout keeps that from wedging the power-off. (Not through
/// `fs_proto::Fs`, which would look the name up again and retry.)
fn request_shutdown(fs: &Connection) -> core::result::Result<(), String> {
    let mut reply = [0u8; 64];
    let options = SendOptions::new().timeout(SYNC_TIMEOUT);
    let r = fs.send_with(&fs_proto::proto::encode::shutdown(), &mut reply, &options).map_err(|e| format!("{e}"))?;
    let answer = fs_proto::proto::result::shutdown(reply.get(..r.len).unwrap_or(&[])).map_err(|e| format!("{e}"))?;
    answer.into_result().map_err(|e| format!("{e:?}"))
}
