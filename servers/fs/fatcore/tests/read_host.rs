//! Images made and filled by the host's `mkfs.fat` and mtools are read
//! correctly: directory listings (long names, short-only names with NT
//! case bits, Unicode), nested directories, a directory spanning many
//! clusters, a multi-MiB file, empty files — on FAT12, FAT16 and FAT32,
//! with a roomy and with a tiny cache.

mod common;

use common::*;
use fatcore::{Error, FatType, MountOptions, OpenOptions, SeekFrom};
use std::collections::BTreeMap;

/// Builds the host tree, copies it in with one `mcopy -s`, and returns
/// what each file should contain.
fn populate(dir: &TempDir, img: &std::path::Path, big: usize) -> BTreeMap<String, Vec<u8>> {
    let mut rng = Rng(0x1234_5678);
    let mut files = BTreeMap::new();
    let root = dir.path("tree");
    let mut add = |path: &str, data: Vec<u8>| {
        let host = root.join(&path[1..]);
        std::fs::create_dir_all(host.parent().unwrap()).unwrap();
        std::fs::write(&host, &data).unwrap();
        files.insert(path.to_owned(), data);
    };
    add("/hello.txt", b"hello, world\n".to_vec());
    add("/UPPER.TXT", b"upper".to_vec());
    add("/lower.txt", b"lower".to_vec());
    add("/empty", Vec::new());
    add("/ünïcödé ✓ name.txt", "unicode".as_bytes().to_vec());
    add("/big file.bin", rng.bytes(big));
    for i in 0..150 {
        let len = (i * 37) % 3000;
        add(&format!("/Many Files/file number {i:03} with a long name.dat"), rng.bytes(len));
    }
    add("/a/b/c/deeper directory/deep.bin", rng.bytes(5000));
    add("/a/b/x.txt", b"x".to_vec());
    put_tree(img, &root);
    files
}

fn check(bits: u32, kib: u32, big: usize, cache: usize) {
    if !have_tools() {
        return;
    }
    let dir = TempDir::new("read");
    let img = mkfs(&dir, bits, kib, &["-s", "1", "-n", "TESTVOL"]);
    let files = populate(&dir, &img, big);
    assert_clean(&img);

    let fs = mount(std::fs::read(&img).unwrap(), MountOptions { cache_sectors: cache, ..Default::default() });
    let st = block_on(fs.statfs()).unwrap();
    let want = match bits {
        12 => FatType::Fat12,
        16 => FatType::Fat16,
        _ => FatType::Fat32,
    };
    assert_eq!(st.fat_type, want);
    assert_eq!(st.label, "TESTVOL");

    // Every file reads back byte for byte, by whole-file read and by
    // handle reads of an awkward size.
    for (path, data) in &files {
        assert_eq!(&block_on(fs.read_file(path)).unwrap_or_else(|e| panic!("{path}: {e}")), data, "{path}");
        let m = block_on(fs.stat(path)).unwrap();
        assert_eq!((m.size, m.is_dir), (data.len() as u64, false), "{path}");
    }
    let h = block_on(fs.open("/big file.bin", OpenOptions::read())).unwrap();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 7919];
    loop {
        let n = block_on(fs.read(h, &mut buf)).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    assert!(got == files["/big file.bin"], "chunked read of the big file differs");
    // Random access.
    let off = (big / 3) as u64 + 5;
    assert_eq!(fs.seek(h, SeekFrom::Start(off)), Ok(off));
    let n = block_on(fs.read(h, &mut buf[..100])).unwrap();
    assert_eq!(&buf[..n], &files["/big file.bin"][off as usize..off as usize + 100]);
    assert_eq!(block_on(fs.read_at(h, big as u64 - 10, &mut buf)).unwrap(), 10);
    fs.close(h).unwrap();

    // Listings.
    let root: Vec<String> = block_on(fs.list("/")).unwrap().into_iter().map(|e| e.name).collect();
    for n in ["hello.txt", "UPPER.TXT", "lower.txt", "empty", "ünïcödé ✓ name.txt", "big file.bin", "Many Files", "a"]
    {
        assert!(root.iter().any(|r| r == n), "{n} missing from {root:?}");
    }
    let mut many = block_on(fs.list("/many files")).unwrap();
    assert_eq!(many.len(), 150);
    let listed: Vec<String> = many.iter().map(|e| e.name.clone()).collect();
    many.sort_by(|a, b| a.name.cmp(&b.name));
    for (i, e) in many.iter().enumerate() {
        assert_eq!(e.name, format!("file number {i:03} with a long name.dat"));
        assert!(!e.meta.is_dir);
        assert!(e.meta.modified.is_some());
    }
    // Readdir through a handle gives the same.
    let h = block_on(fs.open("/Many Files", OpenOptions::read())).unwrap();
    let mut n = 0;
    while let Some(e) = block_on(fs.readdir(h)).unwrap() {
        assert_eq!(e.name, listed[n]);
        n += 1;
    }
    assert_eq!(n, 150);
    assert!(block_on(fs.fstat(h)).unwrap().is_dir);
    fs.close(h).unwrap();

    // Lookups: any case, and by short alias.
    assert_eq!(
        block_on(fs.read_file("/A/B/C/DEEPER DIRECTORY/DEEP.BIN")).unwrap(),
        files["/a/b/c/deeper directory/deep.bin"]
    );
    let alias = &many[7].short_name;
    assert!(alias.contains('~'), "{alias}");
    assert_eq!(
        block_on(fs.read_file(&format!("/Many Files/{alias}"))).unwrap(),
        files[&format!("/Many Files/{}", many[7].name)]
    );
    assert!(block_on(fs.stat("/a/b")).unwrap().is_dir);
    assert_eq!(block_on(fs.stat("/a/nope")), Err(Error::NotFound));
    assert_eq!(block_on(fs.stat("/hello.txt/x")), Err(Error::NotADirectory));
    assert_eq!(fs.open_handles(), 0);
}

#[test]
fn fat12() {
    check(12, 1440, 400 * 1024, 64);
}

#[test]
fn fat16() {
    check(16, 16 * 1024, 3 * 1024 * 1024, 64);
}

#[test]
fn fat32() {
    check(32, 40 * 1024, 3 * 1024 * 1024 + 777, 64);
}

#[test]
fn fat32_tiny_cache() {
    check(32, 40 * 1024, 1024 * 1024, 2);
}

#[test]
fn fat16_4k_sectors() {
    if !have_tools() {
        return;
    }
    let dir = TempDir::new("4k");
    let img = mkfs(&dir, 16, 16 * 1024, &["-S", "4096", "-s", "1"]);
    let host = dir.path("f");
    let data = Rng(9).bytes(100_000);
    std::fs::write(&host, &data).unwrap();
    put(&img, &host, "/A File.bin");
    let fs = mount(std::fs::read(&img).unwrap(), MountOptions::default());
    assert_eq!(block_on(fs.read_file("/a file.bin")).unwrap(), data);
    block_on(fs.write_file("/new one.txt", b"four k")).unwrap();
    save(fs, &img);
    assert_clean(&img);
    assert_eq!(get(&img, "/new one.txt"), b"four k");
}
