//! The request engine: client requests in, device requests out, replies
//! back — many of each in flight at once.
//!
//! It is written "sans I/O": the driver's loop hands it each decoded client
//! request ([`Engine::request`]) and each interrupt ([`Engine::interrupt`]),
//! and the engine touches the outside world only through [`Host`]: the
//! client's lease, the reply, the device's doorbell. The host tests drive
//! the very same code against a simulated device and simulated clients.
//!
//! A client request of any length becomes a *job*; a job is cut into
//! chunks of at most one slot's data buffer, and each chunk is one device
//! request in one slot. Jobs waiting for a slot take turns (round robin), so
//! a huge read does not starve a small one, and every slot can be busy at
//! once. A job is answered when its last chunk completes; the first error
//! (device status, a lease that fails) stops its remaining chunks and is
//! what the client gets.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;

use abi::Error;
use blk_proto::{info_flags, BlkError, Info, Op, Request, MAX_INLINE_READ, SECTOR_SIZE};

use crate::blk::{BlkQueue, DeviceError, Kind};
use crate::dma::Dma;
use crate::virtqueue::QueueError;

/// Names the client of a request until its reply (the receive id).
pub type ClientId = u64;

/// What the engine needs from the outside.
pub trait Host {
    /// Checks that the client lent at least `len` bytes as lease 0, for
    /// the driver to write into (`device_to_client`) or read from.
    fn lease_check(&mut self, client: ClientId, len: usize, device_to_client: bool) -> Result<(), Error>;
    /// Copies the client's lease 0 from `offset` into `buf`.
    fn lease_read(&mut self, client: ClientId, offset: usize, buf: &mut [u8]) -> Result<(), Error>;
    /// Copies `buf` into the client's lease 0 at `offset`.
    fn lease_write(&mut self, client: ClientId, offset: usize, buf: &[u8]) -> Result<(), Error>;
    /// Answers the client: success with reply bytes, or an error.
    fn reply(&mut self, client: ClientId, result: Result<&[u8], BlkError>);
    /// Rings the device's doorbell: new requests are on the queue.
    fn notify(&mut self);
}

/// What the driver learned about the device at start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Device {
    /// Size in 512-byte sectors.
    pub capacity: u64,
    /// Preferred block size in bytes.
    pub block_size: u32,
    pub read_only: bool,
    /// The device has a write cache (`VIRTIO_BLK_F_FLUSH`).
    pub flush: bool,
}

/// Counters for diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Device requests submitted and completed.
    pub submitted: u64,
    pub completed: u64,
    /// Used-ring entries that named no request in flight (device bugs).
    pub bogus: u64,
}

/// One client request being served.
struct Job {
    client: ClientId,
    kind: Kind,
    /// Next sector to issue, and how many sectors are left to issue (for a
    /// flush: 1 until it is issued).
    next: u64,
    left: u64,
    /// Where `next` lies in the client's buffer.
    offset: usize,
    /// Chunks on the device.
    outstanding: usize,
    error: Option<BlkError>,
    /// Inline data: a write's data, or the buffer a read's reply is built in.
    inline: Option<Vec<u8>>,
}

/// The part of a job one slot is serving.
#[derive(Clone, Copy)]
struct Chunk {
    job: usize,
    offset: usize,
    len: usize,
}

/// The engine over queue memory `Q`, slot metadata `M` and data buffers `D`.
pub struct Engine<Q, M, D> {
    blk: BlkQueue<Q, M>,
    data: D,
    slot_bytes: usize,
    device: Device,
    free_slots: Vec<usize>,
    chunks: Vec<Option<Chunk>>,
    jobs: Vec<Option<Job>>,
    /// Jobs with chunks left to issue, in turn order.
    ready: VecDeque<usize>,
    stats: Stats,
}

impl<Q: Dma, M: Dma, D: Dma> Engine<Q, M, D> {
    /// An engine over `blk`, with slot `i`'s data buffer at
    /// `i * slot_bytes` in `data` (`slot_bytes` a nonzero multiple of 512).
    pub fn new(blk: BlkQueue<Q, M>, data: D, slot_bytes: usize, device: Device) -> Result<Self, QueueError> {
        let slots = blk.slots();
        if slot_bytes == 0
            || !slot_bytes.is_multiple_of(SECTOR_SIZE)
            || u32::try_from(slot_bytes).is_err()
            || data.bytes().len() < slots * slot_bytes
        {
            return Err(QueueError::BadLayout);
        }
        Ok(Engine {
            blk,
            data,
            slot_bytes,
            device,
            free_slots: (0..slots).rev().collect(),
            chunks: vec![None; slots],
            jobs: Vec::new(),
            ready: VecDeque::new(),
            stats: Stats::default(),
        })
    }

