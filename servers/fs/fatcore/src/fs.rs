//! [`FileSystem`]: the public face of a mounted volume. It owns the
//! [`Volume`] (device, geometry, cache, allocator), the reader-writer lock
//! that lets reads overlap while writes run alone, and the open-file table.
//!
//! This file has mounting, syncing and the metadata queries; `io.rs` has
//! the handle operations (open, read, write, seek, truncate, readdir) and
//! `ops.rs` the namespace operations (mkdir, rmdir, unlink, rename).

use alloc::string::String;
use core::cell::RefCell;

use crate::bpb::FatType;
use crate::cache::CacheStats;
use crate::dir::{raw, EntryLoc, Found, ATTR_ARCHIVE, ATTR_DIRECTORY};
use crate::file::FileState;
use crate::handle::Table;
use crate::le::{get16, put32};
use crate::lock::RwLock;
use crate::path::Target;
use crate::volume::Volume;
use crate::{name, BlockDevice, Result, Timestamp};

/// Mount-time settings.
#[derive(Debug, Clone, Copy)]
pub struct MountOptions {
    /// Sectors the cache may hold (at least 1; 64 by default = 32 KiB of
    /// 512-byte sectors).
    pub cache_sectors: usize,
    /// Handles that may be open at once.
    pub max_open: usize,
    /// Where timestamps for new and modified entries come from.
    pub clock: fn() -> Timestamp,
}

impl Default for MountOptions {
    fn default() -> Self {
        MountOptions { cache_sectors: 64, max_open: 64, clock: crate::time::epoch_clock }
    }
}

/// What `stat` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metadata {
    /// Bytes (0 for directories).
    pub size: u64,
    /// Whether it is a directory.
    pub is_dir: bool,
    /// The FAT attribute byte: 0x01 read-only, 0x02 hidden, 0x04 system,
    /// 0x10 directory, 0x20 archive.
    pub attributes: u8,
    /// Creation time, if recorded.
    pub created: Option<Timestamp>,
    /// Last modification time, if recorded.
    pub modified: Option<Timestamp>,
    /// Date only (the time fields are zero).
    pub accessed: Option<Timestamp>,
}

impl Metadata {
    pub(crate) fn root() -> Metadata {
        Metadata { size: 0, is_dir: true, attributes: ATTR_DIRECTORY, created: None, modified: None, accessed: None }
    }

    pub(crate) fn from_raw(e: &[u8; 32]) -> Metadata {
        let is_dir = raw::attr(e) & ATTR_DIRECTORY != 0;
        Metadata {
            size: if is_dir { 0 } else { u64::from(raw::size(e)) },
            is_dir,
            attributes: raw::attr(e),
            created: Timestamp::from_dos(get16(e, 16), get16(e, 14)),
            modified: Timestamp::from_dos(get16(e, 24), get16(e, 22)),
            accessed: Timestamp::from_dos(get16(e, 18), 0),
        }
    }
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The long name if there is one, else the short name.
    pub name: String,
    /// The 8.3 name, as `NAME.EXT`.
    pub short_name: String,
    /// Size, type, attributes, times.
    pub meta: Metadata,
}

impl DirEntry {
    pub(crate) fn from_found(f: &Found) -> DirEntry {
        DirEntry {
            name: f.name.clone(),
            short_name: name::short_display(&raw::short(&f.raw), 0),
            meta: Metadata::from_raw(&f.raw),
        }
    }
}

/// Volume-wide figures (`statfs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsStats {
    /// FAT12, FAT16 or FAT32.
    pub fat_type: FatType,
    /// Bytes per sector.
    pub sector_size: u32,
    /// Bytes per cluster (the allocation unit).
    pub cluster_size: u32,
    /// Data clusters on the volume.
    pub total_clusters: u32,
    /// Data clusters not in use.
    pub free_clusters: u32,
    /// From the boot sector; empty if none.
    pub label: String,
}

