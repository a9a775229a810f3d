//! Writing for the host to check: every file `fsfixture::outputs()` names
//! is written here (and read back), the paths in `ABSENT` are made and
//! removed, and a line is appended to a fixture file. After QEMU exits,
//! `fsfixture check` compares the disk with the same description, byte for
//! byte, and runs `fsck.fat -n`.

use alloc::format;
use alloc::vec;

use fs_proto::{Fs, FsError, OpenFlags, SeekFrom};
use fsfixture::{fixture_tree, outputs, Content, Entry, APPEND_PATH, APPEND_TAIL, OUT_DIR, RENAME_FROM};

use crate::ensure;
use crate::harness::{check_content, expect_err, ok, write_content, Outcome};

/// The expected content of output `path`.
pub fn output(path: &str) -> Result<Content, alloc::string::String> {
    outputs().iter().find(|o| o.path == path).map(|o| o.content).ok_or_else(|| format!("{path} is not an output"))
}

/// Makes `path` and its parents, like `mkdir -p`.
pub fn mkdir_all(fs: &Fs, path: &str) -> Outcome {
    let ends = path.match_indices('/').skip(1).map(|(i, _)| i).chain(core::iter::once(path.len()));
    for end in ends {
        match fs.mkdir(&path[..end]) {
            Ok(()) | Err(FsError::Exists) => {}
            Err(e) => return Err(format!("mkdir {}: {e:?}", &path[..end])),
        }
    }
    Ok(())
}

/// Files written in uneven pieces read back the same, through new handles.
pub fn write_and_read_back(fs: &Fs) -> Outcome {
    mkdir_all(fs, OUT_DIR)?;
    let path = "/out/written.bin";
    let content = output(path)?;
    let fd = ok("create", fs.create(path))?;
    let sizes = [1usize, 511, 512, 513, 4096, 4097, 65_536, 100_003];
    let mut buf = vec![0u8; 100_003];
    let mut offset = 0u64;
    let mut i = 0;
    while offset < content.len() {
        let n = content.fill(offset, &mut buf[..sizes[i % sizes.len()]]);
        let w = ok(&format!("write {n} at {offset}"), fs.write(fd, &buf[..n]))?;
        ensure!(w == n, "wrote {w} of {n}");
        offset += n as u64;
        i += 1;
    }
    let meta = ok("fstat", fs.fstat(fd))?;
    ensure!(meta.size == content.len(), "fstat: {} bytes, expected {}", meta.size, content.len());
    ok("close", fs.close(fd))?;
    check_content(fs, path, &content)
}

/// A long name with spaces and commas, and a file three directories down.
pub fn long_names_and_nesting(fs: &Fs) -> Outcome {
    let long = "/out/A long name, written inside the OS.txt";
    write_content(fs, long, &output(long)?, 5000)?;
    mkdir_all(fs, "/out/sub/deeper")?;
    let nested = "/out/sub/deeper/nested.bin";
    write_content(fs, nested, &output(nested)?, 70_000)?;
    let listed = ok("readdir /out", fs.readdir("/out"))?;
    ensure!(listed.iter().any(|e| e.name == "A long name, written inside the OS.txt"), "the long name is not listed");
    check_content(fs, long, &output(long)?)?;
    check_content(fs, nested, &output(nested)?)
}

/// Seek, overwrite in the middle, truncate: the end result is the output.
pub fn seek_overwrite_truncate(fs: &Fs) -> Outcome {
    let path = "/out/seek.bin";
    let content = output(path)?;
    let mut data = content.bytes();
    let right = data[5000..9000].to_vec();
    data[5000..9000].fill(0);
    data.extend_from_slice(&[0xEE; 1000]);
    let fd = ok("create", fs.create(path))?;
    ok("write", fs.write(fd, &data))?;
    ensure!(ok("seek", fs.seek(fd, SeekFrom::Start(5000)))? == 5000, "seek");
    ok("overwrite", fs.write(fd, &right))?;
    ensure!(ok("seek", fs.seek(fd, SeekFrom::Current(0)))? == 9000, "the position after the overwrite");
    ok("truncate", fs.truncate(fd, content.len()))?;
    ensure!(ok("fstat", fs.fstat(fd))?.size == content.len(), "the size after truncate");
    let end = ok("seek to the end", fs.seek(fd, SeekFrom::End(-100)))?;
    let mut tail = [0u8; 200];
    let n = ok("read the tail", fs.read(fd, &mut tail))?;
    ensure!(end == content.len() - 100 && n == 100, "the tail: at {end}, {n} bytes");
    ok("close", fs.close(fd))?;
    check_content(fs, path, &content)
}

