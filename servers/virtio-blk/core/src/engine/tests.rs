//! Host tests of the engine: simulated clients (leases, replies) and a
//! simulated virtio-blk device over a `Vec` disk, which serves requests in
//! whatever order a test chooses.

use std::collections::HashMap;
use std::vec::Vec;

use super::*;
use crate::blk::META_STRIDE;
use crate::dma::{read_u32, read_u64, HostDma};
use crate::virtqueue::tests::{SimDesc, SimDevice};
use crate::virtqueue::SplitQueue;

const QUEUE_PHYS: u64 = 0x10_0000;
const META_PHYS: u64 = 0x20_0000;
const DATA_PHYS: u64 = 0x30_0000;
/// Small slots (2 sectors) so requests split into many chunks.
const SLOT_BYTES: usize = 1024;
const SLOTS: usize = 4;
const DISK_SECTORS: u64 = 64;

type TestEngine = Engine<HostDma, HostDma, HostDma>;

fn engine(device: Device) -> TestEngine {
    let size = 16;
    let l = crate::virtqueue::Layout::legacy(size).unwrap();
    let q = SplitQueue::new(HostDma::new(QUEUE_PHYS, l.total), size).unwrap();
    let blk = BlkQueue::new(q, HostDma::new(META_PHYS, SLOTS * META_STRIDE), SLOTS).unwrap();
    Engine::new(blk, HostDma::new(DATA_PHYS, SLOTS * SLOT_BYTES), SLOT_BYTES, device).unwrap()
}

fn disk_device() -> Device {
    Device { capacity: DISK_SECTORS, block_size: 512, read_only: false, flush: true }
}

/// A client's lent buffer.
struct Lease {
    buf: Vec<u8>,
    /// Lent for the driver to write (a read request) or to read.
    writable: bool,
    /// The client died: every access fails.
    dead: bool,
}

#[derive(Default)]
struct MockHost {
    leases: HashMap<ClientId, Lease>,
    replies: Vec<(ClientId, Result<Vec<u8>, BlkError>)>,
    notifies: usize,
}

impl MockHost {
    fn lend(&mut self, client: ClientId, buf: Vec<u8>, writable: bool) {
        self.leases.insert(client, Lease { buf, writable, dead: false });
    }

    fn reply_of(&self, client: ClientId) -> Option<&Result<Vec<u8>, BlkError>> {
        self.replies.iter().find(|r| r.0 == client).map(|r| &r.1)
    }

    fn lease(&mut self, client: ClientId, writable: bool) -> Result<&mut Lease, Error> {
        let l = self.leases.get_mut(&client).ok_or(Error::BadArgument)?;
        if l.dead {
            return Err(Error::PeerDied);
        }
        if l.writable != writable {
            return Err(Error::PermissionDenied);
        }
        Ok(l)
    }
}

impl Host for MockHost {
    fn lease_check(&mut self, client: ClientId, len: usize, device_to_client: bool) -> Result<(), Error> {
        let l = self.lease(client, device_to_client)?;
        if len > l.buf.len() {
            return Err(Error::BadArgument);
        }
        Ok(())
    }
    fn lease_read(&mut self, client: ClientId, offset: usize, buf: &mut [u8]) -> Result<(), Error> {
        let l = self.lease(client, false)?;
        buf.copy_from_slice(l.buf.get(offset..offset + buf.len()).ok_or(Error::BadArgument)?);
        Ok(())
    }
    fn lease_write(&mut self, client: ClientId, offset: usize, buf: &[u8]) -> Result<(), Error> {
        let l = self.lease(client, true)?;
        l.buf.get_mut(offset..offset + buf.len()).ok_or(Error::BadArgument)?.copy_from_slice(buf);
        Ok(())
    }
    fn reply(&mut self, client: ClientId, result: Result<&[u8], BlkError>) {
        assert!(self.reply_of(client).is_none(), "client {client} answered twice");
        self.replies.push((client, result.map(<[u8]>::to_vec)));
    }
    fn notify(&mut self) {
        self.notifies += 1;
    }
}

/// The device: a disk, the requests it has taken but not finished, and
/// sectors that fail.
struct Sim {
    dev: SimDevice,
    disk: Vec<u8>,
    pending: Vec<(u16, Vec<SimDesc>)>,
    bad_sector: Option<u64>,
    /// Request types seen, in order.
    types: Vec<u32>,
}

impl Sim {
    fn new() -> Sim {
        let disk = (0..DISK_SECTORS as usize * 512).map(|i| (i / 512) as u8 ^ (i % 251) as u8).collect();
        Sim { dev: SimDevice::default(), disk, pending: Vec::new(), bad_sector: None, types: Vec::new() }
    }

