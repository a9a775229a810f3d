//! What the library writes, the host reads: after creating, writing,
//! seeking, truncating, renaming (within and across directories, over an
//! existing file, a change of case, a whole directory), deleting and
//! removing directories, `fsck.fat -n` finds nothing to fix and mtools
//! reads every file byte for byte and lists every directory as expected.
//! Run on FAT12, FAT16 and FAT32, with a normal and a tiny cache, plus a
//! seeded random sequence of operations checked against a model.

mod common;

use common::*;
use fatcore::{Error, FileSystem, MountOptions, OpenOptions, RamDisk, SeekFrom, Timestamp};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[derive(Default)]
struct Model {
    files: BTreeMap<String, Vec<u8>>,
    dirs: BTreeSet<String>,
}

impl Model {
    fn mkdir(&mut self, fs: &FileSystem<RamDisk>, p: &str) {
        block_on(fs.mkdir(p)).unwrap_or_else(|e| panic!("mkdir {p}: {e}"));
        self.dirs.insert(p.to_owned());
    }

    fn write(&mut self, fs: &FileSystem<RamDisk>, p: &str, data: Vec<u8>) {
        block_on(fs.write_file(p, &data)).unwrap_or_else(|e| panic!("write {p}: {e}"));
        self.files.insert(p.to_owned(), data);
    }

    fn rename(&mut self, fs: &FileSystem<RamDisk>, from: &str, to: &str) {
        block_on(fs.rename(from, to)).unwrap_or_else(|e| panic!("rename {from} -> {to}: {e}"));
        let moved: Vec<(String, Vec<u8>)> = self
            .files
            .iter()
            .filter(|(k, _)| *k == from || k.starts_with(&format!("{from}/")))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (k, v) in moved {
            self.files.remove(&k);
            self.files.insert(format!("{to}{}", &k[from.len()..]), v);
        }
        let dirs: Vec<String> =
            self.dirs.iter().filter(|k| *k == from || k.starts_with(&format!("{from}/"))).cloned().collect();
        for k in dirs {
            self.dirs.remove(&k);
            self.dirs.insert(format!("{to}{}", &k[from.len()..]));
        }
    }

    /// Checks every file and directory through the library.
    fn verify_lib(&self, fs: &FileSystem<RamDisk>) {
        for (p, data) in &self.files {
            let got = block_on(fs.read_file(p)).unwrap_or_else(|e| panic!("read {p}: {e}"));
            assert!(got == *data, "{p}: {} bytes, want {}", got.len(), data.len());
        }
        for d in self.dirs.iter().map(String::as_str).chain(["/"]) {
            let mut got: Vec<String> = block_on(fs.list(d)).unwrap().into_iter().map(|e| e.name).collect();
            got.sort();
            assert_eq!(got, self.children(d), "listing of {d}");
        }
    }

    /// Names directly in `dir`.
    fn children(&self, dir: &str) -> Vec<String> {
        let prefix = if dir == "/" { "/".to_owned() } else { format!("{dir}/") };
        let mut out: Vec<String> = self
            .files
            .keys()
            .chain(self.dirs.iter())
            .filter_map(|k| k.strip_prefix(&prefix))
            .filter(|rest| !rest.contains('/'))
            .map(str::to_owned)
            .collect();
        out.sort();
        out
    }

    /// Checks the saved image with fsck and mtools: the extracted tree
    /// equals the model exactly, and so do mdir's names.
    fn verify_host(&self, dir: &TempDir, img: &Path) {
        assert_clean(img);
        let (files, dirs) = get_tree(dir, img);
        for (p, data) in &self.files {
            let got = files.get(p).unwrap_or_else(|| panic!("mtools did not extract {p}"));
            assert!(got == data, "mtools read {p}: {} bytes, want {}", got.len(), data.len());
        }
        assert_eq!(files.keys().collect::<Vec<_>>(), self.files.keys().collect::<Vec<_>>());
        assert_eq!(dirs, self.dirs);
        let want: BTreeSet<String> =
            self.files.keys().cloned().chain(self.dirs.iter().map(|d| format!("{d}/"))).collect();
        assert_eq!(all_names(img), want, "mdir -/");
    }
}

fn clock() -> Timestamp {
    Timestamp { year: 2025, month: 6, day: 15, hour: 12, minute: 34, second: 56 }
}

