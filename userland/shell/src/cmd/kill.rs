//! `kill <pid>`: ends a process by its id.
//!
//! A process handle is needed to kill. The shell holds its background
//! programs' (`run ... &`) and ends those itself; for anything else it asks
//! init, which holds the handles of everything it started (the servers and
//! the shell) (`svc::init`).

use alloc::string::String;

use libipc::println;

use super::{fail, fail_at, Failure, Outcome};
use crate::state::Shell;

pub fn run(sh: &mut Shell, args: &[String]) -> Outcome {
    let [pid] = args else {
        return Err(Failure::Usage);
    };
    let pid: u64 = pid.parse().map_err(|_| fail(alloc::format!("{pid}: not a process id")))?;
    if pid == libipc::getpid() {
        return Err(fail_at(pid, "that is this shell (use exit)"));
    }
    match sh.jobs.kill(pid) {
        Some(result) => result,
        None => sh.init.kill(pid),
    }
    .map_err(|e| fail_at(pid, e))?;
    println!("killed {pid}");
    Ok(())
}
