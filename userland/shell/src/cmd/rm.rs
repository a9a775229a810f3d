//! `rm <path>`: removes a file or an empty directory.

use alloc::string::String;

use super::{fail_at, Failure, Outcome};
use crate::state::Shell;

pub fn run(sh: &mut Shell, args: &[String]) -> Outcome {
    let [target] = args else {
        return Err(Failure::Usage);
    };
    let path = sh.path(target);
    if path == "/" {
        return Err(fail_at(&path, "cannot remove the root"));
    }
    sh.fs.remove(&path).map_err(|e| fail_at(&path, e))
}
