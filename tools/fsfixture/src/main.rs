//! `fsfixture`: the host side of the fs tests.
//!
//! ```text
//! fsfixture mkdisk IMG    a fresh FAT32 disk for `make run`, holding a README
//! fsfixture mkimage IMG   a fresh FAT32 test disk holding the fixture tree and its manifest
//! fsfixture check IMG     after the test boot: fsck.fat -n, then what fstest wrote, byte for byte
//! fsfixture tree DIR      just the fixture tree and manifest, in DIR (for looking at)
//! ```
//!
//! `check` prints `PASS <name>` / `FAIL <name>: <why>` lines and closes with
//! `fscheck: N passed, N failed`; its exit status is 1 if anything failed.
//! It needs `fsck.fat` and `mcopy` (dosfstools, mtools); `mkimage` needs
//! `mkfs.fat` and `mcopy`. Work directories go beside the image
//! (`IMG.tree`, `IMG.out`) and are replaced on each run.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use fsfixture::{fixture_tree, manifest, outputs, Content, Entry, ABSENT, APPEND_PATH, APPEND_TAIL, MANIFEST_PATH};

/// Size of the filesystem in KiB (FAT32 needs at least 65525 clusters;
/// mkfs.fat picks 512-byte clusters at this size).
const FS_KIB: u64 = 64 * 1024;
/// Bytes after the filesystem, outside it: blktest's scratch region (it
/// writes the disk's last 2048 sectors, and restores them, while the fs
/// server runs).
const TAIL: u64 = 1024 * 1024;
/// The test disk's volume label and serial number (fixed, so test images
/// are reproducible).
const LABEL: &str = "FSTEST";
const SERIAL: &str = "0f5e57ed";
/// The `make run` disk's label and README.
const RUN_LABEL: &str = "OSDISK";
const RUN_README: &str = "\
This is the OS's disk: a FAT32 image that `make run` made on first use
(build/disk.img) and attaches as a virtio-blk device. It persists between
runs; delete the file to start afresh.

Inside the OS the fs server serves it: try `ls /` and `cat /README.TXT` in
the shell. On the host, mtools reads it: `mdir -i build/disk.img ::/`.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["mkdisk", img] => mkdisk(Path::new(img)),
        ["mkimage", img] => mkimage(Path::new(img)),
        ["check", img] => return check(Path::new(img)),
        ["tree", dir] => write_tree(Path::new(dir)),
        _ => Err("usage: fsfixture mkdisk IMG | mkimage IMG | check IMG | tree DIR".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fsfixture: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T> = std::result::Result<T, String>;

/// `path` (absolute, `/`-separated) under `root`.
fn under(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

/// A fresh, empty directory at `dir`.
fn fresh_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(|e| format!("removing {}: {e}", dir.display()))?;
    }
    fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))
}

/// Writes the fixture tree and its manifest into the fresh directory `dir`.
fn write_tree(dir: &Path) -> Result<()> {
    fresh_dir(dir)?;
    let tree = fixture_tree();
    for entry in &tree {
        let path = under(dir, entry.path());
        let r = match entry {
            Entry::Dir(_) => fs::create_dir(&path),
            Entry::File(_, content) => fs::write(&path, content.bytes()),
        };
        r.map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    let path = under(dir, MANIFEST_PATH);
    fs::write(&path, manifest(&tree)).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// A dosfstools program: on the PATH, or in the sbin directories a normal
/// user's PATH may lack.
fn sbin(name: &str) -> PathBuf {
    ["/usr/sbin", "/sbin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from(name))
}

/// Runs `cmd`; its output if it succeeded, else an error with that output.
fn run(cmd: &mut Command) -> Result<String> {
    // mtools converts long names through the locale's character set.
    cmd.env("LC_ALL", "C.UTF-8").env("MTOOLS_SKIP_CHECK", "1");
    let out = cmd.output().map_err(|e| format!("running {cmd:?}: {e}"))?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{cmd:?} failed ({}):\n{text}", out.status))
    }
}

/// A fresh FAT32 image at `img` (replacing any) labelled `label`,
/// holding the files and directories in `dir`, followed by [`TAIL`].
fn make_fat(img: &Path, label: &str, serial: &str, dir: &Path) -> Result<()> {
    if img.exists() {
        fs::remove_file(img).map_err(|e| format!("removing {}: {e}", img.display()))?;
    }
    run(Command::new(sbin("mkfs.fat"))
        .args(["-F", "32", "-n", label, "-i", serial, "-C"])
        .arg(img)
        .arg(FS_KIB.to_string()))?;
    let mut mcopy = Command::new("mcopy");
    mcopy.args(["-s", "-m", "-i"]).arg(img);
    for entry in fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))? {
        mcopy.arg(entry.map_err(|e| e.to_string())?.path());
    }
    run(mcopy.arg("::/"))?;
    let file = fs::OpenOptions::new().write(true).open(img).map_err(|e| format!("{}: {e}", img.display()))?;
    file.set_len(FS_KIB * 1024 + TAIL).map_err(|e| format!("extending {}: {e}", img.display()))?;
    fs::remove_dir_all(dir).map_err(|e| format!("removing {}: {e}", dir.display()))
}

