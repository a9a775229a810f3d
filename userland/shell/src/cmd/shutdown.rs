//! `shutdown`: asks init to sync the file system and power off. init
//! answers before it starts (so it is not holding the shell while the file
//! system syncs); the shell then waits for the machine to go off instead of
//! printing a prompt nobody can use, and says so if it does not.

use alloc::string::String;
use core::time::Duration;

use libipc::println;

use super::{fail, Failure, Outcome};
use crate::state::Shell;

/// Longer than init may take: the file system's sync (5 s) and the
/// console's drain.
const POWER_OFF_WAIT: Duration = Duration::from_secs(10);

pub fn run(sh: &mut Shell, args: &[String]) -> Outcome {
    if !args.is_empty() {
        return Err(Failure::Usage);
    }
    println!("shutting down");
    sh.init.shutdown().map_err(fail)?;
    libipc::sleep(POWER_OFF_WAIT);
    Err(fail("the machine is still on after 10 s (see init's messages)"))
}
