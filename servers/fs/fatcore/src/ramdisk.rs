//! A block device in memory: the test device, and usable as a RAM disk.
//!
//! It can pretend to be asynchronous (each request returns `Pending` once
//! before completing, waking itself), which lets the tests check that
//! operations interleave while "waiting for the disk", and it can be told
//! to fail writes, to test the `Io` paths.

use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::{BlockDevice, Error, Result};

/// Counters a test can inspect.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RamDiskStats {
    /// Read requests served.
    pub reads: u64,
    /// Write requests served.
    pub writes: u64,
    /// Flush requests served.
    pub flushes: u64,
    /// Most requests that were in flight at once.
    pub max_in_flight: u32,
}

/// A `Vec<u8>` seen as a block device.
pub struct RamDisk {
    data: RefCell<Vec<u8>>,
    block_size: usize,
    yield_io: bool,
    in_flight: Cell<u32>,
    stats: Cell<RamDiskStats>,
    /// Writes still allowed before every write fails; `None` = never fail.
    writes_left: Cell<Option<u64>>,
}

impl RamDisk {
    /// A disk over `data` with `block_size`-byte blocks (a trailing partial
    /// block is not addressable).
    pub fn new(data: Vec<u8>, block_size: usize) -> Self {
        RamDisk {
            data: RefCell::new(data),
            block_size: block_size.max(1),
            yield_io: false,
            in_flight: Cell::new(0),
            stats: Cell::new(RamDiskStats::default()),
            writes_left: Cell::new(None),
        }
    }

    /// Makes every request yield once before it completes.
    pub fn with_yield(mut self, on: bool) -> Self {
        self.yield_io = on;
        self
    }

    /// After `n` more successful writes, every write fails with `Io`.
    /// `None` lifts the limit.
    pub fn fail_writes_after(&self, n: Option<u64>) {
        self.writes_left.set(n);
    }

    /// The counters so far.
    pub fn stats(&self) -> RamDiskStats {
        self.stats.get()
    }

    /// A copy of the current contents.
    pub fn snapshot(&self) -> Vec<u8> {
        self.data.borrow().clone()
    }

    /// The contents, consuming the disk.
    pub fn into_inner(self) -> Vec<u8> {
        self.data.into_inner()
    }

    fn range(&self, lba: u64, len: usize) -> Result<core::ops::Range<usize>> {
        if len == 0 || !len.is_multiple_of(self.block_size) {
            return Err(Error::InvalidArgument);
        }
        let start = usize::try_from(lba).ok().and_then(|l| l.checked_mul(self.block_size)).ok_or(Error::Io)?;
        let end = start.checked_add(len).ok_or(Error::Io)?;
        if end > self.data.borrow().len() {
            return Err(Error::Io);
        }
        Ok(start..end)
    }

    async fn begin(&self) {
        let n = self.in_flight.get() + 1;
        self.in_flight.set(n);
        let mut s = self.stats.get();
        s.max_in_flight = s.max_in_flight.max(n);
        self.stats.set(s);
        if self.yield_io {
            YieldOnce(false).await;
        }
        self.in_flight.set(self.in_flight.get().saturating_sub(1));
    }

    fn count(&self, f: impl FnOnce(&mut RamDiskStats)) {
        let mut s = self.stats.get();
        f(&mut s);
        self.stats.set(s);
    }
}

impl BlockDevice for RamDisk {
    fn block_size(&self) -> usize {
        self.block_size
    }

    fn block_count(&self) -> u64 {
        (self.data.borrow().len() / self.block_size) as u64
    }

    async fn read_blocks(&self, lba: u64, buf: &mut [u8]) -> Result<()> {
        self.begin().await;
        let r = self.range(lba, buf.len())?;
        let data = self.data.borrow();
        let src = data.get(r).ok_or(Error::Io)?;
        buf.copy_from_slice(src);
        self.count(|s| s.reads += 1);
        Ok(())
    }

    async fn write_blocks(&self, lba: u64, buf: &[u8]) -> Result<()> {
        self.begin().await;
        match self.writes_left.get() {
            Some(0) => return Err(Error::Io),
            Some(n) => self.writes_left.set(Some(n - 1)),
            None => {}
        }
        let r = self.range(lba, buf.len())?;
        let mut data = self.data.borrow_mut();
        let dst = data.get_mut(r).ok_or(Error::Io)?;
        dst.copy_from_slice(buf);
        self.count(|s| s.writes += 1);
        Ok(())
    }

    async fn flush(&self) -> Result<()> {
        self.begin().await;
        self.count(|s| s.flushes += 1);
        Ok(())
    }
}

/// Returns `Pending` once (after waking its task), then `Ready`.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}
