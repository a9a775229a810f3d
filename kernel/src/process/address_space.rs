//! A process's address space: its page tables (kernel half shared with every
//! other space), the user pages it owns, and the accounting that keeps one
//! process from taking all of memory. Frames mapped here belong to the space
//! and are freed with it, except those marked borrowed (device or DMA memory
//! lent by a handle).

use super::epochs;
use crate::arch::cpu;
use crate::mm::{frames, paging::HhdmMemory, phys_to_virt, PAGE_SIZE};
use abi::{prot, Error, USER_END, USER_START};
use kcore::paging::{flags, MapError, PageMemory, PageTables};

/// A PTE bit (available to software) marking frames the space does not own.
pub const BORROWED: u64 = 1 << 9;

/// Where `map` places memory: well away from program images and stacks.
const MAP_BASE: u64 = 0x0000_1000_0000_0000;
/// Top of the main thread's stack (a guard gap above and below).
pub const STACK_TOP: u64 = 0x0000_7fff_fff0_0000;
/// Size of the main thread's stack.
pub const STACK_SIZE: u64 = 64 * 1024;

pub struct AddressSpace {
    pub tables: PageTables,
    /// Pages mapped and owned (counted against `page_limit`).
    pub pages: usize,
    pub page_limit: usize,
    next_map: u64,
}

/// Page-table flags for a user mapping with `prot`.
pub fn user_flags(p: u64) -> u64 {
    let mut f = flags::USER;
    if p & prot::WRITE != 0 {
        f |= flags::WRITABLE;
    }
    if p & prot::EXEC == 0 {
        f |= flags::NO_EXECUTE;
    }
    f
}

/// Checks that `[addr, addr + len)` is page aligned, non-empty and in user space.
pub fn check_user_range(addr: u64, len: u64) -> Result<u64, Error> {
    if !addr.is_multiple_of(PAGE_SIZE) || len == 0 {
        return Err(Error::BadArgument);
    }
    let len = len.checked_next_multiple_of(PAGE_SIZE).ok_or(Error::BadArgument)?;
    let end = addr.checked_add(len).ok_or(Error::BadAddress)?;
    if addr < USER_START || end > USER_END {
        return Err(Error::BadAddress);
    }
    Ok(len)
}

impl AddressSpace {
    /// A new, empty space sharing the kernel half.
    pub fn new(page_limit: usize) -> Result<Self, Error> {
        let root = frames::alloc_zeroed().ok_or(Error::NoMemory)?;
        let kernel = crate::mm::paging::kernel_tables();
        let mut mem = HhdmMemory;
        for slot in 256..512 {
            let e = mem.table(kernel.root)[slot];
            mem.table(root)[slot] = e;
        }
        Ok(AddressSpace { tables: PageTables { root }, pages: 0, page_limit, next_map: MAP_BASE })
    }

    /// Maps fresh zeroed pages over `[virt, virt + len)` with page flags `f`.
    /// On failure nothing stays mapped.
    pub fn map_zeroed(&mut self, virt: u64, len: u64, f: u64) -> Result<(), Error> {
        let len = check_user_range(virt, len)?;
        let count = (len / PAGE_SIZE) as usize;
        if self.pages.saturating_add(count) > self.page_limit {
            return Err(Error::LimitReached);
        }
        for i in 0..count as u64 {
            let v = virt + i * PAGE_SIZE;
            let result = match frames::alloc_zeroed() {
                None => Err(Error::NoMemory),
                Some(frame) => self.tables.map(&mut HhdmMemory, v, frame, f).map_err(|e| {
                    let _ = frames::free(frame);
                    match e {
                        MapError::OutOfMemory => Error::NoMemory,
                        _ => Error::BadAddress,
                    }
                }),
            };
            if let Err(e) = result {
                for j in 0..i {
                    self.unmap_page(virt + j * PAGE_SIZE);
                }
                return Err(e);
            }
            self.pages += 1;
        }
        Ok(())
    }

    /// Maps `len` zeroed bytes somewhere free and returns the address.
    pub fn map_anywhere(&mut self, len: u64, p: u64) -> Result<u64, Error> {
        if p & !(prot::READ | prot::WRITE | prot::EXEC) != 0 || (p & prot::WRITE != 0 && p & prot::EXEC != 0) {
            return Err(Error::BadArgument);
        }
        let len = len.checked_next_multiple_of(PAGE_SIZE).filter(|&l| l > 0).ok_or(Error::BadArgument)?;
        let addr = self.next_map;
        self.map_zeroed(addr, len, user_flags(p))?;
        // Leave an unmapped guard page between mappings.
        self.next_map = addr + len + PAGE_SIZE;
        Ok(addr)
    }

