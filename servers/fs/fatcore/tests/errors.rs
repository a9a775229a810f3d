//! Each error is returned where it should be, and the image stays clean
//! afterwards: NotFound, Exists, NotEmpty, NotADirectory, IsADirectory,
//! InvalidName, InvalidArgument, Busy, BadHandle, PermissionDenied,
//! NoSpace (data area full, FAT16 root directory full), FileTooLarge, Io
//! (a failing disk), and Corrupt/Unsupported at mount.

mod common;

use common::*;
use fatcore::{Error, FileSystem, MountOptions, OpenOptions, RamDisk, SeekFrom};

fn fresh(dir: &TempDir, bits: u32, kib: u32, extra: &[&str]) -> (std::path::PathBuf, FileSystem<RamDisk>) {
    let img = mkfs(dir, bits, kib, extra);
    let fs = mount(std::fs::read(&img).unwrap(), MountOptions::default());
    (img, fs)
}

#[test]
fn namespace_errors() {
    if !have_tools() {
        return;
    }
    let dir = TempDir::new("err");
    let (img, fs) = fresh(&dir, 16, 8 * 1024, &["-s", "1"]);
    block_on(fs.mkdir("/d")).unwrap();
    block_on(fs.write_file("/d/f.txt", b"x")).unwrap();
    block_on(fs.write_file("/file", b"y")).unwrap();

    assert_eq!(block_on(fs.stat("/nope")), Err(Error::NotFound));
    assert_eq!(block_on(fs.mkdir("/nope/x")), Err(Error::NotFound));
    assert_eq!(block_on(fs.unlink("/d/nope")), Err(Error::NotFound));
    assert_eq!(block_on(fs.mkdir("/d")), Err(Error::Exists));
    assert_eq!(block_on(fs.mkdir("/D")), Err(Error::Exists), "names are case-insensitive");
    assert_eq!(
        block_on(fs.open("/file", OpenOptions { write: true, create_new: true, ..Default::default() })),
        Err(Error::Exists)
    );
    assert_eq!(block_on(fs.rmdir("/d")), Err(Error::NotEmpty));
    assert_eq!(block_on(fs.rmdir("/file")), Err(Error::NotADirectory));
    assert_eq!(block_on(fs.stat("/file/x")), Err(Error::NotADirectory));
    assert_eq!(block_on(fs.list("/file")), Err(Error::NotADirectory));
    assert_eq!(block_on(fs.unlink("/d")), Err(Error::IsADirectory));
    assert_eq!(block_on(fs.open("/d", OpenOptions::read_write())), Err(Error::IsADirectory));
    assert_eq!(block_on(fs.open("/", OpenOptions::create())), Err(Error::IsADirectory));
    assert_eq!(block_on(fs.rename("/file", "/d")), Err(Error::IsADirectory));
    block_on(fs.mkdir("/e")).unwrap();
    assert_eq!(block_on(fs.rename("/d", "/file")), Err(Error::NotADirectory));
    assert_eq!(block_on(fs.rename("/d", "/e")), Ok(()), "an empty directory can be replaced");
    assert_eq!(block_on(fs.stat("/d")), Err(Error::NotFound));
    for bad in ["/a*b", "/what?", "/trailing.", "/sp ", "/a:b", "/tab\tname"] {
        assert_eq!(block_on(fs.write_file(bad, b"")), Err(Error::InvalidName), "{bad:?}");
        assert_eq!(block_on(fs.mkdir(bad)), Err(Error::InvalidName), "{bad:?}");
    }
    let long = format!("/{}", "n".repeat(256));
    assert_eq!(block_on(fs.write_file(&long, b"")), Err(Error::InvalidName));
    block_on(fs.write_file(&long[..256], b"255 is fine")).unwrap();
    assert_eq!(block_on(fs.rename("/e", "/e/inner")), Err(Error::InvalidArgument));
    assert_eq!(block_on(fs.rmdir("/")), Err(Error::InvalidArgument));
    assert_eq!(block_on(fs.mkdir("/")), Err(Error::InvalidArgument));
    assert_eq!(block_on(fs.open("/file", OpenOptions::default())), Err(Error::InvalidArgument));

    // Handles.
    let h = block_on(fs.open("/e/f.txt", OpenOptions::read())).unwrap();
    assert_eq!(block_on(fs.unlink("/e/f.txt")), Err(Error::Busy));
    assert_eq!(block_on(fs.rename("/file", "/e/f.txt")), Err(Error::Busy));
    assert_eq!(block_on(fs.write(h, b"no")), Err(Error::PermissionDenied));
    assert_eq!(block_on(fs.truncate(h, 0)), Err(Error::PermissionDenied));
    assert_eq!(fs.seek(h, SeekFrom::Current(-1)), Err(Error::InvalidArgument));
    assert_eq!(block_on(fs.readdir(h)), Err(Error::NotADirectory));
    fs.close(h).unwrap();
    assert_eq!(fs.close(h), Err(Error::BadHandle));
    assert_eq!(block_on(fs.read(h, &mut [0; 4])), Err(Error::BadHandle));
    let w = block_on(fs.open("/file", OpenOptions { write: true, ..Default::default() })).unwrap();
    assert_eq!(block_on(fs.read(w, &mut [0; 4])), Err(Error::PermissionDenied));
    assert_eq!(block_on(fs.write_at(w, u64::from(u32::MAX) - 1, b"xx")), Err(Error::FileTooLarge));
    assert_eq!(block_on(fs.truncate(w, 1 << 32)), Err(Error::FileTooLarge));
    fs.close(w).unwrap();
    let d = block_on(fs.open("/e", OpenOptions::read())).unwrap();
    assert_eq!(block_on(fs.read(d, &mut [0; 4])), Err(Error::IsADirectory));
    fs.close(d).unwrap();
    block_on(fs.unlink("/e/f.txt")).unwrap();
    block_on(fs.rmdir("/e")).unwrap();

    save(fs, &img);
    assert_clean(&img);
}