fn scripted(bits: u32, kib: u32, big: usize, cache: usize) {
    if !have_tools() {
        return;
    }
    let dir = TempDir::new("write");
    let spc = if bits == 12 { "4" } else { "1" };
    let img = mkfs(&dir, bits, kib, &["-s", spc]);
    // Something the host put there first.
    let host = dir.path("h");
    std::fs::write(&host, b"from the host").unwrap();
    put(&img, &host, "/host file.txt");
    let opts = MountOptions { cache_sectors: cache, clock, ..Default::default() };
    let fs = mount(std::fs::read(&img).unwrap(), opts);
    let mut m = Model::default();
    m.files.insert("/host file.txt".into(), b"from the host".to_vec());
    let mut rng = Rng(bits as u64 * 7919 + cache as u64);

    m.mkdir(&fs, "/docs");
    m.mkdir(&fs, "/docs/sub dir");
    m.mkdir(&fs, "/tmp");
    m.mkdir(&fs, "/Empty Dir");
    for i in 0..120 {
        m.write(&fs, &format!("/docs/document {i} — draft.txt"), rng.bytes((i * 131) % 6000));
    }
    m.write(&fs, "/README.TXT", b"read me".to_vec());
    m.write(&fs, "/lower.md", b"# lower".to_vec());
    m.write(&fs, "/docs/sub dir/NOTE", b"note".to_vec());
    m.write(&fs, "/zero length", Vec::new());

    // A big file in odd-sized chunks, then overwritten in the middle and
    // appended to through a second handle.
    let mut video = rng.bytes(big);
    let h = block_on(fs.open("/video.raw", OpenOptions::create())).unwrap();
    for chunk in video.chunks(7777) {
        assert_eq!(block_on(fs.write(h, chunk)), Ok(chunk.len()));
    }
    let patch = rng.bytes(10_000);
    let at = big / 2 - 3;
    assert_eq!(fs.seek(h, SeekFrom::Start(at as u64)), Ok(at as u64));
    block_on(fs.write(h, &patch)).unwrap();
    video[at..at + patch.len()].copy_from_slice(&patch);
    let a = block_on(fs.open("/video.raw", OpenOptions::append())).unwrap();
    let tail = rng.bytes(5000);
    block_on(fs.write(a, &tail)).unwrap();
    video.extend_from_slice(&tail);
    assert_eq!(block_on(fs.fstat(h)).unwrap().size, video.len() as u64, "size seen through the other handle");
    fs.close(a).unwrap();
    fs.close(h).unwrap();
    m.files.insert("/video.raw".into(), video);

    // A hole: writing past the end fills with zeros.
    let h = block_on(fs.open("/sparse.bin", OpenOptions::create())).unwrap();
    block_on(fs.write_at(h, 100_000, b"tail")).unwrap();
    fs.close(h).unwrap();
    let mut sparse = vec![0u8; 100_000];
    sparse.extend_from_slice(b"tail");
    m.files.insert("/sparse.bin".into(), sparse);

    // Truncate: shrink and grow.
    let h = block_on(fs.open("/video.raw", OpenOptions::read_write())).unwrap();
    block_on(fs.truncate(h, 1_000_001)).unwrap();
    fs.close(h).unwrap();
    m.files.get_mut("/video.raw").unwrap().truncate(1_000_001);
    let p5 = "/docs/document 5 — draft.txt";
    let h = block_on(fs.open(p5, OpenOptions::read_write())).unwrap();
    block_on(fs.truncate(h, 70_000)).unwrap();
    fs.close(h).unwrap();
    m.files.get_mut(p5).unwrap().resize(70_000, 0);
    // Truncate to zero on open.
    let p6 = "/docs/document 6 — draft.txt";
    fs.close(block_on(fs.open(p6, OpenOptions::create())).unwrap()).unwrap();
    m.files.insert(p6.into(), Vec::new());

    // Deletes.
    for i in (0..40).step_by(3) {
        let p = format!("/docs/document {i} — draft.txt");
        block_on(fs.unlink(&p)).unwrap();
        m.files.remove(&p);
    }

    // Renames.
    m.rename(&fs, "/docs/document 1 — draft.txt", "/docs/document 1 — final.txt");
    m.rename(&fs, "/docs/document 2 — draft.txt", "/tmp/moved.txt");
    m.rename(&fs, "/README.TXT", "/tmp/moved.txt"); // replaces
    m.rename(&fs, "/lower.md", "/LOWER.md"); // case only
    m.rename(&fs, "/docs/sub dir", "/tmp/sub dir moved"); // a directory
    m.rename(&fs, "/tmp/sub dir moved/NOTE", "/tmp/sub dir moved/a much longer note name.txt");

    // Directories.
    block_on(fs.rmdir("/Empty Dir")).unwrap();
    m.dirs.remove("/Empty Dir");
    assert_eq!(block_on(fs.rmdir("/tmp")), Err(Error::NotEmpty));
    assert_eq!(block_on(fs.rename("/tmp", "/tmp/sub dir moved/inside")), Err(Error::InvalidArgument));
    // `..` of the moved directory points at its new parent.
    block_on(fs.write_file("/tmp/sub dir moved/../via dotdot", b"dd")).unwrap();
    m.files.insert("/tmp/via dotdot".into(), b"dd".to_vec());

    let st = block_on(fs.stat("/tmp/moved.txt")).unwrap();
    assert_eq!(st.modified, Some(clock()));
    m.verify_lib(&fs);
    let free_before = block_on(fs.statfs()).unwrap().free_clusters;
    save(fs, &img);
    m.verify_host(&dir, &img);

    // And again through a fresh mount.
    let fs = mount(std::fs::read(&img).unwrap(), MountOptions::default());
    m.verify_lib(&fs);
    assert_eq!(block_on(fs.statfs()).unwrap().free_clusters, free_before);
}

