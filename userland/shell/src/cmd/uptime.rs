//! `uptime`: time since boot, from the kernel's monotonic clock.

use alloc::string::String;

use libipc::println;
use shell::table::duration;

use super::{Failure, Outcome};
use crate::state::Shell;

pub fn run(_: &mut Shell, args: &[String]) -> Outcome {
    if !args.is_empty() {
        return Err(Failure::Usage);
    }
    println!("up {}", duration(libipc::time_ns()));
    Ok(())
}
