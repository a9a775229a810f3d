//! The manifest: a text file at [`MANIFEST_PATH`] on the test disk naming
//! every directory and file of the fixture with the file's size and
//! FNV-1a 64 hash, as the host computed them from the files it copied.
//!
//! One entry per line, fields separated by one space, the path last (so it
//! may hold spaces):
//!
//! ```text
//! D 0000000000000000 0 /nested
//! F 85944171f73967e8 6 /nested/file.txt
//! ```

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::spec::Entry;

/// Where the manifest lives on the disk (an 8.3 name, so any FAT reader
/// finds it).
pub const MANIFEST_PATH: &str = "/MANIFEST.TXT";

/// A directory or a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A directory.
    Dir,
    /// A regular file.
    File,
}

/// One line of the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestEntry {
    /// Directory or file.
    pub kind: Kind,
    /// FNV-1a 64 of the contents (0 for directories).
    pub hash: u64,
    /// Bytes (0 for directories).
    pub size: u64,
    /// Absolute path.
    pub path: String,
}

/// The manifest of `tree`.
pub fn manifest(tree: &[Entry]) -> String {
    let mut s = String::new();
    for e in tree {
        let line = match e {
            Entry::Dir(p) => format!("D {:016x} 0 {p}\n", 0),
            Entry::File(p, c) => format!("F {:016x} {} {p}\n", c.hash(), c.len()),
        };
        s.push_str(&line);
    }
    s
}

/// Parses a manifest; `Err(n)` names the first bad line (1-based).
pub fn parse_manifest(text: &str) -> Result<Vec<ManifestEntry>, usize> {
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
        entries.push(parse_line(line).ok_or(i + 1)?);
    }
    Ok(entries)
}

fn parse_line(line: &str) -> Option<ManifestEntry> {
    let mut fields = line.splitn(4, ' ');
    let kind = match fields.next()? {
        "D" => Kind::Dir,
        "F" => Kind::File,
        _ => return None,
    };
    let hash = u64::from_str_radix(fields.next()?, 16).ok()?;
    let size = fields.next()?.parse().ok()?;
    let path = fields.next().filter(|p| p.starts_with('/'))?;
    Some(ManifestEntry { kind, hash, size, path: path.into() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Content;

    #[test]
    fn round_trip() {
        let tree = [Entry::Dir("/a dir".into()), Entry::File("/a dir/with spaces.txt".into(), Content::Text("foobar"))];
        let parsed = parse_manifest(&manifest(&tree)).unwrap();
        assert_eq!(
            parsed,
            [
                ManifestEntry { kind: Kind::Dir, hash: 0, size: 0, path: "/a dir".into() },
                ManifestEntry {
                    kind: Kind::File,
                    hash: 0x8594_4171_f739_67e8,
                    size: 6,
                    path: "/a dir/with spaces.txt".into()
                },
            ]
        );
    }

    #[test]
    fn bad_lines_are_named() {
        assert_eq!(parse_manifest("D 0 0 /ok\nX 0 0 /bad\n"), Err(2));
        assert_eq!(parse_manifest("F zz 1 /x"), Err(1));
        assert_eq!(parse_manifest("F 00 1 relative"), Err(1));
        assert_eq!(parse_manifest("F 00 1"), Err(1));
        assert_eq!(parse_manifest(""), Ok(Vec::new()));
    }
}