#[test]
fn fat12_scripted() {
    scripted(12, 4096, 1_500_000, 64);
}

#[test]
fn fat16_scripted() {
    scripted(16, 16 * 1024, 2_600_000, 64);
}

#[test]
fn fat32_scripted() {
    scripted(32, 40 * 1024, 2_600_000, 64);
}

#[test]
fn fat32_scripted_tiny_cache() {
    scripted(32, 40 * 1024, 1_200_000, 1);
}

#[test]
fn fat12_scripted_tiny_cache() {
    scripted(12, 4096, 1_000_000, 2);
}

/// Seeded random operations against the model, on a small FAT16 volume.
fn random_ops(bits: u32, kib: u32, cache: usize, seed: u64, steps: usize) {
    if !have_tools() {
        return;
    }
    let dir = TempDir::new("random");
    let img = mkfs(&dir, bits, kib, &["-s", "2"]);
    let fs = mount(std::fs::read(&img).unwrap(), MountOptions { cache_sectors: cache, ..Default::default() });
    let mut m = Model::default();
    let mut rng = Rng(seed);
    let dirs = ["/", "/d1", "/d1/d2", "/other dir"];
    for d in &dirs[1..] {
        m.mkdir(&fs, d);
    }
    let names = ["a", "B.TXT", "long file name number one.txt", "ça va.txt", "x y z", "data.json", "Q"];
    for _ in 0..steps {
        let d = dirs[rng.below(dirs.len() as u64) as usize];
        let n = names[rng.below(names.len() as u64) as usize];
        let p = if d == "/" { format!("/{n}") } else { format!("{d}/{n}") };
        match rng.below(6) {
            0 | 1 => {
                let len = rng.below(20_000) as usize;
                m.write(&fs, &p, rng.bytes(len));
            }
            2 => {
                let r = block_on(fs.unlink(&p));
                assert_eq!(r.is_ok(), m.files.remove(&p).is_some(), "unlink {p}: {r:?}");
            }
            3 => {
                if let Some(data) = m.files.get_mut(&p) {
                    let h = block_on(fs.open(&p, OpenOptions::read_write())).unwrap();
                    let at = rng.below(data.len() as u64 + 3000);
                    let clen = rng.below(9000) as usize;
                    let chunk = rng.bytes(clen);
                    block_on(fs.write_at(h, at, &chunk)).unwrap();
                    let end = at as usize + chunk.len();
                    if !chunk.is_empty() && data.len() < end {
                        data.resize(end, 0);
                    }
                    data[at as usize..at as usize + chunk.len()].copy_from_slice(&chunk);
                    fs.close(h).unwrap();
                }
            }
            4 => {
                if let Some(data) = m.files.get_mut(&p) {
                    let len = rng.below(30_000);
                    let h = block_on(fs.open(&p, OpenOptions::read_write())).unwrap();
                    block_on(fs.truncate(h, len)).unwrap();
                    fs.close(h).unwrap();
                    data.resize(len as usize, 0);
                }
            }
            _ => {
                let d2 = dirs[rng.below(dirs.len() as u64) as usize];
                let n2 = names[rng.below(names.len() as u64) as usize];
                let to = if d2 == "/" { format!("/{n2}") } else { format!("{d2}/{n2}") };
                if m.files.contains_key(&p) && !m.dirs.contains(&to) {
                    if to != p {
                        let data = m.files.remove(&p).unwrap();
                        m.files.insert(to.clone(), data);
                    }
                    block_on(fs.rename(&p, &to)).unwrap_or_else(|e| panic!("rename {p} -> {to}: {e}"));
                }
            }
        }
    }
    m.verify_lib(&fs);
    save(fs, &img);
    m.verify_host(&dir, &img);
}

#[test]
fn random_ops_fat16() {
    random_ops(16, 8 * 1024, 16, 42, 400);
}

#[test]
fn random_ops_fat12_tiny_cache() {
    random_ops(12, 2048, 3, 7, 250);
}
