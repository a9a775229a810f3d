//! Reading what the host wrote: the fixture tree that `fsfixture mkimage`
//! copied onto the disk with mtools, checked against the manifest the host
//! wrote beside it (sizes and FNV-1a 64 hashes) and against the fixture's
//! own description (contents at any offset).

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use fs_proto::{Fs, FsError, OpenFlags, SeekFrom};
use fsfixture::{fixture_tree, parse_manifest, Content, Entry, Kind, ManifestEntry, MANIFEST_PATH};

use crate::ensure;
use crate::harness::{expect_err, hash_file, ok, Outcome};

/// The manifest on the disk.
fn manifest(fs: &Fs) -> Result<Vec<ManifestEntry>, String> {
    let text = ok("read the manifest", fs.read_file(MANIFEST_PATH))?;
    let text = core::str::from_utf8(&text).map_err(|_| "the manifest is not UTF-8".to_string())?;
    parse_manifest(text).map_err(|line| format!("manifest line {line} is malformed"))
}

/// The fixture's description of the file at `path`.
fn fixture_content(path: &str) -> Option<Content> {
    fixture_tree().into_iter().find_map(|e| match e {
        Entry::File(p, c) if p == path => Some(c),
        _ => None,
    })
}

/// The manifest is there and lists the whole fixture.
pub fn manifest_matches_fixture(fs: &Fs) -> Outcome {
    let entries = manifest(fs)?;
    let tree = fixture_tree();
    ensure!(
        entries.len() == tree.len(),
        "the manifest lists {} entries, the fixture has {}",
        entries.len(),
        tree.len()
    );
    for (m, t) in entries.iter().zip(&tree) {
        ensure!(m.path == t.path(), "manifest order: {} where the fixture has {}", m.path, t.path());
    }
    Ok(())
}

/// Every file has the size and hash the host computed.
pub fn files_match_the_manifest(fs: &Fs) -> Outcome {
    let mut checked = 0;
    for e in manifest(fs)?.iter().filter(|e| e.kind == Kind::File) {
        let meta = ok(&format!("stat {}", e.path), fs.stat(&e.path))?;
        ensure!(
            !meta.is_dir && meta.size == e.size,
            "{}: stat says {} bytes, the host wrote {}",
            e.path,
            meta.size,
            e.size
        );
        let (size, hash) = hash_file(fs, &e.path, 32 * 1024)?;
        ensure!(size == e.size, "{}: read {size} bytes, the host wrote {}", e.path, e.size);
        ensure!(hash == e.hash, "{}: hash {hash:016x}, the host's {:016x}", e.path, e.hash);
        checked += 1;
    }
    ensure!(checked > 100, "only {checked} files checked");
    Ok(())
}

/// The multi-MiB file read in one request (one lease of its whole size)
/// and in odd-sized pieces gives the same bytes.
pub fn big_file_in_one_and_in_pieces(fs: &Fs) -> Outcome {
    let content = fixture_content("/big.bin").ok_or("no /big.bin in the fixture")?;
    let whole = ok("read_file /big.bin", fs.read_file("/big.bin"))?;
    ensure!(whole.len() as u64 == content.len(), "read {} bytes of {}", whole.len(), content.len());
    ensure!(fsfixture::fnv1a64(&whole) == content.hash(), "/big.bin read whole differs");
    let (size, hash) = hash_file(fs, "/big.bin", 7001)?;
    ensure!(size == content.len() && hash == content.hash(), "/big.bin read in 7001-byte pieces differs");
    Ok(())
}

/// Reads at pseudo-random offsets after seeks match the fixture.
pub fn seeks_and_reads_anywhere(fs: &Fs) -> Outcome {
    let content = fixture_content("/big.bin").ok_or("no /big.bin in the fixture")?;
    let fd = ok("open /big.bin", fs.open("/big.bin", OpenFlags::READ))?;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut got = vec![0u8; 20_000];
    let mut want = vec![0u8; 20_000];
    let r = (|| {
        for _ in 0..40 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = seed % content.len();
            let len = (seed >> 40) as usize % got.len() + 1;
            let pos = ok("seek", fs.seek(fd, SeekFrom::Start(at)))?;
            ensure!(pos == at, "seek to {at} gave {pos}");
            let n = ok("read", fs.read(fd, &mut got[..len]))?;
            let m = content.fill(at, &mut want[..len]);
            ensure!(n == m, "read {len} at {at}: {n} bytes, expected {m}");
            ensure!(got[..n] == want[..n], "read {len} at {at}: the bytes differ");
        }
        let end = ok("seek to the end", fs.seek(fd, SeekFrom::End(-10)))?;
        ensure!(end == content.len() - 10, "seek End(-10) gave {end}");
        let n = ok("read the tail", fs.read(fd, &mut got[..100]))?;
        content.fill(end, &mut want[..10]);
        ensure!(n == 10 && got[..10] == want[..10], "the last 10 bytes: read {n}");
        ensure!(ok("read at the end", fs.read(fd, &mut got[..1]))? == 0, "a read at the end gave data");
        expect_err(
            "seek before the start",
            fs.seek(fd, SeekFrom::Current(-(content.len() as i64) - 1)),
            FsError::InvalidArgument,
        )
    })();
    ok("close", fs.close(fd))?;
    r
}

