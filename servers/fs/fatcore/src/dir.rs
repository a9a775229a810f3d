//! Directories: the 32-byte entry format, walking a directory (the fixed
//! FAT12/16 root region or a cluster chain), finding a name, listing, and
//! adding, updating and removing entries with their long-name runs.
//!
//! A directory is read one entry at a time through the cache
//! ([`DirWalker`]); [`Scanner`] turns raw entries into [`Found`] entries
//! (long name assembled, location of every slot recorded) or free slots.
//! Walks are bounded by FAT's limit of 65536 entries per directory, which
//! also stops a cyclic cluster chain.

use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;

use crate::bpb::FatType;
use crate::le::{get16, get32, put16};
use crate::lfn::{self, Assembler, ATTR_LFN};
use crate::name::{self, BLANK};
use crate::volume::Volume;
use crate::{BlockDevice, Error, Result};

pub(crate) const ATTR_VOLUME_ID: u8 = 0x08;
pub(crate) const ATTR_DIRECTORY: u8 = 0x10;
pub(crate) const ATTR_ARCHIVE: u8 = 0x20;

/// Bytes per directory entry.
const ENTRY: u32 = 32;
/// FAT's limit on entries per directory.
const MAX_ENTRIES: u32 = 65536;
/// First name byte of a deleted entry.
const DELETED: u8 = 0xE5;

/// A directory: the root, or a subdirectory by its first cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DirRef {
    Root,
    Chain(u32),
}

/// Where a directory entry is on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EntryLoc {
    pub lba: u64,
    /// Byte offset in the sector.
    pub offset: u16,
    /// Entry number within its directory.
    pub index: u32,
}

/// Field access on a raw 32-byte short entry.
pub(crate) mod raw {
    use super::*;

    pub fn short(e: &[u8; 32]) -> [u8; 11] {
        let mut s = BLANK;
        s.copy_from_slice(&e[..11]);
        s
    }
    pub fn attr(e: &[u8; 32]) -> u8 {
        e[11]
    }
    pub fn case(e: &[u8; 32]) -> u8 {
        e[12]
    }
    pub fn cluster(e: &[u8; 32], t: FatType) -> u32 {
        let hi = if t == FatType::Fat32 { u32::from(get16(e, 20)) << 16 } else { 0 };
        hi | u32::from(get16(e, 26))
    }
    pub fn set_cluster(e: &mut [u8; 32], c: u32) {
        put16(e, 20, (c >> 16) as u16);
        put16(e, 26, c as u16);
    }
    pub fn size(e: &[u8; 32]) -> u32 {
        get32(e, 28)
    }
    /// Sets the modification (and access) stamp.
    pub fn touch(e: &mut [u8; 32], (date, time): (u16, u16)) {
        put16(e, 22, time);
        put16(e, 24, date);
        put16(e, 18, date);
    }
    /// A new short entry (name left blank) stamped with `now`.
    pub fn new(attr: u8, cluster: u32, size: u32, now: (u16, u16)) -> [u8; 32] {
        let mut e = [0u8; 32];
        e[..11].copy_from_slice(&BLANK);
        e[11] = attr;
        put16(&mut e, 14, now.1);
        put16(&mut e, 16, now.0);
        touch(&mut e, now);
        set_cluster(&mut e, cluster);
        crate::le::put32(&mut e, 28, size);
        e
    }
}

/// A directory entry found by a scan.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    /// The long name, or the short name shown as text.
    pub name: String,
    /// The short entry itself.
    pub raw: [u8; 32],
    pub loc: EntryLoc,
    /// The slots of its long-name run.
    pub lfn: Vec<EntryLoc>,
}

impl Found {
    pub fn is_dir(&self) -> bool {
        raw::attr(&self.raw) & ATTR_DIRECTORY != 0
    }
    fn is_dot(&self) -> bool {
        self.raw[0] == b'.'
    }
    fn matches(&self, name: &str) -> bool {
        name::eq_ignore_case(&self.name, name)
            || name::eq_ignore_case(&name::short_display(&raw::short(&self.raw), 0), name)
    }
}

/// Walks the raw entries of one directory.
pub(crate) struct DirWalker {
    dir: DirRef,
    index: u32,
    /// Current cluster of a chained directory, and its position in the chain.
    cluster: u32,
    cluster_idx: u32,
    /// The chain ended (so `cluster` is its last cluster).
    chain_ended: bool,
}

impl DirWalker {
    pub fn new<D: BlockDevice>(vol: &Volume<D>, dir: DirRef, index: u32) -> DirWalker {
        let cluster = match dir {
            DirRef::Root => vol.geo.root_cluster,
            DirRef::Chain(c) => c,
        };
        DirWalker { dir, index, cluster, cluster_idx: 0, chain_ended: false }
    }

