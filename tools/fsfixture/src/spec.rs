//! What is on the test disk before the boot ([`fixture_tree`]) and what
//! `fstest` leaves there ([`outputs`], [`ABSENT`], the appended line).
//!
//! The tree covers what a FAT reader gets wrong: 8.3 and long names (with
//! spaces, several dots, non-ASCII), case, empty files, a file that is not
//! a whole number of clusters, a multi-MiB file, deep nesting, and a
//! directory of many long-named entries that spans several clusters.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::content::Content;

/// One thing in the fixture tree. Paths are absolute (`/`-separated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A directory (its parents come earlier in the list).
    Dir(String),
    /// A file and what it holds.
    File(String, Content),
}

impl Entry {
    /// The entry's path.
    pub fn path(&self) -> &str {
        match self {
            Entry::Dir(p) | Entry::File(p, _) => p,
        }
    }
}

/// Files in `/many`.
pub const MANY: usize = 120;

/// The fixture tree, parents before children.
pub fn fixture_tree() -> Vec<Entry> {
    let dir = |p: &str| Entry::Dir(p.into());
    let text = |p: &str, t: &'static str| Entry::File(p.into(), Content::Text(t));
    let pat = |p: &str, seed, len| Entry::File(p.into(), Content::Pattern { seed, len });
    let mut tree = alloc::vec![
        text("/README.TXT", "The fs test disk, made on the host by `fsfixture tree`.\n"),
        text("/hello.txt", "Hello from the host.\n"),
        text(APPEND_PATH, "line 1: written on the host\n"),
        text("/UPPER.TXT", "an 8.3 name in capitals\n"),
        text("/A file with a long name.txt", "long names keep their spaces and case\n"),
        text("/several.dots.in.one.name.txt", "dots\n"),
        text("/Ünïcödé – naïve café.txt", "non-ASCII long names travel as UTF-16\n"),
        text("/empty.txt", ""),
        pat("/big.bin", 1, 3 * 1024 * 1024 + 123),
        pat("/odd-size.bin", 2, 4097),
        dir("/nested"),
        dir("/nested/a"),
        dir("/nested/a/b"),
        dir("/nested/a/b/c"),
        pat("/nested/a/sibling.bin", 3, 40 * 1024),
        text("/nested/a/b/c/deep.txt", "four levels down\n"),
        dir("/nested/Empty Directory"),
        dir("/many"),
    ];
    for i in 0..MANY {
        let len = (i as u64 * 97) % 3000;
        tree.push(pat(&format!("/many/entry number {i:03} with a long name.dat"), 100 + i as u64, len));
    }
    tree
}

/// Where `fstest` writes; it makes the directory itself.
pub const OUT_DIR: &str = "/out";

/// A file `fstest` writes, with its expected content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Output {
    /// Absolute path on the disk.
    pub path: &'static str,
    /// What it must hold afterwards.
    pub content: Content,
}

const fn out(path: &'static str, seed: u64, len: u64) -> Output {
    Output { path, content: Content::Pattern { seed, len } }
}

/// The name `fstest` writes the renamed file under first.
pub const RENAME_FROM: &str = "/out/before rename.bin";

/// Every file `fstest` leaves on the disk (directories are implied).
pub fn outputs() -> &'static [Output] {
    const OUTPUTS: &[Output] = &[
        // Written in uneven chunks, then read back.
        out("/out/written.bin", 11, 1_500_000 + 7),
        out("/out/A long name, written inside the OS.txt", 12, 5000),
        out("/out/sub/deeper/nested.bin", 13, 70_000),
        // Written as RENAME_FROM, then renamed.
        out("/out/renamed.bin", 14, 9000),
        // Overwritten in the middle after a seek: see fstest's `seek` test.
        out("/out/seek.bin", 15, 20_000),
        // The block driver is killed while these are written.
        out("/out/blk-before.bin", 21, 300_000),
        out("/out/blk-during.bin", 22, 1_000_000),
        out("/out/blk-after.bin", 23, 300_000),
        // Written after the fs server was killed and came back.
        out("/out/fs-after.bin", 31, 20_000),
    ];
    OUTPUTS
}

/// Paths `fstest` made and removed (unlink, rmdir, the rename's source):
/// they must be gone.
pub const ABSENT: &[&str] = &[RENAME_FROM, "/out/deleted.bin", "/out/rmdir-me"];

/// A fixture file `fstest` appends [`APPEND_TAIL`] to.
pub const APPEND_PATH: &str = "/append.txt";
/// What `fstest` appends.
pub const APPEND_TAIL: &str = "line 2: appended inside the OS\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_come_first_and_paths_are_unique() {
        let tree = fixture_tree();
        let mut seen: Vec<&str> = Vec::new();
        for e in &tree {
            let p = e.path();
            assert!(p.starts_with('/') && !seen.contains(&p), "{p}");
            let parent = &p[..p.rfind('/').unwrap()];
            assert!(parent.is_empty() || tree.iter().any(|d| *d == Entry::Dir(parent.into())), "{p}");
            seen.push(p);
        }
        assert!(seen.len() > MANY);
    }

    #[test]
    fn outputs_live_in_the_out_dir() {
        for o in outputs() {
            assert!(o.path.starts_with("/out/"));
            assert!(!ABSENT.contains(&o.path));
        }
    }
}
