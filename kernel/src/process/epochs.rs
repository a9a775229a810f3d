//! Epochs that let the IPC fast path remember a validated lookup between
//! calls — a page translation, a resolved handle — instead of repeating it.
//! Each counts the events that could make such a memory wrong; a remembered
//! result is used only while its epoch has not moved. They start at 1, so
//! a zeroed memory never matches.

use core::sync::atomic::{AtomicU64, Ordering};

pub struct Epoch(AtomicU64);

impl Epoch {
    const fn new() -> Self {
        Epoch(AtomicU64::new(1))
    }

    #[inline(always)]
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Invalidates everything remembered so far.
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Moves when a user mapping is removed or loses rights, in any space.
pub static MAPPINGS: Epoch = Epoch::new();
/// Moves when a handle is removed from any process's table.
pub static HANDLES: Epoch = Epoch::new();
