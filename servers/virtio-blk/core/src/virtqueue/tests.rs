//! Host tests of the split queue against a simulated device that reads the
//! available ring and writes the used ring through the same bytes.

use std::collections::HashSet;
use std::vec::Vec;

use super::*;
use crate::dma::{read_u64, HostDma};

/// The device's side: where it is in the available ring and the used ring.
#[derive(Default)]
pub struct SimDevice {
    last_avail: u16,
    used_idx: u16,
}

/// A descriptor as the device sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimDesc {
    pub index: u16,
    pub phys: u64,
    pub len: u32,
    pub flags: u16,
}

impl SimDevice {
    /// Takes every newly available chain: (head, its descriptors).
    pub fn take(&mut self, mem: &[u8], l: Layout) -> Vec<(u16, Vec<SimDesc>)> {
        let idx = read_u16(mem, l.avail + 2);
        let mut out = Vec::new();
        while self.last_avail != idx {
            let slot = usize::from(self.last_avail % l.size);
            let head = read_u16(mem, l.avail + 4 + 2 * slot);
            let mut chain = Vec::new();
            let mut cur = head;
            loop {
                let off = usize::from(cur) * 16;
                let d = SimDesc {
                    index: cur,
                    phys: read_u64(mem, off),
                    len: read_u32(mem, off + 8),
                    flags: read_u16(mem, off + 12),
                };
                chain.push(d);
                assert!(chain.len() <= usize::from(l.size), "descriptor loop");
                if d.flags & DESC_F_NEXT == 0 {
                    break;
                }
                cur = read_u16(mem, off + 14);
            }
            out.push((head, chain));
            self.last_avail = self.last_avail.wrapping_add(1);
        }
        out
    }

    /// Puts `id` on the used ring with `len` bytes written.
    pub fn complete(&mut self, mem: &mut [u8], l: Layout, id: u32, len: u32) {
        let slot = usize::from(self.used_idx % l.size);
        write_u32(mem, l.used + 4 + 8 * slot, id);
        write_u32(mem, l.used + 8 + 8 * slot, len);
        self.used_idx = self.used_idx.wrapping_add(1);
        write_u16(mem, l.used + 2, self.used_idx);
    }
}

fn queue(size: u16) -> SplitQueue<HostDma> {
    let l = Layout::legacy(size).unwrap();
    SplitQueue::new(HostDma::new(0x10_0000, l.total), size).unwrap()
}

fn seg(phys: u64, len: u32, device_writes: bool) -> Segment {
    Segment { phys, len, device_writes }
}

#[test]
fn legacy_layout() {
    let l = Layout::legacy(256).unwrap();
    assert_eq!((l.avail, l.used, l.total), (4096, 8192, 12288));
    let l = Layout::legacy(8).unwrap();
    assert_eq!((l.avail, l.used, l.total), (128, 4096, 8192));
    let l = Layout::legacy(1).unwrap();
    assert_eq!((l.avail, l.used, l.total), (16, 4096, 8192));
    assert_eq!(Layout::legacy(0), None);
    assert_eq!(Layout::legacy(100), None);
}

#[test]
fn rejects_small_or_misaligned_memory() {
    let l = Layout::legacy(16).unwrap();
    assert!(matches!(SplitQueue::new(HostDma::new(0, l.total - 1), 16), Err(QueueError::BadLayout)));
    assert!(matches!(SplitQueue::new(HostDma::new(0x800, l.total), 16), Err(QueueError::BadLayout)));
    assert!(matches!(SplitQueue::new(HostDma::new(0, l.total), 12), Err(QueueError::BadLayout)));
}

