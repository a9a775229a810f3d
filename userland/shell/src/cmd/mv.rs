//! `mv <from> <to>`: renames a file or directory. If `to` is an existing
//! directory, `from` moves into it under its own name.

use alloc::string::String;

use shell::path;

use super::{fail_at, Failure, Outcome};
use crate::state::Shell;

pub fn run(sh: &mut Shell, args: &[String]) -> Outcome {
    let [from, to] = args else {
        return Err(Failure::Usage);
    };
    let from = sh.path(from);
    let mut to = sh.path(to);
    if sh.fs.stat(&to).is_ok_and(|info| info.is_dir) {
        to = path::resolve(&to, path::file_name(&from));
    }
    sh.fs.rename(&from, &to).map_err(|e| fail_at(&from, e))
}
