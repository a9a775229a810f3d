//! 4-level x86_64 page tables: map, unmap, translate and protect, over any
//! memory that can hand out and reach table frames (`PageMemory`). The kernel
//! reaches tables through the HHDM; host tests keep them in a map.

use crate::PAGE_SIZE;

/// Page-table entry bits.
pub mod flags {
    pub const PRESENT: u64 = 1 << 0;
    pub const WRITABLE: u64 = 1 << 1;
    pub const USER: u64 = 1 << 2;
    pub const WRITE_THROUGH: u64 = 1 << 3;
    pub const NO_CACHE: u64 = 1 << 4;
    pub const HUGE: u64 = 1 << 7;
    pub const GLOBAL: u64 = 1 << 8;
    pub const NO_EXECUTE: u64 = 1 << 63;
}

/// The physical-address bits of an entry.
pub const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;
const HUGE_2M: u64 = 2 * 1024 * 1024;

/// Where page tables live and where new ones come from.
pub trait PageMemory {
    /// The 512 entries of the table stored in frame `phys`.
    fn table(&mut self, phys: u64) -> &mut [u64; 512];
    /// A zeroed frame for a new table, or `None` when memory is exhausted.
    fn alloc_table(&mut self) -> Option<u64>;
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum MapError {
    /// No frame for an intermediate table.
    OutOfMemory,
    /// The page is mapped already; unmap it first.
    AlreadyMapped,
    /// A 2 MiB page covers the range.
    HugePage,
    /// The address is not page aligned or not canonical.
    BadAddress,
    /// Nothing is mapped there.
    NotMapped,
}

/// Whether `virt` is a canonical 48-bit address.
pub fn is_canonical(virt: u64) -> bool {
    let top = virt >> 47;
    top == 0 || top == 0x1_ffff
}

fn index(virt: u64, level: u32) -> usize {
    ((virt >> (12 + 9 * level)) & 0x1ff) as usize
}

/// One address space's tables, named by the physical address of its PML4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageTables {
    pub root: u64,
}

impl PageTables {
    /// Walks to the page table (level 0) holding `virt`, creating missing
    /// levels when `create` is set. Returns the table's frame.
    fn walk(&self, mem: &mut impl PageMemory, virt: u64, create: bool, user: bool) -> Result<u64, MapError> {
        let mut table = self.root;
        for level in (1..=3).rev() {
            let i = index(virt, level);
            let entry = mem.table(table)[i];
            if entry & flags::PRESENT == 0 {
                if !create {
                    return Err(MapError::NotMapped);
                }
                let new = mem.alloc_table().ok_or(MapError::OutOfMemory)?;
                let mut e = new | flags::PRESENT | flags::WRITABLE;
                if user {
                    e |= flags::USER;
                }
                mem.table(table)[i] = e;
                table = new;
            } else if entry & flags::HUGE != 0 {
                return Err(MapError::HugePage);
            } else {
                if user && entry & flags::USER == 0 {
                    mem.table(table)[i] = entry | flags::USER;
                }
                table = entry & ADDR_MASK;
            }
        }
        Ok(table)
    }

    /// Maps the 4 KiB page at `virt` to the frame `phys` with `flags`
    /// (PRESENT is implied).
    pub fn map(&self, mem: &mut impl PageMemory, virt: u64, phys: u64, flags: u64) -> Result<(), MapError> {
        if !virt.is_multiple_of(PAGE_SIZE) || !phys.is_multiple_of(PAGE_SIZE) || !is_canonical(virt) {
            return Err(MapError::BadAddress);
        }
        let pt = self.walk(mem, virt, true, flags & flags::USER != 0)?;
        let slot = &mut mem.table(pt)[index(virt, 0)];
        if *slot & flags::PRESENT != 0 {
            return Err(MapError::AlreadyMapped);
        }
        *slot = phys | flags | flags::PRESENT;
        Ok(())
    }

    /// Maps a 2 MiB page at `virt` (both addresses 2 MiB aligned).
    pub fn map_2m(&self, mem: &mut impl PageMemory, virt: u64, phys: u64, flags: u64) -> Result<(), MapError> {
        if !virt.is_multiple_of(HUGE_2M) || !phys.is_multiple_of(HUGE_2M) || !is_canonical(virt) {
            return Err(MapError::BadAddress);
        }
        let mut table = self.root;
        for level in (2..=3).rev() {
            let i = index(virt, level);
            let entry = mem.table(table)[i];
            if entry & flags::PRESENT == 0 {
                let new = mem.alloc_table().ok_or(MapError::OutOfMemory)?;
                mem.table(table)[i] = new | flags::PRESENT | flags::WRITABLE | (flags & flags::USER);
                table = new;
            } else if entry & flags::HUGE != 0 {
                return Err(MapError::HugePage);
            } else {
                table = entry & ADDR_MASK;
            }
        }
        let slot = &mut mem.table(table)[index(virt, 1)];
        if *slot & flags::PRESENT != 0 {
            return Err(MapError::AlreadyMapped);
        }
        *slot = phys | flags | flags::PRESENT | flags::HUGE;
        Ok(())
    }

