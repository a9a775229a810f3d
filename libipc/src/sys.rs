//! The raw `syscall` instruction and one thin typed wrapper per system call.
//!
//! This is the only file in userland that talks to the kernel (and the one
//! that reads the time-stamp counter, for the clock in `time`). The stubs
//! `syscall0`..`syscall6` follow the convention of `abi::syscall`: number in
//! `rax`; arguments in `rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9`; result in `rax`
//! (negative = `-(error code)`), second result in `rdx`; `rcx` and `r11`
//! clobbered by the CPU; every other register preserved. The stubs declare
//! exactly that to the compiler and nothing more, so they are only for calls
//! that follow that base convention; calls that return more registers (the
//! IPC calls) need stubs of their own, and [`raw_syscall2`] assumes nothing.
//!
//! The wrappers below them decode the raw result into `Result<_, Error>` once,
//! so no caller ever looks at a raw `rax`. A wrapper is a safe `fn` when no
//! choice of arguments can break memory safety of the caller (the kernel
//! checks every pointer and handle, and the calls only read user memory or
//! write memory the wrapper's signature borrows mutably); it is an
//! `unsafe fn` when the call can invalidate memory the program may still use
//! (`unmap`, `protect`, `handle_close`, `thread_create`), with the
//! precondition written down.
#![allow(unsafe_code)]

use core::arch::asm;

use abi::syscall::{InfoKind, MemInfo};
use abi::{Error, Syscall};

use crate::Result;

