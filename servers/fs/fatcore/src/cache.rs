//! The sector cache: bounded, write-back, least-recently-used, and safe to
//! use from several operations at once.
//!
//! Metadata (FAT, directories, FSInfo) and partial-sector file data go
//! through it; whole sectors of file data bypass it ([`Cache::read_run`],
//! [`Cache::write_run`]) so that a large file neither evicts the metadata
//! nor costs a copy, and a contiguous run is one device request.
//!
//! Concurrency: nothing holds a reference into the cache across an
//! `await`. Callers pass closures that run on a cached sector while the
//! cache's `RefCell` is borrowed, synchronously. A sector being read from or
//! written to the device is marked *busy*; an operation that needs a busy
//! sector which is not in the cache waits for it (its waker is queued on
//! the sector) instead of reading stale data from the device. Guards undo
//! the busy mark and, for an eviction that did not finish, put the dirty
//! sector back, so a dropped (cancelled) operation leaves the cache sound.
//!
//! Size: at most `capacity` sectors, plus one per operation concurrently
//! loading a sector while the cache is full of sectors being written.
//!
//! The FAT mirror lives here: a dirty sector in the active FAT is written
//! to every other FAT copy when it is written back, so the copies are equal
//! after every sync, and all reads come from the active copy.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use crate::{BlockDevice, Error, Result};

/// Counters for tests and for the server's statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups served from memory.
    pub hits: u64,
    /// Sectors read from the device into the cache.
    pub misses: u64,
    /// Sectors dropped to make room.
    pub evictions: u64,
    /// Dirty sectors written to the device (not counting FAT mirrors).
    pub writebacks: u64,
}

/// Sectors whose writes are copied to other places: the active FAT and the
/// first sector of each other FAT copy.
pub(crate) struct Mirror {
    pub start: u64,
    pub len: u64,
    pub copies: Vec<u64>,
}

struct Slot {
    lba: u64,
    data: Box<[u8]>,
    dirty: bool,
    /// Bumped on every modification, so a flush can tell whether the slot
    /// changed while its old contents were being written.
    version: u64,
    /// Last-use tick, for LRU.
    used: u64,
}

struct Inner {
    slots: Vec<Slot>,
    index: BTreeMap<u64, usize>,
    /// Sectors with device I/O in flight, and the tasks waiting for them.
    busy: BTreeMap<u64, Vec<Waker>>,
    capacity: usize,
    tick: u64,
    stats: CacheStats,
}

impl Inner {
    /// For sector `lba + i`, known not to be cached: `None` if another task
    /// is loading it (wait for it), else the end `j` of the run of sectors
    /// from `i` that are neither cached nor busy (at most `n`).
    fn uncached_run(&self, lba: u64, i: usize, n: usize) -> Option<usize> {
        let free = |k: usize| !self.index.contains_key(&(lba + k as u64)) && !self.busy.contains_key(&(lba + k as u64));
        if self.busy.contains_key(&(lba + i as u64)) {
            return None;
        }
        Some((i + 1..n).find(|&j| !free(j)).unwrap_or(n))
    }

    fn touch(&mut self, lba: u64) -> Option<usize> {
        let i = *self.index.get(&lba)?;
        self.tick += 1;
        let tick = self.tick;
        let slot = self.slots.get_mut(i)?;
        slot.used = tick;
        Some(i)
    }

    fn insert(&mut self, lba: u64, data: Box<[u8]>, dirty: bool) {
        self.tick += 1;
        self.index.insert(lba, self.slots.len());
        self.slots.push(Slot { lba, data, dirty, version: 0, used: self.tick });
    }

    fn remove(&mut self, i: usize) -> Slot {
        let slot = self.slots.swap_remove(i);
        self.index.remove(&slot.lba);
        if let Some(moved) = self.slots.get(i) {
            self.index.insert(moved.lba, i);
        }
        slot
    }

    /// The least recently used slot that has no I/O in flight.
    fn victim(&self) -> Option<usize> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| !self.busy.contains_key(&s.lba))
            .min_by_key(|(_, s)| s.used)
            .map(|(i, _)| i)
    }

    fn unbusy(&mut self, lba: u64) {
        if let Some(waiters) = self.busy.remove(&lba) {
            for w in waiters {
                w.wake();
            }
        }
    }
}

/// A bounded write-back cache of filesystem sectors.
pub(crate) struct Cache {
    inner: RefCell<Inner>,
    sector: usize,
    /// Device blocks per sector.
    ratio: u64,
    mirror: Mirror,
}

