//! The physical memory allocator: a bump allocator over usable e820 memory
//! below 4 GiB, starting above everything already occupied (the first MiB,
//! the loader image, the Multiboot structures and the modules). Every
//! allocation is zeroed and recorded with its purpose so the Limine memory
//! map can label it. Small objects (responses, strings) are packed into
//! bootloader-reclaimable pages.

use crate::error::{bail, Result};
use crate::multiboot::{E820Entry, E820_USABLE};
use crate::phys::{self, align_up, PAGE_SIZE};

/// What an allocation is for, i.e. how the memory map reports it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Use {
    /// Page tables, responses, strings, the stack: bootloader-reclaimable.
    Reclaimable,
    /// Kernel segments and module copies: executable-and-modules.
    KernelAndModules,
}

/// A page-aligned physical range `[base, end)` with its purpose.
#[derive(Clone, Copy, Debug)]
pub struct Region {
    pub base: u64,
    pub end: u64,
    pub usage: Use,
}

/// Most distinct regions recorded (adjacent ones of the same use merge).
const MAX_REGIONS: usize = 64;

/// Memory below this is never allocated.
pub const LOW_MEMORY_END: u64 = 0x10_0000;

pub struct FrameAllocator<'a> {
    e820: &'a [E820Entry],
    /// Next candidate address (page aligned).
    cursor: u64,
    regions: [Region; MAX_REGIONS],
    region_count: usize,
    /// Current small-object page range: next free byte and its end.
    small_next: u64,
    small_end: u64,
}

impl<'a> FrameAllocator<'a> {
    /// An allocator handing out memory at or above `occupied_end`.
    pub fn new(e820: &'a [E820Entry], occupied_end: u64) -> Result<Self> {
        let Some(cursor) = align_up(occupied_end.max(LOW_MEMORY_END), PAGE_SIZE) else {
            bail!("occupied memory reaches the top of the address space");
        };
        Ok(FrameAllocator {
            e820,
            cursor,
            regions: [Region { base: 0, end: 0, usage: Use::Reclaimable }; MAX_REGIONS],
            region_count: 0,
            small_next: 0,
            small_end: 0,
        })
    }

    /// Allocates `pages` zeroed, contiguous 4 KiB pages.
    pub fn alloc_pages(&mut self, pages: u64, usage: Use) -> Result<u64> {
        let Some(len) = pages.checked_mul(PAGE_SIZE) else {
            bail!("allocation too large", pages);
        };
        let base = self.find(len)?;
        phys::zero(base, len)?;
        self.cursor = base + len;
        self.record(base, base + len, usage)?;
        Ok(base)
    }

    /// Allocates `size` zeroed bytes aligned to `align` (a power of two, at
    /// most a page) in bootloader-reclaimable memory.
    pub fn alloc_bytes(&mut self, size: u64, align: u64) -> Result<u64> {
        let start = align_up(self.small_next, align).unwrap_or(u64::MAX);
        if self.small_next != 0 && start <= self.small_end && self.small_end - start >= size {
            self.small_next = start + size;
            return Ok(start);
        }
        let Some(bytes) = align_up(size.max(1), PAGE_SIZE) else {
            bail!("allocation too large", size);
        };
        let base = self.alloc_pages(bytes / PAGE_SIZE, Use::Reclaimable)?;
        self.small_next = base + size;
        self.small_end = base + bytes;
        Ok(base)
    }

    /// Copies `s` into reclaimable memory with a terminating NUL and
    /// returns its physical address.
    pub fn alloc_c_string(&mut self, s: &[u8]) -> Result<u64> {
        let addr = self.alloc_bytes(s.len() as u64 + 1, 1)?;
        phys::copy_to(addr, s)?;
        Ok(addr)
    }

    /// Records memory the loader did not allocate but whose use the memory
    /// map must show (e.g. the kernel file, modules, the loader image).
    pub fn record(&mut self, base: u64, end: u64, usage: Use) -> Result<()> {
        if let Some(last) = self.regions[..self.region_count].last_mut() {
            if last.end == base && last.usage == usage {
                last.end = end;
                return Ok(());
            }
        }
        if self.region_count == MAX_REGIONS {
            bail!("too many distinct allocations", MAX_REGIONS);
        }
        self.regions[self.region_count] = Region { base, end, usage };
        self.region_count += 1;
        Ok(())
    }

    /// Everything recorded so far.
    pub fn regions(&self) -> &[Region] {
        &self.regions[..self.region_count]
    }

    /// Lowest page-aligned address >= cursor where `len` bytes fit inside
    /// usable e820 memory below 4 GiB and overlap no other e820 entry.
    fn find(&self, len: u64) -> Result<u64> {
        let mut candidate = self.cursor;
        while let Some(end) = candidate.checked_add(len) {
            if end > phys::IDENTITY_LIMIT {
                break;
            }
            // Inside a usable entry?
            let inside = self.e820.iter().any(|e| e.kind == E820_USABLE && e.base <= candidate && end <= e.end());
            // Clashing with a non-usable entry? Then skip past it.
            let clash = self
                .e820
                .iter()
                .filter(|e| e.kind != E820_USABLE && e.base < end && candidate < e.end())
                .map(|e| e.end())
                .max();
            match (inside, clash) {
                (true, None) => return Ok(candidate),
                (_, Some(clash_end)) => candidate = next_page(clash_end).unwrap_or(u64::MAX),
                (false, None) => {
                    // Move to the next usable entry above the candidate.
                    let next =
                        self.e820.iter().filter(|e| e.kind == E820_USABLE && e.base > candidate).map(|e| e.base).min();
                    match next.and_then(next_page) {
                        Some(n) => candidate = n,
                        None => break,
                    }
                }
            }
        }
        bail!("out of usable memory below 4 GiB; wanted bytes", len)
    }
}

fn next_page(addr: u64) -> Option<u64> {
    align_up(addr, PAGE_SIZE)
}
