//! What every userspace program links: the system calls as safe functions,
//! the entry point and panic handler, the heap, threads and output. (The IPC
//! half — channels, typed messages, the async executor, names — arrives with
//! the IPC issue.)
//!
//! A program is a `#![no_std]`, `#![no_main]` binary crate:
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! #![forbid(unsafe_code)]
//!
//! libipc::main!(main);
//!
//! fn main(args: libipc::Args) -> i32 {
//!     libipc::println!("hello from pid {}", libipc::getpid());
//!     0
//! }
//! ```
//!
//! To add a program: make `userland/<name>/` (or `servers/<name>/`) with a
//! `Cargo.toml` whose package and binary are both called `<name>`,
//! depending on `libipc.workspace = true` (and `abi.workspace = true` if it
//! uses the constants), with `test = false` on the `[[bin]]`; add it to the
//! workspace `members`. The Makefile builds every crate in `servers/` and
//! `userland/` and puts each binary in the initrd under its name, which is
//! the name `spawn` takes. Output goes through `println!`; a panic prints
//! `<name>: panic: <message>` and exits with status 101.
//!
//! Unsafe code lives in `sys` (the `syscall` stubs and the calls that can
//! invalidate memory), `rt` (the entry points: turning the kernel's raw
//! arguments into Rust values), `heap` (handing mapped memory to the
//! allocator), `mem` (slices over mapped pages), `thread` (starting a
//! thread on a fresh stack), `ipc::raw` (the IPC `syscall` stub) and one
//! block of `wire` (the bytes a `Writer` wrote into its uninitialised
//! buffer); every other module forbids it.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

extern crate alloc;

pub mod args;
pub mod console;
pub mod executor;
pub mod heap;
pub mod init;
pub mod io;
pub mod ipc;
pub mod mem;
pub mod names;
pub mod process;
pub mod protocol;
pub mod rt;
pub mod server;
pub mod sync;
pub mod sys;
pub mod testing;
pub mod thread;
pub mod time;
pub mod wire;

pub use abi;
pub use abi::Error;
pub use args::Args;
pub use io::write_stdout;
pub use mem::{memory_info, Mapping};
pub use process::{exit, getpid, spawn, Process};
pub use sys::debug_write;
pub use time::{sleep, sleep_ns, time_ns, yield_now, Instant};

/// What every fallible call returns.
pub type Result<T> = core::result::Result<T, Error>;