    /// Index of the entry `next` returns next.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Location of entry `self.index`, or `None` past the directory's end.
    async fn locate<D: BlockDevice>(&mut self, vol: &Volume<D>) -> Result<Option<EntryLoc>> {
        if self.index >= MAX_ENTRIES {
            return Ok(None);
        }
        let bps = vol.geo.bytes_per_sector;
        let byte = self.index * ENTRY;
        if self.dir == DirRef::Root && vol.geo.fat_type != FatType::Fat32 {
            if byte >= vol.geo.root_sectors * bps {
                return Ok(None);
            }
            let lba = vol.geo.root_start + u64::from(byte / bps);
            return Ok(Some(EntryLoc { lba, offset: (byte % bps) as u16, index: self.index }));
        }
        let cb = vol.geo.cluster_bytes();
        let want = byte / cb;
        if want < self.cluster_idx {
            // Only happens if a caller rewinds; start the chain again.
            *self = DirWalker { index: self.index, ..DirWalker::new(vol, self.dir, 0) };
        }
        while self.cluster_idx < want {
            match vol.next_cluster(self.cluster).await? {
                Some(n) => {
                    self.cluster = n;
                    self.cluster_idx += 1;
                }
                None => {
                    self.chain_ended = true;
                    return Ok(None);
                }
            }
        }
        let within = byte % cb;
        let lba = vol.geo.cluster_lba(self.cluster)? + u64::from(within / bps);
        Ok(Some(EntryLoc { lba, offset: (within % bps) as u16, index: self.index }))
    }

    /// The next raw entry and where it is.
    pub async fn next<D: BlockDevice>(&mut self, vol: &Volume<D>) -> Result<Option<(EntryLoc, [u8; 32])>> {
        let Some(loc) = self.locate(vol).await? else { return Ok(None) };
        let e = vol.read_raw(loc).await?;
        self.index += 1;
        Ok(Some((loc, e)))
    }
}

/// What a scan step found.
pub(crate) enum Item {
    /// A file or directory (including `.` and `..`).
    Entry(Found),
    /// A free slot; `end` once past the end-of-directory marker.
    Free { loc: EntryLoc, end: bool },
    /// An occupied slot that is not a file: LFN part, volume label.
    Other,
}

/// Turns raw entries into [`Item`]s.
pub(crate) struct Scanner {
    walker: DirWalker,
    asm: Assembler,
    lfn: Vec<EntryLoc>,
    past_end: bool,
}

impl Scanner {
    pub fn new<D: BlockDevice>(vol: &Volume<D>, dir: DirRef, index: u32) -> Scanner {
        Scanner { walker: DirWalker::new(vol, dir, index), asm: Assembler::new(), lfn: Vec::new(), past_end: false }
    }

    pub async fn next<D: BlockDevice>(&mut self, vol: &Volume<D>) -> Result<Option<Item>> {
        let Some((loc, e)) = self.walker.next(vol).await? else { return Ok(None) };
        if self.past_end || e[0] == 0 {
            self.past_end = true;
            return Ok(Some(Item::Free { loc, end: true }));
        }
        if e[0] == DELETED {
            self.asm.reset();
            return Ok(Some(Item::Free { loc, end: false }));
        }
        let attr = raw::attr(&e);
        if attr & 0x3F == ATTR_LFN {
            self.asm.feed(&e);
            if !self.asm.active() {
                self.lfn.clear();
            } else if e[0] & 0x40 != 0 {
                self.lfn.clear();
                self.lfn.push(loc);
            } else {
                self.lfn.push(loc);
            }
            return Ok(Some(Item::Other));
        }
        if attr & ATTR_VOLUME_ID != 0 {
            self.asm.reset();
            self.lfn.clear();
            return Ok(Some(Item::Other));
        }
        let short = raw::short(&e);
        let (name, lfn) = match self.asm.finish(&short) {
            Some(long) => (long, core::mem::take(&mut self.lfn)),
            None => {
                self.lfn.clear();
                (name::short_display(&short, raw::case(&e)), Vec::new())
            }
        };
        Ok(Some(Item::Entry(Found { name, raw: e, loc, lfn })))
    }
}

impl<D: BlockDevice> Volume<D> {
    /// The directory whose first cluster is `c` (0 and the FAT32 root
    /// cluster mean the root).
    pub fn dir_ref(&self, c: u32) -> DirRef {
        if c == 0 || (self.geo.fat_type == FatType::Fat32 && c == self.geo.root_cluster) {
            DirRef::Root
        } else {
            DirRef::Chain(c)
        }
    }