/// The test disk: the fixture tree and its manifest.
fn mkimage(img: &Path) -> Result<()> {
    let tree = img.with_extension("tree");
    write_tree(&tree)?;
    make_fat(img, LABEL, SERIAL, &tree)
}

/// The `make run` disk: a README. Written under a temporary name and
/// renamed, so an interrupted run leaves no half-made disk behind.
fn mkdisk(img: &Path) -> Result<()> {
    let tree = img.with_extension("tree");
    fresh_dir(&tree)?;
    fs::write(tree.join("README.TXT"), RUN_README).map_err(|e| e.to_string())?;
    let serial = format!("{:08x}", std::process::id());
    let tmp = img.with_extension("img.tmp");
    make_fat(&tmp, RUN_LABEL, &serial, &tree)?;
    fs::rename(&tmp, img).map_err(|e| format!("renaming {}: {e}", tmp.display()))
}

/// The results of `check`, printed as they come.
#[derive(Default)]
struct Report {
    passed: usize,
    failed: usize,
}

impl Report {
    fn record(&mut self, name: &str, result: Result<()>) {
        match result {
            Ok(()) => {
                self.passed += 1;
                println!("PASS {name}");
            }
            Err(why) => {
                self.failed += 1;
                println!("FAIL {name}: {why}");
            }
        }
    }
}

/// Checks the image after the test boot.
fn check(img: &Path) -> ExitCode {
    let mut report = Report::default();
    report.record("disk_fsck_clean", fsck(img));
    let root = img.with_extension("out");
    let extracted = extract(img, &root);
    report.record("disk_extract", extracted.clone());
    if extracted.is_ok() {
        for o in outputs() {
            report.record(&format!("disk_written {}", o.path), same(&under(&root, o.path), &o.content));
        }
        report.record("disk_removed_are_gone", absent(&root));
        report.record("disk_appended", appended(&root));
        report.record("disk_fixture_intact", fixture_intact(&root));
    }
    println!("fscheck: {} passed, {} failed", report.passed, report.failed);
    if report.failed == 0 {
        let _ = fs::remove_dir_all(&root);
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `fsck.fat -n` finds nothing to fix (its status is 0 only then).
fn fsck(img: &Path) -> Result<()> {
    let out = run(Command::new(sbin("fsck.fat")).arg("-n").arg(img))?;
    // A clean run prints the version and one summary line; anything more is
    // a complaint fsck.fat did not count as an error (a dirty bit, say).
    let lines: Vec<&str> = out.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.len() > 2 {
        return Err(format!("fsck.fat -n says:\n{out}"));
    }
    Ok(())
}

/// Copies the whole image out into the fresh directory `root`.
fn extract(img: &Path, root: &Path) -> Result<()> {
    fresh_dir(root)?;
    run(Command::new("mcopy").args(["-s", "-n", "-i"]).arg(img).arg("::/*").arg(root)).map(drop)
}

/// The file at `path` holds exactly `content`.
fn same(path: &Path, content: &Content) -> Result<()> {
    let got = fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "missing".to_string(),
        _ => e.to_string(),
    })?;
    let want = content.bytes();
    if got.len() != want.len() {
        return Err(format!("{} bytes, expected {}", got.len(), want.len()));
    }
    match got.iter().zip(&want).position(|(a, b)| a != b) {
        Some(at) => Err(format!("differs from byte {at} on")),
        None => Ok(()),
    }
}

fn absent(root: &Path) -> Result<()> {
    let left: Vec<&str> = ABSENT.iter().copied().filter(|p| under(root, p).exists()).collect();
    if left.is_empty() {
        Ok(())
    } else {
        Err(format!("still there: {left:?}"))
    }
}

fn appended(root: &Path) -> Result<()> {
    let original = fixture_tree()
        .into_iter()
        .find_map(|e| match e {
            Entry::File(p, Content::Text(t)) if p == APPEND_PATH => Some(t),
            _ => None,
        })
        .ok_or("the fixture has no append file")?;
    let want = format!("{original}{APPEND_TAIL}");
    let got = fs::read(under(root, APPEND_PATH)).map_err(|e| e.to_string())?;
    if got == want.as_bytes() {
        Ok(())
    } else {
        Err(format!("holds {:?}", String::from_utf8_lossy(&got)))
    }
}

/// Every fixture file but the appended one is unchanged.
fn fixture_intact(root: &Path) -> Result<()> {
    for entry in fixture_tree() {
        match entry {
            Entry::File(p, _) if p == APPEND_PATH => {}
            Entry::File(p, c) => same(&under(root, &p), &c).map_err(|e| format!("{p}: {e}"))?,
            Entry::Dir(p) if !under(root, &p).is_dir() => return Err(format!("{p} is not a directory")),
            Entry::Dir(_) => {}
        }
    }
    Ok(())
}