/// Every directory lists exactly what the host put in it (long names,
/// case and all), with the right sizes and kinds.
pub fn directories_list_what_the_host_wrote(fs: &Fs) -> Outcome {
    let entries = manifest(fs)?;
    let mut children: BTreeMap<String, Vec<&ManifestEntry>> = BTreeMap::new();
    children.insert("/".into(), Vec::new());
    for e in &entries {
        if e.kind == Kind::Dir {
            children.entry(e.path.clone()).or_default();
        }
        let parent = match e.path.rfind('/') {
            Some(0) | None => "/".to_string(),
            Some(i) => e.path[..i].to_string(),
        };
        children.entry(parent).or_default().push(e);
    }
    for (dir, want) in &children {
        let listed = ok(&format!("readdir {dir}"), fs.readdir(dir))?;
        for w in want {
            let name = w.path.rsplit('/').next().unwrap_or("");
            let Some(got) = listed.iter().find(|l| l.name == name) else {
                let names: Vec<&str> = listed.iter().map(|l| l.name.as_str()).collect();
                return Err(format!("{dir}: no entry {name:?} among {names:?}"));
            };
            ensure!(got.is_dir == (w.kind == Kind::Dir), "{}: is_dir {}", w.path, got.is_dir);
            ensure!(got.size == w.size, "{}: listed with {} bytes, expected {}", w.path, got.size, w.size);
        }
        // The root also holds the manifest and what the write tests made.
        let extra: Vec<&str> = listed
            .iter()
            .map(|l| l.name.as_str())
            .filter(|n| !want.iter().any(|w| w.path.rsplit('/').next() == Some(*n)))
            .filter(|n| !(dir == "/" && (*n == "MANIFEST.TXT" || *n == "out")))
            .collect();
        ensure!(extra.is_empty(), "{dir}: unexpected entries {extra:?}");
    }
    Ok(())
}

/// Names are found whatever their case, by long or 8.3 name.
pub fn lookups_ignore_case(fs: &Fs) -> Outcome {
    for (path, size) in [
        ("/NESTED/A/B/C/DEEP.TXT", 17),
        ("/hello.TXT", 21),
        ("/a FILE with a LONG name.TXT", 38),
        ("/Ünïcödé – naïve café.txt", 38),
        ("/upper.txt", 24),
    ] {
        let m = ok(&format!("stat {path}"), fs.stat(path))?;
        ensure!(m.size == size, "{path}: {} bytes, expected {size}", m.size);
    }
    Ok(())
}

/// Mistakes get the right errors, and the server carries on.
pub fn errors_are_reported(fs: &Fs) -> Outcome {
    expect_err("stat a missing file", fs.stat("/no such file"), FsError::NotFound)?;
    expect_err("stat under a missing dir", fs.stat("/nowhere/x"), FsError::NotFound)?;
    expect_err("stat under a file", fs.stat("/hello.txt/x"), FsError::NotADirectory)?;
    expect_err("open a dir for writing", fs.open("/nested", OpenFlags::WRITE), FsError::IsADirectory)?;
    expect_err("readdir a file", fs.readdir("/hello.txt"), FsError::NotADirectory)?;
    expect_err("mkdir an existing dir", fs.mkdir("/nested"), FsError::Exists)?;
    expect_err("rmdir a full dir", fs.rmdir("/nested"), FsError::NotEmpty)?;
    expect_err("rmdir a file", fs.rmdir("/hello.txt"), FsError::NotADirectory)?;
    expect_err("unlink a dir", fs.unlink("/nested"), FsError::IsADirectory)?;
    expect_err("open with no access", fs.open("/hello.txt", OpenFlags::default()), FsError::InvalidArgument)?;
    expect_err("a bad name", fs.mkdir("/bad*name"), FsError::InvalidName)?;
    let fd = ok("open", fs.open("/hello.txt", OpenFlags::READ))?;
    expect_err("write a read-only handle", fs.write(fd, b"x"), FsError::PermissionDenied)?;
    ok("close", fs.close(fd))?;
    expect_err("use a closed handle", fs.read(fd, &mut [0u8; 4]), FsError::BadHandle)?;
    expect_err("close it twice", fs.close(fd), FsError::BadHandle)?;
    let m = ok("stat still works", fs.stat("/hello.txt"))?;
    ensure!(m.size == 21, "/hello.txt: {} bytes", m.size);
    Ok(())
}

/// Several clients reading at once all get their bytes: the server
/// serves them concurrently (each has its own connection and thread).
pub fn concurrent_clients(_fs: &Fs) -> Outcome {
    let paths = ["/big.bin", "/odd-size.bin", "/nested/a/sibling.bin", "/big.bin"];
    let mut threads = Vec::new();
    for path in paths {
        let t = libipc::thread::spawn(move || {
            let Ok(fs) = Fs::connect() else { return 1 };
            let Some(content) = fixture_content(path) else { return 2 };
            for _ in 0..2 {
                match hash_file(&fs, path, 16 * 1024) {
                    Ok((size, hash)) if size == content.len() && hash == content.hash() => {}
                    _ => return 3,
                }
            }
            0
        });
        threads.push((path, ok("spawn a reader", t)?));
    }
    for (path, t) in threads {
        let code = ok("join a reader", t.join())?;
        ensure!(code == 0, "the reader of {path} failed ({code})");
    }
    Ok(())
}
