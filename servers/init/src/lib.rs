//! init's pure parts, kept apart from the program so that `cargo test -p
//! init` checks them on the host: the manifest ([`manifest`]: servers,
//! grants, test suites) and the restart policy ([`policy`]).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod manifest;
pub mod policy;