#[test]
fn no_space() {
    if !have_tools() {
        return;
    }
    let dir = TempDir::new("nospace");
    let (img, fs) = fresh(&dir, 12, 360, &["-s", "2"]);
    let total = block_on(fs.statfs()).unwrap();
    let chunk = vec![0xA5u8; 10_000];
    let h = block_on(fs.open("/filler", OpenOptions::create())).unwrap();
    let mut written = 0u64;
    let err = loop {
        match block_on(fs.write(h, &chunk)) {
            Ok(n) => written += n as u64,
            Err(e) => break e,
        }
    };
    assert_eq!(err, Error::NoSpace);
    fs.close(h).unwrap();
    assert_eq!(block_on(fs.stat("/filler")).unwrap().size, written, "the failed write left the size alone");
    let free = block_on(fs.statfs()).unwrap().free_clusters;
    assert!(free < total.free_clusters && u64::from(free) * 1024 < 10_000, "{free} clusters left");
    assert_eq!(block_on(fs.mkdir("/more dirs")).err().unwrap_or(Error::NoSpace), Error::NoSpace);
    save(fs, &img);
    assert_clean(&img);
    assert_eq!(get_copy(&dir, &img, "/filler").len() as u64, written);

    // FAT16 with a 16-entry root directory: the 17th name does not fit.
    let dir = TempDir::new("rootfull");
    let (img, fs) = fresh(&dir, 16, 8 * 1024, &["-r", "16", "-s", "1"]);
    let mut made = 0;
    let err = loop {
        match block_on(fs.write_file(&format!("/F{made}"), b"")) {
            Ok(()) => made += 1,
            Err(e) => break e,
        }
    };
    assert_eq!((err, made), (Error::NoSpace, 16));
    // A subdirectory grows instead.
    block_on(fs.unlink("/F0")).unwrap();
    block_on(fs.mkdir("/sub")).unwrap();
    for i in 0..100 {
        block_on(fs.write_file(&format!("/sub/a rather long file name {i}.txt"), b"z")).unwrap();
    }
    save(fs, &img);
    assert_clean(&img);
    assert_eq!(names(&img, "/sub").len(), 100);
}

#[test]
fn io_errors_are_reported_and_recoverable() {
    if !have_tools() {
        return;
    }
    let dir = TempDir::new("io");
    let img = mkfs(&dir, 32, 40 * 1024, &["-s", "1"]);
    let disk = RamDisk::new(std::fs::read(&img).unwrap(), 512);
    let fs = block_on(FileSystem::mount(disk, MountOptions { cache_sectors: 4, ..Default::default() })).unwrap();
    fs.device().fail_writes_after(Some(0));
    let data = Rng(1).bytes(100_000);
    // Small cache: the write must evict, the eviction fails.
    assert_eq!(block_on(fs.write_file("/doomed.bin", &data)), Err(Error::Io));
    assert_eq!(block_on(fs.sync()), Err(Error::Io));
    fs.device().fail_writes_after(None);
    block_on(fs.write_file("/doomed.bin", &data)).unwrap();
    block_on(fs.sync()).unwrap();
    std::fs::write(&img, fs.device().snapshot()).unwrap();
    let (clean, report) = fsck(&img);
    // The failed first attempt may leave lost clusters (like a power cut),
    // but nothing worse: what fsck reports must be only that.
    assert!(clean || !report.contains("differ") && !report.contains("cross"), "{report}");
    assert!(get_copy(&dir, &img, "/doomed.bin") == data);
}

#[test]
fn bad_volumes_do_not_mount() {
    let mk = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut v = vec![0u8; 1 << 20];
        f(&mut v);
        block_on(FileSystem::mount(RamDisk::new(v, 512), MountOptions::default())).err()
    };
    assert_eq!(mk(&|_| {}), Some(Error::Corrupt), "all zeros");
    if !have_tools() {
        return;
    }
    let dir = TempDir::new("bad");
    let img = std::fs::read(mkfs(&dir, 12, 1024, &[])).unwrap();
    let truncated = img[..img.len() / 2].to_vec();
    assert_eq!(
        block_on(FileSystem::mount(RamDisk::new(truncated, 512), MountOptions::default())).err(),
        Some(Error::Corrupt)
    );
    let odd = RamDisk::new(img.clone(), 3);
    assert_eq!(block_on(FileSystem::mount(odd, MountOptions::default())).err(), Some(Error::Unsupported));
    let big_blocks = RamDisk::new(img, 1024);
    assert_eq!(block_on(FileSystem::mount(big_blocks, MountOptions::default())).err(), Some(Error::Unsupported));
}
