//! Shared by the integration tests: the executor, temporary directories,
//! wrappers around the host's dosfstools/mtools, and a seeded PRNG.
#![allow(dead_code)]

#[path = "../../src/testutil.rs"]
mod exec;

#[allow(unused_imports)]
pub use exec::{block_on, join_all};

use fatcore::{FileSystem, MountOptions, RamDisk};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "fatcore-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tool(name: &str) -> Option<PathBuf> {
    for dir in ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return Some(p);
        }
    }
    None
}

/// Whether dosfstools and mtools are installed; if not, says so (the test
/// then returns early: skipped).
pub fn have_tools() -> bool {
    let missing: Vec<&str> =
        ["mkfs.fat", "fsck.fat", "mcopy", "mmd", "mtype", "mdir"].into_iter().filter(|t| tool(t).is_none()).collect();
    if missing.is_empty() {
        true
    } else {
        eprintln!("SKIPPED: host tools missing: {missing:?} (install dosfstools and mtools)");
        false
    }
}

fn run(name: &str, args: &[&str]) -> std::process::Output {
    let path = tool(name).unwrap_or_else(|| panic!("{name} not installed"));
    Command::new(path)
        .args(args)
        .env("MTOOLS_SKIP_CHECK", "1")
        .output()
        .unwrap_or_else(|e| panic!("running {name}: {e}"))
}

fn ok(name: &str, args: &[&str]) -> Vec<u8> {
    let out = run(name, args);
    assert!(
        out.status.success(),
        "{name} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Makes an image of `kib` KiB with `mkfs.fat -F bits` plus `extra` args.
pub fn mkfs(dir: &TempDir, bits: u32, kib: u32, extra: &[&str]) -> PathBuf {
    let img = dir.path(&format!("fat{bits}.img"));
    let _ = std::fs::remove_file(&img);
    let bits_s = bits.to_string();
    let kib_s = kib.to_string();
    let mut args = vec!["-F", bits_s.as_str()];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-C", img.to_str().unwrap(), kib_s.as_str()]);
    ok("mkfs.fat", &args);
    img
}

/// `mcopy` a host file into the image as `dest` (e.g. `/dir/name`).
pub fn put(img: &Path, host: &Path, dest: &str) {
    ok("mcopy", &["-i", img.to_str().unwrap(), host.to_str().unwrap(), &format!("::{dest}")]);
}

/// Copies a whole host directory tree into the image's root with one
/// `mcopy -s`.
pub fn put_tree(img: &Path, root: &Path) {
    let mut entries: Vec<String> =
        std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path().to_str().unwrap().to_owned()).collect();
    entries.sort();
    let mut args = vec!["-s", "-i", img.to_str().unwrap()];
    args.extend(entries.iter().map(String::as_str));
    args.push("::/");
    ok("mcopy", &args);
}

/// Extracts the whole image with one `mcopy -s`; returns every file (by
/// image path, e.g. `/a/b.txt`) and every directory.
pub fn get_tree(dir: &TempDir, img: &Path) -> (BTreeMap<String, Vec<u8>>, BTreeSet<String>) {
    let out = dir.path("extracted-tree");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let listing = names(img, "/");
    if !listing.is_empty() {
        ok("mcopy", &["-s", "-n", "-i", img.to_str().unwrap(), "::/*", out.to_str().unwrap()]);
    }
    let mut files = BTreeMap::new();
    let mut dirs = BTreeSet::new();
    let mut stack = vec![out.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = format!("/{}", p.strip_prefix(&out).unwrap().to_str().unwrap());
            if p.is_dir() {
                dirs.insert(rel);
                stack.push(p);
            } else {
                files.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    (files, dirs)
}

/// Every path in the image, as `mdir -/ -b` lists it (directories end in
/// `/`), without the `::` prefix.
pub fn all_names(img: &Path) -> BTreeSet<String> {
    let out = ok("mdir", &["-/", "-b", "-i", img.to_str().unwrap(), "::/"]);
    String::from_utf8_lossy(&out)
        .lines()
        .map(|l| l.trim_end().trim_start_matches("::").to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

/// `mmd` a directory in the image.
pub fn mkdir(img: &Path, dest: &str) {
    ok("mmd", &["-i", img.to_str().unwrap(), &format!("::{dest}")]);
}

/// A file's contents as mtools reads it.
pub fn get(img: &Path, src: &str) -> Vec<u8> {
    ok("mtype", &["-i", img.to_str().unwrap(), &format!("::{src}")])
}

/// A file's contents via `mcopy` to a host file (binary-safe, no text
/// conversion).
pub fn get_copy(dir: &TempDir, img: &Path, src: &str) -> Vec<u8> {
    let out = dir.path("extracted.bin");
    let _ = std::fs::remove_file(&out);
    ok("mcopy", &["-n", "-i", img.to_str().unwrap(), &format!("::{src}"), out.to_str().unwrap()]);
    std::fs::read(&out).unwrap()
}

/// Names in a directory as `mdir -b` lists them (full paths).
pub fn names(img: &Path, dir: &str) -> Vec<String> {
    let out = ok("mdir", &["-b", "-i", img.to_str().unwrap(), &format!("::{dir}")]);
    String::from_utf8_lossy(&out).lines().map(|l| l.trim_end().to_owned()).filter(|l| !l.is_empty()).collect()
}

/// Whether `fsck.fat -n` finds nothing to fix; its report either way.
pub fn fsck(img: &Path) -> (bool, String) {
    let out = run("fsck.fat", &["-n", "-V", img.to_str().unwrap()]);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// Asserts the image is clean.
pub fn assert_clean(img: &Path) {
    let (clean, report) = fsck(img);
    assert!(clean, "fsck.fat -n found problems:\n{report}");
}

/// Mounts an image held in memory.
pub fn mount(bytes: Vec<u8>, opts: MountOptions) -> FileSystem<RamDisk> {
    block_on(FileSystem::mount(RamDisk::new(bytes, 512), opts)).expect("mount")
}

/// Syncs, unmounts, and writes the image back to `img`.
pub fn save(fs: FileSystem<RamDisk>, img: &Path) {
    let disk = block_on(fs.unmount()).expect("unmount");
    std::fs::write(img, disk.into_inner()).unwrap();
}

/// xorshift64*: reproducible pseudo-random bytes.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n + 8);
        while v.len() < n {
            v.extend_from_slice(&self.next().to_le_bytes());
        }
        v.truncate(n);
        v
    }
}