    /// The reply to `Info`.
    pub fn info(&self) -> Info {
        let mut flags = 0;
        if self.device.read_only {
            flags |= info_flags::READ_ONLY;
        }
        if self.device.flush {
            flags |= info_flags::FLUSH;
        }
        Info {
            capacity: self.device.capacity,
            sector_size: SECTOR_SIZE as u32,
            block_size: self.device.block_size,
            max_transfer: (self.slot_bytes / SECTOR_SIZE) as u32,
            flags,
        }
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// True while some request awaits the device.
    pub fn busy(&self) -> bool {
        self.jobs.iter().any(Option::is_some)
    }

    /// Takes a client request (`inline`: the bytes after its header). Either
    /// answers it at once (info, a bad request, nothing to do) or starts it.
    pub fn request<H: Host>(&mut self, host: &mut H, client: ClientId, req: Request, inline: &[u8]) {
        match self.admit(host, client, req, inline) {
            Ok(Some(job)) => {
                let id = self.add_job(job);
                self.ready.push_back(id);
                self.pump(host);
            }
            Ok(None) => {}
            Err(e) => host.reply(client, Err(e)),
        }
    }

    /// Checks a request and makes its job; `Ok(None)` if it was answered
    /// already.
    fn admit<H: Host>(
        &mut self,
        host: &mut H,
        client: ClientId,
        req: Request,
        inline: &[u8],
    ) -> Result<Option<Job>, BlkError> {
        let bad = BlkError::Ipc(Error::BadArgument);
        let kind = match req.op {
            Op::Info => {
                host.reply(client, Ok(&self.info().encode()));
                return Ok(None);
            }
            Op::Flush if !self.device.flush => {
                // No write cache: every completed write is durable already.
                host.reply(client, Ok(&[]));
                return Ok(None);
            }
            Op::Flush => {
                let job = Job::new(client, Kind::Flush, 0, 1, None);
                return Ok(Some(job));
            }
            Op::Read => Kind::Read,
            Op::Write => Kind::Write,
        };
        if kind == Kind::Write && self.device.read_only {
            return Err(BlkError::ReadOnly);
        }
        let len = req.data_len().ok_or(bad)?;
        let buffer = match (req.is_inline(), kind) {
            (false, _) if !inline.is_empty() => return Err(bad),
            (false, _) => {
                host.lease_check(client, len, kind == Kind::Read)?;
                None
            }
            (true, Kind::Read) if req.count <= MAX_INLINE_READ => Some(vec![0; len]),
            (true, Kind::Write) if inline.len() == len => Some(inline.to_vec()),
            (true, _) => return Err(bad),
        };
        let end = req.sector.checked_add(u64::from(req.count)).ok_or(BlkError::OutOfRange)?;
        if end > self.device.capacity {
            return Err(BlkError::OutOfRange);
        }
        if req.count == 0 {
            host.reply(client, Ok(&[]));
            return Ok(None);
        }
        Ok(Some(Job::new(client, kind, req.sector, u64::from(req.count), buffer)))
    }

    fn add_job(&mut self, job: Job) -> usize {
        match self.jobs.iter().position(Option::is_none) {
            Some(i) => {
                self.jobs[i] = Some(job);
                i
            }
            None => {
                self.jobs.push(Some(job));
                self.jobs.len() - 1
            }
        }
    }

    /// Issues chunks of ready jobs into free slots, one per job in turn,
    /// then rings the doorbell once.
    fn pump<H: Host>(&mut self, host: &mut H) {
        let mut submitted = false;
        while !self.free_slots.is_empty() {
            let Some(id) = self.ready.pop_front() else { break };
            let Some(slot) = self.free_slots.pop() else { break };
            submitted |= self.issue(host, id, slot);
            if self.jobs.get(id).and_then(Option::as_ref).is_some_and(|j| j.left > 0) {
                self.ready.push_back(id);
            }
        }
        if submitted && self.blk.needs_notify() {
            host.notify();
        }
    }

    /// Puts the next chunk of job `id` on the device in `slot`; false (and
    /// the slot free again) if nothing was submitted.
    fn issue<H: Host>(&mut self, host: &mut H, id: usize, slot: usize) -> bool {
        let Some(job) = self.jobs.get_mut(id).and_then(Option::as_mut) else {
            self.free_slots.push(slot);
            return false;
        };
        if job.left == 0 {
            self.free_slots.push(slot);
            return false;
        }
        let sectors = job.left.min((self.slot_bytes / SECTOR_SIZE) as u64);
        let len = if job.kind == Kind::Flush { 0 } else { sectors as usize * SECTOR_SIZE };
        let at = slot * self.slot_bytes;
        if job.kind == Kind::Write {
            let buf = &mut self.data.bytes_mut()[at..at + len];
            let copied = match &job.inline {
                Some(data) => {
                    data.get(job.offset..job.offset + len).map(|d| buf.copy_from_slice(d)).ok_or(Error::BadArgument)
                }
                None => host.lease_read(job.client, job.offset, buf),
            };
            if let Err(e) = copied {
                return self.fail_unissued(host, id, slot, BlkError::Ipc(e));
            }
        }
        let data = (len > 0).then(|| (self.data.phys() + at as u64, len as u32));
        if self.blk.submit(slot, job.kind, job.next, data).is_err() {
            // Cannot happen (three descriptors per slot are reserved), but a
            // failure must not lose the request.
            return self.fail_unissued(host, id, slot, BlkError::Io);
        }
        self.chunks[slot] = Some(Chunk { job: id, offset: job.offset, len });
        job.outstanding += 1;
        job.next += sectors;
        job.left -= sectors;
        job.offset += len;
        self.stats.submitted += 1;
        true
    }

    /// A chunk of job `id` could not be issued: free the slot, stop the job
    /// and answer it if nothing of it is on the device.
    fn fail_unissued<H: Host>(&mut self, host: &mut H, id: usize, slot: usize, e: BlkError) -> bool {
        self.free_slots.push(slot);
        if let Some(job) = self.jobs.get_mut(id).and_then(Option::as_mut) {
            job.fail(e);
        }
        self.finish_if_done(host, id);
        false
    }

    /// Handles every request the device finished (call it on each
    /// interrupt, or to poll), then starts waiting work in the freed slots.
    /// Returns the number of device requests completed.
    pub fn interrupt<H: Host>(&mut self, host: &mut H) -> usize {
        let mut done = 0;
        loop {
            let completion = match self.blk.complete() {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(_) => {
                    self.stats.bogus += 1;
                    continue;
                }
            };
            done += 1;
            self.stats.completed += 1;
            let slot = completion.slot;
            let Some(chunk) = self.chunks.get_mut(slot).and_then(Option::take) else { continue };
            let Some(job) = self.jobs.get_mut(chunk.job).and_then(Option::as_mut) else {
                self.free_slots.push(slot);
                continue;
            };
            job.outstanding -= 1;
            match completion.result {
                Err(DeviceError::Io) => job.fail(BlkError::Io),
                Err(DeviceError::Unsupported) => job.fail(BlkError::Unsupported),
                Ok(()) if job.kind == Kind::Read && job.error.is_none() => {
                    let at = slot * self.slot_bytes;
                    let data = &self.data.bytes()[at..at + chunk.len];
                    let copied = match &mut job.inline {
                        Some(buf) => buf
                            .get_mut(chunk.offset..chunk.offset + chunk.len)
                            .map(|b| b.copy_from_slice(data))
                            .ok_or(Error::BadArgument),
                        None => host.lease_write(job.client, chunk.offset, data),
                    };
                    if let Err(e) = copied {
                        job.fail(BlkError::Ipc(e));
                    }
                }
                Ok(()) => {}
            }
            self.free_slots.push(slot);
            self.finish_if_done(host, chunk.job);
        }
        self.pump(host);
        done
    }

    /// Answers job `id` and forgets it once nothing is left to issue and
    /// nothing is on the device.
    fn finish_if_done<H: Host>(&mut self, host: &mut H, id: usize) {
        let Some(entry) = self.jobs.get_mut(id) else { return };
        if entry.as_ref().is_none_or(|j| j.left > 0 || j.outstanding > 0) {
            return;
        }
        let Some(job) = entry.take() else { return };
        self.ready.retain(|&j| j != id);
        match (job.error, &job.inline) {
            (Some(e), _) => host.reply(job.client, Err(e)),
            (None, Some(buf)) if job.kind == Kind::Read => host.reply(job.client, Ok(buf)),
            (None, _) => host.reply(job.client, Ok(&[])),
        }
    }

    /// The three memories (for the host tests' simulated device).
    #[cfg(test)]
    pub fn parts_mut(&mut self) -> (&mut BlkQueue<Q, M>, &mut D) {
        (&mut self.blk, &mut self.data)
    }
}

impl Job {
    fn new(client: ClientId, kind: Kind, next: u64, left: u64, inline: Option<Vec<u8>>) -> Job {
        Job { client, kind, next, left, offset: 0, outstanding: 0, error: None, inline }
    }

    /// Records the first error and stops issuing more chunks.
    fn fail(&mut self, e: BlkError) {
        self.error.get_or_insert(e);
        self.left = 0;
    }
}

#[cfg(test)]
mod tests;