/// Issues `syscall` with no arguments; returns `(rax, rdx)`.
///
/// # Safety
/// The call must not make the kernel write memory the program still uses or
/// unmap/reprotect it (see the module documentation); with no pointer
/// arguments this means: `n` is not a call that ends the thread or process
/// while Rust code still expects to return (that is only sound in a `-> !`
/// context).
#[inline(always)]
pub unsafe fn syscall0(n: u64) -> (u64, u64) {
    let (rax, rdx);
    // SAFETY: `syscall` transfers to the kernel, which returns with rax/rdx
    // set, rcx/r11 clobbered and every other register (and the stack, which it
    // does not touch) preserved, as declared. Memory effects are the caller's
    // responsibility (this function's contract).
    unsafe {
        asm!("syscall", inlateout("rax") n => rax, lateout("rdx") rdx,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    (rax, rdx)
}

/// Issues `syscall` with one argument; returns `(rax, rdx)`.
///
/// # Safety
/// As for [`syscall0`]; any pointer argument must name memory the kernel may
/// read or write as the call's contract says.
#[inline(always)]
pub unsafe fn syscall1(n: u64, a0: u64) -> (u64, u64) {
    let (rax, rdx);
    // SAFETY: as in `syscall0`; rdi is an input only (preserved by the kernel).
    unsafe {
        asm!("syscall", inlateout("rax") n => rax, in("rdi") a0, lateout("rdx") rdx,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    (rax, rdx)
}

/// Issues `syscall` with two arguments; returns `(rax, rdx)`.
///
/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall2(n: u64, a0: u64, a1: u64) -> (u64, u64) {
    let (rax, rdx);
    // SAFETY: as in `syscall0`; rdi/rsi are inputs only.
    unsafe {
        asm!("syscall", inlateout("rax") n => rax, in("rdi") a0, in("rsi") a1,
             lateout("rdx") rdx, lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    (rax, rdx)
}

/// Issues `syscall` with three arguments; returns `(rax, rdx)`.
///
/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall3(n: u64, a0: u64, a1: u64, a2: u64) -> (u64, u64) {
    let (rax, rdx);
    // SAFETY: as in `syscall0`; rdx carries the third argument in and the
    // second result out.
    unsafe {
        asm!("syscall", inlateout("rax") n => rax, in("rdi") a0, in("rsi") a1,
             inlateout("rdx") a2 => rdx, lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    (rax, rdx)
}

/// Issues `syscall` with four arguments; returns `(rax, rdx)`.
///
/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall4(n: u64, a0: u64, a1: u64, a2: u64, a3: u64) -> (u64, u64) {
    let (rax, rdx);
    // SAFETY: as in `syscall3`; r10 is an input only.
    unsafe {
        asm!("syscall", inlateout("rax") n => rax, in("rdi") a0, in("rsi") a1,
             inlateout("rdx") a2 => rdx, in("r10") a3,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    (rax, rdx)
}

/// Issues `syscall` with five arguments; returns `(rax, rdx)`.
///
/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall5(n: u64, a0: u64, a1: u64, a2: u64, a3: u64, a4: u64) -> (u64, u64) {
    let (rax, rdx);
    // SAFETY: as in `syscall3`; r10/r8 are inputs only.
    unsafe {
        asm!("syscall", inlateout("rax") n => rax, in("rdi") a0, in("rsi") a1,
             inlateout("rdx") a2 => rdx, in("r10") a3, in("r8") a4,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    (rax, rdx)
}

/// Issues `syscall` with six arguments; returns `(rax, rdx)`.
///
/// # Safety
/// As for [`syscall1`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub unsafe fn syscall6(n: u64, a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64) -> (u64, u64) {
    let (rax, rdx);
    // SAFETY: as in `syscall3`; r10/r8/r9 are inputs only.
    unsafe {
        asm!("syscall", inlateout("rax") n => rax, in("rdi") a0, in("rsi") a1,
             inlateout("rdx") a2 => rdx, in("r10") a3, in("r8") a4, in("r9") a5,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    (rax, rdx)
}

/// Any system call with all six argument registers, returning raw `rax` as a
/// signed value. For tests that must pass what no typed wrapper allows
/// (unknown numbers, forged handles, hostile pointers).
///
/// # Safety
/// The kernel checks every argument, but a *valid* pointer argument lets it
/// write the caller's own memory (`kernel_info`, `receive`), unmap or
/// reprotect it (`unmap`, `protect`), or start a thread on it
/// (`thread_create`), and `exit`/`thread_exit` do not return. The caller
/// must make sure that none of that touches memory the program still relies
/// on.
pub unsafe fn raw_syscall(n: u64, args: [u64; 6]) -> i64 {
    // SAFETY: forwarded to the caller's contract.
    unsafe { raw_syscall2(n, args) }.0
}

/// Like [`raw_syscall`], also returning the second result (`rdx`).
///
/// Unlike `syscall0`..`syscall6`, this stub assumes nothing about which
/// argument registers the call preserves (some IPC calls return values in
/// `rdi`, `rsi`, `r8`, `r9`), so any number is safe to try.
///
/// # Safety
/// As for [`raw_syscall`].
pub unsafe fn raw_syscall2(n: u64, args: [u64; 6]) -> (i64, u64) {
    let [a0, a1, a2, a3, a4, a5] = args;
    let (rax, rdx): (u64, u64);
    // SAFETY: as in `syscall0`, with every argument register declared
    // clobbered; memory effects are the caller's contract.
    unsafe {
        asm!("syscall", inlateout("rax") n => rax, inlateout("rdi") a0 => _, inlateout("rsi") a1 => _,
             inlateout("rdx") a2 => rdx, inlateout("r10") a3 => _, inlateout("r8") a4 => _,
             inlateout("r9") a5 => _, lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    (rax as i64, rdx)
}

/// Decodes `rax`: non-negative is the value, negative is `-(error code)`.
fn check(rax: u64) -> Result<u64> {
    Error::from_raw(rax as i64)
}

/// A handle this program owns: closed when dropped. Only the wrappers that
/// create kernel objects make one, so no two owners close the same handle.
#[derive(Debug)]
pub struct OwnedHandle(u64);

impl OwnedHandle {
    /// The handle's number, for calls that take it (and for tests).
    pub fn raw(&self) -> u64 {
        self.0
    }
}

impl Drop for OwnedHandle {
    fn drop(&mut self) {
        // SAFETY: this value is the handle's only owner (module invariant), so
        // nothing else will use the number after it is closed. Closing can
        // only fail for a handle that is already gone; nothing to do then.
        let _ = unsafe { handle_close(self.0) };
    }
}

/// `debug_write(ptr, len) -> len`: bytes to the kernel log.
pub fn debug_write(bytes: &[u8]) -> Result<usize> {
    // SAFETY: the kernel only reads `bytes`, which is borrowed for the call.
    let (rax, _) = unsafe { syscall2(Syscall::DebugWrite as u64, bytes.as_ptr() as u64, bytes.len() as u64) };
    check(rax).map(|n| n as usize)
}

/// `exit(status)`: ends the process; does not return.
pub fn exit(status: i64) -> ! {
    // SAFETY: the call does not return, so nothing the program holds is used
    // again; `-> !` tells the compiler so.
    unsafe { syscall1(Syscall::Exit as u64, status as u64) };
    // The kernel never returns from `exit`; if it did, make sure this thread
    // at least stops.
    thread_exit(status)
}

/// `spawn(name, args, handles) -> process handle`: the child gets copies
/// of `handles` (see `abi::syscall::Syscall::Spawn`).
pub fn spawn(name: &[u8], args: &[u8], handles: &[u64]) -> Result<OwnedHandle> {
    spawn_pid(name, args, handles).map(|(handle, _)| handle)
}

/// `spawn`, also returning the child's pid.
pub fn spawn_pid(name: &[u8], args: &[u8], handles: &[u64]) -> Result<(OwnedHandle, u64)> {
    // SAFETY: the kernel only reads `name`, `args` and `handles`, borrowed
    // for the call.
    let (rax, pid) = unsafe {
        syscall6(
            Syscall::Spawn as u64,
            name.as_ptr() as u64,
            name.len() as u64,
            args.as_ptr() as u64,
            args.len() as u64,
            handles.as_ptr() as u64,
            handles.len() as u64,
        )
    };
    check(rax).map(|h| (OwnedHandle(h), pid))
}

/// `shutdown(status)`: powers the machine off (under QEMU: leaves through
/// isa-debug-exit, successfully if `status` is 0). Only init may; anyone
/// else gets the error back (`PermissionDenied`), which is all this ever
/// returns.
pub fn shutdown(status: i64) -> Error {
    // SAFETY: no memory arguments; the call either ends everything or
    // returns an error.
    let (rax, _) = unsafe { syscall1(Syscall::Shutdown as u64, status as u64) };
    check(rax).err().unwrap_or(Error::BadState)
}

/// `wait(process) -> status`: blocks until the process ends.
pub fn wait(process: u64) -> Result<i64> {
    // SAFETY: no memory arguments; the kernel checks the handle.
    let (rax, rdx) = unsafe { syscall1(Syscall::Wait as u64, process) };
    check(rax).map(|_| rdx as i64)
}

/// `kill(process)`.
pub fn kill(process: u64) -> Result<()> {
    // SAFETY: no memory arguments; the kernel checks the handle (and a
    // handle to this very process would end it, which is not unsound: the
    // process simply stops).
    let (rax, _) = unsafe { syscall1(Syscall::Kill as u64, process) };
    check(rax).map(drop)
}

/// `thread_create(entry, stack_top, arg) -> thread handle`.
///
/// # Safety
/// 1. `entry` is the address of an `extern "C" fn(u64) -> !` that is sound to
///    call with `arg`.
/// 2. `[stack_top - len, stack_top)` for the stack `entry` needs is mapped
///    read/write, used by nothing else, and stays so until the thread has
///    exited.
/// 3. `stack_top` is 16-byte aligned minus 8 (as right after a `call`).
pub unsafe fn thread_create(entry: u64, stack_top: u64, arg: u64) -> Result<OwnedHandle> {
    // SAFETY: the caller's contract covers what the new thread touches.
    let (rax, _) = unsafe { syscall3(Syscall::ThreadCreate as u64, entry, stack_top, arg) };
    check(rax).map(OwnedHandle)
}

/// `thread_exit(code)`: ends the calling thread; does not return.
pub fn thread_exit(code: i64) -> ! {
    loop {
        // SAFETY: the call does not return (the loop only guards against a
        // kernel that did return); the thread's stack is not freed by the
        // kernel, so nothing it borrows dangles.
        unsafe { syscall1(Syscall::ThreadExit as u64, code as u64) };
    }
}

/// `thread_join(thread) -> code`: waits for a thread of this process.
pub fn thread_join(thread: u64) -> Result<i64> {
    // SAFETY: no memory arguments; the kernel checks the handle.
    let (rax, rdx) = unsafe { syscall1(Syscall::ThreadJoin as u64, thread) };
    check(rax).map(|_| rdx as i64)
}

/// `yield()`: gives up the rest of the time slice.
pub fn yield_now() {
    // SAFETY: no arguments, no memory effects.
    unsafe { syscall0(Syscall::Yield as u64) };
}

/// `sleep(ns)`: blocks for at least `ns` nanoseconds.
pub fn sleep_ns(ns: u64) -> Result<()> {
    // SAFETY: no memory arguments.
    let (rax, _) = unsafe { syscall1(Syscall::Sleep as u64, ns) };
    check(rax).map(drop)
}

/// `map(len, prot) -> addr`: fresh zeroed pages the kernel chooses.
///
/// Safe: the kernel only ever hands out pages that were not mapped, so no
/// memory the program uses changes.
pub fn map(len: usize, prot: u64) -> Result<*mut u8> {
    // SAFETY: see above; no memory arguments.
    let (rax, _) = unsafe { syscall2(Syscall::Map as u64, len as u64, prot) };
    check(rax).map(|addr| addr as *mut u8)
}

/// `unmap(addr, len)`.
///
/// # Safety
/// Nothing in the program (references, allocator, thread stacks) uses any
/// page of `[addr, addr + len)` afterwards.
pub unsafe fn unmap(addr: *mut u8, len: usize) -> Result<()> {
    // SAFETY: the caller's contract.
    let (rax, _) = unsafe { syscall2(Syscall::Unmap as u64, addr as u64, len as u64) };
    check(rax).map(drop)
}

/// `protect(addr, len, prot)`.
///
/// # Safety
/// No live reference into `[addr, addr + len)` needs an access `prot` no
/// longer allows (a `&mut` needs WRITE, any reference READ), and no code the
/// program will run lies in a range losing EXEC.
pub unsafe fn protect(addr: *mut u8, len: usize, prot: u64) -> Result<()> {
    // SAFETY: the caller's contract.
    let (rax, _) = unsafe { syscall3(Syscall::Protect as u64, addr as u64, len as u64, prot) };
    check(rax).map(drop)
}

/// `time() -> ns` since boot.
pub fn time_ns() -> u64 {
    // SAFETY: no arguments, no memory effects.
    let (rax, _) = unsafe { syscall0(Syscall::Time as u64) };
    rax
}

/// `getpid() -> pid`.
pub fn getpid() -> u64 {
    // SAFETY: no arguments, no memory effects.
    let (rax, _) = unsafe { syscall0(Syscall::GetPid as u64) };
    rax
}

/// `handle_close(handle)`.
///
/// # Safety
/// No [`OwnedHandle`] (or anything built on one: `Process`, `JoinHandle`)
/// owns `handle`: they would go on using a number that may, once the kernel
/// reuses it, name another object (a `JoinHandle` would then free a stack a
/// running thread still uses).
pub unsafe fn handle_close(handle: u64) -> Result<()> {
    // SAFETY: no memory arguments; ownership is the caller's contract.
    let (rax, _) = unsafe { syscall1(Syscall::HandleClose as u64, handle) };
    check(rax).map(drop)
}

/// `kernel_info(kind, buf, len) -> bytes written`.
pub fn kernel_info(kind: u64, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`, which is
    // borrowed mutably for the call; any bytes are valid `u8`s.
    let (rax, _) = unsafe { syscall3(Syscall::KernelInfo as u64, kind, buf.as_mut_ptr() as u64, buf.len() as u64) };
    check(rax).map(|n| n as usize)
}

/// `kernel_info(InfoKind::Clock)`: nanoseconds per TSC tick, 32.32 fixed point.
pub fn clock_scale() -> Result<u64> {
    let mut buf = [0u8; 8];
    match kernel_info(InfoKind::Clock as u64, &mut buf)? {
        8 => Ok(u64::from_le_bytes(buf)),
        _ => Err(Error::BadState),
    }
}

/// The time-stamp counter (`rdtsc`, which the kernel leaves usable in user
/// mode): the tick the kernel's clock counts. Not serialising: a reading
/// may be taken a few instructions early or late, which a clock in
/// nanoseconds does not notice.
#[inline]
pub fn tsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: rdtsc only reads the counter; no memory, no side effects.
    unsafe { asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags)) };
    (u64::from(hi) << 32) | u64::from(lo)
}

/// `kernel_info(InfoKind::Memory)`: frame counts.
pub fn memory_info() -> Result<MemInfo> {
    let mut buf = [0u8; MemInfo::SIZE];
    let n = kernel_info(InfoKind::Memory as u64, &mut buf)?;
    if n < MemInfo::SIZE {
        return Err(Error::BadState);
    }
    Ok(MemInfo::from_bytes(&buf))
}
