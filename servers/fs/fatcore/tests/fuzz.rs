//! Corrupt images: random byte mutations of the boot sector, FSInfo, the
//! FATs, the root directory and subdirectories, then mount, walk, read,
//! write, rename, delete and sync. Every call must return (`Ok` or an
//! error); none may panic or loop forever. Seeded, so a failure names the
//! case to replay.

mod common;

use common::*;
use fatcore::{BlockDevice, FileSystem, MountOptions, OpenOptions, RamDisk};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Walks the tree (bounded: a corrupt directory can point at an ancestor)
/// and reads every file (bounded: a corrupt size can be 4 GiB).
fn exercise<D: BlockDevice>(fs: &FileSystem<D>, rng: &mut Rng) {
    let mut stack = vec![("/".to_owned(), 0)];
    let mut seen = 0;
    let mut files = Vec::new();
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = block_on(fs.list(&dir)) else { continue };
        for e in entries {
            seen += 1;
            if seen > 400 {
                break;
            }
            let path = if dir == "/" { format!("/{}", e.name) } else { format!("{dir}/{}", e.name) };
            let _ = block_on(fs.stat(&path));
            if e.meta.is_dir {
                if depth < 6 {
                    stack.push((path, depth + 1));
                }
            } else {
                files.push(path);
            }
        }
    }
    let mut buf = vec![0u8; 64 * 1024];
    for path in &files {
        if let Ok(h) = block_on(fs.open(path, OpenOptions::read())) {
            for _ in 0..4 {
                match block_on(fs.read(h, &mut buf)) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
            let _ = fs.close(h);
        }
    }
    if let Ok(h) = block_on(fs.open("/Dir", OpenOptions::read())) {
        while let Ok(Some(_)) = block_on(fs.readdir(h)) {}
        let _ = fs.close(h);
    }
    // Changes.
    let len = rng.below(40_000) as usize;
    let data = rng.bytes(len);
    let _ = block_on(fs.write_file("/new file written by fuzz.txt", &data));
    let _ = block_on(fs.write_file("/Dir/inner new.bin", &data));
    let _ = block_on(fs.mkdir("/Dir/fresh dir"));
    if let Some(p) = files.first() {
        let _ = block_on(fs.rename(p, "/renamed.bin"));
        if let Ok(h) = block_on(fs.open("/renamed.bin", OpenOptions::read_write())) {
            let _ = block_on(fs.write_at(h, rng.below(100_000), b"patch"));
            let _ = block_on(fs.truncate(h, rng.below(50_000)));
            let _ = fs.close(h);
        }
    }
    if let Some(p) = files.get(1) {
        let _ = block_on(fs.unlink(p));
    }
    let _ = block_on(fs.rename("/Dir", "/Moved Dir"));
    let _ = block_on(fs.rmdir("/Moved Dir/Sub"));
    let _ = block_on(fs.statfs());
    let _ = block_on(fs.sync());
}

fn fuzz(bits: u32, kib: u32, spc: &str, cases: u64) {
    if !have_tools() {
        return;
    }
    let dir = TempDir::new("fuzz");
    let img = mkfs(&dir, bits, kib, &["-s", spc, "-r", "64"]);
    let host = dir.path("f");
    let mut rng = Rng(99);
    mkdir(&img, "/Dir");
    mkdir(&img, "/Dir/Sub");
    for i in 0..12 {
        std::fs::write(&host, rng.bytes(700 * i + 10)).unwrap();
        put(&img, &host, &format!("/Dir/a file with a long name {i}.bin"));
        put(&img, &host, &format!("/F{i}.TXT"));
    }
    let base = std::fs::read(&img).unwrap();
    let fs = mount(base.clone(), MountOptions::default());
    let geo = block_on(fs.statfs()).unwrap();
    drop(fs);
    // Regions worth hitting: boot sector + FSInfo, the FATs, the root
    // directory, and the first data clusters (subdirectories).
    let reserved = u16::from_le_bytes([base[14], base[15]]) as usize * 512;
    let fat_sectors = if bits == 32 {
        u32::from_le_bytes([base[36], base[37], base[38], base[39]]) as usize
    } else {
        u16::from_le_bytes([base[22], base[23]]) as usize
    };
    let fats_end = reserved + 2 * fat_sectors * 512;
    let meta_end = (fats_end + 64 * 32 + 64 * geo.cluster_size as usize).min(base.len());
    let regions = [(0usize, 512usize), (512, reserved.max(1024)), (reserved, fats_end), (fats_end, meta_end)];

    let mut mounted = 0;
    // One buffer, refilled from `base` for each case (allocating a fresh
    // copy of a 34 MiB image per case costs more than the case).
    let mut image = base.clone();
    for case in 0..cases {
        let seed = 0xF00D + case * 7_919 + u64::from(bits);
        let mut rng = Rng(seed);
        image.copy_from_slice(&base);
        let edits = 1 + rng.below(12);
        for _ in 0..edits {
            let (lo, hi) = regions[rng.below(regions.len() as u64) as usize];
            let at = lo + rng.below((hi - lo) as u64) as usize;
            match rng.below(4) {
                0 => image[at] = 0,
                1 => image[at] = 0xFF,
                2 => image[at] ^= 1 << rng.below(8),
                _ => image[at] = rng.next() as u8,
            }
        }
        let cache = 1 + rng.below(32) as usize;
        let disk = RamDisk::new(std::mem::take(&mut image), 512);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let opts = MountOptions { cache_sectors: cache, ..Default::default() };
            if let Ok(fs) = block_on(FileSystem::mount(&disk, opts)) {
                exercise(&fs, &mut rng);
                return true;
            }
            false
        }));
        match outcome {
            Ok(m) => mounted += u64::from(m),
            Err(p) => {
                eprintln!("FAT{bits} fuzz case {case} (seed {seed:#x}, cache {cache}) panicked");
                std::panic::resume_unwind(p);
            }
        }
        image = disk.into_inner();
    }
    eprintln!("FAT{bits}: {mounted} of {cases} mutated images mounted and were exercised");
    assert!(mounted * 3 > cases, "too few mutated images mount for the test to mean much");
}

#[test]
fn fuzz_fat12() {
    fuzz(12, 1440, "1", 300);
}

#[test]
fn fuzz_fat16() {
    fuzz(16, 4 * 1024, "1", 300);
}

#[test]
fn fuzz_fat32() {
    fuzz(32, 34 * 1024, "1", 80);
}

/// Whole sectors of garbage where the boot sector and FAT are.
#[test]
fn garbage_sectors() {
    let mut rng = Rng(5);
    for case in 0..200 {
        let mut image = vec![0u8; 256 * 1024];
        let n = rng.below(8) as usize + 1;
        let g = rng.bytes(n * 512);
        image[..g.len()].copy_from_slice(&g);
        image[510] = 0x55;
        image[511] = 0xAA;
        if case % 2 == 0 {
            image[11] = 0;
            image[12] = 2; // 512-byte sectors, so parsing goes deeper
        }
        let disk = RamDisk::new(image, 512);
        if let Ok(fs) = block_on(FileSystem::mount(disk, MountOptions { cache_sectors: 4, ..Default::default() })) {
            exercise(&fs, &mut rng);
        }
    }
}