    /// Takes whatever the driver made available.
    fn fetch(&mut self, e: &mut TestEngine) {
        let (blk, _) = e.parts_mut();
        let (_, layout) = blk.queue_location();
        let taken = self.dev.take(&blk.queue_mut().memory_mut().mem, layout);
        self.pending.extend(taken);
    }

    /// Executes pending request `i` and puts it on the used ring.
    fn serve(&mut self, e: &mut TestEngine, i: usize) {
        let (head, descs) = self.pending.remove(i);
        let (blk, data) = e.parts_mut();
        let (_, layout) = blk.queue_location();
        let meta = &mut blk.meta_mut().mem;
        let hdr = (descs[0].phys - META_PHYS) as usize;
        assert_eq!((descs[0].len, descs[0].flags & 2), (16, 0), "header");
        let status = descs.last().unwrap();
        assert_eq!((status.len, status.flags & 2), (1, 2), "status");
        let ty = read_u32(meta, hdr);
        let sector = read_u64(meta, hdr + 8);
        self.types.push(ty);
        let mut code = 0u8;
        let mut written = 1;
        if descs.len() == 3 {
            let d = descs[1];
            let at = (d.phys - DATA_PHYS) as usize;
            let buf = &mut data.mem[at..at + d.len as usize];
            let start = sector as usize * 512;
            let hits_bad = self.bad_sector.is_some_and(|b| (sector..sector + u64::from(d.len) / 512).contains(&b));
            if start + buf.len() > self.disk.len() || hits_bad {
                code = 1;
            } else if ty == 0 {
                assert_eq!(d.flags & 2, 2, "read data must be device-writable");
                buf.copy_from_slice(&self.disk[start..start + buf.len()]);
                written += d.len;
            } else if ty == 1 {
                assert_eq!(d.flags & 2, 0, "write data must be device-readable");
                self.disk[start..start + buf.len()].copy_from_slice(buf);
            } else {
                code = 2;
            }
        } else if ty != 4 {
            code = 2;
        }
        meta[(status.phys - META_PHYS) as usize] = code;
        self.dev.complete(&mut blk.queue_mut().memory_mut().mem, layout, u32::from(head), written);
    }

    /// Serves everything, `pick` choosing the order, with an interrupt
    /// after every `batch` completions, until the driver is idle.
    fn run(&mut self, e: &mut TestEngine, host: &mut MockHost, batch: usize, mut pick: impl FnMut(usize) -> usize) {
        for _ in 0..10_000 {
            self.fetch(e);
            if self.pending.is_empty() {
                break;
            }
            for _ in 0..batch.min(self.pending.len()) {
                let i = pick(self.pending.len());
                self.serve(e, i);
            }
            e.interrupt(host);
        }
        assert!(self.pending.is_empty() && !e.busy(), "the driver did not finish");
    }
}

fn lcg(mut seed: u64) -> impl FnMut(usize) -> usize {
    move |n| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((seed >> 33) % n as u64) as usize
    }
}

fn pattern(tag: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| tag.wrapping_mul(31).wrapping_add(i as u8) ^ (i >> 9) as u8).collect()
}

#[test]
fn info_reports_the_device() {
    let mut e = engine(Device { capacity: 1234, block_size: 4096, read_only: true, flush: false });
    let mut host = MockHost::default();
    e.request(&mut host, 1, Request::new(Op::Info), &[]);
    let info = Info::decode(host.reply_of(1).unwrap().as_ref().unwrap()).unwrap();
    assert_eq!(info.capacity, 1234);
    assert_eq!(info.sector_size, 512);
    assert_eq!(info.block_size, 4096);
    assert_eq!(info.max_transfer, 2);
    assert_eq!(info.flags, info_flags::READ_ONLY);
}

#[test]
fn write_then_read_back_across_chunks() {
    let mut e = engine(disk_device());
    let mut host = MockHost::default();
    let mut sim = Sim::new();
    // 11 sectors from sector 3: six chunks of at most two sectors.
    let data = pattern(7, 11 * 512);
    host.lend(1, data.clone(), false);
    e.request(&mut host, 1, Request::io(Op::Write, 3, 11), &[]);
    assert!(host.notifies > 0);
    sim.run(&mut e, &mut host, 1, |_| 0);
    assert_eq!(host.reply_of(1), Some(&Ok(Vec::new())));
    assert_eq!(&sim.disk[3 * 512..14 * 512], &data[..]);

    host.lend(2, vec![0; 11 * 512], true);
    e.request(&mut host, 2, Request::io(Op::Read, 3, 11), &[]);
    sim.run(&mut e, &mut host, 3, lcg(5));
    assert_eq!(host.reply_of(2), Some(&Ok(Vec::new())));
    assert_eq!(host.leases[&2].buf, data);
    assert_eq!(e.stats().submitted, 12);
    assert_eq!(e.stats().completed, 12);
}

