//! Device interrupts after the I/O APIC: each line is routed to whoever
//! holds it. Until drivers can claim lines, arrivals are only counted.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::trap::IRQ_LINES;

static COUNTS: [AtomicU64; IRQ_LINES as usize] = [const { AtomicU64::new(0) }; IRQ_LINES as usize];

/// Called by the trap dispatcher for I/O APIC line `line` (EOI already sent).
pub fn handle(line: u8) {
    if let Some(c) = COUNTS.get(line as usize) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// How many interrupts line `line` has delivered.
#[allow(dead_code)]
pub fn count(line: u8) -> u64 {
    COUNTS.get(line as usize).map_or(0, |c| c.load(Ordering::Relaxed))
}
