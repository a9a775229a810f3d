//! The boot sector's BIOS Parameter Block, validated once at mount into a
//! [`Geometry`]: where the FATs, the root directory and the data area are,
//! and which FAT variant this is. Everything later trusts the geometry and
//! nothing else from sector 0, so every field is range-checked here and
//! all derived quantities are computed with checked arithmetic.

use alloc::string::String;

use crate::le::{get16, get32};
use crate::{Error, Result};

/// The FAT variant, decided (as the specification says) by the number of
/// clusters alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FatType {
    /// Fewer than 4085 clusters; 12-bit entries.
    Fat12,
    /// Fewer than 65525 clusters; 16-bit entries.
    Fat16,
    /// 28-bit entries; the root directory is a cluster chain.
    Fat32,
}

impl FatType {
    /// The smallest FAT entry value meaning "end of chain".
    pub(crate) fn eoc_min(self) -> u32 {
        match self {
            FatType::Fat12 => 0xFF8,
            FatType::Fat16 => 0xFFF8,
            FatType::Fat32 => 0x0FFF_FFF8,
        }
    }

    /// The value written to end a chain.
    pub(crate) fn eoc(self) -> u32 {
        match self {
            FatType::Fat12 => 0xFFF,
            FatType::Fat16 => 0xFFFF,
            FatType::Fat32 => 0x0FFF_FFFF,
        }
    }

    /// The "bad cluster" marker.
    pub(crate) fn bad(self) -> u32 {
        self.eoc_min() - 1
    }
}

/// Where everything is, in sectors of `bytes_per_sector` bytes.
#[derive(Debug, Clone)]
pub(crate) struct Geometry {
    pub fat_type: FatType,
    pub bytes_per_sector: u32,
    pub sectors_per_cluster: u32,
    pub num_fats: u32,
    /// Sectors per FAT copy.
    pub fat_size: u32,
    /// First sector of every FAT copy (copy `k` at `fat0 + k * fat_size`).
    pub fat0: u64,
    /// The FAT copy reads and writes go to (FAT32 may disable mirroring).
    pub active_fat: u32,
    /// Whether writes to the active FAT are mirrored to the other copies.
    pub mirror: bool,
    /// FAT12/16 fixed root directory: first sector and sector count.
    pub root_start: u64,
    pub root_sectors: u32,
    /// First sector of cluster 2.
    pub data_start: u64,
    /// Number of data clusters; valid clusters are `2..cluster_count + 2`.
    pub cluster_count: u32,
    /// FAT32 root directory's first cluster (0 on FAT12/16).
    pub root_cluster: u32,
    /// FAT32 FSInfo sector, when the BPB names one.
    pub fsinfo_sector: Option<u64>,
    pub label: String,
}

impl Geometry {
    /// Parses and validates the first 512 bytes of the volume. `device_bytes`
    /// is the size of the device: a volume larger than it is corrupt.
    pub fn parse(b: &[u8], device_bytes: u64) -> Result<Geometry> {
        if b.len() < 512 {
            return Err(Error::Corrupt);
        }
        if get16(b, 510) != 0xAA55 {
            return Err(Error::Corrupt);
        }
        let bps = u32::from(get16(b, 11));
        if !matches!(bps, 512 | 1024 | 2048 | 4096) {
            return Err(Error::Corrupt);
        }
        let spc = u32::from(b.get(13).copied().unwrap_or(0));
        if spc == 0 || !spc.is_power_of_two() || bps * spc > 64 * 1024 {
            return Err(Error::Corrupt);
        }
        let reserved = u32::from(get16(b, 14));
        let num_fats = u32::from(b.get(16).copied().unwrap_or(0));
        let root_entries = u32::from(get16(b, 17));
        let total16 = u32::from(get16(b, 19));
        let fat16 = u32::from(get16(b, 22));
        let total32 = get32(b, 32);
        if reserved == 0 || !(1..=4).contains(&num_fats) {
            return Err(Error::Corrupt);
        }
        let fat_size = if fat16 != 0 { fat16 } else { get32(b, 36) };
        let total = u64::from(if total16 != 0 { total16 } else { total32 });
        if fat_size == 0 || total == 0 {
            return Err(Error::Corrupt);
        }
        let root_sectors = (root_entries * 32).div_ceil(bps);
        let fats = u64::from(num_fats) * u64::from(fat_size);
        let data_start = u64::from(reserved) + fats + u64::from(root_sectors);
        if data_start >= total {
            return Err(Error::Corrupt);
        }
        let clusters = (total - data_start) / u64::from(spc);
        let fat_type = if clusters < 4085 {
            FatType::Fat12
        } else if clusters < 65525 {
            FatType::Fat16
        } else {
            FatType::Fat32
        };
        if clusters == 0 || clusters > 0x0FFF_FFF5 {
            return Err(Error::Corrupt);
        }
        let cluster_count = clusters as u32;
        // The FAT must have an entry for every cluster (plus the two
        // reserved ones).
        let bits = match fat_type {
            FatType::Fat12 => 12,
            FatType::Fat16 => 16,
            FatType::Fat32 => 32,
        };
        let entries = u64::from(fat_size) * u64::from(bps) * 8 / bits;
        if entries < u64::from(cluster_count) + 2 {
            return Err(Error::Corrupt);
        }
        if total.checked_mul(u64::from(bps)).is_none_or(|bytes| bytes > device_bytes) {
            return Err(Error::Corrupt);
        }

        let mut g = Geometry {
            fat_type,
            bytes_per_sector: bps,
            sectors_per_cluster: spc,
            num_fats,
            fat_size,
            fat0: u64::from(reserved),
            active_fat: 0,
            mirror: true,
            root_start: u64::from(reserved) + fats,
            root_sectors,
            data_start,
            cluster_count,
            root_cluster: 0,
            fsinfo_sector: None,
            label: String::new(),
        };
        let label_off;
        if fat_type == FatType::Fat32 {
            if root_entries != 0 || fat16 != 0 {
                return Err(Error::Corrupt);
            }
            if get16(b, 42) != 0 {
                return Err(Error::Unsupported);
            }
            let ext_flags = get16(b, 40);
            if ext_flags & 0x80 != 0 {
                g.mirror = false;
                g.active_fat = u32::from(ext_flags & 0xF);
                if g.active_fat >= num_fats {
                    return Err(Error::Corrupt);
                }
            }
            g.root_cluster = get32(b, 44);
            if !g.is_cluster(g.root_cluster) {
                return Err(Error::Corrupt);
            }
            let fsinfo = u32::from(get16(b, 48));
            if fsinfo != 0 && fsinfo < reserved {
                g.fsinfo_sector = Some(u64::from(fsinfo));
            }
            label_off = if b.get(66) == Some(&0x29) { Some(71) } else { None };
        } else {
            if root_entries == 0 {
                return Err(Error::Corrupt);
            }
            label_off = if b.get(38) == Some(&0x29) { Some(43) } else { None };
        }
        if let Some(raw) = label_off.and_then(|o| b.get(o..o + 11)) {
            g.label = raw.iter().map(|&c| char::from(c)).collect::<String>().trim_end().into();
            if g.label == "NO NAME" {
                g.label.clear();
            }
        }
        Ok(g)
    }

