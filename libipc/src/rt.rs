//! The runtime's entry points: how a process and a thread begin and end.
//!
//! A process starts (kernel contract, `docs/abi.md`) at the ELF entry with
//! `rsp` = top of its stack, 16-byte aligned minus 8 as after a `call`, and
//! `rdi` = pointer to the argument bytes, `rsi` = their length, `rdx` = the
//! bootstrap handle (0 = none). That is exactly the System V entry of an
//! `extern "C" fn(*const u8, usize, u64) -> !`, so no assembly is needed:
//! [`main!`](crate::main) defines `_start` with that signature in the
//! program's own crate (so the linker always finds it: a symbol in a library
//! would only be linked if referenced), records the program's name from
//! Cargo, and calls [`start`], which runs the program's `fn main(Args) -> i32`
//! and exits with its result. The heap needs no set-up: it maps its first
//! chunk on the first allocation (`heap.rs`).
//!
//! A thread started by `thread::spawn` enters [`thread_entry`] with the boxed
//! closure's address as its argument; the closure's result is the thread's
//! exit code.
//!
//! A panic prints `<program>: panic: <message> at <file>:<line>` and exits
//! the process with status 101 (there is no unwinding: `panic = "abort"`).
#![allow(unsafe_code)]

use alloc::boxed::Box;
use core::sync::atomic::{AtomicU64, Ordering};

use spin::Once;

use crate::args::Args;
use crate::sys;

/// The program's name as given to `main!` (its crate name, which is also its
/// name in the initrd).
static NAME: Once<&'static str> = Once::new();
/// The bootstrap handle from `rdx` at entry (0 = none).
static BOOTSTRAP: AtomicU64 = AtomicU64::new(0);

/// Exit status of a process that panicked.
pub const PANIC_STATUS: i64 = 101;

/// Defines the program's entry point: `libipc::main!(main);` with
/// `fn main(args: libipc::Args) -> i32`.
///
/// The program's crate must be `#![no_std]` and `#![no_main]`.
#[macro_export]
macro_rules! main {
    ($main:path) => {
        /// The process entry point the kernel jumps to (see `libipc::rt`).
        ///
        /// # Safety
        /// Called once by the kernel with `args_ptr`/`args_len` naming the
        /// argument bytes it copied onto the stack; never call it yourself.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn _start(args_ptr: *const u8, args_len: usize, bootstrap: u64) -> ! {
            let main: fn($crate::Args) -> i32 = $main;
            // SAFETY: the kernel's entry contract, forwarded unchanged.
            unsafe { $crate::rt::start(args_ptr, args_len, bootstrap, env!("CARGO_PKG_NAME"), main) }
        }
    };
}

/// Runs the program: records its name and bootstrap handle, builds its
/// [`Args`], calls `main` and exits with the result.
///
/// # Safety
/// Called once per process, by `_start`, with `args_ptr`/`args_len` as the
/// kernel passed them: `args_len` readable bytes at `args_ptr` (or a length
/// of 0) that stay untouched for the life of the process.
#[doc(hidden)]
pub unsafe fn start(
    args_ptr: *const u8,
    args_len: usize,
    bootstrap: u64,
    name: &'static str,
    main: fn(Args) -> i32,
) -> ! {
    NAME.call_once(|| name);
    BOOTSTRAP.store(bootstrap, Ordering::Relaxed);
    let bytes: &'static [u8] = if args_ptr.is_null() || args_len == 0 {
        &[]
    } else {
        // SAFETY: this function's precondition: the kernel copied `args_len`
        // bytes to `args_ptr`, above the initial stack pointer, where nothing
        // ever writes them again.
        unsafe { core::slice::from_raw_parts(args_ptr, args_len) }
    };
    let code = main(Args::new(bytes));
    sys::exit(i64::from(code))
}

/// The program's name (its crate name), or `"?"` before `main!` ran.
pub fn program_name() -> &'static str {
    NAME.get().copied().unwrap_or("?")
}

/// The bootstrap handle the kernel passed at start, if any.
pub fn bootstrap_handle() -> Option<u64> {
    match BOOTSTRAP.load(Ordering::Relaxed) {
        0 => None,
        h => Some(h),
    }
}

/// A thread's closure, as `thread::spawn` boxes it.
pub(crate) type ThreadMain = Box<dyn FnOnce() -> i64 + Send + 'static>;

/// Where a thread made by `thread::spawn` begins: `arg` is a
/// `Box<ThreadMain>` turned into a raw pointer by `thread::spawn`.
///
/// # Safety
/// `arg` came from `Box::into_raw(Box<ThreadMain>)` and is used exactly once
/// (only `thread::spawn` passes this function to `thread_create`, and it
/// gives away the box's ownership with the call).
pub(crate) unsafe extern "C" fn thread_entry(arg: u64) -> ! {
    // SAFETY: the precondition above.
    let main = unsafe { Box::from_raw(arg as *mut ThreadMain) };
    let code = main();
    sys::thread_exit(code)
}

#[cfg(all(target_os = "none", not(test)))]
mod panic {
    use core::fmt::Write;
    use core::panic::PanicInfo;
    use core::sync::atomic::{AtomicBool, Ordering};

    use crate::io::LineWriter;
    use crate::sys;

    /// Set by the first panic; a second (a panic while printing, or in
    /// another thread) exits without printing.
    static PANICKING: AtomicBool = AtomicBool::new(false);

    #[panic_handler]
    fn panic(info: &PanicInfo) -> ! {
        if PANICKING.swap(true, Ordering::SeqCst) {
            sys::exit(super::PANIC_STATUS);
        }
        let mut out = LineWriter::new();
        let _ = write!(out, "{}: panic: {}", super::program_name(), info.message());
        if let Some(loc) = info.location() {
            let _ = write!(out, " at {}:{}", loc.file(), loc.line());
        }
        out.finish_line();
        sys::exit(super::PANIC_STATUS)
    }
}
