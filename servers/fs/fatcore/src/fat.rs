//! The File Allocation Table: reading and writing entries (12, 16 or 28
//! bits), following chains, allocating and freeing clusters, and keeping
//! the free-cluster count that FSInfo reports.
//!
//! Every value read from the FAT is classified before use ([`Link`]), and
//! every walk is bounded by the number of clusters, so a corrupt FAT (a
//! chain into the reserved range, a cycle) gives `Corrupt`, never a panic
//! or an endless loop. All writes go to the active FAT through the cache,
//! which mirrors them to the other copies.

use crate::bpb::FatType;
use crate::le::{get16, get32, put16, put32};
use crate::volume::Volume;
use crate::{BlockDevice, Error, Result};

/// What a FAT entry says about the cluster after this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    Free,
    Next(u32),
    End,
    Bad,
    /// A value that is none of the above (reserved or out of range).
    Invalid,
}

impl<D: BlockDevice> Volume<D> {
    fn classify(&self, v: u32) -> Link {
        let t = self.geo.fat_type;
        if v == 0 {
            Link::Free
        } else if v >= t.eoc_min() {
            Link::End
        } else if v == t.bad() {
            Link::Bad
        } else if self.geo.is_cluster(v) {
            Link::Next(v)
        } else {
            Link::Invalid
        }
    }

    /// Sector and byte offset of the entry for cluster `c` (FAT16/32), or
    /// of its first byte (FAT12).
    fn entry_pos(&self, c: u32) -> (u64, usize) {
        let byte = match self.geo.fat_type {
            FatType::Fat12 => u64::from(c) + u64::from(c / 2),
            FatType::Fat16 => u64::from(c) * 2,
            FatType::Fat32 => u64::from(c) * 4,
        };
        let bps = u64::from(self.geo.bytes_per_sector);
        (self.geo.active_fat_start() + byte / bps, (byte % bps) as usize)
    }

    /// The raw FAT entry for cluster `c`.
    pub async fn fat_get(&self, c: u32) -> Result<u32> {
        if !self.geo.is_cluster(c) {
            return Err(Error::Corrupt);
        }
        let (lba, off) = self.entry_pos(c);
        match self.geo.fat_type {
            FatType::Fat16 => Ok(u32::from(self.cache.read(&self.dev, lba, |b| get16(b, off)).await?)),
            FatType::Fat32 => Ok(self.cache.read(&self.dev, lba, |b| get32(b, off)).await? & 0x0FFF_FFFF),
            FatType::Fat12 => {
                let (lo, hi) = self.fat12_bytes(lba, off).await?;
                let v = u16::from_le_bytes([lo, hi]);
                Ok(u32::from(if c & 1 == 1 { v >> 4 } else { v & 0xFFF }))
            }
        }
    }

    /// The two bytes of a FAT12 entry, which may straddle two sectors.
    async fn fat12_bytes(&self, lba: u64, off: usize) -> Result<(u8, u8)> {
        let bps = self.geo.bytes_per_sector as usize;
        if off + 1 < bps {
            self.cache.read(&self.dev, lba, |b| (b.get(off).copied(), b.get(off + 1).copied())).await.map(both)?
        } else {
            let lo = self.cache.read(&self.dev, lba, |b| b.get(off).copied()).await?;
            let hi = self.cache.read(&self.dev, lba + 1, |b| b.first().copied()).await?;
            both((lo, hi))
        }
    }

    /// Sets the FAT entry for cluster `c` to `v`.
    pub async fn fat_set(&self, c: u32, v: u32) -> Result<()> {
        if !self.geo.is_cluster(c) {
            return Err(Error::Corrupt);
        }
        let (lba, off) = self.entry_pos(c);
        match self.geo.fat_type {
            FatType::Fat16 => self.cache.modify(&self.dev, lba, |b| put16(b, off, v as u16)).await,
            FatType::Fat32 => {
                self.cache
                    .modify(&self.dev, lba, |b| {
                        let keep = get32(b, off) & 0xF000_0000;
                        put32(b, off, keep | (v & 0x0FFF_FFFF));
                    })
                    .await
            }
            FatType::Fat12 => {
                let v = (v & 0xFFF) as u16;
                let odd = c & 1 == 1;
                // Low byte: all of it (even) or its high nibble (odd).
                let set_lo = move |x: u8| if odd { (x & 0x0F) | ((v << 4) as u8) } else { v as u8 };
                // High byte: its low nibble (even) or all of it (odd).
                let set_hi = move |x: u8| if odd { (v >> 4) as u8 } else { (x & 0xF0) | ((v >> 8) as u8) };
                let bps = self.geo.bytes_per_sector as usize;
                self.cache.modify(&self.dev, lba, |b| update(b, off, set_lo)).await?;
                if off + 1 < bps {
                    self.cache.modify(&self.dev, lba, |b| update(b, off + 1, set_hi)).await
                } else {
                    self.cache.modify(&self.dev, lba + 1, |b| update(b, 0, set_hi)).await
                }
            }
        }
    }

    /// What follows cluster `c`.
    pub async fn link(&self, c: u32) -> Result<Link> {
        Ok(self.classify(self.fat_get(c).await?))
    }

    /// The cluster after `c` in a chain, `None` at the end; anything else
    /// in a chain is corruption.
    pub async fn next_cluster(&self, c: u32) -> Result<Option<u32>> {
        match self.link(c).await? {
            Link::Next(n) => Ok(Some(n)),
            Link::End => Ok(None),
            _ => Err(Error::Corrupt),
        }
    }