/// Rename, unlink and rmdir, and what they refuse.
pub fn rename_unlink_rmdir(fs: &Fs) -> Outcome {
    let renamed = "/out/renamed.bin";
    let content = output(renamed)?;
    write_content(fs, RENAME_FROM, &content, 4096)?;
    ok("rename", fs.rename(RENAME_FROM, renamed))?;
    expect_err("stat the old name", fs.stat(RENAME_FROM), FsError::NotFound)?;
    check_content(fs, renamed, &content)?;
    // An open file cannot be removed.
    let fd = ok("open", fs.open(renamed, OpenFlags::READ))?;
    expect_err("unlink an open file", fs.unlink(renamed), FsError::Busy)?;
    ok("close", fs.close(fd))?;

    let deleted = "/out/deleted.bin";
    write_content(fs, deleted, &Content::Text("soon gone"), 64)?;
    ok("unlink", fs.unlink(deleted))?;
    expect_err("stat after unlink", fs.stat(deleted), FsError::NotFound)?;
    expect_err("unlink twice", fs.unlink(deleted), FsError::NotFound)?;

    let dir = "/out/rmdir-me";
    ok("mkdir", fs.mkdir(dir))?;
    write_content(fs, "/out/rmdir-me/inside", &Content::Text("x"), 64)?;
    expect_err("rmdir a full dir", fs.rmdir(dir), FsError::NotEmpty)?;
    ok("unlink inside", fs.unlink("/out/rmdir-me/inside"))?;
    ok("rmdir", fs.rmdir(dir))?;
    expect_err("stat after rmdir", fs.stat(dir), FsError::NotFound)
}

/// Appending to a file the host wrote.
pub fn append_to_a_host_file(fs: &Fs) -> Outcome {
    let original = fixture_tree()
        .into_iter()
        .find_map(|e| match e {
            Entry::File(p, Content::Text(t)) if p == APPEND_PATH => Some(t),
            _ => None,
        })
        .ok_or("no append file in the fixture")?;
    let fd = ok("open for append", fs.open(APPEND_PATH, OpenFlags::WRITE | OpenFlags::APPEND))?;
    ok("append", fs.write(fd, APPEND_TAIL.as_bytes()))?;
    ok("close", fs.close(fd))?;
    let got = ok("read back", fs.read_file(APPEND_PATH))?;
    ensure!(
        got == format!("{original}{APPEND_TAIL}").as_bytes(),
        "{APPEND_PATH} holds {:?}",
        core::str::from_utf8(&got)
    );
    Ok(())
}

/// Close-all drops every handle of this process.
pub fn close_all(fs: &Fs) -> Outcome {
    let a = ok("open a", fs.open("/hello.txt", OpenFlags::READ))?;
    let b = ok("open b", fs.open("/UPPER.TXT", OpenFlags::READ))?;
    ok("close_all", fs.close_all())?;
    expect_err("read a", fs.read(a, &mut [0u8; 1]), FsError::BadHandle)?;
    expect_err("close b", fs.close(b), FsError::BadHandle)?;
    ensure!(ok("stats", fs.stats())?.open_files == 0, "files still open after close_all");
    Ok(())
}

/// Everything reaches the disk.
pub fn sync(fs: &Fs) -> Outcome {
    ok("sync", fs.sync())?;
    let v = ok("statfs", fs.statfs())?;
    ensure!(v.fat_bits == 32 && v.free_clusters < v.total_clusters, "statfs: {v:?}");
    Ok(())
}
