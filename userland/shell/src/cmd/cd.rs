//! `cd [dir]` and `pwd`: the current directory, against which relative
//! paths resolve. `cd` checks that the target is a directory.

use alloc::string::String;

use libipc::println;

use super::{fail_at, Failure, Outcome};
use crate::state::Shell;

pub fn run(sh: &mut Shell, args: &[String]) -> Outcome {
    if args.len() > 1 {
        return Err(Failure::Usage);
    }
    let path = sh.path(args.first().map_or("/", String::as_str));
    let info = sh.fs.stat(&path).map_err(|e| fail_at(&path, e))?;
    if !info.is_dir {
        return Err(fail_at(&path, "not a directory"));
    }
    sh.cwd = path;
    Ok(())
}

pub fn pwd(sh: &mut Shell, args: &[String]) -> Outcome {
    if !args.is_empty() {
        return Err(Failure::Usage);
    }
    println!("{}", sh.cwd);
    Ok(())
}