    /// The directory an entry names.
    pub fn dir_of(&self, f: &Found) -> Result<DirRef> {
        let c = raw::cluster(&f.raw, self.geo.fat_type);
        if !f.is_dir() {
            return Err(Error::NotADirectory);
        }
        if !self.geo.is_cluster(c) {
            return Err(Error::Corrupt);
        }
        Ok(self.dir_ref(c))
    }

    /// The value a `..` entry stores for `dir`.
    pub fn dotdot_cluster(dir: DirRef) -> u32 {
        match dir {
            DirRef::Root => 0,
            DirRef::Chain(c) => c,
        }
    }

    pub async fn read_raw(&self, loc: EntryLoc) -> Result<[u8; 32]> {
        let off = usize::from(loc.offset);
        self.cache
            .read(&self.dev, loc.lba, |b| {
                let mut e = [0u8; 32];
                let src = b.get(off..off + 32)?;
                e.copy_from_slice(src);
                Some(e)
            })
            .await?
            .ok_or(Error::Corrupt)
    }

    pub async fn write_raw(&self, loc: EntryLoc, e: &[u8; 32]) -> Result<()> {
        self.update_raw(loc, |x| *x = *e).await
    }

    /// Changes the entry at `loc` in place.
    pub async fn update_raw(&self, loc: EntryLoc, f: impl FnOnce(&mut [u8; 32])) -> Result<()> {
        let off = usize::from(loc.offset);
        self.cache
            .modify(&self.dev, loc.lba, |b| {
                let dst = b.get_mut(off..off + 32)?;
                let mut e = [0u8; 32];
                e.copy_from_slice(dst);
                f(&mut e);
                dst.copy_from_slice(&e);
                Some(())
            })
            .await?
            .ok_or(Error::Corrupt)
    }

    /// The entry called `name` in `dir` (long or short name, any case).
    pub async fn find(&self, dir: DirRef, name: &str) -> Result<Option<Found>> {
        let mut sc = Scanner::new(self, dir, 0);
        while let Some(item) = sc.next(self).await? {
            match item {
                Item::Entry(f) if !f.is_dot() && f.matches(name) => return Ok(Some(f)),
                Item::Free { end: true, .. } => break,
                _ => {}
            }
        }
        Ok(None)
    }

    /// The first entry (not `.`/`..`) at or after entry `index`, and the
    /// index to continue from.
    pub async fn entry_from(&self, dir: DirRef, index: u32) -> Result<Option<(Found, u32)>> {
        let mut sc = Scanner::new(self, dir, index);
        while let Some(item) = sc.next(self).await? {
            match item {
                Item::Entry(f) if !f.is_dot() => return Ok(Some((f, sc.walker.index()))),
                Item::Free { end: true, .. } => break,
                _ => {}
            }
        }
        Ok(None)
    }

    /// Whether `dir` holds nothing but `.` and `..`.
    pub async fn dir_is_empty(&self, dir: DirRef) -> Result<bool> {
        Ok(self.entry_from(dir, 0).await?.is_none())
    }

    /// The parent of `dir`, from its `..` entry.
    pub async fn parent_of(&self, dir: DirRef) -> Result<DirRef> {
        let DirRef::Chain(c) = dir else { return Ok(DirRef::Root) };
        let loc = EntryLoc { lba: self.geo.cluster_lba(c)?, offset: ENTRY as u16, index: 1 };
        let e = self.read_raw(loc).await?;
        if raw::short(&e) != *b"..         " {
            return Err(Error::Corrupt);
        }
        let p = raw::cluster(&e, self.geo.fat_type);
        if p != 0 && !self.geo.is_cluster(p) {
            return Err(Error::Corrupt);
        }
        Ok(self.dir_ref(p))
    }

