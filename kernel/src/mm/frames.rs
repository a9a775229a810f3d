//! The kernel's one physical frame allocator (`kcore::frames` behind a
//! lock), set up from the boot loader's memory map. Its bitmap lives in the
//! first usable region large enough to hold it.

use super::{phys_to_virt, PAGE_SIZE};
use kcore::frames::{FrameAllocator, FreeError, Region};
use limine::memory_map::EntryType;
use spin::Mutex;

static FRAMES: Mutex<Option<FrameAllocator<'static>>> = Mutex::new(None);

/// Most memory-map entries the kernel keeps.
const MAX_REGIONS: usize = 64;

/// Memory the kernel may hand out once the boot loader's data is no longer
/// needed, kept so it can be released later.
static RECLAIMABLE: Mutex<([Region; MAX_REGIONS], usize)> = Mutex::new(([Region { base: 0, len: 0 }; MAX_REGIONS], 0));

/// Builds the allocator from the memory map: usable memory is free,
/// bootloader-reclaimable memory is covered but reserved until `reclaim`.
pub fn init(entries: &[&limine::memory_map::Entry]) {
    let mut regions = [Region { base: 0, len: 0 }; MAX_REGIONS];
    let mut count = 0;
    let mut reclaim = RECLAIMABLE.lock();
    for e in entries {
        let kind = e.entry_type;
        if kind != EntryType::USABLE && kind != EntryType::BOOTLOADER_RECLAIMABLE {
            continue;
        }
        if count == MAX_REGIONS {
            crate::kwarn!("memory map has more than {MAX_REGIONS} usable entries; ignoring the rest");
            break;
        }
        regions[count] = Region { base: e.base, len: e.length };
        count += 1;
        if kind == EntryType::BOOTLOADER_RECLAIMABLE {
            let n = reclaim.1;
            reclaim.0[n] = Region { base: e.base, len: e.length };
            reclaim.1 += 1;
        }
    }
    let regions = &regions[..count];
    let words = FrameAllocator::bitmap_words(regions);
    let bytes = (words * 8) as u64;
    let home = entries
        .iter()
        .find(|e| e.entry_type == EntryType::USABLE && e.length >= bytes.next_multiple_of(PAGE_SIZE))
        .map(|e| e.base)
        .unwrap_or_else(|| panic!("no usable region can hold the {bytes}-byte frame bitmap"));
    // SAFETY: `home` starts a usable region at least `bytes` long that
    // nothing else uses yet (the allocator below reserves it at once); the
    // HHDM maps it writable.
    let bits = unsafe { core::slice::from_raw_parts_mut(phys_to_virt(home) as *mut u64, words) };
    let mut alloc = FrameAllocator::new(bits, regions);
    alloc.reserve(home, bytes);
    for r in &reclaim.0[..reclaim.1] {
        alloc.reserve(r.base, r.len);
    }
    *FRAMES.lock() = Some(alloc);
}

/// Returns the boot loader's memory (its page tables, stack, responses) to
/// the free pool. Call only once nothing refers to it any more.
pub fn reclaim_boot_memory() -> u64 {
    let reclaim = RECLAIMABLE.lock();
    let mut frames = FRAMES.lock();
    let Some(alloc) = frames.as_mut() else { return 0 };
    let before = alloc.free_frames();
    for r in &reclaim.0[..reclaim.1] {
        alloc.release(r.base, r.len);
    }
    (alloc.free_frames() - before) as u64
}

fn with<R>(f: impl FnOnce(&mut FrameAllocator<'static>) -> R) -> R {
    crate::arch::cpu::without_interrupts(|| {
        let mut guard = FRAMES.lock();
        f(guard.as_mut().expect("frame allocator used before mm::frames::init"))
    })
}

/// One zeroed frame, or `None` when physical memory is exhausted.
pub fn alloc_zeroed() -> Option<u64> {
    let frame = with(|a| a.alloc())?;
    // SAFETY: the frame was just taken from the allocator, so nothing else
    // refers to it; the HHDM maps it writable.
    unsafe { core::ptr::write_bytes(phys_to_virt(frame) as *mut u8, 0, PAGE_SIZE as usize) };
    Some(frame)
}

/// `count` zeroed, physically contiguous frames aligned to `align` bytes.
pub fn alloc_contiguous_zeroed(count: usize, align: u64) -> Option<u64> {
    let base = with(|a| a.alloc_contiguous(count, align))?;
    // SAFETY: as in `alloc_zeroed`, for the whole run.
    unsafe { core::ptr::write_bytes(phys_to_virt(base) as *mut u8, 0, count * PAGE_SIZE as usize) };
    Some(base)
}

/// Returns a frame to the pool.
pub fn free(frame: u64) -> Result<(), FreeError> {
    with(|a| a.free(frame))
}

/// (free frames, frames the allocator covers).
pub fn stats() -> (usize, usize) {
    with(|a| (a.free_frames(), a.total_frames()))
}