impl Cache {
    /// A cache of at most `capacity` (at least 1) sectors of `sector` bytes,
    /// each `ratio` device blocks.
    pub fn new(sector: usize, ratio: u64, capacity: usize, mirror: Mirror) -> Cache {
        Cache {
            inner: RefCell::new(Inner {
                slots: Vec::new(),
                index: BTreeMap::new(),
                busy: BTreeMap::new(),
                capacity: capacity.max(1),
                tick: 0,
                stats: CacheStats::default(),
            }),
            sector,
            ratio,
            mirror,
        }
    }

    pub fn stats(&self) -> CacheStats {
        self.inner.borrow().stats
    }

    /// Number of sectors held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.inner.borrow().slots.len()
    }

    /// Runs `f` on sector `lba`, reading it first if needed.
    pub async fn read<D: BlockDevice, R>(&self, dev: &D, lba: u64, f: impl FnOnce(&[u8]) -> R) -> Result<R> {
        self.ensure(dev, lba, true).await?;
        let mut s = self.inner.borrow_mut();
        let i = s.touch(lba).ok_or(Error::Io)?;
        s.stats.hits += 1;
        let slot = s.slots.get(i).ok_or(Error::Io)?;
        Ok(f(&slot.data))
    }

    /// Runs `f` on sector `lba` and marks it dirty.
    pub async fn modify<D: BlockDevice, R>(&self, dev: &D, lba: u64, f: impl FnOnce(&mut [u8]) -> R) -> Result<R> {
        self.ensure(dev, lba, true).await?;
        self.with_mut(lba, f)
    }

    /// Like [`Cache::modify`], but the sector's old contents do not matter:
    /// if it is not cached it starts as zeros instead of being read.
    pub async fn overwrite<D: BlockDevice, R>(&self, dev: &D, lba: u64, f: impl FnOnce(&mut [u8]) -> R) -> Result<R> {
        self.ensure(dev, lba, false).await?;
        self.with_mut(lba, f)
    }

    fn with_mut<R>(&self, lba: u64, f: impl FnOnce(&mut [u8]) -> R) -> Result<R> {
        let mut s = self.inner.borrow_mut();
        let i = s.touch(lba).ok_or(Error::Io)?;
        s.stats.hits += 1;
        let slot = s.slots.get_mut(i).ok_or(Error::Io)?;
        slot.dirty = true;
        slot.version += 1;
        Ok(f(&mut slot.data))
    }

    /// Makes sure `lba` is cached when this returns (with no await between
    /// the return and the caller's use). `load`: read it from the device;
    /// otherwise insert zeros.
    async fn ensure<D: BlockDevice>(&self, dev: &D, lba: u64, load: bool) -> Result<()> {
        loop {
            if self.inner.borrow().index.contains_key(&lba) {
                return Ok(());
            }
            if self.inner.borrow().busy.contains_key(&lba) {
                BusyWait { cache: self, lba }.await;
                continue;
            }
            self.make_room(dev).await?;
            {
                let mut s = self.inner.borrow_mut();
                if s.index.contains_key(&lba) || s.busy.contains_key(&lba) {
                    continue;
                }
                if !load {
                    s.insert(lba, vec![0; self.sector].into_boxed_slice(), true);
                    return Ok(());
                }
                s.busy.insert(lba, Vec::new());
                s.stats.misses += 1;
            }
            let guard = BusyGuard { cache: self, lba };
            let mut data = vec![0; self.sector].into_boxed_slice();
            let r = dev.read_blocks(self.dev_lba(lba)?, &mut data).await;
            if r.is_ok() {
                self.inner.borrow_mut().insert(lba, data, false);
            }
            drop(guard);
            return r;
        }
    }

    /// Evicts least-recently-used sectors until there is room for one more,
    /// writing dirty ones back.
    async fn make_room<D: BlockDevice>(&self, dev: &D) -> Result<()> {
        loop {
            let victim = {
                let mut s = self.inner.borrow_mut();
                if s.slots.len() < s.capacity {
                    return Ok(());
                }
                let Some(i) = s.victim() else {
                    return Ok(()); // everything is mid-I/O: go over the bound
                };
                let slot = s.remove(i);
                s.stats.evictions += 1;
                if !slot.dirty {
                    continue;
                }
                s.busy.insert(slot.lba, Vec::new());
                s.stats.writebacks += 1;
                slot
            };
            let lba = victim.lba;
            let mut guard = WritebackGuard { cache: self, lba, slot: Some(victim) };
            let r = match &guard.slot {
                Some(slot) => self.write_out(dev, lba, &slot.data).await,
                None => Ok(()),
            };
            if r.is_ok() {
                guard.slot = None;
            }
            drop(guard);
            r?;
        }
    }

    fn dev_lba(&self, lba: u64) -> Result<u64> {
        lba.checked_mul(self.ratio).ok_or(Error::Corrupt)
    }

    /// Writes a sector to the device, and to the other FAT copies if it is
    /// in the mirrored FAT.
    async fn write_out<D: BlockDevice>(&self, dev: &D, lba: u64, data: &[u8]) -> Result<()> {
        dev.write_blocks(self.dev_lba(lba)?, data).await?;
        let m = &self.mirror;
        if lba >= m.start && lba - m.start < m.len {
            for &copy in &m.copies {
                dev.write_blocks(self.dev_lba(copy + (lba - m.start))?, data).await?;
            }
        }
        Ok(())
    }

    /// Writes every dirty sector back, in ascending order.
    pub async fn flush<D: BlockDevice>(&self, dev: &D) -> Result<()> {
        let mut dirty: Vec<u64> = self.inner.borrow().slots.iter().filter(|s| s.dirty).map(|s| s.lba).collect();
        dirty.sort_unstable();
        for lba in dirty {
            loop {
                if self.inner.borrow().busy.contains_key(&lba) {
                    BusyWait { cache: self, lba }.await;
                    continue;
                }
                let (data, version) = {
                    let mut s = self.inner.borrow_mut();
                    let Some(slot) = s.index.get(&lba).and_then(|&i| s.slots.get(i)) else { break };
                    if !slot.dirty {
                        break;
                    }
                    let pair = (slot.data.clone(), slot.version);
                    s.busy.insert(lba, Vec::new());
                    s.stats.writebacks += 1;
                    pair
                };
                let guard = BusyGuard { cache: self, lba };
                let r = self.write_out(dev, lba, &data).await;
                if r.is_ok() {
                    let mut s = self.inner.borrow_mut();
                    if let Some(i) = s.index.get(&lba).copied() {
                        if let Some(slot) = s.slots.get_mut(i) {
                            if slot.version == version {
                                slot.dirty = false;
                            }
                        }
                    }
                }
                drop(guard);
                r?;
                break;
            }
        }
        Ok(())
    }

    /// Reads whole sectors `lba..` into `buf` (a multiple of the sector
    /// size), from the cache where a sector is cached and straight from the
    /// device otherwise, one request per uncached run.
    ///
    /// Precondition: no concurrent operation writes these sectors (the
    /// filesystem's lock guarantees it).
    pub async fn read_run<D: BlockDevice>(&self, dev: &D, lba: u64, buf: &mut [u8]) -> Result<()> {
        let n = buf.len() / self.sector;
        let mut i = 0;
        while i < n {
            let end = {
                let mut s = self.inner.borrow_mut();
                if let Some(k) = s.touch(lba + i as u64) {
                    s.stats.hits += 1;
                    if let (Some(dst), Some(slot)) =
                        (buf.get_mut(i * self.sector..(i + 1) * self.sector), s.slots.get(k))
                    {
                        dst.copy_from_slice(&slot.data);
                    }
                    i += 1;
                    continue;
                }
                s.uncached_run(lba, i, n)
            };
            match end {
                None => BusyWait { cache: self, lba: lba + i as u64 }.await,
                Some(j) => {
                    let dst = buf.get_mut(i * self.sector..j * self.sector).ok_or(Error::InvalidArgument)?;
                    dev.read_blocks(self.dev_lba(lba + i as u64)?, dst).await?;
                    i = j;
                }
            }
        }
        Ok(())
    }

    /// Writes whole sectors `lba..` from `data`: sectors that are cached are
    /// updated in the cache (and written back later), the others go
    /// straight to the device, one request per uncached run. Not for the
    /// FAT area (no mirroring).
    ///
    /// Precondition: the caller has exclusive access to these sectors.
    pub async fn write_run<D: BlockDevice>(&self, dev: &D, lba: u64, data: &[u8]) -> Result<()> {
        let n = data.len() / self.sector;
        let mut i = 0;
        while i < n {
            let end = {
                let mut s = self.inner.borrow_mut();
                if let Some(k) = s.touch(lba + i as u64) {
                    s.stats.hits += 1;
                    if let (Some(src), Some(slot)) =
                        (data.get(i * self.sector..(i + 1) * self.sector), s.slots.get_mut(k))
                    {
                        slot.data.copy_from_slice(src);
                        slot.dirty = true;
                        slot.version += 1;
                    }
                    i += 1;
                    continue;
                }
                s.uncached_run(lba, i, n)
            };
            match end {
                None => BusyWait { cache: self, lba: lba + i as u64 }.await,
                Some(j) => {
                    let src = data.get(i * self.sector..j * self.sector).ok_or(Error::InvalidArgument)?;
                    dev.write_blocks(self.dev_lba(lba + i as u64)?, src).await?;
                    i = j;
                }
            }
        }
        Ok(())
    }
}

