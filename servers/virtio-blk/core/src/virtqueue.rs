//! The split virtqueue (virtio 1.1 §2.6), in the legacy layout the I/O-port
//! interface uses: descriptor table, then the available ring, then — on the
//! next 4096-byte boundary — the used ring, all in one physically
//! contiguous region whose page number the driver writes to the device.
//!
//! The driver side only: [`SplitQueue::push`] puts a chain of buffers on the
//! available ring, [`SplitQueue::pop_used`] takes what the device finished
//! and frees its descriptors. The free list and the chain lengths live in
//! driver memory, not in the table the device can see, so a confused device
//! can make a request fail but cannot corrupt the driver's bookkeeping: every
//! id it returns is checked against the chains actually in flight.
//!
//! Indices are free-running `u16`s (the ring slot is `idx % size`), so the
//! wrap at 65536 needs no special case as long as the size is a power of
//! two, which the legacy interface guarantees.

use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{fence, Ordering};

use crate::dma::{read_u16, read_u32, write_u16, write_u32, write_u64, Dma};

/// Descriptor flag: the chain continues at `next`.
const DESC_F_NEXT: u16 = 1;
/// Descriptor flag: the device writes this buffer (otherwise it reads it).
const DESC_F_WRITE: u16 = 2;
/// Used-ring flag: the device asks not to be notified of new buffers.
const USED_F_NO_NOTIFY: u16 = 1;
/// Bytes per descriptor.
const DESC_SIZE: usize = 16;
/// Alignment of the used ring in the legacy layout.
pub const LEGACY_ALIGN: usize = 4096;

/// Where the parts of a queue of `size` entries lie in its region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Entries (a power of two, at most 32768).
    pub size: u16,
    /// Offset of the available ring (the descriptor table is at 0).
    pub avail: usize,
    /// Offset of the used ring.
    pub used: usize,
    /// Bytes the whole queue needs.
    pub total: usize,
}

impl Layout {
    /// The legacy layout for `size` entries, or `None` if the size is not a
    /// power of two in `1..=32768`.
    pub fn legacy(size: u16) -> Option<Layout> {
        if !size.is_power_of_two() || size > 32768 {
            return None;
        }
        let n = usize::from(size);
        let avail = DESC_SIZE * n;
        // flags, idx, ring[n], used_event
        let used = (avail + 4 + 2 * n + 2).next_multiple_of(LEGACY_ALIGN);
        // flags, idx, ring[n] of (id u32, len u32), avail_event
        let total = (used + 4 + 8 * n + 2).next_multiple_of(LEGACY_ALIGN);
        Some(Layout { size, avail, used, total })
    }
}

/// One buffer of a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub phys: u64,
    pub len: u32,
    /// True if the device writes it (data it returns), false if it reads it.
    pub device_writes: bool,
}

/// A chain the device finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Used {
    /// The head descriptor [`SplitQueue::push`] returned for it.
    pub head: u16,
    /// Bytes the device says it wrote into the chain's writable buffers.
    pub len: u32,
}

/// What can go wrong on the driver's side of a queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueError {
    /// The size is not a power of two or the region is too small for it.
    BadLayout,
    /// A chain must have at least one segment.
    EmptyChain,
    /// Not enough free descriptors for the chain (try again after a completion).
    Full,
    /// The device returned an id that is not a chain in flight (a device
    /// bug); the entry was skipped.
    BadUsedId(u32),
    /// A request slot that does not exist or is already in flight.
    BadSlot,
}

/// The driver's half of one split virtqueue over the memory `M`.
pub struct SplitQueue<M> {
    mem: M,
    layout: Layout,
    /// Successor of each free descriptor (the free list), driver-private.
    next: Vec<u16>,
    /// For each descriptor that heads a chain in flight, the chain's
    /// length; 0 otherwise.
    chain_len: Vec<u16>,
    free_head: u16,
    num_free: u16,
    /// Our copy of `avail.idx` (the device only reads it).
    avail_idx: u16,
    /// The next used-ring entry we have not consumed.
    last_used: u16,
}

impl<M: Dma> SplitQueue<M> {
    /// Takes `mem` (at least `Layout::legacy(size).total` bytes, aligned to
    /// 4096 physically) for a queue of `size` entries and zeroes it.
    pub fn new(mut mem: M, size: u16) -> Result<SplitQueue<M>, QueueError> {
        let layout = Layout::legacy(size).ok_or(QueueError::BadLayout)?;
        if mem.bytes().len() < layout.total || !mem.phys().is_multiple_of(LEGACY_ALIGN as u64) {
            return Err(QueueError::BadLayout);
        }
        mem.bytes_mut()[..layout.total].fill(0);
        let n = usize::from(size);
        // Descriptor i links to i + 1; the last link is never followed
        // because `num_free` runs out first.
        let next = (1..=n).map(|i| i as u16 % size).collect();
        Ok(SplitQueue {
            mem,
            layout,
            next,
            chain_len: vec![0; n],
            free_head: 0,
            num_free: size,
            avail_idx: 0,
            last_used: 0,
        })
    }