/// A mounted FAT volume on the block device `D`.
///
/// Every method takes `&self`: share it among the server's tasks (for
/// example `Rc<FileSystem<D>>`) and call operations concurrently; reads
/// overlap, writes are serialised. See the crate documentation.
pub struct FileSystem<D: BlockDevice> {
    pub(crate) vol: Volume<D>,
    pub(crate) lock: RwLock,
    pub(crate) table: RefCell<Table>,
}

impl<D: BlockDevice> FileSystem<D> {
    /// Mounts the FAT volume on `dev` (the volume starts at block 0).
    pub async fn mount(dev: D, opts: MountOptions) -> Result<FileSystem<D>> {
        let vol = Volume::mount(dev, &opts).await?;
        Ok(FileSystem { vol, lock: RwLock::new(), table: RefCell::new(Table::new(opts.max_open)) })
    }

    /// Writes everything back (FSInfo, dirty sectors, device flush).
    pub async fn sync(&self) -> Result<()> {
        let _g = self.lock.write().await;
        self.vol.sync().await
    }

    /// Syncs and gives the device back. Open handles are forgotten.
    pub async fn unmount(self) -> Result<D> {
        self.sync().await?;
        Ok(self.vol.dev)
    }

    /// Gives the device back without syncing (what has not been synced or
    /// evicted is lost, as on a power cut).
    pub fn into_device(self) -> D {
        self.vol.dev
    }

    /// The device.
    pub fn device(&self) -> &D {
        &self.vol.dev
    }

    /// Cache counters.
    pub fn cache_stats(&self) -> CacheStats {
        self.vol.cache.stats()
    }

    /// Number of open handles.
    pub fn open_handles(&self) -> usize {
        self.table.borrow().len()
    }

    /// Volume-wide figures. The first call on a volume without a valid
    /// FSInfo free count reads the whole FAT to count.
    pub async fn statfs(&self) -> Result<FsStats> {
        let _g = self.lock.read().await;
        let g = &self.vol.geo;
        Ok(FsStats {
            fat_type: g.fat_type,
            sector_size: g.bytes_per_sector,
            cluster_size: g.cluster_bytes(),
            total_clusters: g.cluster_count,
            free_clusters: self.vol.free_clusters().await?,
            label: g.label.clone(),
        })
    }

    /// Metadata of the file or directory at `path`.
    pub async fn stat(&self, path: &str) -> Result<Metadata> {
        let _g = self.lock.read().await;
        match self.vol.resolve(path).await? {
            Target::Root => Ok(Metadata::root()),
            Target::Entry { found, .. } => Ok(Metadata::from_raw(&found.raw)),
        }
    }

    /// The state of the file whose entry `e` is at `loc`: the open node's
    /// if it is open (it holds the chain hint), else the entry's.
    pub(crate) fn file_state(&self, loc: EntryLoc, e: &[u8; 32]) -> FileState {
        if let Some(n) = self.table.borrow_mut().node_at(loc) {
            return n.file;
        }
        FileState { first: raw::cluster(e, self.vol.geo.fat_type), size: raw::size(e), hint: Default::default() }
    }

    /// Records a file's new chain and size in its open node (if any) and
    /// its directory entry; `modified` also stamps the time and sets the
    /// archive bit.
    pub(crate) async fn commit(&self, loc: EntryLoc, f: &FileState, modified: bool) -> Result<()> {
        if let Some(n) = self.table.borrow_mut().node_at(loc) {
            n.file.first = f.first;
            n.file.size = f.size;
            n.file.hint = f.hint;
        }
        let now = self.vol.now();
        self.vol
            .update_raw(loc, |e| {
                raw::set_cluster(e, f.first);
                put32(e, 28, f.size);
                if modified {
                    raw::touch(e, now);
                    e[11] |= ATTR_ARCHIVE;
                }
            })
            .await
    }
}