    /// Adds an entry called `name` to `dir`: `template` is the short entry
    /// (its name field is filled in here). Generates the short alias and
    /// the long-name run, growing the directory if needed. `ignore` is an
    /// entry to disregard when checking for clashes (a rename's source).
    pub async fn add_entry(
        &self,
        dir: DirRef,
        name: &str,
        template: &[u8; 32],
        ignore: Option<EntryLoc>,
    ) -> Result<EntryLoc> {
        if !name::valid_long(name) {
            return Err(Error::InvalidName);
        }
        let exact = name::case_short(name);
        let need = if exact.is_some() { 1 } else { lfn::entries_needed(name) + 1 };
        let mut shorts = BTreeSet::new();
        let mut run: Vec<EntryLoc> = Vec::new();
        let mut chosen: Option<Vec<EntryLoc>> = None;
        // Index of the end-of-directory marker, if there is one.
        let mut end_at: Option<u32> = None;
        let mut sc = Scanner::new(self, dir, 0);
        while let Some(item) = sc.next(self).await? {
            match item {
                Item::Entry(f) => {
                    if Some(f.loc) != ignore {
                        if !f.is_dot() && f.matches(name) {
                            return Err(Error::Exists);
                        }
                        shorts.insert(raw::short(&f.raw));
                    }
                    run.clear();
                }
                Item::Other => run.clear(),
                Item::Free { loc, end } => {
                    if end && end_at.is_none() {
                        end_at = Some(loc.index);
                    }
                    run.push(loc);
                    if chosen.is_none() && run.len() == need {
                        chosen = Some(run.clone());
                    }
                    if end && chosen.is_some() {
                        break;
                    }
                }
            }
        }

        let (short, case) = match exact {
            Some(s) => s,
            None => {
                let (b, fits) = name::basis(name);
                let short = if fits && !shorts.contains(&b) {
                    b
                } else {
                    (1..=999_999).map(|n| name::with_tail(&b, n)).find(|s| !shorts.contains(s)).ok_or(Error::Exists)?
                };
                (short, 0)
            }
        };

        let slots = match chosen {
            Some(s) => s,
            None => {
                // `run` is the free tail of the directory; grow it.
                if !sc.walker.chain_ended {
                    return Err(Error::NoSpace); // fixed root, or 65536 entries
                }
                self.grow_dir(&mut sc.walker, &mut run, need).await?;
                run
            }
        };

        let mut entries = if exact.is_some() { Vec::new() } else { lfn::encode(name, &short) };
        let mut e = *template;
        e[..11].copy_from_slice(&short);
        e[12] = case;
        entries.push(e);
        for (loc, e) in slots.iter().zip(&entries) {
            self.write_raw(*loc, e).await?;
        }
        let last = slots.get(entries.len() - 1).copied().ok_or(Error::Corrupt)?;
        if end_at.is_some_and(|end| last.index >= end) {
            // The entries took the end marker's place: the slot after them
            // must end the directory now (it should be zero already, but
            // the specification does not promise what follows a marker).
            let mut w = DirWalker::new(self, dir, last.index + 1);
            if let Some((loc, e)) = w.next(self).await? {
                if e[0] != 0 {
                    self.update_raw(loc, |x| x[0] = 0).await?;
                }
            }
        }
        Ok(last)
    }

    /// Adds zeroed clusters after the end of a chained directory until
    /// `run` has `need` slots.
    async fn grow_dir(&self, walker: &mut DirWalker, run: &mut Vec<EntryLoc>, need: usize) -> Result<()> {
        let per_cluster = self.geo.cluster_bytes() / ENTRY;
        let mut last = walker.cluster;
        let mut index = walker.index;
        while run.len() < need {
            if index.saturating_add(per_cluster) > MAX_ENTRIES {
                return Err(Error::NoSpace);
            }
            let c = self.alloc_chain(1, Some(last)).await?;
            self.zero_cluster(c).await?;
            let base = self.geo.cluster_lba(c)?;
            for k in 0..per_cluster {
                let byte = k * ENTRY;
                let lba = base + u64::from(byte / self.geo.bytes_per_sector);
                let offset = (byte % self.geo.bytes_per_sector) as u16;
                run.push(EntryLoc { lba, offset, index: index + k });
            }
            index += per_cluster;
            last = c;
        }
        run.truncate(need);
        Ok(())
    }

    /// Fills cluster `c` with zeros (through the cache: it is metadata).
    pub async fn zero_cluster(&self, c: u32) -> Result<()> {
        let base = self.geo.cluster_lba(c)?;
        for s in 0..u64::from(self.geo.sectors_per_cluster) {
            self.cache.overwrite(&self.dev, base + s, |b| b.fill(0)).await?;
        }
        Ok(())
    }

    /// Makes cluster `c` an empty directory whose parent is `parent`.
    pub async fn init_dir(&self, c: u32, parent: DirRef, now: (u16, u16)) -> Result<()> {
        self.zero_cluster(c).await?;
        let lba = self.geo.cluster_lba(c)?;
        let mut dot = raw::new(ATTR_DIRECTORY, c, 0, now);
        dot[0] = b'.';
        let mut dotdot = raw::new(ATTR_DIRECTORY, Self::dotdot_cluster(parent), 0, now);
        dotdot[..2].copy_from_slice(b"..");
        self.write_raw(EntryLoc { lba, offset: 0, index: 0 }, &dot).await?;
        self.write_raw(EntryLoc { lba, offset: ENTRY as u16, index: 1 }, &dotdot).await
    }

    /// Marks an entry and its long-name run deleted.
    pub async fn remove_entry(&self, f: &Found) -> Result<()> {
        for loc in f.lfn.iter().chain(core::iter::once(&f.loc)) {
            self.update_raw(*loc, |e| e[0] = DELETED).await?;
        }
        Ok(())
    }
}
