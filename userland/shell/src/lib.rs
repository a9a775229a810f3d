//! The shell's pure logic, kept apart from the program (`main.rs` and the
//! commands in `cmd/`) so it runs under `cargo test -p shell` on the host:
//! the line editor and its history, splitting command lines into words, resolving paths against the current
//! directory, and laying out tables and units.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod editor;
pub mod history;
pub mod line;
pub mod path;
pub mod table;
