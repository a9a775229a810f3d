//! The kernel–user contract, one source of truth for the kernel, userspace
//! and host tests: system call numbers and their register conventions, error
//! codes, exit statuses and the flags that cross the boundary. `docs/abi.md`
//! describes each call; this crate is what both sides compile against.
#![cfg_attr(not(test), no_std)]

pub mod errors;
pub mod ipc;
pub mod syscall;

pub use errors::Error;
pub use syscall::Syscall;

/// Lowest address user mappings may use (page 0 stays unmapped so null
/// dereferences fault).
pub const USER_START: u64 = 0x1000;
/// One past the highest user address (the canonical lower half).
pub const USER_END: u64 = 0x0000_8000_0000_0000;

/// Exit status reported by `wait` for a process ended by `kill`.
pub const EXIT_KILLED: i64 = -1000;
/// Exit status reported by `wait` for a process ended by a CPU fault
/// (page fault, protection fault, invalid opcode, divide error, ...).
pub const EXIT_FAULTED: i64 = -1001;

/// Memory protection for `map` and `protect`.
pub mod prot {
    pub const READ: u64 = 1 << 0;
    pub const WRITE: u64 = 1 << 1;
    pub const EXEC: u64 = 1 << 2;
}