    /// Removes the 4 KiB mapping at `virt` and returns the frame it named.
    /// The caller flushes the TLB and decides what happens to the frame.
    pub fn unmap(&self, mem: &mut impl PageMemory, virt: u64) -> Result<u64, MapError> {
        if !virt.is_multiple_of(PAGE_SIZE) || !is_canonical(virt) {
            return Err(MapError::BadAddress);
        }
        let pt = self.walk(mem, virt, false, false)?;
        let slot = &mut mem.table(pt)[index(virt, 0)];
        if *slot & flags::PRESENT == 0 {
            return Err(MapError::NotMapped);
        }
        let phys = *slot & ADDR_MASK;
        *slot = 0;
        Ok(phys)
    }

    /// Replaces the flags of the 4 KiB mapping at `virt`, keeping its frame.
    pub fn protect(&self, mem: &mut impl PageMemory, virt: u64, flags: u64) -> Result<(), MapError> {
        if !virt.is_multiple_of(PAGE_SIZE) || !is_canonical(virt) {
            return Err(MapError::BadAddress);
        }
        let pt = self.walk(mem, virt, false, false)?;
        let slot = &mut mem.table(pt)[index(virt, 0)];
        if *slot & flags::PRESENT == 0 {
            return Err(MapError::NotMapped);
        }
        *slot = (*slot & ADDR_MASK) | flags | flags::PRESENT;
        Ok(())
    }

    /// The physical address `virt` maps to and the leaf entry's flags.
    pub fn translate(&self, mem: &mut impl PageMemory, virt: u64) -> Option<(u64, u64)> {
        if !is_canonical(virt) {
            return None;
        }
        let mut table = self.root;
        for level in (0..=3).rev() {
            let entry = mem.table(table)[index(virt, level)];
            if entry & flags::PRESENT == 0 {
                return None;
            }
            let leaf_flags = entry & !ADDR_MASK;
            if level == 0 || (level < 3 && entry & flags::HUGE != 0) {
                let page = 1u64 << (12 + 9 * level);
                let base = entry & ADDR_MASK & !(page - 1);
                return Some((base + (virt & (page - 1)), leaf_flags));
            }
            table = entry & ADDR_MASK;
        }
        None
    }

