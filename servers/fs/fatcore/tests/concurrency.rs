//! Several operations in flight on one `FileSystem`, on a disk whose every
//! request yields before completing (as a virtio request would): reads
//! overlap (more than one disk request in flight at once) and return the
//! right bytes; writes interleaved with reads leave a clean image; and an
//! operation dropped half-way does not wedge the lock or the cache.

mod common;

use common::*;
use fatcore::{FileSystem, MountOptions, OpenOptions, RamDisk};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

type Task<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

fn image(dir: &TempDir, files: usize) -> (std::path::PathBuf, Vec<Vec<u8>>) {
    let img = mkfs(dir, 32, 40 * 1024, &["-s", "1"]);
    let host = dir.path("f");
    let mut rng = Rng(3);
    let mut contents = Vec::new();
    for i in 0..files {
        let data = rng.bytes(20_000 + i * 3_001);
        std::fs::write(&host, &data).unwrap();
        put(&img, &host, &format!("/file {i}.bin"));
        contents.push(data);
    }
    (img, contents)
}

#[test]
fn reads_overlap() {
    if !have_tools() {
        return;
    }
    let dir = TempDir::new("conc");
    let (img, contents) = image(&dir, 8);
    let disk = RamDisk::new(std::fs::read(&img).unwrap(), 512).with_yield(true);
    let fs = block_on(FileSystem::mount(disk, MountOptions { cache_sectors: 8, ..Default::default() })).unwrap();
    let fs = &fs;
    let mut tasks: Vec<Task<'_, Vec<u8>>> = Vec::new();
    for i in 0..8 {
        tasks.push(Box::pin(async move { fs.read_file(&format!("/file {i}.bin")).await.unwrap() }));
    }
    tasks.push(Box::pin(async move { fs.list("/").await.unwrap().len().to_le_bytes().to_vec() }));
    let out = join_all(tasks);
    for i in 0..8 {
        assert!(out[i] == contents[i], "file {i}");
    }
    assert_eq!(out[8], 8usize.to_le_bytes());
    let max = fs.device().stats().max_in_flight;
    assert!(max >= 2, "reads never overlapped (max in flight {max})");
}

#[test]
fn writers_and_readers_interleave() {
    if !have_tools() {
        return;
    }
    let dir = TempDir::new("conc-w");
    let (img, contents) = image(&dir, 4);
    let disk = RamDisk::new(std::fs::read(&img).unwrap(), 512).with_yield(true);
    let fs = block_on(FileSystem::mount(disk, MountOptions { cache_sectors: 4, ..Default::default() })).unwrap();
    let fs = &fs;
    let mut rng = Rng(11);
    let new: Vec<Vec<u8>> = (0..4).map(|i| rng.bytes(30_000 + i * 777)).collect();
    let mut tasks: Vec<Task<'_, ()>> = Vec::new();
    for (i, data) in new.iter().enumerate() {
        tasks.push(Box::pin(async move {
            fs.mkdir(&format!("/dir {i}")).await.unwrap();
            let h = fs.open(&format!("/dir {i}/written {i}.bin"), OpenOptions::create()).await.unwrap();
            for chunk in data.chunks(4000) {
                fs.write(h, chunk).await.unwrap();
            }
            fs.close(h).unwrap();
        }));
        let want = &contents[i];
        tasks.push(Box::pin(async move {
            assert!(fs.read_file(&format!("/file {i}.bin")).await.unwrap() == *want);
            fs.rename(&format!("/file {i}.bin"), &format!("/renamed {i}.bin")).await.unwrap();
        }));
    }
    join_all(tasks);
    for (i, data) in new.iter().enumerate() {
        assert!(block_on(fs.read_file(&format!("/dir {i}/written {i}.bin"))).unwrap() == *data);
    }
    let disk = block_on(async { fs.sync().await }).map(|_| ());
    assert!(disk.is_ok());
    std::fs::write(&img, fs.device().snapshot()).unwrap();
    assert_clean(&img);
    for (i, data) in new.iter().enumerate() {
        assert!(get_copy(&dir, &img, &format!("/dir {i}/written {i}.bin")) == *data);
        assert!(get_copy(&dir, &img, &format!("/renamed {i}.bin")) == contents[i]);
    }
}

#[test]
fn cancelled_operations_leave_it_usable() {
    if !have_tools() {
        return;
    }
    let dir = TempDir::new("cancel");
    let (img, contents) = image(&dir, 2);
    let disk = RamDisk::new(std::fs::read(&img).unwrap(), 512).with_yield(true);
    let fs = block_on(FileSystem::mount(disk, MountOptions { cache_sectors: 2, ..Default::default() })).unwrap();
    let waker = Waker::noop();
    let mut cx = Context::from_waker(waker);
    let data = vec![7u8; 50_000];
    for polls in [1, 3, 10, 40, 200] {
        // Start a write and a read, poll them a few times, drop them.
        let h = block_on(fs.open("/victim.bin", OpenOptions::create())).unwrap();
        {
            let mut w = Box::pin(fs.write(h, &data));
            let mut r = Box::pin(fs.read_file("/file 0.bin"));
            for _ in 0..polls {
                if let Poll::Ready(res) = w.as_mut().poll(&mut cx) {
                    res.unwrap();
                    break;
                }
                let _ = r.as_mut().poll(&mut cx);
            }
        }
        fs.close(h).unwrap();
        // Everything still works.
        assert!(block_on(fs.read_file("/file 1.bin")).unwrap() == contents[1]);
        block_on(fs.write_file("/after.bin", &data)).unwrap();
        assert_eq!(block_on(fs.read_file("/after.bin")).unwrap(), data);
    }
    block_on(fs.sync()).unwrap();
    assert_eq!(fs.open_handles(), 0, "a dropped read_file closes its handle");
}
