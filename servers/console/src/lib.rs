//! The console server's logic, kept apart from the hardware and the IPC
//! loop (`main.rs`, `uart.rs`) so that it runs under `cargo test -p console`
//! on the host: the line editor ([`line`]), the readers and Ctrl-C rules
//! ([`input`]) and the transmit buffer ([`tx`]). The protocol itself is
//! `libipc::console`, shared with every client.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod input;
pub mod line;
pub mod tx;