#[test]
fn many_requests_in_flight_complete_in_any_order() {
    let mut e = engine(disk_device());
    let mut host = MockHost::default();
    let mut sim = Sim::new();
    let mut expect = sim.disk.clone();
    // Eight writers of different lengths to disjoint ranges, all started
    // before the device runs.
    for c in 0..8u64 {
        let sectors = 1 + c as usize % 4;
        let data = pattern(c as u8, sectors * 512);
        let start = c as usize * 8 * 512;
        expect[start..start + data.len()].copy_from_slice(&data);
        host.lend(c, data, false);
        e.request(&mut host, c, Request::io(Op::Write, c * 8, sectors as u32), &[]);
    }
    // All slots are busy at once.
    sim.fetch(&mut e);
    assert_eq!(sim.pending.len(), SLOTS);
    sim.run(&mut e, &mut host, 2, lcg(42));
    assert_eq!(host.replies.len(), 8);
    assert!(host.replies.iter().all(|r| r.1 == Ok(Vec::new())));
    assert_eq!(sim.disk, expect);

    // Eight readers, served in random order.
    for c in 0..8u64 {
        host.lend(100 + c, vec![0; 3 * 512], true);
        e.request(&mut host, 100 + c, Request::io(Op::Read, c * 8, 3), &[]);
    }
    sim.run(&mut e, &mut host, 1, lcg(7));
    for c in 0..8usize {
        let start = c * 8 * 512;
        assert_eq!(host.leases[&(100 + c as u64)].buf, expect[start..start + 3 * 512]);
    }
}

#[test]
fn out_of_range_and_bad_requests_never_reach_the_device() {
    let mut e = engine(disk_device());
    let mut host = MockHost::default();
    let mut sim = Sim::new();
    host.lend(1, vec![0; 4096], true);
    e.request(&mut host, 1, Request::io(Op::Read, DISK_SECTORS, 1), &[]);
    host.lend(2, vec![0; 4096], true);
    e.request(&mut host, 2, Request::io(Op::Read, DISK_SECTORS - 1, 2), &[]);
    host.lend(3, vec![0; 4096], true);
    e.request(&mut host, 3, Request::io(Op::Read, u64::MAX, 2), &[]);
    // Lease too small, lent the wrong way, missing; trailing bytes.
    host.lend(4, vec![0; 511], true);
    e.request(&mut host, 4, Request::io(Op::Read, 0, 1), &[]);
    host.lend(5, vec![0; 512], true);
    e.request(&mut host, 5, Request::io(Op::Write, 0, 1), &[]);
    e.request(&mut host, 6, Request::io(Op::Read, 0, 1), &[]);
    host.lend(7, vec![0; 512], true);
    e.request(&mut host, 7, Request::io(Op::Read, 0, 1), b"x");
    // Inline: too long a read, a write whose data does not match its count.
    e.request(&mut host, 8, Request::io(Op::Read, 0, MAX_INLINE_READ + 1).inline(), &[]);
    e.request(&mut host, 9, Request::io(Op::Write, 0, 2).inline(), &[0; 512]);
    // Nothing to do.
    host.lend(10, Vec::new(), true);
    e.request(&mut host, 10, Request::io(Op::Read, DISK_SECTORS, 0), &[]);

    let bad = Err(BlkError::Ipc(Error::BadArgument));
    assert_eq!(host.reply_of(1), Some(&Err(BlkError::OutOfRange)));
    assert_eq!(host.reply_of(2), Some(&Err(BlkError::OutOfRange)));
    assert_eq!(host.reply_of(3), Some(&Err(BlkError::OutOfRange)));
    assert_eq!(host.reply_of(4), Some(&bad));
    assert_eq!(host.reply_of(5), Some(&Err(BlkError::Ipc(Error::PermissionDenied))));
    assert_eq!(host.reply_of(6), Some(&bad));
    assert_eq!(host.reply_of(7), Some(&bad));
    assert_eq!(host.reply_of(8), Some(&bad));
    assert_eq!(host.reply_of(9), Some(&bad));
    assert_eq!(host.reply_of(10), Some(&Ok(Vec::new())));
    sim.fetch(&mut e);
    assert!(sim.pending.is_empty());
    assert_eq!(host.notifies, 0);
}

