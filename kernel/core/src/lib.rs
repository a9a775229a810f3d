//! The kernel's pure logic: data structures with no hardware access, so the
//! host can test them with `cargo test`. The kernel supplies the memory they
//! work on (through the HHDM); tests supply it from the host heap.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

extern crate alloc;

pub mod arena;
pub mod elf;
pub mod frames;
pub mod handles;
pub mod initrd;
pub mod paging;
pub mod ring;
pub mod runqueue;

/// Size of a page and of a physical frame.
pub const PAGE_SIZE: u64 = 4096;