    /// Whether `c` names a data cluster.
    pub fn is_cluster(&self, c: u32) -> bool {
        c >= 2 && u64::from(c) < u64::from(self.cluster_count) + 2
    }

    /// Bytes per cluster.
    pub fn cluster_bytes(&self) -> u32 {
        self.bytes_per_sector * self.sectors_per_cluster
    }

    /// First sector of cluster `c`.
    pub fn cluster_lba(&self, c: u32) -> Result<u64> {
        if !self.is_cluster(c) {
            return Err(Error::Corrupt);
        }
        Ok(self.data_start + u64::from(c - 2) * u64::from(self.sectors_per_cluster))
    }

    /// First sector of the FAT copy reads and writes go to.
    pub fn active_fat_start(&self) -> u64 {
        self.fat0 + u64::from(self.active_fat) * u64::from(self.fat_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::le::{put16, put32};

    /// A FAT16 boot sector: 512-byte sectors, 4 sectors per cluster.
    fn fat16() -> [u8; 512] {
        let mut b = [0u8; 512];
        b[0] = 0xEB;
        put16(&mut b, 11, 512);
        b[13] = 4;
        put16(&mut b, 14, 4);
        b[16] = 2;
        put16(&mut b, 17, 512);
        put16(&mut b, 22, 100);
        put32(&mut b, 32, 100_000);
        b[38] = 0x29;
        b[43..54].copy_from_slice(b"MYDISK     ");
        put16(&mut b, 510, 0xAA55);
        b
    }

    #[test]
    fn parses_fat16() {
        let g = Geometry::parse(&fat16(), 100_000 * 512).unwrap();
        assert_eq!(g.fat_type, FatType::Fat16);
        assert_eq!(g.root_start, 4 + 200);
        assert_eq!(g.root_sectors, 32);
        assert_eq!(g.data_start, 4 + 200 + 32);
        assert_eq!(g.cluster_count, (100_000 - 236) / 4);
        assert_eq!(g.label, "MYDISK");
        assert_eq!(g.cluster_lba(2), Ok(236));
        assert_eq!(g.cluster_lba(1), Err(Error::Corrupt));
    }

    #[test]
    fn rejects_bad_fields() {
        let ok = fat16();
        assert!(Geometry::parse(&ok, 1000).is_err(), "volume larger than the device");
        for (off, val) in [(12usize, 3u8), (13, 3), (13, 0), (16, 0), (17, 0), (22, 0), (511, 0)] {
            let mut b = ok;
            b[off] = val;
            if off == 17 {
                b[18] = 0;
            }
            if off == 22 {
                b[23] = 0;
            }
            assert_eq!(Geometry::parse(&b, u64::MAX).err(), Some(Error::Corrupt), "offset {off}");
        }
        let mut b = ok;
        put16(&mut b, 22, 1); // FAT too small for the clusters
        assert_eq!(Geometry::parse(&b, u64::MAX).err(), Some(Error::Corrupt));
    }
}
