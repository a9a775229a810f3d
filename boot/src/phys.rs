//! Access to physical memory. The loader runs on an identity map of the
//! first 4 GiB (built by the entry stub), so a physical address below 4 GiB
//! is also a valid pointer. Every raw access the loader makes goes through
//! the few functions here, which check that bound.

use crate::error::{bail, Result};

/// End of the identity-mapped window the loader can touch.
pub const IDENTITY_LIMIT: u64 = 0x1_0000_0000;
pub const PAGE_SIZE: u64 = 4096;

pub const fn align_down(x: u64, align: u64) -> u64 {
    x & !(align - 1)
}

/// Rounds up to `align` (a power of two); `None` on overflow.
pub const fn align_up(x: u64, align: u64) -> Option<u64> {
    match x.checked_add(align - 1) {
        Some(v) => Some(v & !(align - 1)),
        None => None,
    }
}

/// Checks that `[addr, addr + len)` lies in the identity-mapped window and
/// does not start at 0.
pub fn check(addr: u64, len: u64) -> Result<()> {
    match addr.checked_add(len) {
        Some(end) if addr != 0 && end <= IDENTITY_LIMIT => Ok(()),
        _ => bail!("physical range outside the loader's 4 GiB window", addr),
    }
}

/// Borrows `len` bytes of physical memory that nothing writes while the
/// loader runs (Multiboot structures, module contents, firmware tables).
pub fn bytes(addr: u64, len: u64) -> Result<&'static [u8]> {
    check(addr, len)?;
    // SAFETY: the range is identity mapped (checked above) and only holds
    // data the loader reads; no `&mut` to it is ever created.
    Ok(unsafe { core::slice::from_raw_parts(ptr(addr), len as usize) })
}

/// A raw pointer to physical address `addr` (no access is made).
pub fn ptr<T>(addr: u64) -> *mut T {
    core::ptr::with_exposed_provenance_mut(addr as usize)
}

/// Reads a `T` from physical memory (any alignment).
pub fn read<T: Copy>(addr: u64) -> Result<T> {
    check(addr, size_of::<T>() as u64)?;
    // SAFETY: in bounds of the identity map (checked); unaligned read of a
    // plain-data type.
    Ok(unsafe { core::ptr::read_unaligned(ptr::<T>(addr)) })
}

/// Writes a `T` to physical memory (any alignment).
pub fn write<T>(addr: u64, value: T) -> Result<()> {
    check(addr, size_of::<T>() as u64)?;
    // SAFETY: in bounds of the identity map (checked). Callers only write
    // to memory the loader allocated or to the kernel image it loaded.
    unsafe { core::ptr::write_unaligned(ptr::<T>(addr), value) };
    Ok(())
}

/// Copies `src` to physical address `dst`.
pub fn copy_to(dst: u64, src: &[u8]) -> Result<()> {
    check(dst, src.len() as u64)?;
    // SAFETY: destination checked as above and owned by the loader (fresh
    // allocations); `src` never overlaps a fresh allocation.
    unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), ptr::<u8>(dst), src.len()) };
    Ok(())
}

/// Fills `len` bytes at physical address `dst` with zero.
pub fn zero(dst: u64, len: u64) -> Result<()> {
    check(dst, len)?;
    // SAFETY: as for `copy_to`.
    unsafe { core::ptr::write_bytes(ptr::<u8>(dst), 0, len as usize) };
    Ok(())
}

/// Volatile 32-bit read of a device register.
pub fn mmio_read32(addr: u64) -> Result<u32> {
    check(addr, 4)?;
    if !addr.is_multiple_of(4) {
        bail!("unaligned MMIO access", addr);
    }
    // SAFETY: aligned, identity mapped (checked); the address comes from
    // firmware tables describing a device register.
    Ok(unsafe { core::ptr::read_volatile(ptr::<u32>(addr)) })
}

/// Volatile 32-bit write of a device register.
pub fn mmio_write32(addr: u64, value: u32) -> Result<()> {
    check(addr, 4)?;
    if !addr.is_multiple_of(4) {
        bail!("unaligned MMIO access", addr);
    }
    // SAFETY: as for `mmio_read32`.
    unsafe { core::ptr::write_volatile(ptr::<u32>(addr), value) };
    Ok(())
}
