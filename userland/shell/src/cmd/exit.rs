//! `exit`: leaves the shell (init decides whether to start a new one).

use alloc::string::String;

use super::{Failure, Outcome};
use crate::state::Shell;

pub fn run(sh: &mut Shell, args: &[String]) -> Outcome {
    if !args.is_empty() {
        return Err(Failure::Usage);
    }
    sh.done = true;
    Ok(())
}
