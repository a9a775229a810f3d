//! Memory management: physical frames, the kernel's page tables and the
//! kernel heap. Physical memory is reached through the higher-half direct
//! map (HHDM) the boot loader announced and the kernel rebuilds.

pub mod frames;
pub mod heap;
pub mod paging;

use core::sync::atomic::{AtomicU64, Ordering};

pub use kcore::PAGE_SIZE;

static HHDM_OFFSET: AtomicU64 = AtomicU64::new(0);

/// The kernel-virtual address of physical address `phys` (RAM only; device
/// memory goes through `map_mmio`).
#[inline]
pub fn phys_to_virt(phys: u64) -> u64 {
    phys + HHDM_OFFSET.load(Ordering::Relaxed)
}

/// The HHDM offset, as the boot loader reported it.
pub fn hhdm_offset() -> u64 {
    HHDM_OFFSET.load(Ordering::Relaxed)
}

/// Records the HHDM offset. Called once, first thing in `kmain`.
pub fn set_hhdm_offset(offset: u64) {
    HHDM_OFFSET.store(offset, Ordering::Relaxed);
}

pub use paging::map_mmio;
