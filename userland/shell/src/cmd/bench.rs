//! `bench`: runs `ipcbench quick` in the foreground (a short run of the
//! IPC benchmark that prints its table); Ctrl-C ends it.

use alloc::string::String;

use super::{Failure, Outcome};
use crate::foreground;
use crate::state::Shell;

/// The benchmark program and its quick setting.
const PROGRAM: &str = "ipcbench";
const ARGS: &[u8] = b"quick";

pub fn run(sh: &mut Shell, args: &[String]) -> Outcome {
    if !args.is_empty() {
        return Err(Failure::Usage);
    }
    foreground::run(sh, PROGRAM, ARGS)
}
