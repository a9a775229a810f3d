//! Building the kernel's 4-level page tables in bootloader-reclaimable
//! memory: the HHDM, the low 4 GiB identity map and the kernel segments.
//! Leaf entries use PAT index 0 (write-back under the protocol's PAT).

use crate::error::{bail, Result};
use crate::frames::{FrameAllocator, Use};
use crate::phys;

const PRESENT: u64 = 1 << 0;
pub const WRITABLE: u64 = 1 << 1;
const HUGE: u64 = 1 << 7;
pub const NO_EXECUTE: u64 = 1 << 63;
const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

pub const SIZE_2M: u64 = 0x20_0000;
pub const SIZE_1G: u64 = 0x4000_0000;

/// A set of page tables rooted at a PML4.
pub struct PageTables {
    pub pml4: u64,
}

impl PageTables {
    pub fn new(frames: &mut FrameAllocator) -> Result<Self> {
        Ok(PageTables { pml4: frames.alloc_pages(1, Use::Reclaimable)? })
    }

    /// Maps `[virt, virt + len)` to `[phys, phys + len)` with the largest
    /// pages alignment allows (1 GiB only if `allow_1g`). All of `virt`,
    /// `phys` and `len` must be multiples of 2 MiB.
    pub fn map_large(
        &mut self,
        frames: &mut FrameAllocator,
        virt: u64,
        phys: u64,
        len: u64,
        flags: u64,
        allow_1g: bool,
    ) -> Result<()> {
        if !(virt | phys | len).is_multiple_of(SIZE_2M) {
            bail!("unaligned large mapping", virt);
        }
        let mut off = 0;
        while off < len {
            let (v, p) = (virt + off, phys + off);
            let size =
                if allow_1g && (v | p).is_multiple_of(SIZE_1G) && len - off >= SIZE_1G { SIZE_1G } else { SIZE_2M };
            let level = if size == SIZE_1G { 3 } else { 2 };
            let slot = self.leaf_slot(frames, v, level)?;
            if phys::read::<u64>(slot)? & PRESENT != 0 {
                bail!("page mapped twice at", v);
            }
            phys::write(slot, p | flags | PRESENT | HUGE)?;
            off += size;
        }
        Ok(())
    }

    /// Maps one 4 KiB page. If the page is already mapped to the same frame
    /// (two segments sharing a page) the permissions are merged: writable
    /// if either is, executable if either is.
    pub fn map_4k(&mut self, frames: &mut FrameAllocator, virt: u64, phys: u64, flags: u64) -> Result<()> {
        let slot = self.leaf_slot(frames, virt, 1)?;
        let old: u64 = phys::read(slot)?;
        let new = if old & PRESENT == 0 {
            phys | flags | PRESENT
        } else if old & ADDR_MASK == phys {
            (old | (flags & WRITABLE)) & !(NO_EXECUTE & !flags)
        } else {
            bail!("page mapped twice at", virt);
        };
        phys::write(slot, new)
    }

    /// Physical address of the entry for `virt` in the table at `level`
    /// (1 = page table, 2 = page directory, 3 = PDPT), creating the
    /// intermediate tables on the way.
    fn leaf_slot(&mut self, frames: &mut FrameAllocator, virt: u64, level: u32) -> Result<u64> {
        let mut table = self.pml4;
        for l in (level + 1..=4).rev() {
            let slot = table + index(virt, l) * 8;
            let entry: u64 = phys::read(slot)?;
            table = if entry & PRESENT == 0 {
                let next = frames.alloc_pages(1, Use::Reclaimable)?;
                phys::write(slot, next | PRESENT | WRITABLE)?;
                next
            } else if entry & HUGE != 0 {
                bail!("mapping overlaps a large page at", virt);
            } else {
                entry & ADDR_MASK
            };
        }
        Ok(table + index(virt, level) * 8)
    }
}

/// Index of `virt` in a table at `level` (4 = PML4 ... 1 = page table).
fn index(virt: u64, level: u32) -> u64 {
    (virt >> (12 + 9 * (level - 1))) & 0x1ff
}

/// Flags for a kernel segment page.
pub fn segment_flags(writable: bool, executable: bool, nx: bool) -> u64 {
    let mut flags = 0;
    if writable {
        flags |= WRITABLE;
    }
    if !executable && nx {
        flags |= NO_EXECUTE;
    }
    flags
}