#[test]
fn chain_round_trip() {
    let mut q = queue(8);
    let l = q.layout();
    let mut dev = SimDevice::default();
    let chain = [seg(0x1000, 16, false), seg(0x2000, 4096, true), seg(0x3000, 1, true)];
    let head = q.push(&chain).unwrap();
    assert_eq!(q.free_descriptors(), 5);
    assert_eq!(q.in_flight(), 1);
    assert!(q.needs_notify());

    let taken = dev.take(&q.memory_mut().mem, l);
    assert_eq!(taken.len(), 1);
    let (h, descs) = &taken[0];
    assert_eq!(*h, head);
    let got: Vec<_> = descs.iter().map(|d| (d.phys, d.len, d.flags)).collect();
    assert_eq!(got, [(0x1000, 16, DESC_F_NEXT), (0x2000, 4096, DESC_F_NEXT | DESC_F_WRITE), (0x3000, 1, DESC_F_WRITE)]);

    assert_eq!(q.pop_used(), Ok(None));
    dev.complete(&mut q.memory_mut().mem, l, u32::from(head), 4097);
    assert_eq!(q.pop_used(), Ok(Some(Used { head, len: 4097 })));
    assert_eq!(q.pop_used(), Ok(None));
    assert_eq!(q.free_descriptors(), 8);
    assert_eq!(q.in_flight(), 0);
}

#[test]
fn full_and_empty_chains() {
    let mut q = queue(4);
    let l = q.layout();
    let mut dev = SimDevice::default();
    assert_eq!(q.push(&[]), Err(QueueError::EmptyChain));
    let a = q.push(&[seg(1, 1, false), seg(2, 2, true), seg(3, 3, true)]).unwrap();
    assert_eq!(q.push(&[seg(4, 4, false), seg(5, 5, true)]), Err(QueueError::Full));
    let b = q.push(&[seg(4, 4, false)]).unwrap();
    assert_eq!(q.push(&[seg(6, 6, false)]), Err(QueueError::Full));
    assert_eq!(dev.take(&q.memory_mut().mem, l).len(), 2);
    dev.complete(&mut q.memory_mut().mem, l, u32::from(a), 0);
    assert_eq!(q.pop_used().unwrap().unwrap().head, a);
    // The three freed descriptors are usable again at once.
    q.push(&[seg(7, 7, false), seg(8, 8, true), seg(9, 9, true)]).unwrap();
    assert_eq!(q.free_descriptors(), 0);
    dev.complete(&mut q.memory_mut().mem, l, u32::from(b), 0);
    assert_eq!(q.pop_used().unwrap().unwrap().head, b);
}

#[test]
fn out_of_order_completion_frees_the_right_descriptors() {
    let mut q = queue(8);
    let l = q.layout();
    let mut dev = SimDevice::default();
    let heads: Vec<u16> = (0..4u64).map(|i| q.push(&[seg(i, 1, false), seg(i + 100, 1, true)]).unwrap()).collect();
    assert_eq!(q.free_descriptors(), 0);
    let taken = dev.take(&q.memory_mut().mem, l);
    // Every descriptor belongs to exactly one chain.
    let all: HashSet<u16> = taken.iter().flat_map(|(_, d)| d.iter().map(|d| d.index)).collect();
    assert_eq!(all.len(), 8);
    for &h in [heads[2], heads[0], heads[3], heads[1]].iter() {
        dev.complete(&mut q.memory_mut().mem, l, u32::from(h), 1);
        assert_eq!(q.pop_used().unwrap().unwrap().head, h);
    }
    assert_eq!(q.free_descriptors(), 8);
    // One chain across the whole table: the free list is intact.
    let chain: Vec<Segment> = (0..8).map(|i| seg(i, 1, false)).collect();
    let h = q.push(&chain).unwrap();
    let taken = dev.take(&q.memory_mut().mem, l);
    let idx: HashSet<u16> = taken[0].1.iter().map(|d| d.index).collect();
    assert_eq!((taken[0].0, idx.len()), (h, 8));
}

