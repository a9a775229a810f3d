//! The Limine memory map: the e820 map converted to Limine types, with the
//! loader's own memory marked bootloader-reclaimable, the kernel image and
//! modules marked executable-and-modules, and usable memory in the first
//! MiB reported reserved. Entries are sorted, non-overlapping, and usable
//! entries are rounded inward to 4 KiB.

use crate::error::{bail, Result};
use crate::frames::{FrameAllocator, Region, Use, LOW_MEMORY_END};
use crate::multiboot::E820Entry;
use crate::phys::{self, align_down, align_up, PAGE_SIZE};

/// Limine memory map entry types.
pub mod kind {
    pub const USABLE: u64 = 0;
    pub const RESERVED: u64 = 1;
    pub const ACPI_RECLAIMABLE: u64 = 2;
    pub const ACPI_NVS: u64 = 3;
    pub const BAD_MEMORY: u64 = 4;
    pub const BOOTLOADER_RECLAIMABLE: u64 = 5;
    pub const EXECUTABLE_AND_MODULES: u64 = 6;
}

/// Name of a Limine memory map type, for the log.
pub fn kind_name(k: u64) -> &'static str {
    match k {
        kind::USABLE => "usable",
        kind::RESERVED => "reserved",
        kind::ACPI_RECLAIMABLE => "ACPI reclaimable",
        kind::ACPI_NVS => "ACPI NVS",
        kind::BAD_MEMORY => "bad memory",
        kind::BOOTLOADER_RECLAIMABLE => "bootloader reclaimable",
        kind::EXECUTABLE_AND_MODULES => "executable and modules",
        _ => "unknown",
    }
}

/// Most entries reported.
pub const MAX_ENTRIES: usize = 128;

/// `struct limine_memmap_entry`.
#[derive(Clone, Copy, Default, Debug)]
#[repr(C)]
pub struct Entry {
    pub base: u64,
    pub length: u64,
    pub kind: u64,
}

/// `struct limine_memmap_response`.
#[repr(C)]
struct Response {
    revision: u64,
    entry_count: u64,
    entries: u64,
}

/// Memory for the response, allocated before the map is computed so the
/// map can include it.
pub struct Storage {
    response: u64,
    entries: u64,
    pointers: u64,
}

impl Storage {
    pub fn allocate(frames: &mut FrameAllocator) -> Result<Self> {
        let n = MAX_ENTRIES as u64;
        Ok(Storage {
            response: frames.alloc_bytes(size_of::<Response>() as u64, 8)?,
            entries: frames.alloc_bytes(n * size_of::<Entry>() as u64, 8)?,
            pointers: frames.alloc_bytes(n * 8, 8)?,
        })
    }

    /// Writes `map` and returns the physical address of the response.
    pub fn fill(&self, map: &[Entry], hhdm: u64) -> Result<u64> {
        for (i, entry) in map.iter().enumerate() {
            let at = self.entries + (i * size_of::<Entry>()) as u64;
            phys::write(at, *entry)?;
            phys::write(self.pointers + i as u64 * 8, at + hhdm)?;
        }
        let response = Response { revision: 0, entry_count: map.len() as u64, entries: self.pointers + hhdm };
        phys::write(self.response, response)?;
        Ok(self.response)
    }
}

fn from_e820(e820_type: u32) -> u64 {
    match e820_type {
        1 => kind::USABLE,
        3 => kind::ACPI_RECLAIMABLE,
        4 => kind::ACPI_NVS,
        5 => kind::BAD_MEMORY,
        _ => kind::RESERVED,
    }
}

fn from_use(usage: Use) -> u64 {
    match usage {
        Use::Reclaimable => kind::BOOTLOADER_RECLAIMABLE,
        Use::KernelAndModules => kind::EXECUTABLE_AND_MODULES,
    }
}

/// Which type wins where two descriptions overlap: the more restrictive.
fn rank(kind: u64) -> u8 {
    match kind {
        kind::USABLE => 0,
        kind::BOOTLOADER_RECLAIMABLE => 1,
        kind::EXECUTABLE_AND_MODULES => 2,
        kind::ACPI_RECLAIMABLE => 3,
        kind::ACPI_NVS => 4,
        kind::BAD_MEMORY => 5,
        _ => 6,
    }
}

fn stronger(a: Option<u64>, b: u64) -> Option<u64> {
    match a {
        Some(a) if rank(a) >= rank(b) => Some(a),
        _ => Some(b),
    }
}

/// A sorted, merged map; `len` entries of `entries` are valid.
pub struct Map {
    pub entries: [Entry; MAX_ENTRIES],
    pub len: usize,
}

impl Map {
    pub fn entries(&self) -> &[Entry] {
        &self.entries[..self.len]
    }

    fn push(&mut self, base: u64, end: u64, kind: u64) -> Result<()> {
        if let Some(last) = self.entries[..self.len].last_mut() {
            if last.kind == kind && last.base + last.length == base {
                last.length = end - last.base;
                return Ok(());
            }
        }
        if self.len == MAX_ENTRIES {
            bail!("memory map has too many entries", MAX_ENTRIES);
        }
        self.entries[self.len] = Entry { base, length: end - base, kind };
        self.len += 1;
        Ok(())
    }
}

/// Computes the map from the e820 entries and the recorded regions.
pub fn build(e820: &[E820Entry], regions: &[Region]) -> Result<Map> {
    const MAX_POINTS: usize = 2 * (crate::multiboot::MAX_E820 + 64) + 1;
    let mut points = [0u64; MAX_POINTS];
    let mut n = 0;
    let mut add = |p: u64| -> Result<()> {
        if n == MAX_POINTS {
            bail!("memory map: too many boundaries");
        }
        points[n] = p;
        n += 1;
        Ok(())
    };
    for e in e820 {
        add(e.base)?;
        add(e.end())?;
    }
    for r in regions {
        add(r.base)?;
        add(r.end)?;
    }
    add(LOW_MEMORY_END)?;
    let points = &mut points[..n];
    points.sort_unstable();

    let mut map = Map { entries: [Entry::default(); MAX_ENTRIES], len: 0 };
    for pair in points.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if a == b {
            continue;
        }
        let mut best = None;
        for e in e820.iter().filter(|e| e.base <= a && b <= e.end()) {
            best = stronger(best, from_e820(e.kind));
        }
        let Some(mut kind) = best else { continue };
        if kind == kind::USABLE {
            for r in regions.iter().filter(|r| r.base <= a && b <= r.end) {
                kind = stronger(Some(kind), from_use(r.usage)).unwrap_or(kind);
            }
            if kind == kind::USABLE && a < LOW_MEMORY_END {
                kind = kind::RESERVED;
            }
        }
        map.push(a, b, kind)?;
    }

    // Round usable entries inward to whole pages, dropping empty ones.
    let mut out = Map { entries: [Entry::default(); MAX_ENTRIES], len: 0 };
    for e in map.entries() {
        let (mut base, mut end) = (e.base, e.base + e.length);
        if e.kind == kind::USABLE {
            base = align_up(base, PAGE_SIZE).unwrap_or(end);
            end = align_down(end, PAGE_SIZE);
        }
        if base < end {
            out.push(base, end, e.kind)?;
        }
    }
    Ok(out)
}