#[test]
fn device_error_fails_only_its_request() {
    let mut e = engine(disk_device());
    let mut host = MockHost::default();
    let mut sim = Sim::new();
    sim.bad_sector = Some(9);
    host.lend(1, vec![0; 8 * 512], true);
    e.request(&mut host, 1, Request::io(Op::Read, 4, 8), &[]);
    host.lend(2, vec![0; 8 * 512], true);
    e.request(&mut host, 2, Request::io(Op::Read, 20, 8), &[]);
    sim.run(&mut e, &mut host, 1, lcg(3));
    assert_eq!(host.reply_of(1), Some(&Err(BlkError::Io)));
    assert_eq!(host.reply_of(2), Some(&Ok(Vec::new())));
    assert_eq!(host.leases[&2].buf, sim.disk[20 * 512..28 * 512]);
    // The engine is whole afterwards: every slot works again.
    sim.bad_sector = None;
    host.lend(3, vec![0; 16 * 512], true);
    e.request(&mut host, 3, Request::io(Op::Read, 0, 16), &[]);
    sim.run(&mut e, &mut host, 4, lcg(9));
    assert_eq!(host.leases[&3].buf, sim.disk[..16 * 512]);
}

#[test]
fn read_only_and_flush() {
    let mut e = engine(Device { read_only: true, flush: false, ..disk_device() });
    let mut host = MockHost::default();
    let mut sim = Sim::new();
    host.lend(1, vec![0; 512], false);
    e.request(&mut host, 1, Request::io(Op::Write, 0, 1), &[]);
    e.request(&mut host, 2, Request::new(Op::Flush), &[]);
    assert_eq!(host.reply_of(1), Some(&Err(BlkError::ReadOnly)));
    // Without a write cache a flush has nothing to do.
    assert_eq!(host.reply_of(2), Some(&Ok(Vec::new())));
    sim.fetch(&mut e);
    assert!(sim.pending.is_empty());

    let mut e = engine(disk_device());
    e.request(&mut host, 3, Request::new(Op::Flush), &[]);
    assert!(host.reply_of(3).is_none());
    sim.run(&mut e, &mut host, 1, |_| 0);
    assert_eq!(host.reply_of(3), Some(&Ok(Vec::new())));
    assert_eq!(sim.types, [4]);
}

#[test]
fn inline_requests() {
    let mut e = engine(disk_device());
    let mut host = MockHost::default();
    let mut sim = Sim::new();
    let data = pattern(9, 5 * 512);
    e.request(&mut host, 1, Request::io(Op::Write, 30, 5).inline(), &data);
    sim.run(&mut e, &mut host, 2, lcg(1));
    assert_eq!(host.reply_of(1), Some(&Ok(Vec::new())));
    e.request(&mut host, 2, Request::io(Op::Read, 30, 5).inline(), &[]);
    sim.run(&mut e, &mut host, 1, lcg(2));
    assert_eq!(host.reply_of(2), Some(&Ok(data)));
}

#[test]
fn a_client_that_dies_does_not_disturb_the_others() {
    let mut e = engine(disk_device());
    let mut host = MockHost::default();
    let mut sim = Sim::new();
    host.lend(1, vec![0; 8 * 512], true);
    e.request(&mut host, 1, Request::io(Op::Read, 0, 8), &[]);
    host.lend(2, vec![0; 8 * 512], false);
    e.request(&mut host, 2, Request::io(Op::Write, 8, 8), &[]);
    host.lend(3, vec![0; 4 * 512], true);
    e.request(&mut host, 3, Request::io(Op::Read, 40, 4), &[]);
    host.leases.get_mut(&1).unwrap().dead = true;
    host.leases.get_mut(&2).unwrap().dead = true;
    sim.run(&mut e, &mut host, 1, lcg(11));
    assert_eq!(host.reply_of(1), Some(&Err(BlkError::Ipc(Error::PeerDied))));
    assert_eq!(host.reply_of(2), Some(&Err(BlkError::Ipc(Error::PeerDied))));
    assert_eq!(host.reply_of(3), Some(&Ok(Vec::new())));
    assert_eq!(host.leases[&3].buf, sim.disk[40 * 512..44 * 512]);
    assert_eq!(e.free_slots.len(), SLOTS);
}

#[test]
fn bogus_completions_are_counted_and_skipped() {
    let mut e = engine(disk_device());
    let mut host = MockHost::default();
    let mut sim = Sim::new();
    host.lend(1, vec![0; 512], true);
    e.request(&mut host, 1, Request::io(Op::Read, 0, 1), &[]);
    sim.fetch(&mut e);
    {
        let (blk, _) = e.parts_mut();
        let (_, layout) = blk.queue_location();
        sim.dev.complete(&mut blk.queue_mut().memory_mut().mem, layout, 15, 0);
    }
    sim.serve(&mut e, 0);
    e.interrupt(&mut host);
    assert_eq!(e.stats().bogus, 1);
    assert_eq!(host.reply_of(1), Some(&Ok(Vec::new())));
}
