//! Memory the program asks the kernel for, beyond its image, stack and heap.
//!
//! [`Mapping`] is the safe way: it owns a range of pages from `map`, lends
//! them out as slices only while its protection allows (reads need READ,
//! `&mut` needs READ|WRITE), changes protection only through `&mut self` (so
//! no slice is lent out at the time) and unmaps on drop. The raw calls
//! [`map`], [`unmap`](crate::sys::unmap) and [`protect`](crate::sys::protect)
//! are re-exported for programs (and tests) that manage addresses themselves;
//! the latter two are `unsafe` because they can pull memory from under live
//! references.
#![deny(unsafe_code)]

use abi::prot;
use abi::syscall::InfoKind;

use crate::{sys, Error, Result};

pub use crate::sys::{map, memory_info, protect, unmap};

/// The page size `map`, `unmap` and `protect` work in.
pub const PAGE_SIZE: usize = 4096;

/// `kernel_info(kind, buf)`: raw statistics into `buf`; returns the bytes
/// written. [`memory_info`] is the typed form for [`InfoKind::Memory`].
pub fn kernel_info(kind: InfoKind, buf: &mut [u8]) -> Result<usize> {
    sys::kernel_info(kind as u64, buf)
}

/// Owned pages from `map`, unmapped when dropped.
#[derive(Debug)]
pub struct Mapping {
    /// Start address (page-aligned, never 0).
    addr: usize,
    /// Length in bytes, a whole number of pages.
    len: usize,
    /// The protection every page of the mapping has at least.
    prot: u64,
}

impl Mapping {
    /// Maps `len` bytes (rounded up to pages) of zeroed memory with `prot`.
    pub fn new(len: usize, prot: u64) -> Result<Mapping> {
        let len = len.checked_next_multiple_of(PAGE_SIZE).ok_or(Error::BadArgument)?;
        let addr = sys::map(len, prot)? as usize;
        Ok(Mapping { addr, len, prot })
    }

    /// The first byte.
    pub fn addr(&self) -> *mut u8 {
        self.addr as *mut u8
    }

    /// The length in bytes (whole pages).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Never true: the kernel does not make empty mappings.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The protection all pages have (the intersection, after
    /// [`protect_pages`](Self::protect_pages) changed some of them).
    pub fn prot(&self) -> u64 {
        self.prot
    }

    /// The pages as bytes, if they are all readable.
    pub fn as_slice(&self) -> Option<&[u8]> {
        if self.prot & prot::READ == 0 {
            return None;
        }
        #[allow(unsafe_code)]
        // SAFETY: `len` bytes at `addr` are mapped readable (checked above)
        // for as long as `self` lives, and zero-filled or written through
        // `as_mut_slice`, so initialised; no `&mut` to them exists while
        // `&self` is borrowed.
        Some(unsafe { core::slice::from_raw_parts(self.addr as *const u8, self.len) })
    }

    /// The pages as mutable bytes, if they are all readable and writable.
    pub fn as_mut_slice(&mut self) -> Option<&mut [u8]> {
        if self.prot & (prot::READ | prot::WRITE) != prot::READ | prot::WRITE {
            return None;
        }
        #[allow(unsafe_code)]
        // SAFETY: as in `as_slice`, and writable (checked above); `&mut self`
        // makes this the only reference.
        Some(unsafe { core::slice::from_raw_parts_mut(self.addr as *mut u8, self.len) })
    }

    /// Changes the protection of the whole mapping.
    pub fn protect(&mut self, prot: u64) -> Result<()> {
        self.protect_pages(0, self.len, prot)?;
        self.prot = prot;
        Ok(())
    }

    /// Changes the protection of `len` bytes from `offset` (both page
    /// multiples, inside the mapping). [`prot`](Self::prot) becomes the
    /// intersection, so slices are lent only when every page allows it.
    pub fn protect_pages(&mut self, offset: usize, len: usize, prot: u64) -> Result<()> {
        let end = offset.checked_add(len).ok_or(Error::BadArgument)?;
        if end > self.len || !offset.is_multiple_of(PAGE_SIZE) || !len.is_multiple_of(PAGE_SIZE) {
            return Err(Error::BadArgument);
        }
        #[allow(unsafe_code)]
        // SAFETY: the range lies in pages this value owns; `&mut self` means
        // no slice of them is lent out, and the slices lent later respect the
        // narrowed `self.prot`. No code runs from a `Mapping` this type lends.
        unsafe {
            sys::protect((self.addr + offset) as *mut u8, len, prot)?;
        }
        self.prot &= prot;
        Ok(())
    }

    /// Unmaps now, reporting the kernel's answer (dropping ignores it).
    pub fn unmap(self) -> Result<()> {
        let (addr, len) = (self.addr, self.len);
        core::mem::forget(self);
        #[allow(unsafe_code)]
        // SAFETY: `self` owned the pages and is gone, so no slice of them
        // is lent out any more.
        unsafe {
            sys::unmap(addr as *mut u8, len)
        }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        #[allow(unsafe_code)]
        // SAFETY: as in `unmap`: the owner is going away, so are its loans.
        let _ = unsafe { sys::unmap(self.addr as *mut u8, self.len) };
    }
}
