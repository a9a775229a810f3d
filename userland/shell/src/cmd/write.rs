//! `write <file> <text>...`: replaces the file's contents with the words,
//! joined by single spaces (quote to keep other spacing), and a newline.

use alloc::string::String;

use super::{fail_at, Failure, Outcome};
use crate::state::Shell;

pub fn run(sh: &mut Shell, args: &[String]) -> Outcome {
    let Some((file, words)) = args.split_first() else {
        return Err(Failure::Usage);
    };
    if words.is_empty() {
        return Err(Failure::Usage);
    }
    let path = sh.path(file);
    let mut text = words.join(" ");
    text.push('\n');
    sh.fs.write(&path, text.as_bytes()).map_err(|e| fail_at(&path, e))?;
    Ok(())
}