    /// Calls `f(virt, entry)` for every present 4 KiB leaf in the lower
    /// (user) half, then `free_table` for every table below the root that
    /// the lower half used, clearing the root's lower entries. Used to tear
    /// down an address space.
    pub fn clear_lower_half(
        &self,
        mem: &mut impl PageMemory,
        mut leaf: impl FnMut(u64, u64),
        mut free_table: impl FnMut(u64),
    ) {
        for i4 in 0..256 {
            let e4 = mem.table(self.root)[i4];
            if e4 & flags::PRESENT == 0 {
                continue;
            }
            let pdpt = e4 & ADDR_MASK;
            for i3 in 0..512 {
                let e3 = mem.table(pdpt)[i3];
                if e3 & flags::PRESENT == 0 || e3 & flags::HUGE != 0 {
                    continue;
                }
                let pd = e3 & ADDR_MASK;
                for i2 in 0..512 {
                    let e2 = mem.table(pd)[i2];
                    if e2 & flags::PRESENT == 0 || e2 & flags::HUGE != 0 {
                        continue;
                    }
                    let pt = e2 & ADDR_MASK;
                    for i1 in 0..512 {
                        let e1 = mem.table(pt)[i1];
                        if e1 & flags::PRESENT != 0 {
                            let virt =
                                ((i4 as u64) << 39) | ((i3 as u64) << 30) | ((i2 as u64) << 21) | ((i1 as u64) << 12);
                            leaf(virt, e1);
                        }
                    }
                    free_table(pt);
                }
                free_table(pd);
            }
            free_table(pdpt);
            mem.table(self.root)[i4] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Tables kept in a map keyed by fake frame addresses.
    struct HostMemory {
        tables: HashMap<u64, Box<[u64; 512]>>,
        next: u64,
        limit: usize,
    }

    impl HostMemory {
        fn new(limit: usize) -> (Self, PageTables) {
            let mut m = HostMemory { tables: HashMap::new(), next: 0x1000, limit };
            let root = m.alloc_table().unwrap();
            (m, PageTables { root })
        }
    }

    impl PageMemory for HostMemory {
        fn table(&mut self, phys: u64) -> &mut [u64; 512] {
            self.tables.get_mut(&phys).expect("walked to a frame that is not a table")
        }
        fn alloc_table(&mut self) -> Option<u64> {
            if self.tables.len() >= self.limit {
                return None;
            }
            let f = self.next;
            self.next += PAGE_SIZE;
            self.tables.insert(f, Box::new([0; 512]));
            Some(f)
        }
    }

    #[test]
    fn map_translate_unmap() {
        let (mut m, pt) = HostMemory::new(100);
        let v = 0x4000_1000;
        pt.map(&mut m, v, 0x7000, flags::WRITABLE | flags::USER).unwrap();
        let (phys, f) = pt.translate(&mut m, v + 0x123).unwrap();
        assert_eq!(phys, 0x7123);
        assert!(f & flags::USER != 0 && f & flags::WRITABLE != 0);
        assert_eq!(pt.map(&mut m, v, 0x8000, 0), Err(MapError::AlreadyMapped));
        pt.protect(&mut m, v, flags::USER | flags::NO_EXECUTE).unwrap();
        let (_, f) = pt.translate(&mut m, v).unwrap();
        assert!(f & flags::WRITABLE == 0 && f & flags::NO_EXECUTE != 0);
        assert_eq!(pt.unmap(&mut m, v), Ok(0x7000));
        assert_eq!(pt.translate(&mut m, v), None);
        assert_eq!(pt.unmap(&mut m, v), Err(MapError::NotMapped));
    }

    #[test]
    fn user_bit_propagates_to_every_level() {
        let (mut m, pt) = HostMemory::new(100);
        pt.map(&mut m, 0x40_0000, 0x9000, flags::USER).unwrap();
        let mut table = pt.root;
        for level in (1..=3).rev() {
            let e = m.table(table)[index(0x40_0000, level)];
            assert!(e & flags::USER != 0, "level {level} lacks USER");
            table = e & ADDR_MASK;
        }
    }

    #[test]
    fn rejects_bad_addresses_and_reports_exhaustion() {
        let (mut m, pt) = HostMemory::new(2);
        assert_eq!(pt.map(&mut m, 0x1001, 0x1000, 0), Err(MapError::BadAddress));
        assert_eq!(pt.map(&mut m, 0x0000_8000_0000_0000, 0x1000, 0), Err(MapError::BadAddress));
        assert_eq!(pt.map(&mut m, 0x1000, 0x1000, 0), Err(MapError::OutOfMemory));
    }

    #[test]
    fn huge_pages_translate_and_block_small_maps() {
        let (mut m, pt) = HostMemory::new(100);
        let v = 0xffff_8000_0020_0000;
        pt.map_2m(&mut m, v, 0x20_0000, flags::WRITABLE).unwrap();
        assert_eq!(pt.translate(&mut m, v + 0x1234).map(|t| t.0), Some(0x20_1234));
        assert_eq!(pt.map(&mut m, v + 0x1000, 0x5000, 0), Err(MapError::HugePage));
    }

    #[test]
    fn clear_lower_half_visits_every_leaf_and_table() {
        let (mut m, pt) = HostMemory::new(100);
        for i in 0..5u64 {
            pt.map(&mut m, 0x1000 * (i + 1), 0x10_0000 + 0x1000 * i, flags::USER).unwrap();
        }
        pt.map(&mut m, 0x7fff_ffff_f000, 0x20_0000, flags::USER).unwrap();
        pt.map(&mut m, 0xffff_8000_0000_0000, 0x30_0000, 0).unwrap();
        let tables_before = m.tables.len();
        let mut leaves = vec![];
        let mut freed = vec![];
        pt.clear_lower_half(&mut m, |v, _| leaves.push(v), |t| freed.push(t));
        assert_eq!(leaves.len(), 6);
        assert_eq!(freed.len(), 6); // two PT/PD/PDPT chains
        assert_eq!(tables_before, 1 + 3 + 6);
        assert!(pt.translate(&mut m, 0xffff_8000_0000_0000).is_some());
        assert!(pt.translate(&mut m, 0x1000).is_none());
    }
}
