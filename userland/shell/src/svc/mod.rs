//! The shell's links to the servers it uses, each behind a small adapter
//! that offers exactly what the commands need: [`Console`] (lines in,
//! Ctrl-C), [`Fs`] (files and directories) and [`Init`] (kill, crash,
//! shutdown). A server that cannot be reached makes its commands fail with
//! a message; the shell itself keeps going.

mod console;
mod fs;
mod init;

pub use console::{Console, Line, INTERRUPT_PULSE, RAW_BY_DEFAULT};
pub use fs::Fs;
pub use init::Init;