/// Waits until `lba` is no longer busy.
struct BusyWait<'a> {
    cache: &'a Cache,
    lba: u64,
}

impl Future for BusyWait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.cache.inner.borrow_mut();
        match s.busy.get_mut(&self.lba) {
            None => Poll::Ready(()),
            Some(waiters) => {
                if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
                    waiters.push(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }
}

/// Clears a busy mark (and wakes its waiters) however the I/O ends.
struct BusyGuard<'a> {
    cache: &'a Cache,
    lba: u64,
}

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.cache.inner.borrow_mut().unbusy(self.lba);
    }
}

/// Owns an evicted dirty sector while it is written back; if the write
/// fails or is cancelled the sector goes back into the cache, still dirty.
struct WritebackGuard<'a> {
    cache: &'a Cache,
    lba: u64,
    slot: Option<Slot>,
}

impl Drop for WritebackGuard<'_> {
    fn drop(&mut self) {
        let mut s = self.cache.inner.borrow_mut();
        if let Some(slot) = self.slot.take() {
            if !s.index.contains_key(&slot.lba) {
                s.insert(slot.lba, slot.data, true);
            }
        }
        s.unbusy(self.lba);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::block_on;
    use crate::RamDisk;

    fn disk() -> RamDisk {
        let mut v = vec![0u8; 64 * 512];
        for (i, b) in v.iter_mut().enumerate() {
            *b = (i / 512) as u8;
        }
        RamDisk::new(v, 512)
    }

    #[test]
    fn write_back_on_eviction_and_flush() {
        let d = disk();
        let c = Cache::new(512, 1, 2, Mirror { start: 0, len: 0, copies: vec![] });
        block_on(async {
            assert_eq!(c.read(&d, 5, |b| b[0]).await, Ok(5));
            c.modify(&d, 6, |b| b[0] = 0xAA).await.unwrap();
            c.modify(&d, 7, |b| b[0] = 0xBB).await.unwrap(); // evicts 5 (clean)
            assert_eq!(c.len(), 2);
            assert_eq!(d.snapshot()[6 * 512], 6, "not written yet");
            c.read(&d, 8, |_| ()).await.unwrap(); // evicts 6 (dirty)
            assert_eq!(d.snapshot()[6 * 512], 0xAA);
            assert_eq!(c.read(&d, 6, |b| b[0]).await, Ok(0xAA));
            c.flush(&d).await.unwrap();
            assert_eq!(d.snapshot()[7 * 512], 0xBB);
        });
        assert!(c.stats().evictions >= 2);
    }

    #[test]
    fn fat_mirror() {
        let d = disk();
        let c = Cache::new(512, 1, 4, Mirror { start: 10, len: 5, copies: vec![20, 30] });
        block_on(async {
            c.modify(&d, 12, |b| b[1] = 0x77).await.unwrap();
            c.modify(&d, 40, |b| b[1] = 0x66).await.unwrap();
            c.flush(&d).await.unwrap();
        });
        let img = d.snapshot();
        for lba in [12, 22, 32] {
            assert_eq!(img[lba * 512 + 1], 0x77);
        }
        assert_eq!(img[40 * 512 + 1], 0x66);
        assert_eq!(img[50 * 512 + 1], 50);
    }

    #[test]
    fn runs_see_cached_sectors() {
        let d = disk();
        let c = Cache::new(512, 1, 8, Mirror { start: 0, len: 0, copies: vec![] });
        block_on(async {
            c.modify(&d, 3, |b| b.fill(0xEE)).await.unwrap();
            let mut buf = vec![0u8; 4 * 512];
            c.read_run(&d, 2, &mut buf).await.unwrap();
            assert_eq!((buf[0], buf[512], buf[1024], buf[1536]), (2, 0xEE, 4, 5));
            let data = vec![0x11u8; 3 * 512];
            c.write_run(&d, 2, &data).await.unwrap();
            assert_eq!(c.read(&d, 3, |b| b[0]).await, Ok(0x11));
            c.flush(&d).await.unwrap();
        });
        let img = d.snapshot();
        assert!(img[2 * 512..5 * 512].iter().all(|&b| b == 0x11));
    }

    #[test]
    fn failed_writeback_keeps_the_data() {
        let d = disk();
        let c = Cache::new(512, 1, 1, Mirror { start: 0, len: 0, copies: vec![] });
        block_on(async {
            c.modify(&d, 1, |b| b[0] = 0x99).await.unwrap();
            d.fail_writes_after(Some(0));
            assert_eq!(c.read(&d, 2, |_| ()).await, Err(Error::Io));
            assert_eq!(c.flush(&d).await, Err(Error::Io));
            d.fail_writes_after(None);
            c.flush(&d).await.unwrap();
        });
        assert_eq!(d.snapshot()[512], 0x99);
    }
}
