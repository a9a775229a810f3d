//! File contents: mapping a byte offset to a sector through the cluster
//! chain, reading and writing spans, growing and shrinking the chain.
//!
//! Sequential access is cheap because a [`Hint`] remembers the last
//! cluster visited, so the chain is not walked from its start each time.
//! Contiguous clusters are merged into one extent, so a large read or write
//! of a contiguous file is one device request; only the partial sectors at
//! either end go through the cache.
//!
//! Invariant kept for files this crate writes: the chain holds exactly
//! `ceil(size / cluster_bytes)` clusters, and an empty file has no cluster.

use alloc::vec;

use crate::fat::Link;
use crate::volume::Volume;
use crate::{BlockDevice, Error, Result};

/// The last cluster visited in a chain, by position (`cluster` 0: none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Hint {
    pub idx: u32,
    pub cluster: u32,
}

/// What the data code needs to know about a file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FileState {
    pub first: u32,
    pub size: u32,
    pub hint: Hint,
}

/// Bytes to write: real data or zeros (for holes and growth).
#[derive(Clone, Copy)]
enum Src<'a> {
    Bytes(&'a [u8]),
    Zeros(u64),
}

impl Src<'_> {
    fn len(&self) -> u64 {
        match self {
            Src::Bytes(b) => b.len() as u64,
            Src::Zeros(n) => *n,
        }
    }

    fn slice(&self, from: u64, len: u64) -> Src<'_> {
        match self {
            Src::Bytes(b) => Src::Bytes(b.get(from as usize..(from + len) as usize).unwrap_or(&[])),
            Src::Zeros(_) => Src::Zeros(len),
        }
    }
}

/// Zeros written per request when filling holes.
const ZERO_CHUNK: usize = 16 * 1024;

impl<D: BlockDevice> Volume<D> {
    /// Cluster number `idx` of the chain starting at `first`.
    async fn cluster_at(&self, first: u32, idx: u32, hint: &mut Hint) -> Result<u32> {
        let (start, from) = if hint.cluster != 0 && hint.idx <= idx { (hint.cluster, hint.idx) } else { (first, 0) };
        if !self.geo.is_cluster(start) {
            return Err(Error::Corrupt);
        }
        let c = self.walk(start, idx - from).await?;
        *hint = Hint { idx, cluster: c };
        Ok(c)
    }

    /// Where file offset `pos` is: (sector, offset in it, contiguous bytes
    /// from there, at most `want`).
    async fn extent(&self, f: &mut FileState, pos: u64, want: u64) -> Result<(u64, usize, u64)> {
        let cb = u64::from(self.geo.cluster_bytes());
        let bps = u64::from(self.geo.bytes_per_sector);
        let idx = u32::try_from(pos / cb).map_err(|_| Error::FileTooLarge)?;
        let c = self.cluster_at(f.first, idx, &mut f.hint).await?;
        let in_cluster = pos % cb;
        let mut avail = cb - in_cluster;
        let (mut last, mut last_idx) = (c, idx);
        while avail < want {
            match self.link(last).await? {
                Link::Next(n) if n == last + 1 => {
                    last = n;
                    last_idx += 1;
                    avail += cb;
                }
                _ => break,
            }
        }
        f.hint = Hint { idx: last_idx, cluster: last };
        let lba = self.geo.cluster_lba(c)? + in_cluster / bps;
        Ok((lba, (in_cluster % bps) as usize, avail.min(want)))
    }

    /// Reads up to `buf.len()` bytes at `pos`; returns how many (0 at or
    /// past the end).
    pub async fn read_file(&self, f: &mut FileState, pos: u64, buf: &mut [u8]) -> Result<usize> {
        let size = u64::from(f.size);
        if pos >= size || buf.is_empty() {
            return Ok(0);
        }
        let n = (buf.len() as u64).min(size - pos) as usize;
        let mut done = 0usize;
        while done < n {
            let (lba, off, len) = self.extent(f, pos + done as u64, (n - done) as u64).await?;
            let len = len as usize;
            self.read_span(lba, off, &mut buf[done..done + len]).await?;
            done += len;
        }
        Ok(n)
    }

    /// Reads a byte span that starts at byte `off` of sector `lba` and is
    /// contiguous on disk.
    async fn read_span(&self, mut lba: u64, off: usize, buf: &mut [u8]) -> Result<()> {
        let bps = self.geo.bytes_per_sector as usize;
        let mut i = 0;
        if off != 0 || buf.len() < bps {
            let k = (bps - off).min(buf.len());
            let head = &mut buf[..k];
            self.cache.read(&self.dev, lba, |b| b.get(off..off + k).map(|s| head.copy_from_slice(s))).await?;
            i = k;
            lba += 1;
        }
        let full = (buf.len() - i) / bps;
        if full > 0 {
            self.cache.read_run(&self.dev, lba, &mut buf[i..i + full * bps]).await?;
            i += full * bps;
            lba += full as u64;
        }
        if i < buf.len() {
            let tail = &mut buf[i..];
            let k = tail.len();
            self.cache.read(&self.dev, lba, |b| b.get(..k).map(|s| tail.copy_from_slice(s))).await?;
        }
        Ok(())
    }

