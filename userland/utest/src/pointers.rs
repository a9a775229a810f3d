//! Bad arguments: every pointer-taking call refuses null, kernel-half,
//! non-canonical, unmapped, partly mapped, `USER_END`-straddling and wrapping
//! ranges with `BadAddress` (or `BadArgument` for lengths no call accepts);
//! the kernel never writes into read-only memory for the caller; bad,
//! closed and wrong-kind handles give `BadHandle`; unknown numbers give
//! `BadSyscall`; and a thread cannot be started at a kernel or non-canonical
//! address.
#![deny(unsafe_code)]

use alloc::format;

use abi::prot::{READ, WRITE};
use abi::syscall::{InfoKind, MemInfo};
use abi::{Syscall, USER_END};
use libipc::mem::{self, PAGE_SIZE};
use libipc::{sys, Error, Mapping, Result};

use crate::ensure;
use crate::harness::{expect_err, expect_some_err, ok, run_expect, Outcome};

const KERNEL_HALF: u64 = 0xffff_8000_0000_0000;
const NONCANONICAL: u64 = 0x8000_0000_0000_0000;

const ADDRESS: &[Error] = &[Error::BadAddress];
const ADDRESS_OR_ARGUMENT: &[Error] = &[Error::BadAddress, Error::BadArgument];

/// A raw call with hostile arguments.
///
/// # Safety
/// Every pointer argument names memory this program does not use (nothing
/// mapped there, kernel half, or a scratch page kept for the purpose), so
/// even a kernel that wrongly accepted the call could not corrupt live data;
/// `n` is not `exit`/`thread_exit`/`thread_create`/`unmap`/`protect`.
#[allow(unsafe_code)]
unsafe fn raw(n: Syscall, args: [u64; 6]) -> Result<u64> {
    // SAFETY: the caller's contract is `raw_syscall`'s.
    Error::from_raw(unsafe { sys::raw_syscall(n as u64, args) })
}

pub fn bad_pointers() -> Outcome {
    let unmapped = unmapped_page()?;
    let half = half_mapped()?;
    let valid = b"valid bytes";
    let vp = valid.as_ptr() as u64;

    // (pointer, length, what) ranges no read or write may use.
    let bad: [(u64, u64, &str, &[Error]); 11] = [
        (0, 5, "null", ADDRESS),
        (8, 8, "page 0", ADDRESS),
        (KERNEL_HALF, 8, "kernel half", ADDRESS),
        (0xffff_ffff_8000_0000, 8, "kernel image", ADDRESS),
        (NONCANONICAL, 8, "non-canonical", ADDRESS),
        (unmapped, 8, "unmapped page", ADDRESS),
        (half + PAGE_SIZE as u64 - 4, 16, "range running into an unmapped page", ADDRESS),
        (USER_END - 4, 8, "range straddling USER_END", ADDRESS),
        (USER_END, 1, "USER_END itself", ADDRESS),
        (vp, u64::MAX - vp + 2, "valid pointer, length wrapping the address space", ADDRESS_OR_ARGUMENT),
        (vp, 1 << 47, "valid pointer, length past USER_END", ADDRESS_OR_ARGUMENT),
    ];

    // kernel_info checks the length first: give it room for a `MemInfo`.
    let info_len = MemInfo::SIZE as u64;
    for &(ptr, len, what, errs) in &bad {
        #[allow(unsafe_code)]
        // SAFETY: debug_write only reads.
        let r = unsafe { raw(Syscall::DebugWrite, [ptr, len, 0, 0, 0, 0]) };
        expect_err(&format!("debug_write({what})"), r, errs)?;

        #[allow(unsafe_code)]
        // SAFETY: spawn only reads its name, arguments and handles.
        let r = unsafe { raw(Syscall::Spawn, [ptr, len, 0, 0, 0, 0]) };
        expect_err(&format!("spawn(name = {what})"), r, errs)?;

        let name = b"hello";
        #[allow(unsafe_code)]
        // SAFETY: as above.
        let r = unsafe { raw(Syscall::Spawn, [name.as_ptr() as u64, name.len() as u64, ptr, len, 0, 0]) };
        expect_err(&format!("spawn(args = {what})"), r, errs)?;

        #[allow(unsafe_code)]
        // SAFETY: as above.
        let r = unsafe { raw(Syscall::Spawn, [name.as_ptr() as u64, name.len() as u64, 0, 0, ptr, len]) };
        expect_err(&format!("spawn(handles = {what})"), r, errs)?;

        #[allow(unsafe_code)]
        // SAFETY: the kernel may write here only if it ignores the range
        // check, and the ranges hold nothing this program uses.
        let r = unsafe { raw(Syscall::KernelInfo, [InfoKind::Memory as u64, ptr, len.max(info_len), 0, 0, 0]) };
        expect_err(&format!("kernel_info(buffer = {what})"), r, errs)?;
    }
    // The valid forms work.
    ok("debug_write(valid)", sys::debug_write(b"utest: debug_write with a valid buffer\n"))?;

    read_only_is_not_written()?;
    bad_handles()?;
    unknown_numbers()?;

    // A thread may not start in the kernel half or at a non-canonical
    // address: `crash` exits 0 when the kernel refuses with an error.
    run_expect("crash", "thread-entry-kernel", 0)?;
    run_expect("crash", "thread-entry-noncanonical", 0)?;
    Ok(())
}

