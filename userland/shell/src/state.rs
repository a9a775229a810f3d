//! The shell's state: its current directory, its links to the servers it
//! uses (console, fs, init) its background programs, and whether `exit` was asked for.

use alloc::string::String;

use shell::path;

use crate::jobs::Jobs;
use crate::svc::{Console, Fs, Init};

/// Everything a command may use or change.
pub struct Shell {
    /// The current directory: absolute and normalised.
    pub cwd: String,
    /// Lines in, and Ctrl-C while a program runs.
    pub console: Console,
    /// The file system.
    pub fs: Fs,
    /// Process control and power.
    pub init: Init,
    /// Programs running in the background.
    pub jobs: Jobs,
    /// Set by `exit`: the loop ends after this command.
    pub done: bool,
}

impl Shell {
    /// `p` as an absolute path, relative to the current directory.
    pub fn path(&self, p: &str) -> String {
        path::resolve(&self.cwd, p)
    }
}
