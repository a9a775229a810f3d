//! Copying between address spaces. A message moves from the sender's memory
//! to the receiver's without an intermediate kernel buffer: both ranges are
//! resolved page by page through their page tables and copied through the
//! HHDM. Every page must be a present user page; a destination page must
//! also be writable (the kernel does not bypass the owner's protection).

use crate::mm::{paging::HhdmMemory, phys_to_virt, PAGE_SIZE};
use kcore::paging::{flags, PageTables};

/// Which side of a copy could not be resolved.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum CopyFault {
    Source,
    Destination,
}

/// The HHDM address of user byte `virt` in `tables`, if mapped as needed.
fn resolve(tables: PageTables, virt: u64, writable: bool) -> Option<u64> {
    let (phys, f) = tables.translate(&mut HhdmMemory, virt)?;
    let ok = f & flags::USER != 0 && (!writable || f & flags::WRITABLE != 0);
    ok.then(|| phys_to_virt(phys))
}

/// The HHDM address of user byte `virt` in the space rooted at `root`: a
/// lean walk for the IPC fast path. User mappings are 4 KiB pages with the
/// USER bit at every level; anything else (absent, kernel-only, a huge
/// page) is refused.
#[inline(always)]
pub fn resolve_fast(root: u64, virt: u64, writable: bool) -> Option<*mut u8> {
    const NEED: u64 = flags::PRESENT | flags::USER;
    let hhdm = crate::mm::hhdm_offset();
    let step = |table: u64, shift: u32| -> Option<u64> {
        // SAFETY: `table` is a page-table frame reached from a live root
        // through present entries; the HHDM maps it.
        let e = unsafe { ((hhdm + table + ((virt >> shift) & 0x1ff) * 8) as *const u64).read() };
        (e & (NEED | flags::HUGE) == NEED).then_some(e)
    };
    let pdpt = step(root, 39)? & kcore::paging::ADDR_MASK;
    let pd = step(pdpt, 30)? & kcore::paging::ADDR_MASK;
    let pt = step(pd, 21)? & kcore::paging::ADDR_MASK;
    // Bit 7 of a 4 KiB entry is PAT, not HUGE: check the leaf separately.
    // SAFETY: as in `step`.
    let leaf = unsafe { ((hhdm + pt + ((virt >> 12) & 0x1ff) * 8) as *const u64).read() };
    let need = if writable { NEED | flags::WRITABLE } else { NEED };
    if leaf & need != need {
        return None;
    }
    Some((hhdm + (leaf & kcore::paging::ADDR_MASK) + (virt & (PAGE_SIZE - 1))) as *mut u8)
}

/// One translation the IPC fast path remembers in a thread between calls:
/// user page `vpage` of the thread's own space is mapped writable at HHDM
/// address `kpage`. It holds while the mapping epoch (bumped by every unmap,
/// protect and address-space teardown) is still `epoch`; servers receive
/// into, and clients take replies in, the same buffer call after call, so
/// the page walk happens once.
#[derive(Clone, Copy, Debug, Default)]
pub struct PageCache {
    vpage: u64,
    kpage: u64,
    epoch: u64,
}

/// Copies `len` bytes from `src` in the *current* address space to `dst`
/// in the space rooted at `dst_root` (the fast path's case: the sender is
/// the running thread). `cache` belongs to the destination thread and
/// remembers its page. The source is read through the faulting-copy
/// routine.
#[inline(always)]
pub fn copy_from_current(src: u64, dst_root: u64, dst: u64, len: u64, cache: &mut PageCache) -> Result<(), CopyFault> {
    let offset = dst % PAGE_SIZE;
    let hit = cache.vpage == dst - offset
        && cache.epoch == crate::process::epochs::MAPPINGS.get()
        && offset + len <= PAGE_SIZE;
    if !hit {
        return copy_from_current_walking(src, dst_root, dst, len, cache);
    }
    let to = (cache.kpage + offset) as *mut u8;
    // SAFETY: the cached page was a writable user frame of the destination
    // space when resolved, and no mapping anywhere has been removed or
    // downgraded since (the epoch is unchanged), so it still is; the range
    // stays inside it. The source is a validated user range of the current
    // space; a fault in it is recovered by the copy routine.
    unsafe { crate::arch::usercopy::copy(to, src as *const u8, len as usize) }.map_err(|_| CopyFault::Source)
}

