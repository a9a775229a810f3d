//! `help [command]`: the command list, or one command's usage.

use alloc::string::String;

use libipc::println;

use super::{fail, find, usage, Outcome, COMMANDS};
use crate::state::Shell;

pub fn run(_: &mut Shell, args: &[String]) -> Outcome {
    if let Some(name) = args.first() {
        let command = find(name).ok_or_else(|| fail(alloc::format!("{name}: no such command")))?;
        println!("usage: {}", usage(command));
        println!("  {}", command.about);
        return Ok(());
    }
    let width = COMMANDS.iter().map(|c| usage(c).len()).max().unwrap_or(0);
    println!("commands:");
    for c in COMMANDS {
        println!("  {:width$}  {}", usage(c), c.about);
    }
    println!("paths may be relative to the current directory; quote words with spaces");
    Ok(())
}