    /// Writes a byte span that starts at byte `off` of sector `lba` and is
    /// contiguous on disk.
    async fn write_span(&self, mut lba: u64, off: usize, src: Src<'_>) -> Result<()> {
        let bps = self.geo.bytes_per_sector as usize;
        let len = src.len() as usize;
        let mut i = 0usize;
        let copy = |dst: &mut [u8], s: Src<'_>| match s {
            Src::Bytes(b) => {
                if let Some(b) = b.get(..dst.len()) {
                    dst.copy_from_slice(b);
                }
            }
            Src::Zeros(_) => dst.fill(0),
        };
        if off != 0 || len < bps {
            let k = (bps - off).min(len);
            let part = src.slice(0, k as u64);
            self.cache.modify(&self.dev, lba, |b| b.get_mut(off..off + k).map(|d| copy(d, part))).await?;
            i = k;
            lba += 1;
        }
        let mut full = (len - i) / bps;
        while full > 0 {
            match src {
                Src::Bytes(b) => {
                    self.cache.write_run(&self.dev, lba, &b[i..i + full * bps]).await?;
                    i += full * bps;
                    lba += full as u64;
                    full = 0;
                }
                Src::Zeros(_) => {
                    let n = full.min(ZERO_CHUNK / bps).max(1);
                    let zeros = vec![0u8; n * bps];
                    self.cache.write_run(&self.dev, lba, &zeros).await?;
                    i += n * bps;
                    lba += n as u64;
                    full -= n;
                }
            }
        }
        if i < len {
            let part = src.slice(i as u64, (len - i) as u64);
            let k = len - i;
            self.cache.modify(&self.dev, lba, |b| b.get_mut(..k).map(|d| copy(d, part))).await?;
        }
        Ok(())
    }

    /// Makes the chain long enough to hold `end` bytes.
    async fn ensure_clusters(&self, f: &mut FileState, end: u64) -> Result<()> {
        let cb = u64::from(self.geo.cluster_bytes());
        let need = u32::try_from(end.div_ceil(cb)).map_err(|_| Error::FileTooLarge)?;
        if need == 0 {
            return Ok(());
        }
        if f.first == 0 {
            f.first = self.alloc_chain(need, None).await?;
            f.hint = Hint::default();
            return Ok(());
        }
        // Start from the last cluster the size accounts for, and use any
        // clusters the chain already has past it (images from elsewhere).
        let have = u32::try_from(u64::from(f.size).div_ceil(cb)).map_err(|_| Error::Corrupt)?.max(1);
        if need <= have {
            return Ok(());
        }
        let mut idx = have - 1;
        let mut c = self.cluster_at(f.first, idx, &mut f.hint).await?;
        while idx + 1 < need {
            match self.next_cluster(c).await? {
                Some(n) => {
                    c = n;
                    idx += 1;
                }
                None => break,
            }
        }
        if idx + 1 < need {
            self.alloc_chain(need - idx - 1, Some(c)).await?;
        }
        Ok(())
    }

    async fn write_src(&self, f: &mut FileState, pos: u64, src: Src<'_>) -> Result<()> {
        let len = src.len();
        if len == 0 {
            return Ok(());
        }
        self.ensure_clusters(f, pos + len).await?;
        let mut done = 0;
        while done < len {
            let (lba, off, l) = self.extent(f, pos + done, len - done).await?;
            self.write_span(lba, off, src.slice(done, l)).await?;
            done += l;
        }
        Ok(())
    }

    /// Writes `data` at `pos`, filling any hole before it with zeros, and
    /// updates `f.size`. On failure the chain is cut back to the old size.
    pub async fn write_file(&self, f: &mut FileState, pos: u64, data: &[u8]) -> Result<()> {
        let end = pos.checked_add(data.len() as u64).ok_or(Error::FileTooLarge)?;
        if end > u64::from(u32::MAX) {
            return Err(Error::FileTooLarge);
        }
        if data.is_empty() {
            return Ok(());
        }
        let size = u64::from(f.size);
        let mut r = Ok(());
        if pos > size {
            r = self.write_src(f, size, Src::Zeros(pos - size)).await;
        }
        if r.is_ok() {
            r = self.write_src(f, pos, Src::Bytes(data)).await;
        }
        match r {
            Ok(()) => {
                f.size = f.size.max(end as u32);
                Ok(())
            }
            Err(e) => {
                let _ = self.trim(f).await;
                Err(e)
            }
        }
    }

    /// Sets the file's length: growing fills with zeros, shrinking frees
    /// the clusters past the end.
    pub async fn resize(&self, f: &mut FileState, len: u32) -> Result<()> {
        let size = f.size;
        if len > size {
            if let Err(e) = self.write_src(f, u64::from(size), Src::Zeros(u64::from(len - size))).await {
                let _ = self.trim(f).await;
                return Err(e);
            }
            f.size = len;
            Ok(())
        } else {
            f.size = len;
            self.trim(f).await
        }
    }

    /// Frees the clusters past what `f.size` needs.
    async fn trim(&self, f: &mut FileState) -> Result<()> {
        f.hint = Hint::default();
        if f.first == 0 {
            return Ok(());
        }
        let keep = f.size.div_ceil(self.geo.cluster_bytes());
        if keep == 0 {
            let first = f.first;
            f.first = 0;
            return self.free_chain(first).await;
        }
        let mut hint = Hint::default();
        let c = self.cluster_at(f.first, keep - 1, &mut hint).await?;
        self.truncate_after(c).await
    }
}