/// An address with nothing mapped: a page mapped and unmapped again.
fn unmapped_page() -> core::result::Result<u64, alloc::string::String> {
    let m = ok("map a page", Mapping::new(PAGE_SIZE, READ | WRITE))?;
    let addr = m.addr() as u64;
    ok("unmap it", m.unmap())?;
    Ok(addr)
}

/// Two pages mapped, the second unmapped again: the first stays mapped (and
/// leaked, holding nothing) so that a range can run from it into the hole.
fn half_mapped() -> core::result::Result<u64, alloc::string::String> {
    let base = ok("map two pages", mem::map(2 * PAGE_SIZE, READ | WRITE))?;
    #[allow(unsafe_code)]
    // SAFETY: the pages were just mapped and nothing uses them.
    let r = unsafe { mem::unmap(base.wrapping_add(PAGE_SIZE), PAGE_SIZE) };
    ok("unmap the second page", r)?;
    Ok(base as u64)
}

/// `kernel_info` into a read-only page must fail and leave it unchanged.
fn read_only_is_not_written() -> Outcome {
    let mut page = ok("map a page", Mapping::new(PAGE_SIZE, READ | WRITE))?;
    if let Some(bytes) = page.as_mut_slice() {
        bytes.fill(0xa5);
    }
    ok("protect read-only", page.protect(READ))?;
    let len = MemInfo::SIZE as u64;
    #[allow(unsafe_code)]
    // SAFETY: the page is read-only and `page` lends no `&mut`; a kernel
    // that wrongly wrote into it would only change bytes checked below.
    let r = unsafe { raw(Syscall::KernelInfo, [InfoKind::Memory as u64, page.addr() as u64, len, 0, 0, 0]) };
    expect_err("kernel_info into a read-only page", r, ADDRESS)?;
    let bytes = page.as_slice().ok_or("read-only page lends no slice")?;
    ensure!(bytes.iter().all(|&b| b == 0xa5), "kernel_info wrote into a read-only page");

    // This program's own code is read-only too.
    let code = bad_pointers as *const () as u64;
    #[allow(unsafe_code)]
    // SAFETY: as above; a kernel that wrote here would break this program,
    // which is what the check is for.
    let r = unsafe { raw(Syscall::KernelInfo, [InfoKind::Memory as u64, code, len, 0, 0, 0]) };
    expect_err("kernel_info into the program's code", r, ADDRESS)?;

    // A buffer too small for `MemInfo`, and an unknown kind.
    let mut small = [0u8; 4];
    expect_some_err("kernel_info(Memory) into 4 bytes", mem::kernel_info(InfoKind::Memory, &mut small).map(|_| small))?;
    let mut buf = [0u8; 64];
    expect_some_err("kernel_info(kind 999)", sys::kernel_info(999, &mut buf))?;
    let info = ok("memory_info", libipc::memory_info())?;
    ensure!(
        info.total_frames > 0 && info.free_frames <= info.total_frames && info.page_size == PAGE_SIZE as u64,
        "implausible memory info {info:?}"
    );
    Ok(())
}

fn bad_handles() -> Outcome {
    const BAD: &[Error] = &[Error::BadHandle];
    for h in [0u64, 1 << 20, 0x7fff_1234, 1 << 40, u64::MAX] {
        expect_err(&format!("wait({h:#x})"), sys::wait(h), BAD)?;
        expect_err(&format!("kill({h:#x})"), sys::kill(h), BAD)?;
        expect_err(&format!("thread_join({h:#x})"), sys::thread_join(h), BAD)?;
        #[allow(unsafe_code)]
        // SAFETY: nothing in this program owns these numbers.
        let r = unsafe { sys::handle_close(h) };
        expect_err(&format!("handle_close({h:#x})"), r, BAD)?;
    }
    // A closed handle is gone.
    let child = ok("spawn hello", libipc::spawn("hello", b"closed handle"))?;
    ok("wait hello", child.wait())?;
    let raw = child.raw_handle();
    drop(child);
    expect_err("wait(closed handle)", sys::wait(raw), BAD)?;
    expect_err("kill(closed handle)", sys::kill(raw), BAD)?;
    #[allow(unsafe_code)]
    // SAFETY: the owner is gone; nothing else holds this number.
    let r = unsafe { sys::handle_close(raw) };
    expect_err("handle_close(closed handle)", r, BAD)
}

fn unknown_numbers() -> Outcome {
    // The first number the ABI does not define, and far-out ones (a kernel
    // that truncated `rax` would take `1 << 32` for call 0).
    let first_unused = (0..).find(|&n| Syscall::from_raw(n).is_none()).unwrap_or(u64::MAX);
    for n in [first_unused, 255, 1000, 1 << 32, u64::MAX] {
        #[allow(unsafe_code)]
        // SAFETY: no call has these numbers; the arguments are zero.
        let r = Error::from_raw(unsafe { sys::raw_syscall(n, [0; 6]) });
        expect_err(&format!("syscall {n:#x}"), r, &[Error::BadSyscall])?;
    }
    Ok(())
}
