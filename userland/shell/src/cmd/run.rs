//! `run <program> [args...] [&]`: starts an initrd program with the other
//! words (joined by spaces) as its arguments. In the foreground the shell
//! waits for it and Ctrl-C ends it (`foreground.rs`); with a final `&` it
//! runs in the background: the shell keeps its handle, so `kill` can end
//! it, and `ps` shows it.

use alloc::string::String;

use libipc::println;

use super::{fail_at, Failure, Outcome};
use crate::child;
use crate::foreground;
use crate::state::Shell;

/// Background programs the shell keeps handles to at most (finished ones
/// are dropped first when it is full).
const MAX_JOBS: usize = 16;

pub fn run(sh: &mut Shell, args: &[String]) -> Outcome {
    let (args, background) = match args.split_last() {
        Some((last, rest)) if last == "&" => (rest, true),
        _ => (args, false),
    };
    let Some((program, rest)) = args.split_first() else {
        return Err(Failure::Usage);
    };
    let words = rest.join(" ");
    if !background {
        return foreground::run(sh, program, words.as_bytes());
    }
    if sh.jobs.len() >= MAX_JOBS {
        sh.jobs.reap();
    }
    if sh.jobs.len() >= MAX_JOBS {
        return Err(fail_at(program, "too many background programs (kill some)"));
    }
    let child = child::spawn(program, words.as_bytes()).map_err(|e| fail_at(program, e))?;
    match sh.jobs.add(child) {
        Some(pid) => println!("started {program} (pid {pid})"),
        None => println!("started {program}"),
    }
    Ok(())
}
