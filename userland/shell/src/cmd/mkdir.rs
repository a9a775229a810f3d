//! `mkdir <dir>`: makes a directory (its parent must exist).

use alloc::string::String;

use super::{fail_at, Failure, Outcome};
use crate::state::Shell;

pub fn run(sh: &mut Shell, args: &[String]) -> Outcome {
    let [dir] = args else {
        return Err(Failure::Usage);
    };
    let path = sh.path(dir);
    sh.fs.mkdir(&path).map_err(|e| fail_at(&path, e))
}
