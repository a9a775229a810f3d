//! virtio-blk requests (virtio 1.1 §5.2.6) on a split queue.
//!
//! Each device request is a chain of three buffers: a 16-byte header the
//! device reads (type, reserved, sector), the data (the device writes it for
//! a read, reads it for a write; absent for a flush), and a status byte the
//! device writes. Requests are named by *slot*: slot `i` owns the header and
//! status at `i * META_STRIDE` of the metadata region, and the caller pairs
//! it with a data buffer of its choosing. A slot is busy from
//! [`BlkQueue::submit`] until [`BlkQueue::complete`] returns it, so its
//! header and status are never reused while the device may still touch them.

use alloc::vec;
use alloc::vec::Vec;

use crate::dma::{write_u32, write_u64, Dma};
use crate::virtqueue::{Layout, QueueError, Segment, SplitQueue};

/// Device feature bits (virtio 1.1 §5.2.3) this driver looks at.
pub mod feature {
    /// `size_max` in the configuration bounds any single buffer.
    pub const SIZE_MAX: u32 = 1 << 1;
    /// `seg_max` bounds the data buffers per request (we use one).
    pub const SEG_MAX: u32 = 1 << 2;
    /// The device is read-only.
    pub const RO: u32 = 1 << 5;
    /// `blk_size` in the configuration is the preferred block size.
    pub const BLK_SIZE: u32 = 1 << 6;
    /// The device has a write cache and takes `VIRTIO_BLK_T_FLUSH`.
    pub const FLUSH: u32 = 1 << 9;
    /// What the driver accepts when offered.
    pub const WANTED: u32 = SIZE_MAX | SEG_MAX | RO | BLK_SIZE | FLUSH;
}

/// Request types.
const T_IN: u32 = 0;
const T_OUT: u32 = 1;
const T_FLUSH: u32 = 4;
/// Status the device writes.
const S_OK: u8 = 0;
const S_UNSUPP: u8 = 2;
/// What the status byte holds until the device writes it.
const S_UNWRITTEN: u8 = 0xff;

/// Bytes of metadata per slot: the header at 0, the status byte at 16.
pub const META_STRIDE: usize = 32;
/// Bytes of the request header.
const HEADER_LEN: u32 = 16;

/// What a device request does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Read,
    Write,
    Flush,
}

/// Why the device failed a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceError {
    /// `VIRTIO_BLK_S_IOERR`, or a status byte the device never wrote or
    /// that has no meaning.
    Io,
    /// `VIRTIO_BLK_S_UNSUPP`.
    Unsupported,
}

/// A finished device request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    pub slot: usize,
    pub result: Result<(), DeviceError>,
}

/// The request queue of a virtio-blk device: a split queue plus the
/// per-slot headers and status bytes in the metadata region `M`.
pub struct BlkQueue<Q, M> {
    queue: SplitQueue<Q>,
    meta: M,
    /// The slot whose chain starts at each descriptor, if in flight.
    slot_of_head: Vec<Option<usize>>,
    busy: Vec<bool>,
}

impl<Q: Dma, M: Dma> BlkQueue<Q, M> {
    /// `slots` request slots over `queue` and `meta` (at least
    /// `slots * META_STRIDE` bytes). Every slot can be in flight at once:
    /// the queue must have three descriptors per slot.
    pub fn new(queue: SplitQueue<Q>, meta: M, slots: usize) -> Result<BlkQueue<Q, M>, QueueError> {
        let size = usize::from(queue.layout().size);
        if slots == 0 || slots * 3 > size || meta.bytes().len() < slots * META_STRIDE {
            return Err(QueueError::BadLayout);
        }
        Ok(BlkQueue { queue, meta, slot_of_head: vec![None; size], busy: vec![false; slots] })
    }

    /// Number of slots.
    pub fn slots(&self) -> usize {
        self.busy.len()
    }

    /// The queue's physical address and layout, for the transport to give
    /// the device.
    pub fn queue_location(&self) -> (u64, Layout) {
        (self.queue.phys(), self.queue.layout())
    }

    /// Starts a request in `slot` (which must be free): `kind` at `sector`
    /// with the data buffer `data` (physical address, length; `None` for a
    /// flush). The caller notifies the device afterwards if
    /// [`needs_notify`](Self::needs_notify).
    pub fn submit(&mut self, slot: usize, kind: Kind, sector: u64, data: Option<(u64, u32)>) -> Result<(), QueueError> {
        if self.busy.get(slot) != Some(&false) {
            return Err(QueueError::BadSlot);
        }
        let off = slot * META_STRIDE;
        let ty = match kind {
            Kind::Read => T_IN,
            Kind::Write => T_OUT,
            Kind::Flush => T_FLUSH,
        };
        let meta = self.meta.bytes_mut();
        write_u32(meta, off, ty);
        write_u32(meta, off + 4, 0);
        write_u64(meta, off + 8, if kind == Kind::Flush { 0 } else { sector });
        meta[off + HEADER_LEN as usize] = S_UNWRITTEN;

        let base = self.meta.phys() + off as u64;
        let header = Segment { phys: base, len: HEADER_LEN, device_writes: false };
        let status = Segment { phys: base + u64::from(HEADER_LEN), len: 1, device_writes: true };
        let head = match data {
            Some((phys, len)) => {
                let data = Segment { phys, len, device_writes: kind == Kind::Read };
                self.queue.push(&[header, data, status])?
            }
            None => self.queue.push(&[header, status])?,
        };
        self.slot_of_head[usize::from(head)] = Some(slot);
        self.busy[slot] = true;
        Ok(())
    }

    /// True if the device wants to hear about new requests.
    pub fn needs_notify(&self) -> bool {
        self.queue.needs_notify()
    }

    /// The next finished request, `Ok(None)` if none; an error is a device
    /// bug (a bogus id), reported once and skipped.
    pub fn complete(&mut self) -> Result<Option<Completion>, QueueError> {
        let Some(used) = self.queue.pop_used()? else { return Ok(None) };
        let slot = self.slot_of_head[usize::from(used.head)].take().ok_or(QueueError::BadUsedId(used.head.into()))?;
        self.busy[slot] = false;
        let result = match self.meta.bytes()[slot * META_STRIDE + HEADER_LEN as usize] {
            S_OK => Ok(()),
            S_UNSUPP => Err(DeviceError::Unsupported),
            _ => Err(DeviceError::Io),
        };
        Ok(Some(Completion { slot, result }))
    }

    /// The queue (for the host tests' simulated device).
    #[cfg(test)]
    pub fn queue_mut(&mut self) -> &mut SplitQueue<Q> {
        &mut self.queue
    }

    /// The metadata region (for the host tests' simulated device).
    #[cfg(test)]
    pub fn meta_mut(&mut self) -> &mut M {
        &mut self.meta
    }
}
