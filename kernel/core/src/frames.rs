//! The physical frame allocator: one bit per 4 KiB frame between the lowest
//! and highest usable address, set = free. A bitmap, not a free list, so a
//! double free is caught, contiguous runs (DMA) can be found, and the free
//! count is exact. `next` remembers where the last search ended, so the
//! common single-frame allocation is amortised O(1).

use crate::PAGE_SIZE;

/// A usable physical range, as the boot loader's memory map reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub base: u64,
    pub len: u64,
}

/// Why a free was refused. Each one is a kernel bug, never a user error.
#[derive(Debug, PartialEq, Eq)]
pub enum FreeError {
    NotAligned,
    OutOfRange,
    DoubleFree,
}

pub struct FrameAllocator<'a> {
    /// Bit `i` describes the frame at `base + i * PAGE_SIZE`; 1 means free.
    bits: &'a mut [u64],
    base: u64,
    frames: usize,
    free: usize,
    next: usize,
}

impl<'a> FrameAllocator<'a> {
    /// Number of `u64` words of bitmap needed to cover `regions`.
    pub fn bitmap_words(regions: &[Region]) -> usize {
        let (lo, hi) = span(regions);
        (((hi - lo) / PAGE_SIZE) as usize).div_ceil(64)
    }

    /// Builds an allocator whose free frames are exactly the whole frames
    /// inside `regions`. `bits` must have at least `bitmap_words(regions)` words.
    pub fn new(bits: &'a mut [u64], regions: &[Region]) -> Self {
        let (lo, hi) = span(regions);
        let frames = ((hi - lo) / PAGE_SIZE) as usize;
        assert!(bits.len() >= frames.div_ceil(64), "frame bitmap too small");
        bits.fill(0);
        let mut alloc = FrameAllocator { bits, base: lo, frames, free: 0, next: 0 };
        for r in regions {
            let start = r.base.next_multiple_of(PAGE_SIZE);
            let end = (r.base + r.len) & !(PAGE_SIZE - 1);
            let mut addr = start;
            while addr < end {
                let i = ((addr - lo) / PAGE_SIZE) as usize;
                if !alloc.is_free(i) {
                    alloc.set(i, true);
                    alloc.free += 1;
                }
                addr += PAGE_SIZE;
            }
        }
        alloc
    }

    pub fn free_frames(&self) -> usize {
        self.free
    }

    pub fn total_frames(&self) -> usize {
        self.frames
    }

    fn is_free(&self, i: usize) -> bool {
        self.bits[i / 64] & (1 << (i % 64)) != 0
    }

    fn set(&mut self, i: usize, free: bool) {
        if free {
            self.bits[i / 64] |= 1 << (i % 64);
        } else {
            self.bits[i / 64] &= !(1 << (i % 64));
        }
    }

    /// Takes one frame, or `None` when memory is exhausted.
    pub fn alloc(&mut self) -> Option<u64> {
        if self.free == 0 {
            return None;
        }
        let words = self.frames.div_ceil(64);
        let start = self.next / 64;
        for k in 0..=words {
            let w = (start + k) % words;
            let word = self.bits[w];
            if word != 0 {
                let i = w * 64 + word.trailing_zeros() as usize;
                if i >= self.frames {
                    continue;
                }
                self.set(i, false);
                self.free -= 1;
                self.next = i;
                return Some(self.base + i as u64 * PAGE_SIZE);
            }
        }
        None
    }

    /// Takes `count` physically contiguous frames whose first address is a
    /// multiple of `align` bytes (a power of two, at least `PAGE_SIZE`).
    pub fn alloc_contiguous(&mut self, count: usize, align: u64) -> Option<u64> {
        if count == 0 || count > self.free || !align.is_power_of_two() {
            return None;
        }
        let align = align.max(PAGE_SIZE);
        let mut addr = self.base.next_multiple_of(align);
        while addr + count as u64 * PAGE_SIZE <= self.base + self.frames as u64 * PAGE_SIZE {
            let first = ((addr - self.base) / PAGE_SIZE) as usize;
            match (first..first + count).find(|&i| !self.is_free(i)) {
                None => {
                    for i in first..first + count {
                        self.set(i, false);
                    }
                    self.free -= count;
                    return Some(addr);
                }
                Some(busy) => {
                    addr = (self.base + (busy as u64 + 1) * PAGE_SIZE).next_multiple_of(align);
                }
            }
        }
        None
    }

    /// Marks every frame overlapping `[base, base + len)` as in use (the
    /// bitmap's own storage, memory the boot loader still needs).
    pub fn reserve(&mut self, base: u64, len: u64) {
        self.for_each_index(base, len, |a, i| {
            if a.is_free(i) {
                a.set(i, false);
                a.free -= 1;
            }
        });
    }

    /// Marks every whole frame inside `[base, base + len)` free again (memory
    /// reclaimed from the boot loader). Frames outside the span are ignored.
    pub fn release(&mut self, base: u64, len: u64) {
        let start = base.next_multiple_of(PAGE_SIZE);
        let end = (base + len) & !(PAGE_SIZE - 1);
        if end > start {
            self.for_each_index(start, end - start, |a, i| {
                if !a.is_free(i) {
                    a.set(i, true);
                    a.free += 1;
                }
            });
        }
    }

