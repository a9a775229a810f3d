//! The kernel heap: `talc` over one physically contiguous run of frames,
//! reached through the HHDM. Fixed size: the kernel's own allocations are
//! bounded by per-process limits, so running out is a bug to report, not a
//! reason to grow.

use super::{frames, phys_to_virt, PAGE_SIZE};
use talc::{ErrOnOom, Span, Talc, Talck};

/// Size of the kernel heap.
pub const HEAP_SIZE: usize = 16 * 1024 * 1024;

#[global_allocator]
static ALLOCATOR: Talck<spin::Mutex<()>, ErrOnOom> = Talc::new(ErrOnOom).lock();

/// Takes the heap's frames and hands them to the allocator.
pub fn init() {
    let frames = HEAP_SIZE / PAGE_SIZE as usize;
    let base = frames::alloc_contiguous_zeroed(frames, PAGE_SIZE).expect("no room for the kernel heap");
    let start = phys_to_virt(base) as *mut u8;
    // SAFETY: the run was just taken from the frame allocator and is mapped
    // writable through the HHDM; nothing else will ever use it.
    unsafe {
        ALLOCATOR.lock().claim(Span::from_base_size(start, HEAP_SIZE)).expect("talc refused the heap span");
    }
}
