//! `history`: the lines run so far, numbered for `!N`.

use alloc::string::String;

use libipc::println;

use super::{Failure, Outcome};
use crate::state::Shell;

pub fn run(sh: &mut Shell, args: &[String]) -> Outcome {
    if !args.is_empty() {
        return Err(Failure::Usage);
    }
    for (n, line) in sh.console.history().numbered() {
        println!("{n:4}  {line}");
    }
    Ok(())
}
