//! `shutdown`: asks init to sync the file system and power off. The reply
//! never comes when it works (the machine is off).

use alloc::string::String;

use libipc::println;

use super::{fail, Failure, Outcome};
use crate::state::Shell;

pub fn run(sh: &mut Shell, args: &[String]) -> Outcome {
    if !args.is_empty() {
        return Err(Failure::Usage);
    }
    println!("shutting down");
    sh.init.shutdown().map_err(fail)
}
