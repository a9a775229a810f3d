//! Threads in this process: [`spawn`] runs a closure on a new thread with
//! its own stack; [`JoinHandle::join`] waits for it and returns its code.
//!
//! Each stack is a [`Mapping`] with a read-only guard page at the bottom, so
//! an overflow faults (and ends the process) instead of writing over
//! whatever the kernel mapped below. The closure travels to the new thread
//! boxed, through `thread_create`'s argument, to `rt::thread_entry`.
//!
//! The stack is unmapped only after a successful `join`, when the thread has
//! certainly stopped using it. A `JoinHandle` dropped unjoined detaches the
//! thread and leaks its stack (it may still be running on it).
#![deny(unsafe_code)]

use alloc::boxed::Box;

use abi::prot;

use crate::mem::{Mapping, PAGE_SIZE};
use crate::rt::{self, ThreadMain};
use crate::sys::{self, OwnedHandle};
use crate::Result;

/// Stack size [`spawn`] gives a thread (plus one guard page).
pub const DEFAULT_STACK: usize = 64 * 1024;

/// A thread started by [`spawn`].
#[derive(Debug)]
pub struct JoinHandle {
    handle: OwnedHandle,
    /// The thread's stack; `None` once given back.
    stack: Option<Mapping>,
}

/// Runs `f` on a new thread with a [`DEFAULT_STACK`] stack; the value it
/// returns is the thread's exit code.
pub fn spawn<F>(f: F) -> Result<JoinHandle>
where
    F: FnOnce() -> i64 + Send + 'static,
{
    spawn_with_stack(DEFAULT_STACK, f)
}

/// Like [`spawn`] with a stack of `stack_size` bytes (rounded up to pages).
pub fn spawn_with_stack<F>(stack_size: usize, f: F) -> Result<JoinHandle>
where
    F: FnOnce() -> i64 + Send + 'static,
{
    let len = stack_size.checked_add(PAGE_SIZE).ok_or(abi::Error::BadArgument)?;
    let mut stack = Mapping::new(len, prot::READ | prot::WRITE)?;
    stack.protect_pages(0, PAGE_SIZE, prot::READ)?;
    // As right after a `call`: 16-byte aligned minus 8.
    let top = stack.addr() as u64 + stack.len() as u64 - 8;

    let main: Box<ThreadMain> = Box::new(Box::new(f));
    let arg = Box::into_raw(main);
    let entry = rt::thread_entry as *const () as usize as u64;
    #[allow(unsafe_code)]
    // SAFETY: (1) `thread_entry` is an `extern "C" fn(u64) -> !` whose
    // contract is that `arg` comes from `Box::into_raw(Box<ThreadMain>)` and
    // is used once: it is, and this function never touches `arg` again once
    // the thread exists. (2) The stack pages above the guard are read/write,
    // owned by the `Mapping` the `JoinHandle` keeps, and unmapped only after
    // the thread has exited (`join`) or never (drop leaks it). (3) `top` is a
    // page boundary minus 8.
    let created = unsafe { sys::thread_create(entry, top, arg as u64) };
    match created {
        Ok(handle) => Ok(JoinHandle { handle, stack: Some(stack) }),
        Err(e) => {
            #[allow(unsafe_code)]
            // SAFETY: no thread was created, so this is still the only owner
            // of the box made above.
            drop(unsafe { Box::from_raw(arg) });
            Err(e)
        }
    }
}

impl JoinHandle {
    /// Waits for the thread to exit and returns its code; frees its stack.
    pub fn join(mut self) -> Result<i64> {
        let code = sys::thread_join(self.handle.raw())?;
        // The thread has exited: nothing runs on the stack any more.
        drop(self.stack.take());
        Ok(code)
    }

    /// The thread handle's number (for tests and diagnostics).
    pub fn raw_handle(&self) -> u64 {
        self.handle.raw()
    }
}

impl Drop for JoinHandle {
    fn drop(&mut self) {
        // Not joined: the thread may still use its stack, so keep it mapped.
        if let Some(stack) = self.stack.take() {
            core::mem::forget(stack);
        }
    }
}

/// Ends the calling thread with `code` (the process ends when its last
/// thread does).
pub fn exit(code: i64) -> ! {
    sys::thread_exit(code)
}
