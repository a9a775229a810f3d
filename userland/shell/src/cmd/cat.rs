//! `cat <file>...`: prints files. A file that does not end in a newline
//! gets one, so the prompt starts on a fresh line.

use alloc::string::String;

use libipc::{print, println};

use super::{fail_at, Failure, Outcome};
use crate::state::Shell;

pub fn run(sh: &mut Shell, args: &[String]) -> Outcome {
    if args.is_empty() {
        return Err(Failure::Usage);
    }
    for arg in args {
        let path = sh.path(arg);
        let data = sh.fs.read(&path).map_err(|e| fail_at(&path, e))?;
        let text = String::from_utf8_lossy(&data);
        print!("{text}");
        if !text.is_empty() && !text.ends_with('\n') {
            println!();
        }
    }
    Ok(())
}