    /// The cluster `steps` links after `c`.
    pub async fn walk(&self, mut c: u32, steps: u32) -> Result<u32> {
        if steps > self.geo.cluster_count {
            return Err(Error::Corrupt);
        }
        for _ in 0..steps {
            c = self.next_cluster(c).await?.ok_or(Error::Corrupt)?;
        }
        Ok(c)
    }

    /// First free cluster in `from..to`, if any.
    async fn find_free_in(&self, from: u32, to: u32) -> Result<Option<u32>> {
        let mut found = None;
        self.scan_fat(from, to, |c, v| {
            if v == 0 {
                found = Some(c);
                false
            } else {
                true
            }
        })
        .await?;
        Ok(found)
    }

    /// Calls `f(cluster, entry)` for the clusters `from..to` in order until
    /// it returns false. FAT16/32 are scanned a sector per cache access.
    async fn scan_fat(&self, from: u32, to: u32, mut f: impl FnMut(u32, u32) -> bool) -> Result<()> {
        let mut c = from;
        if self.geo.fat_type == FatType::Fat12 {
            while c < to {
                if !f(c, self.fat_get(c).await?) {
                    return Ok(());
                }
                c += 1;
            }
            return Ok(());
        }
        let width = if self.geo.fat_type == FatType::Fat16 { 2 } else { 4 };
        let per_sector = self.geo.bytes_per_sector / width;
        while c < to {
            let (lba, off) = self.entry_pos(c);
            let stop = (c - (off as u32) / width + per_sector).min(to);
            let start = c;
            let go_on = self
                .cache
                .read(&self.dev, lba, |b| {
                    (start..stop).all(|k| {
                        let o = off + ((k - start) * width) as usize;
                        let v = if width == 2 { u32::from(get16(b, o)) } else { get32(b, o) & 0x0FFF_FFFF };
                        f(k, v)
                    })
                })
                .await?;
            if !go_on {
                return Ok(());
            }
            c = stop;
        }
        Ok(())
    }

    /// Allocates one cluster, marked end-of-chain, searching from the
    /// allocator's hint and wrapping around.
    async fn alloc_one(&self) -> Result<u32> {
        let end = self.geo.cluster_count + 2;
        let hint = {
            // FSInfo's count is only advisory, so even "0 free" is searched.
            let a = self.alloc.borrow();
            if self.geo.is_cluster(a.next) {
                a.next
            } else {
                2
            }
        };
        let found = match self.find_free_in(hint, end).await? {
            Some(c) => Some(c),
            None => self.find_free_in(2, hint).await?,
        };
        let c = found.ok_or(Error::NoSpace)?;
        self.fat_set(c, self.geo.fat_type.eoc()).await?;
        let mut a = self.alloc.borrow_mut();
        a.next = if c + 1 < end { c + 1 } else { 2 };
        a.free = a.free.map(|f| f.saturating_sub(1));
        a.dirty = true;
        Ok(c)
    }

    /// Allocates `count` (> 0) clusters as one chain and links it after
    /// `prev` if given. Returns the chain's first cluster. On failure
    /// nothing stays allocated and `prev` stays the end of its chain.
    pub async fn alloc_chain(&self, count: u32, prev: Option<u32>) -> Result<u32> {
        let mut first = None;
        let mut last = prev;
        for _ in 0..count {
            let step = async {
                let c = self.alloc_one().await?;
                if let Some(p) = last {
                    self.fat_set(p, c).await?;
                }
                Ok::<u32, Error>(c)
            };
            match step.await {
                Ok(c) => {
                    first.get_or_insert(c);
                    last = Some(c);
                }
                Err(e) => {
                    if let Some(f) = first {
                        // Best effort: the chain is already failing.
                        let _ = self.free_chain(f).await;
                    }
                    if let Some(p) = prev {
                        let _ = self.fat_set(p, self.geo.fat_type.eoc()).await;
                    }
                    return Err(e);
                }
            }
        }
        first.ok_or(Error::InvalidArgument)
    }

    /// Frees the chain starting at `c`.
    pub async fn free_chain(&self, mut c: u32) -> Result<()> {
        for _ in 0..=self.geo.cluster_count {
            let link = self.link(c).await?;
            self.fat_set(c, 0).await?;
            {
                let mut a = self.alloc.borrow_mut();
                a.free = a.free.map(|f| (f + 1).min(self.geo.cluster_count));
                a.dirty = true;
            }
            match link {
                Link::Next(n) => c = n,
                Link::End => return Ok(()),
                _ => return Err(Error::Corrupt),
            }
        }
        Err(Error::Corrupt)
    }

    /// Cuts the chain after `c`: `c` becomes its end and the rest is freed.
    pub async fn truncate_after(&self, c: u32) -> Result<()> {
        let link = self.link(c).await?;
        self.fat_set(c, self.geo.fat_type.eoc()).await?;
        match link {
            Link::Next(n) => self.free_chain(n).await,
            Link::End => Ok(()),
            _ => Err(Error::Corrupt),
        }
    }

    /// Number of free clusters, counting the FAT once if not yet known.
    pub async fn free_clusters(&self) -> Result<u32> {
        if let Some(f) = self.alloc.borrow().free {
            return Ok(f);
        }
        let mut free = 0u32;
        self.scan_fat(2, self.geo.cluster_count + 2, |_, v| {
            free += u32::from(v == 0);
            true
        })
        .await?;
        let mut a = self.alloc.borrow_mut();
        a.free = Some(free);
        a.dirty = true;
        Ok(free)
    }
}

fn both(p: (Option<u8>, Option<u8>)) -> Result<(u8, u8)> {
    match p {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(Error::Corrupt),
    }
}

fn update(b: &mut [u8], off: usize, f: impl FnOnce(u8) -> u8) {
    if let Some(x) = b.get_mut(off) {
        *x = f(*x);
    }
}
