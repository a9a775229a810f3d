//! The userland heap: the `#[global_allocator]` every program gets.
//!
//! `talc` manages the free lists; this file only feeds it memory. The heap
//! starts empty and grows on demand: when `talc` cannot satisfy a request, its
//! out-of-memory hook [`MapOnOom`] maps a fresh chunk with the `map` system
//! call ([`CHUNK`] bytes, or more for a large request) and hands it over. When
//! the kernel places the new chunk right after the previous one, the old
//! heap is extended instead, so large allocations can span chunks. Memory is
//! never returned to the kernel (programs are short-lived or steady).
//!
//! The lock is a yielding spin lock ([`crate::sync::YieldRelax`]): the
//! allocator is shared by all threads of the process.
#![allow(unsafe_code)]

use core::alloc::Layout;

use talc::{OomHandler, Span, Talc, Talck};

use crate::sys;

/// Bytes mapped at a time when the heap grows.
pub const CHUNK: usize = 256 * 1024;
/// Page size the kernel rounds mappings to.
const PAGE: usize = 4096;
/// Room for `talc`'s own bookkeeping in a chunk: its bin array (about 1 KiB,
/// in the first chunk) and the tags around each heap and allocation.
const OVERHEAD: usize = 4096;

/// `talc`'s out-of-memory hook: map more memory.
pub struct MapOnOom {
    /// The heap the last chunk went to, to extend when the next chunk is
    /// adjacent.
    last: Span,
}

// SAFETY: `last` only records where this allocator's own memory lies; the
// allocator's lock serialises every use of it, from whichever thread.
unsafe impl Send for MapOnOom {}

impl OomHandler for MapOnOom {
    fn handle_oom(talc: &mut Talc<Self>, layout: Layout) -> Result<(), ()> {
        let need = layout.size().checked_add(layout.align()).and_then(|n| n.checked_add(OVERHEAD)).ok_or(())?;
        let len = need.max(CHUNK).checked_next_multiple_of(PAGE).ok_or(())?;
        let base = sys::map(len, abi::prot::READ | abi::prot::WRITE).map_err(|_| ())?;
        let chunk = Span::from_base_size(base, len);

        if let Some((old_base, old_acme)) = talc.oom_handler.last.get_base_acme() {
            if old_acme == base {
                // SAFETY: `last` is what `claim`/`extend` returned for this
                // allocator; the requested span is the old heap plus the
                // chunk just mapped (read/write, used by nothing else), and it
                // does not contain the null address (the kernel never maps
                // page 0).
                let grown = unsafe { talc.extend(talc.oom_handler.last, Span::new(old_base, base.wrapping_add(len))) };
                talc.oom_handler.last = grown;
                return Ok(());
            }
        }
        // SAFETY: the chunk was just mapped read/write for this allocator
        // alone, does not overlap any other heap (the kernel hands out unused
        // pages only) and is never unmapped.
        let heap = unsafe { talc.claim(chunk) }?;
        talc.oom_handler.last = heap;
        Ok(())
    }
}

#[cfg(all(target_os = "none", not(test)))]
#[global_allocator]
static ALLOCATOR: Talck<crate::sync::Mutex<()>, MapOnOom> = Talc::new(MapOnOom { last: Span::empty() }).lock();
