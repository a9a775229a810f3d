//! The userland heap: the `#[global_allocator]` every program gets.
//!
//! `talc` manages the free lists; this file only feeds it memory. The heap
//! starts empty and grows on demand: when `talc` cannot satisfy a request, its
//! out-of-memory hook [`MapOnOom`] maps a fresh chunk with the `map` system
//! call ([`CHUNK`] bytes, or more for a large request) and hands it over as
//! a heap of its own (the kernel leaves a guard page between mappings, so
//! chunks are never adjacent and there is nothing to merge). Memory is never
//! returned to the kernel (programs are short-lived or steady); a request
//! the kernel refuses (the page limit) is an allocation failure, which
//! panics with the usual message.
//!
//! The lock is a yielding spin lock ([`crate::sync::YieldRelax`]): the
//! allocator is shared by all threads of the process.
#![allow(unsafe_code)]

use core::alloc::Layout;

use talc::{OomHandler, Span, Talc};

use crate::sys;

/// Bytes mapped at a time when the heap grows.
pub const CHUNK: usize = 256 * 1024;
/// Page size the kernel rounds mappings to.
const PAGE: usize = 4096;
/// Room for `talc`'s own bookkeeping in a chunk: its bin array (about 1 KiB,
/// in the first chunk) and the tags around each heap and allocation.
const OVERHEAD: usize = 4096;

/// `talc`'s out-of-memory hook: map more memory.
pub struct MapOnOom;

impl OomHandler for MapOnOom {
    fn handle_oom(talc: &mut Talc<Self>, layout: Layout) -> Result<(), ()> {
        let need = layout.size().checked_add(layout.align()).and_then(|n| n.checked_add(OVERHEAD)).ok_or(())?;
        let len = need.max(CHUNK).checked_next_multiple_of(PAGE).ok_or(())?;
        let base = sys::map(len, abi::prot::READ | abi::prot::WRITE).map_err(|_| ())?;
        // SAFETY: the chunk was just mapped read/write for this allocator
        // alone, does not overlap any other heap (the kernel hands out unused
        // pages only), does not contain the null address (the kernel never
        // maps page 0) and is never unmapped.
        unsafe { talc.claim(Span::from_base_size(base, len)) }.map(drop)
    }
}

#[cfg(all(target_os = "none", not(test)))]
#[global_allocator]
static ALLOCATOR: talc::Talck<crate::sync::Mutex<()>, MapOnOom> = Talc::new(MapOnOom).lock();
