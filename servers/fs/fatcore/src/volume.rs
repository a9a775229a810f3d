//! A mounted volume's internals: the device, the validated geometry, the
//! sector cache and the allocator's state. `Volume` knows nothing of paths,
//! handles or locking; `fat.rs`, `dir.rs` and `file.rs` each add an `impl`
//! block with their part of the on-disk logic, and [`crate::FileSystem`]
//! wraps it with the lock and the open-file table.

use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::bpb::{FatType, Geometry};
use crate::cache::{Cache, Mirror};
use crate::le::{get32, put32};
use crate::{BlockDevice, Error, MountOptions, Result, Timestamp};

const FSINFO_LEAD: u32 = 0x4161_5252;
const FSINFO_STRUCT: u32 = 0x6141_7272;
const FSINFO_TRAIL: u32 = 0xAA55_0000;

/// The allocator's view of free space.
pub(crate) struct AllocState {
    /// Free clusters, when known (FSInfo on FAT32, or counted on demand).
    pub free: Option<u32>,
    /// Where the next search for a free cluster starts.
    pub next: u32,
    /// FSInfo needs rewriting at the next sync.
    pub dirty: bool,
}

pub(crate) struct Volume<D> {
    pub dev: D,
    pub geo: Geometry,
    pub cache: Cache,
    pub alloc: RefCell<AllocState>,
    pub clock: fn() -> Timestamp,
    /// FSInfo was present and valid at mount, so sync keeps it up to date.
    fsinfo_valid: bool,
}

impl<D: BlockDevice> Volume<D> {
    /// Reads and validates the boot sector and FSInfo.
    pub async fn mount(dev: D, opts: &MountOptions) -> Result<Volume<D>> {
        let dbs = dev.block_size();
        if dbs == 0 || !dbs.is_power_of_two() || dbs > 4096 {
            return Err(Error::Unsupported);
        }
        let mut boot = vec![0u8; dbs.max(512)];
        dev.read_blocks(0, &mut boot).await?;
        let dev_bytes = dev.block_count().saturating_mul(dbs as u64);
        let geo = Geometry::parse(&boot, dev_bytes)?;
        let bps = geo.bytes_per_sector as usize;
        if !bps.is_multiple_of(dbs) {
            return Err(Error::Unsupported);
        }
        let copies: Vec<u64> = if geo.mirror {
            (1..geo.num_fats).map(|k| geo.fat0 + u64::from(k) * u64::from(geo.fat_size)).collect()
        } else {
            Vec::new()
        };
        let mirror = Mirror { start: geo.active_fat_start(), len: u64::from(geo.fat_size), copies };
        let cache = Cache::new(bps, (bps / dbs) as u64, opts.cache_sectors, mirror);
        let mut vol = Volume {
            dev,
            geo,
            cache,
            alloc: RefCell::new(AllocState { free: None, next: 2, dirty: false }),
            clock: opts.clock,
            fsinfo_valid: false,
        };
        if let (FatType::Fat32, Some(sector)) = (vol.geo.fat_type, vol.geo.fsinfo_sector) {
            let (lead, strukt, trail, free, next) = vol
                .cache
                .read(&vol.dev, sector, |b| (get32(b, 0), get32(b, 484), get32(b, 508), get32(b, 488), get32(b, 492)))
                .await?;
            if lead == FSINFO_LEAD && strukt == FSINFO_STRUCT && trail == FSINFO_TRAIL {
                vol.fsinfo_valid = true;
                let mut a = vol.alloc.borrow_mut();
                a.free = (free <= vol.geo.cluster_count).then_some(free);
                if vol.geo.is_cluster(next) {
                    a.next = next;
                }
            }
        }
        Ok(vol)
    }

    /// Writes FSInfo (if it changed), every dirty sector, then flushes the
    /// device.
    pub async fn sync(&self) -> Result<()> {
        let pending = {
            let a = self.alloc.borrow();
            (self.fsinfo_valid && a.dirty).then_some((a.free.unwrap_or(u32::MAX), a.next))
        };
        if let (Some((free, next)), Some(sector)) = (pending, self.geo.fsinfo_sector) {
            self.cache
                .modify(&self.dev, sector, |b| {
                    put32(b, 488, free);
                    put32(b, 492, next);
                })
                .await?;
            self.alloc.borrow_mut().dirty = false;
        }
        self.cache.flush(&self.dev).await?;
        self.dev.flush().await
    }

    /// The current time from the server's clock, DOS-encoded.
    pub fn now(&self) -> (u16, u16) {
        (self.clock)().to_dos()
    }
}