    fn for_each_index(&mut self, base: u64, len: u64, mut f: impl FnMut(&mut Self, usize)) {
        let end = (base + len).min(self.base + self.frames as u64 * PAGE_SIZE);
        let mut addr = (base & !(PAGE_SIZE - 1)).max(self.base);
        while addr < end {
            f(self, ((addr - self.base) / PAGE_SIZE) as usize);
            addr += PAGE_SIZE;
        }
    }

    /// Returns a frame. Refuses frames it never owned and double frees.
    pub fn free(&mut self, addr: u64) -> Result<(), FreeError> {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(FreeError::NotAligned);
        }
        if addr < self.base || addr >= self.base + self.frames as u64 * PAGE_SIZE {
            return Err(FreeError::OutOfRange);
        }
        let i = ((addr - self.base) / PAGE_SIZE) as usize;
        if self.is_free(i) {
            return Err(FreeError::DoubleFree);
        }
        self.set(i, true);
        self.free += 1;
        Ok(())
    }
}

/// Lowest and highest frame-aligned address covered by `regions`.
fn span(regions: &[Region]) -> (u64, u64) {
    let lo = regions.iter().map(|r| r.base).min().unwrap_or(0) & !(PAGE_SIZE - 1);
    let hi = regions.iter().map(|r| r.base + r.len).max().unwrap_or(0).next_multiple_of(PAGE_SIZE);
    (lo, hi.max(lo))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make(regions: &[Region]) -> (Vec<u64>, usize) {
        let words = FrameAllocator::bitmap_words(regions);
        (vec![0; words], words)
    }

    #[test]
    fn counts_only_whole_frames_inside_regions() {
        let regions = [Region { base: 0x1000, len: 0x3000 }, Region { base: 0x10800, len: 0x2000 }];
        let (mut bits, _) = make(&regions);
        let a = FrameAllocator::new(&mut bits, &regions);
        // 3 frames in the first region, 1 whole frame (0x11000) in the second.
        assert_eq!(a.free_frames(), 4);
    }

    #[test]
    fn exhaustion_and_reuse_never_hand_out_a_frame_twice() {
        let regions = [Region { base: 0x100000, len: 64 * PAGE_SIZE }];
        let (mut bits, _) = make(&regions);
        let mut a = FrameAllocator::new(&mut bits, &regions);
        let mut got = std::collections::BTreeSet::new();
        while let Some(f) = a.alloc() {
            assert!(got.insert(f), "frame {f:#x} handed out twice");
            assert!((0x100000..0x100000 + 64 * PAGE_SIZE).contains(&f));
        }
        assert_eq!(got.len(), 64);
        assert_eq!(a.free_frames(), 0);
        let f = *got.iter().nth(10).unwrap();
        a.free(f).unwrap();
        assert_eq!(a.free(f), Err(FreeError::DoubleFree));
        assert_eq!(a.alloc(), Some(f));
        assert_eq!(a.alloc(), None);
    }

    #[test]
    fn reserve_and_release() {
        let regions = [Region { base: 0x100000, len: 16 * PAGE_SIZE }];
        let (mut bits, _) = make(&regions);
        let mut a = FrameAllocator::new(&mut bits, &regions);
        a.reserve(0x100800, 0x2000); // touches frames 0, 1 and 2
        assert_eq!(a.free_frames(), 13);
        a.reserve(0x0, 0x1000); // outside: ignored
        assert_eq!(a.free_frames(), 13);
        a.release(0x100000, 0x2800); // whole frames 0 and 1 only
        assert_eq!(a.free_frames(), 15);
        assert_eq!(a.free(0x102000), Ok(()));
    }

    #[test]
    fn refuses_foreign_frames() {
        let regions = [Region { base: 0x100000, len: 4 * PAGE_SIZE }];
        let (mut bits, _) = make(&regions);
        let mut a = FrameAllocator::new(&mut bits, &regions);
        assert_eq!(a.free(0x100001), Err(FreeError::NotAligned));
        assert_eq!(a.free(0x200000), Err(FreeError::OutOfRange));
        assert_eq!(a.free(0x100000), Err(FreeError::DoubleFree));
    }

    #[test]
    fn contiguous_runs_respect_holes_and_alignment() {
        let regions = [Region { base: 0x0, len: 0x10000 }, Region { base: 0x20000, len: 0x40000 }];
        let (mut bits, _) = make(&regions);
        let mut a = FrameAllocator::new(&mut bits, &regions);
        let run = a.alloc_contiguous(20, 0x10000).unwrap();
        assert_eq!(run, 0x20000);
        let before = a.free_frames();
        let run2 = a.alloc_contiguous(8, 0x8000).unwrap();
        assert_eq!(run2 % 0x8000, 0);
        assert_eq!(run2, 0, "the first region still has room");
        assert_eq!(a.free_frames(), before - 8);
        assert_eq!(a.alloc_contiguous(1000, PAGE_SIZE), None);
    }
}