    /// Maps `pages` frames starting at `phys` (taken by the caller, now
    /// owned by this space) read-write somewhere free; returns the address.
    pub fn map_frames(&mut self, phys: u64, pages: usize) -> Result<u64, Error> {
        let addr = self.next_map;
        let f = user_flags(prot::READ | prot::WRITE);
        for i in 0..pages as u64 {
            if let Err(e) = self.tables.map(&mut HhdmMemory, addr + i * PAGE_SIZE, phys + i * PAGE_SIZE, f) {
                epochs::MAPPINGS.bump();
                for j in 0..i {
                    let _ = self.tables.unmap(&mut HhdmMemory, addr + j * PAGE_SIZE);
                    cpu::invlpg(addr + j * PAGE_SIZE);
                }
                return Err(if e == MapError::OutOfMemory { Error::NoMemory } else { Error::BadAddress });
            }
        }
        self.pages += pages;
        self.next_map = addr + pages as u64 * PAGE_SIZE + PAGE_SIZE;
        Ok(addr)
    }

    fn unmap_page(&mut self, virt: u64) -> bool {
        let Some((_, f)) = self.tables.translate(&mut HhdmMemory, virt) else { return false };
        if f & flags::USER == 0 {
            return false;
        }
        match self.tables.unmap(&mut HhdmMemory, virt) {
            Ok(frame) => {
                cpu::invlpg(virt);
                epochs::MAPPINGS.bump();
                if f & BORROWED == 0 {
                    let _ = frames::free(frame);
                    self.pages -= 1;
                }
                true
            }
            Err(_) => false,
        }
    }

    /// Unmaps every page of `[addr, addr + len)`; all must be mapped.
    pub fn unmap(&mut self, addr: u64, len: u64) -> Result<(), Error> {
        let len = check_user_range(addr, len)?;
        self.check_all_mapped(addr, len)?;
        for i in 0..len / PAGE_SIZE {
            self.unmap_page(addr + i * PAGE_SIZE);
        }
        Ok(())
    }

    fn check_all_mapped(&mut self, addr: u64, len: u64) -> Result<(), Error> {
        for i in 0..len / PAGE_SIZE {
            match self.tables.translate(&mut HhdmMemory, addr + i * PAGE_SIZE) {
                Some((_, f)) if f & flags::USER != 0 => {}
                _ => return Err(Error::BadAddress),
            }
        }
        Ok(())
    }

    /// Changes the protection of every page of `[addr, addr + len)`.
    pub fn protect(&mut self, addr: u64, len: u64, p: u64) -> Result<(), Error> {
        if p & !(prot::READ | prot::WRITE | prot::EXEC) != 0 || (p & prot::WRITE != 0 && p & prot::EXEC != 0) {
            return Err(Error::BadArgument);
        }
        let len = check_user_range(addr, len)?;
        self.check_all_mapped(addr, len)?;
        epochs::MAPPINGS.bump();
        for i in 0..len / PAGE_SIZE {
            let v = addr + i * PAGE_SIZE;
            let borrowed = self.tables.translate(&mut HhdmMemory, v).map_or(0, |(_, f)| f & BORROWED);
            self.tables.protect(&mut HhdmMemory, v, user_flags(p) | borrowed).map_err(|_| Error::BadAddress)?;
            cpu::invlpg(v);
        }
        Ok(())
    }

    /// Copies `bytes` into the space at `virt` (which must be mapped),
    /// through the HHDM, whatever the pages' protection.
    pub fn write(&mut self, virt: u64, bytes: &[u8]) -> Result<(), Error> {
        let mut done = 0usize;
        while done < bytes.len() {
            let v = virt + done as u64;
            let (phys, _) = self.tables.translate(&mut HhdmMemory, v).ok_or(Error::BadAddress)?;
            let room = (PAGE_SIZE - v % PAGE_SIZE) as usize;
            let n = room.min(bytes.len() - done);
            // SAFETY: `phys..phys + n` lies in one frame this space owns,
            // mapped through the HHDM; no Rust reference aliases it.
            unsafe {
                core::ptr::copy_nonoverlapping(bytes[done..].as_ptr(), phys_to_virt(phys) as *mut u8, n);
            }
            done += n;
        }
        Ok(())
    }
}

impl Drop for AddressSpace {
    /// Frees every owned frame, every page table of the lower half and the
    /// root. The caller must not be running on this space (CR3).
    fn drop(&mut self) {
        debug_assert!(cpu::read_cr3() != self.tables.root, "dropping the live address space");
        epochs::MAPPINGS.bump();
        self.tables.clear_lower_half(
            &mut HhdmMemory,
            |_, entry| {
                if entry & BORROWED == 0 {
                    let _ = frames::free(entry & kcore::paging::ADDR_MASK);
                }
            },
            |table| {
                let _ = frames::free(table);
            },
        );
        let _ = frames::free(self.tables.root);
    }
}