#[test]
fn indices_wrap_around_u16() {
    let mut q = queue(4);
    let l = q.layout();
    let mut dev = SimDevice::default();
    // 70000 > 65536 trips through both ring indices.
    for i in 0..70_000u32 {
        let h1 = q.push(&[seg(u64::from(i), 8, false), seg(0, 1, true)]).unwrap();
        let h2 = q.push(&[seg(u64::from(i) + 1, 8, true)]).unwrap();
        let taken = dev.take(&q.memory_mut().mem, l);
        assert_eq!(taken.iter().map(|t| t.0).collect::<Vec<_>>(), [h1, h2]);
        assert_eq!(taken[0].1[0].phys, u64::from(i));
        dev.complete(&mut q.memory_mut().mem, l, u32::from(h2), 8);
        dev.complete(&mut q.memory_mut().mem, l, u32::from(h1), 1);
        assert_eq!(q.pop_used(), Ok(Some(Used { head: h2, len: 8 })));
        assert_eq!(q.pop_used(), Ok(Some(Used { head: h1, len: 1 })));
        assert_eq!(q.pop_used(), Ok(None));
    }
    let mem = &q.memory_mut().mem;
    assert_eq!(read_u16(mem, l.avail + 2), (140_000u32 % 65536) as u16);
    assert_eq!(q.free_descriptors(), 4);
}

#[test]
fn bogus_used_ids_are_skipped() {
    let mut q = queue(8);
    let l = q.layout();
    let mut dev = SimDevice::default();
    let h = q.push(&[seg(1, 1, false), seg(2, 1, true)]).unwrap();
    dev.take(&q.memory_mut().mem, l);
    // Out of range, a descriptor that is not a head in flight, then the real one.
    dev.complete(&mut q.memory_mut().mem, l, 999, 0);
    dev.complete(&mut q.memory_mut().mem, l, u32::from(h) + 1, 0);
    dev.complete(&mut q.memory_mut().mem, l, u32::from(h), 0);
    assert_eq!(q.pop_used(), Err(QueueError::BadUsedId(999)));
    assert_eq!(q.pop_used(), Err(QueueError::BadUsedId(u32::from(h) + 1)));
    assert_eq!(q.pop_used(), Ok(Some(Used { head: h, len: 0 })));
    // A second completion of the same chain is caught too.
    dev.complete(&mut q.memory_mut().mem, l, u32::from(h), 0);
    assert_eq!(q.pop_used(), Err(QueueError::BadUsedId(u32::from(h))));
    assert_eq!(q.free_descriptors(), 8);
}

#[test]
fn notification_suppression() {
    let mut q = queue(4);
    let l = q.layout();
    assert!(q.needs_notify());
    write_u16(&mut q.memory_mut().mem, l.used, USED_F_NO_NOTIFY);
    assert!(!q.needs_notify());
}

#[test]
fn random_traffic_keeps_bookkeeping_consistent() {
    let mut q = queue(16);
    let l = q.layout();
    let mut dev = SimDevice::default();
    let mut seed = 0x1234_5678_u64;
    let mut rand = move |n: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut pending: Vec<(u16, Vec<u16>)> = Vec::new();
    for step in 0..20_000u64 {
        if rand(2) == 0 {
            let len = 1 + rand(4) as usize;
            let chain: Vec<Segment> = (0..len).map(|i| seg(step * 8 + i as u64, 1, i > 0)).collect();
            match q.push(&chain) {
                Ok(_) => {
                    for (h, d) in dev.take(&q.memory_mut().mem, l) {
                        assert_eq!(d.len(), len);
                        assert_eq!(d[0].phys, step * 8);
                        pending.push((h, d.iter().map(|d| d.index).collect()));
                    }
                }
                Err(QueueError::Full) => assert!(usize::from(q.free_descriptors()) < len),
                Err(e) => panic!("{e:?}"),
            }
        } else if !pending.is_empty() {
            let (h, _) = pending.swap_remove(rand(pending.len() as u64) as usize);
            dev.complete(&mut q.memory_mut().mem, l, u32::from(h), 0);
            assert_eq!(q.pop_used().unwrap().unwrap().head, h);
        }
        let busy: Vec<u16> = pending.iter().flat_map(|p| p.1.iter().copied()).collect();
        let distinct: HashSet<u16> = busy.iter().copied().collect();
        assert_eq!(busy.len(), distinct.len(), "a descriptor is in two chains");
        assert_eq!(busy.len() + usize::from(q.free_descriptors()), 16);
        assert_eq!(q.in_flight(), pending.len());
    }
}