    /// Physical address of the queue (what the device is told, as a page number).
    pub fn phys(&self) -> u64 {
        self.mem.phys()
    }

    /// The layout in use.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Free descriptors.
    pub fn free_descriptors(&self) -> u16 {
        self.num_free
    }

    /// Chains the device has not returned yet.
    pub fn in_flight(&self) -> usize {
        self.chain_len.iter().filter(|&&n| n != 0).count()
    }

    /// Makes `chain` available to the device and returns its head
    /// descriptor (the id [`pop_used`](Self::pop_used) reports). The caller
    /// notifies the device afterwards if [`needs_notify`](Self::needs_notify).
    pub fn push(&mut self, chain: &[Segment]) -> Result<u16, QueueError> {
        if chain.is_empty() {
            return Err(QueueError::EmptyChain);
        }
        if chain.len() > usize::from(self.num_free) {
            return Err(QueueError::Full);
        }
        let head = self.free_head;
        let mut cur = head;
        let desc = self.mem.bytes_mut();
        for (i, seg) in chain.iter().enumerate() {
            let last = i + 1 == chain.len();
            let succ = self.next[usize::from(cur)];
            let mut flags = if seg.device_writes { DESC_F_WRITE } else { 0 };
            if !last {
                flags |= DESC_F_NEXT;
            }
            let off = usize::from(cur) * DESC_SIZE;
            write_u64(desc, off, seg.phys);
            write_u32(desc, off + 8, seg.len);
            write_u16(desc, off + 12, flags);
            write_u16(desc, off + 14, if last { 0 } else { succ });
            if last {
                self.free_head = succ;
            } else {
                cur = succ;
            }
        }
        self.num_free -= chain.len() as u16;
        self.chain_len[usize::from(head)] = chain.len() as u16;

        let size = self.layout.size;
        let avail = self.layout.avail;
        let slot = usize::from(self.avail_idx % size);
        write_u16(desc, avail + 4 + 2 * slot, head);
        // The descriptors and the ring entry must be visible before the index.
        fence(Ordering::Release);
        self.avail_idx = self.avail_idx.wrapping_add(1);
        write_u16(desc, avail + 2, self.avail_idx);
        // ...and the index before we read the device's notification flag.
        fence(Ordering::SeqCst);
        Ok(head)
    }

    /// True unless the device asked not to be notified (`VIRTQ_USED_F_NO_NOTIFY`).
    pub fn needs_notify(&self) -> bool {
        fence(Ordering::SeqCst);
        read_u16(self.mem.bytes(), self.layout.used) & USED_F_NO_NOTIFY == 0
    }

    /// Takes the next chain the device finished, freeing its descriptors;
    /// `Ok(None)` if there is none.
    pub fn pop_used(&mut self) -> Result<Option<Used>, QueueError> {
        let used = self.layout.used;
        let device_idx = read_u16(self.mem.bytes(), used + 2);
        if device_idx == self.last_used {
            return Ok(None);
        }
        // Read the entry only after seeing the index that publishes it.
        fence(Ordering::Acquire);
        let slot = usize::from(self.last_used % self.layout.size);
        let id = read_u32(self.mem.bytes(), used + 4 + 8 * slot);
        let len = read_u32(self.mem.bytes(), used + 4 + 8 * slot + 4);
        self.last_used = self.last_used.wrapping_add(1);
        let head = match u16::try_from(id) {
            Ok(h) if h < self.layout.size && self.chain_len[usize::from(h)] != 0 => h,
            _ => return Err(QueueError::BadUsedId(id)),
        };
        self.free_chain(head);
        Ok(Some(Used { head, len }))
    }

    /// Returns the descriptors of the chain at `head` to the free list, by
    /// our own record of its length and links (never the device-visible
    /// `next` fields).
    fn free_chain(&mut self, head: u16) {
        let n = core::mem::replace(&mut self.chain_len[usize::from(head)], 0);
        // The chain was cut from the front of the free list in order, so its
        // descriptors are linked by `next` exactly as pushed; find its tail
        // and splice the whole chain back in front.
        let mut tail = head;
        for _ in 1..n {
            tail = self.next[usize::from(tail)];
        }
        self.next[usize::from(tail)] = self.free_head;
        self.free_head = head;
        self.num_free += n;
    }

    /// The queue's memory (the host tests' simulated device uses it).
    pub fn memory_mut(&mut self) -> &mut M {
        &mut self.mem
    }
}

#[cfg(test)]
pub(crate) mod tests;