/// `copy_from_current` resolving every destination page; remembers the
/// first in `cache`.
#[inline(never)]
fn copy_from_current_walking(
    src: u64,
    dst_root: u64,
    dst: u64,
    len: u64,
    cache: &mut PageCache,
) -> Result<(), CopyFault> {
    let epoch = crate::process::epochs::MAPPINGS.get();
    let mut done = 0;
    while done < len {
        let d = dst + done;
        let n = (PAGE_SIZE - d % PAGE_SIZE).min(len - done);
        let to = resolve_fast(dst_root, d, true).ok_or(CopyFault::Destination)?;
        if done == 0 {
            let offset = d % PAGE_SIZE;
            *cache = PageCache { vpage: d - offset, kpage: to as u64 - offset, epoch };
        }
        // SAFETY: `to..to + n` lies in one writable user frame of a live
        // space (checked above, under the kernel lock); the source is a
        // validated user range of the current space, and a fault in it is
        // recovered by the copy routine.
        unsafe { crate::arch::usercopy::copy(to, (src + done) as *const u8, n as usize) }
            .map_err(|_| CopyFault::Source)?;
        done += n;
    }
    Ok(())
}

/// Copies `len` bytes from `src` in `src_tables` to `dst` in `dst_tables`.
/// Both ranges must already be checked to lie in user space.
pub fn copy(src_tables: PageTables, src: u64, dst_tables: PageTables, dst: u64, len: u64) -> Result<(), CopyFault> {
    let mut done = 0;
    while done < len {
        let (s, d) = (src + done, dst + done);
        let n = (PAGE_SIZE - s % PAGE_SIZE).min(PAGE_SIZE - d % PAGE_SIZE).min(len - done);
        let from = resolve(src_tables, s, false).ok_or(CopyFault::Source)?;
        let to = resolve(dst_tables, d, true).ok_or(CopyFault::Destination)?;
        // SAFETY: both ranges lie within single frames that are mapped as
        // user pages of live address spaces (checked just now, with the
        // kernel lock held so nothing can unmap them meanwhile), reached
        // through the HHDM; `copy` handles overlap.
        unsafe { core::ptr::copy(from as *const u8, to as *mut u8, n as usize) };
        done += n;
    }
    Ok(())
}

/// Copies kernel bytes into a user range of `tables`.
pub fn copy_out(src: &[u8], dst_tables: PageTables, dst: u64) -> Result<(), CopyFault> {
    let mut done = 0u64;
    let len = src.len() as u64;
    while done < len {
        let d = dst + done;
        let n = (PAGE_SIZE - d % PAGE_SIZE).min(len - done);
        let to = resolve(dst_tables, d, true).ok_or(CopyFault::Destination)?;
        let part = &src[done as usize..(done + n) as usize];
        // SAFETY: `to..to + n` is one writable user frame of a live space,
        // reached through the HHDM; `part` is kernel memory.
        unsafe { core::ptr::copy_nonoverlapping(part.as_ptr(), to as *mut u8, n as usize) };
        done += n;
    }
    Ok(())
}

/// Copies a user range of `tables` into kernel bytes.
pub fn copy_in(src_tables: PageTables, src: u64, dst: &mut [u8]) -> Result<(), CopyFault> {
    let mut done = 0u64;
    let len = dst.len() as u64;
    while done < len {
        let s = src + done;
        let n = (PAGE_SIZE - s % PAGE_SIZE).min(len - done);
        let from = resolve(src_tables, s, false).ok_or(CopyFault::Source)?;
        let part = &mut dst[done as usize..(done + n) as usize];
        // SAFETY: `from..from + n` is one user frame of a live space.
        unsafe { core::ptr::copy_nonoverlapping(from as *const u8, part.as_mut_ptr(), n as usize) };
        done += n;
    }
    Ok(())
}
