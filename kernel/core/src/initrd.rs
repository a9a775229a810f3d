//! The initrd archive: a POSIX ustar tar, as GNU `tar --format=ustar` writes
//! it, read in place. Entries borrow from the archive (`&[u8]` slices, `&str`
//! names), so nothing is copied or allocated.
//!
//! The archive comes from the boot loader and is checked, not trusted: every
//! header's checksum, magic, octal fields and sizes are validated against the
//! archive's bounds, and a malformed or truncated archive gives an [`Error`],
//! never a panic or an out-of-bounds read. [`Archive::new`] checks the whole
//! archive once; after that, iterating and looking up cannot fail.
//!
//! Layout: a 512-byte header per entry, the entry's data padded to 512 bytes,
//! and at the end a zero block (POSIX asks for two; one is accepted).
//!
//! ```
//! # use kcore::initrd::Archive;
//! # fn load(module: &[u8]) -> Result<(), kcore::initrd::Error> {
//! let archive = Archive::new(module)?;
//! if let Some(init) = archive.file("init") {
//!     // `init` is a slice of `module`: start it.
//! }
//! for entry in archive.entries() {
//!     // entry.path, entry.kind, entry.data
//! }
//! # Ok(()) }
//! ```

use core::fmt;

/// Size of a tar block: headers, and the unit data is padded to.
const BLOCK: usize = 512;

/// Byte ranges of the header fields this parser reads.
const NAME: (usize, usize) = (0, 100);
const SIZE: (usize, usize) = (124, 136);
const CHECKSUM: (usize, usize) = (148, 156);
const TYPEFLAG: usize = 156;
const MAGIC: (usize, usize) = (257, 263);
const PREFIX: (usize, usize) = (345, 500);

/// What an entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A regular file (typeflag `0` or NUL).
    File,
    /// A directory (typeflag `5`).
    Directory,
    /// Anything else (links, devices, FIFOs), with its typeflag.
    Other(u8),
}

/// An entry's path: the header's `prefix` and `name` joined by `/`, without a
/// leading `./` or a trailing `/`. Kept as two borrowed parts, so joining
/// needs no allocation.
#[derive(Clone, Copy, Debug)]
pub struct Path<'a> {
    prefix: &'a str,
    name: &'a str,
}

impl<'a> Path<'a> {
    fn new(prefix: &'a str, name: &'a str) -> Self {
        let (prefix, name) = match prefix {
            "" | "." => ("", name.strip_prefix("./").unwrap_or(name)),
            _ => (prefix.strip_prefix("./").unwrap_or(prefix), name),
        };
        let name = name.strip_suffix('/').unwrap_or(name);
        Path { prefix, name }
    }

    /// The bytes of the path, joined.
    fn bytes(&self) -> impl Iterator<Item = u8> + 'a {
        let sep: &'static [u8] = if self.prefix.is_empty() { b"" } else { b"/" };
        let (prefix, name) = (self.prefix, self.name);
        prefix.bytes().chain(sep.iter().copied()).chain(name.bytes())
    }

    /// True if this is `path` (which is compared after dropping a leading `./`).
    pub fn is(&self, path: &str) -> bool {
        let path = path.strip_prefix("./").unwrap_or(path);
        self.bytes().eq(path.bytes())
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.prefix.is_empty() {
            write!(f, "{}/", self.prefix)?;
        }
        f.write_str(self.name)
    }
}

/// One entry of the archive.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    pub path: Path<'a>,
    pub kind: Kind,
    /// The entry's contents, a slice of the archive.
    pub data: &'a [u8],
}

/// What is wrong with an archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A header or its data runs past the end of the archive.
    Truncated,
    /// The archive ends without its zero end block.
    NoEndMarker,
    /// The header's checksum does not match its bytes.
    BadChecksum,
    /// The header does not say `ustar`.
    BadMagic,
    /// A numeric field is not an octal number (the field is named).
    BadNumber(&'static str),
    /// The name or prefix is not UTF-8.
    BadName,
}

/// An error and the offset of the header it was found in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    pub offset: usize,
    pub kind: ErrorKind,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ErrorKind::Truncated => "truncated entry",
            ErrorKind::NoEndMarker => "no end-of-archive block",
            ErrorKind::BadChecksum => "bad header checksum",
            ErrorKind::BadMagic => "not a ustar header",
            ErrorKind::BadNumber(field) => return write!(f, "initrd: bad {field} field at offset {}", self.offset),
            ErrorKind::BadName => "name is not UTF-8",
        };
        write!(f, "initrd: {what} at offset {}", self.offset)
    }
}

/// A checked archive: every entry's header and bounds are valid.
#[derive(Clone, Copy, Debug)]
pub struct Archive<'a> {
    bytes: &'a [u8],
}

impl<'a> Archive<'a> {
    /// Checks the whole archive. Once this returns `Ok`, [`Archive::entries`]
    /// yields every entry and no error.
    pub fn new(bytes: &'a [u8]) -> Result<Self, Error> {
        for entry in RawEntries::new(bytes) {
            entry?;
        }
        Ok(Archive { bytes })
    }

    /// The entries, in archive order.
    pub fn entries(&self) -> impl Iterator<Item = Entry<'a>> + 'a {
        // `new` saw no error, so `map_while` never cuts the list short.
        RawEntries::new(self.bytes).map_while(Result::ok)
    }

    /// The entry at `path`, if any (the last one, if the name repeats, as tar
    /// does when it extracts).
    pub fn find(&self, path: &str) -> Option<Entry<'a>> {
        self.entries().filter(|e| e.path.is(path)).last()
    }

    /// The contents of the regular file at `path`.
    pub fn file(&self, path: &str) -> Option<&'a [u8]> {
        self.find(path).filter(|e| e.kind == Kind::File).map(|e| e.data)
    }
}

/// Walks the headers of an unchecked archive, yielding entries until the end
/// block, or one error and then nothing.
pub struct RawEntries<'a> {
    bytes: &'a [u8],
    /// Offset of the next header; `None` once the end or an error was met.
    next: Option<usize>,
}

impl<'a> RawEntries<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        RawEntries { bytes, next: Some(0) }
    }

    /// Parses the header at `offset`: `Ok(None)` at the end block, or the
    /// entry and the offset of the header after it.
    fn parse(&self, offset: usize) -> Result<Option<(Entry<'a>, usize)>, Error> {
        let err = |kind| Error { offset, kind };
        let header = offset
            .checked_add(BLOCK)
            .and_then(|end| self.bytes.get(offset..end))
            .ok_or(err(if offset == self.bytes.len() { ErrorKind::NoEndMarker } else { ErrorKind::Truncated }))?;
        if header.iter().all(|&b| b == 0) {
            return Ok(None);
        }
        let field = |(start, end): (usize, usize)| &header[start..end];

        let stored = octal(field(CHECKSUM)).ok_or(err(ErrorKind::BadNumber("checksum")))?;
        if !checksum_matches(header, stored) {
            return Err(err(ErrorKind::BadChecksum));
        }
        if &field(MAGIC)[..5] != b"ustar" {
            return Err(err(ErrorKind::BadMagic));
        }
        let size = octal(field(SIZE)).ok_or(err(ErrorKind::BadNumber("size")))?;
        let size = usize::try_from(size).map_err(|_| err(ErrorKind::Truncated))?;
        let name = text(field(NAME)).ok_or(err(ErrorKind::BadName))?;
        let prefix = text(field(PREFIX)).ok_or(err(ErrorKind::BadName))?;
        let kind = match header[TYPEFLAG] {
            b'0' | 0 => Kind::File,
            b'5' => Kind::Directory,
            other => Kind::Other(other),
        };

        let start = offset + BLOCK; // `header` is in bounds, so this is too.
        let data =
            start.checked_add(size).and_then(|end| self.bytes.get(start..end)).ok_or(err(ErrorKind::Truncated))?;
        // `start + size` is in bounds, so rounding it up to a block cannot
        // overflow; whether a header is there is the next call's check.
        let next = start + size.next_multiple_of(BLOCK);
        let entry = Entry { path: Path::new(prefix, name), kind, data };
        Ok(Some((entry, next)))
    }
}

impl<'a> Iterator for RawEntries<'a> {
    type Item = Result<Entry<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let offset = self.next.take()?;
        match self.parse(offset) {
            Ok(None) => None,
            Ok(Some((entry, next))) => {
                self.next = Some(next);
                Some(Ok(entry))
            }
            Err(e) => Some(Err(e)),
        }
    }
}

/// True if `stored` is the header's checksum: the sum of its bytes with the
/// checksum field counted as spaces, unsigned (POSIX) or signed (old tars).
fn checksum_matches(header: &[u8], stored: u64) -> bool {
    let (mut unsigned, mut signed) = (0u64, 0i64);
    for (i, &b) in header.iter().enumerate() {
        let b = if (CHECKSUM.0..CHECKSUM.1).contains(&i) { b' ' } else { b };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    stored == unsigned || i64::try_from(stored) == Ok(signed)
}

/// Parses an octal field: optional leading spaces, at least one digit, then
/// only NULs and spaces. Base-256 (GNU) and empty fields are refused.
fn octal(field: &[u8]) -> Option<u64> {
    let start = field.iter().position(|&b| b != b' ')?;
    let field = &field[start..];
    let digits = field.iter().take_while(|b| (b'0'..=b'7').contains(b)).count();
    if digits == 0 || field[digits..].iter().any(|&b| b != 0 && b != b' ') {
        return None;
    }
    field[..digits].iter().try_fold(0u64, |n, &d| n.checked_mul(8)?.checked_add(u64::from(d - b'0')))
}

/// A NUL-terminated (or full-width) text field as UTF-8.
fn text(field: &[u8]) -> Option<&str> {
    let len = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    core::str::from_utf8(&field[..len]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::process::Command;

    /// Builds a ustar header by hand, with a correct checksum.
    fn header(name: &str, prefix: &str, size: &[u8], typeflag: u8) -> [u8; BLOCK] {
        let mut h = [0u8; BLOCK];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..108].copy_from_slice(b"0000644\0");
        h[SIZE.0..SIZE.0 + size.len()].copy_from_slice(size);
        h[TYPEFLAG] = typeflag;
        h[MAGIC.0..MAGIC.1 + 2].copy_from_slice(b"ustar\x0000");
        h[PREFIX.0..PREFIX.0 + prefix.len()].copy_from_slice(prefix.as_bytes());
        seal(&mut h);
        h
    }

    /// Writes the header's checksum field.
    fn seal(h: &mut [u8; BLOCK]) {
        h[CHECKSUM.0..CHECKSUM.1].fill(b' ');
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        let text = format!("{sum:06o}\0 ");
        h[CHECKSUM.0..CHECKSUM.1].copy_from_slice(text.as_bytes());
    }

    /// Appends a file entry with its padded data.
    fn push_file(archive: &mut Vec<u8>, name: &str, data: &[u8]) {
        let size = format!("{:011o}\0", data.len());
        archive.extend_from_slice(&header(name, "", size.as_bytes(), b'0'));
        archive.extend_from_slice(data);
        archive.resize(archive.len().next_multiple_of(BLOCK), 0);
    }

    fn end(archive: &mut Vec<u8>) {
        archive.resize(archive.len() + 2 * BLOCK, 0);
    }

    fn sample() -> Vec<u8> {
        let mut a = Vec::new();
        push_file(&mut a, "README", b"hello\n");
        push_file(&mut a, "init", &[0x7f; 1000]);
        a.extend_from_slice(&header("bin/", "", b"00000000000\0", b'5'));
        push_file(&mut a, "empty", b"");
        end(&mut a);
        a
    }

    fn error(bytes: &[u8]) -> ErrorKind {
        Archive::new(bytes).expect_err("archive should be refused").kind
    }

    #[test]
    fn reads_entries_in_order() {
        let bytes = sample();
        let archive = Archive::new(&bytes).unwrap();
        let list: Vec<_> = archive.entries().map(|e| (e.path.to_string(), e.kind, e.data.len())).collect();
        assert_eq!(
            list,
            [
                ("README".into(), Kind::File, 6),
                ("init".into(), Kind::File, 1000),
                ("bin".into(), Kind::Directory, 0),
                ("empty".into(), Kind::File, 0),
            ]
        );
        assert_eq!(archive.file("README"), Some(&b"hello\n"[..]));
        assert_eq!(archive.file("./init").map(<[u8]>::len), Some(1000));
        assert_eq!(archive.file("empty"), Some(&b""[..]));
        assert_eq!(archive.file("bin"), None, "a directory is not a file");
        assert!(archive.find("bin").is_some());
        assert_eq!(archive.file("missing"), None);
        assert_eq!(archive.file("READM"), None);
    }

    #[test]
    fn empty_archive_is_valid() {
        let mut a = Vec::new();
        end(&mut a);
        assert_eq!(Archive::new(&a).unwrap().entries().count(), 0);
        assert_eq!(Archive::new(&a[..BLOCK]).unwrap().entries().count(), 0);
    }

    #[test]
    fn joins_prefix_and_strips_dot_slash() {
        let mut a = Vec::new();
        a.extend_from_slice(&header("file", "./a/b", b"0\0", b'0'));
        a.extend_from_slice(&header("./top/", "", b"0\0", b'5'));
        end(&mut a);
        let archive = Archive::new(&a).unwrap();
        let paths: Vec<_> = archive.entries().map(|e| e.path.to_string()).collect();
        assert_eq!(paths, ["a/b/file", "top"]);
        assert!(archive.file("a/b/file").is_some());
        assert!(archive.find("top").is_some());
    }

    #[test]
    fn refuses_missing_end_block() {
        let a = sample();
        let without_end = a.len() - 2 * BLOCK;
        assert_eq!(error(&a[..without_end]), ErrorKind::NoEndMarker);
        assert_eq!(error(&[]), ErrorKind::NoEndMarker);
    }

    #[test]
    fn refuses_every_truncation_without_panicking() {
        let a = sample();
        let last_data_end = a.len() - 2 * BLOCK;
        for len in 0..last_data_end {
            assert!(Archive::new(&a[..len]).is_err(), "len {len}");
            // The unchecked walk stops at the error and never panics either.
            let walked = RawEntries::new(&a[..len]).count();
            assert!(walked <= 5);
        }
    }

    #[test]
    fn refuses_bad_checksum() {
        let mut a = sample();
        a[10] ^= 1; // in the first name, after the checksum was computed
        assert_eq!(error(&a), ErrorKind::BadChecksum);
        let mut a = sample();
        a[CHECKSUM.0..CHECKSUM.0 + 6].copy_from_slice(b"12x456");
        assert_eq!(error(&a), ErrorKind::BadNumber("checksum"));
    }

    #[test]
    fn refuses_bad_magic() {
        let mut h = header("x", "", b"0\0", b'0');
        h[MAGIC.0..MAGIC.1].copy_from_slice(b"nostar");
        seal(&mut h);
        let mut a = h.to_vec();
        end(&mut a);
        assert_eq!(error(&a), ErrorKind::BadMagic);
    }

    #[test]
    fn refuses_bad_sizes() {
        for size in [&b"\0"[..], b"12 4", b"9", b"-1", b"\x80\0\0\0\0\0\0\0\0\0\0\x01"] {
            let mut a = header("x", "", size, b'0').to_vec();
            end(&mut a);
            assert_eq!(error(&a), ErrorKind::BadNumber("size"), "{size:?}");
        }
        // A size past the end of the archive, up to the largest the field holds.
        for size in [&b"00000004000\0"[..], b"77777777777\0", b"777777777777"] {
            let mut a = header("x", "", size, b'0').to_vec();
            end(&mut a);
            assert_eq!(error(&a), ErrorKind::Truncated, "{size:?}");
        }
    }

    #[test]
    fn refuses_non_utf8_name() {
        let mut h = header("x", "", b"0\0", b'0');
        h[0] = 0xff;
        seal(&mut h);
        let mut a = h.to_vec();
        end(&mut a);
        assert_eq!(error(&a), ErrorKind::BadName);
    }

    #[test]
    fn octal_fields() {
        assert_eq!(octal(b"0000644\0"), Some(0o644));
        assert_eq!(octal(b"  17 \0"), Some(0o17));
        assert_eq!(octal(b"777777777777"), Some(0o777777777777));
        assert_eq!(octal(b"\0\0\0"), None);
        assert_eq!(octal(b"    "), None);
        assert_eq!(octal(b"1 2"), None);
        assert_eq!(octal(b"8"), None);
        assert_eq!(octal(&[b'7'; 30]), None, "overflow");
    }

    #[test]
    fn random_corruption_never_panics() {
        let a = sample();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let mut b = a.clone();
            for _ in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let i = (seed % b.len() as u64) as usize;
                b[i] = (seed >> 32) as u8;
            }
            if let Ok(archive) = Archive::new(&b) {
                let _ = archive.entries().count();
                let _ = archive.file("init");
            }
        }
    }

    /// A scratch directory under the system's temp dir, removed on drop.
    struct Scratch(PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn reads_what_gnu_tar_writes() {
        let dir = std::env::temp_dir().join(format!("kcore-initrd-{}", std::process::id()));
        let scratch = Scratch(dir.clone());
        let long_dir = "a-directory-name-long-enough/to-need-the-ustar-prefix-field/".repeat(2);
        let root = scratch.0.join("root");
        std::fs::create_dir_all(root.join(&long_dir)).unwrap();
        std::fs::write(root.join("init"), vec![0xAB; 3000]).unwrap();
        std::fs::write(root.join("README"), "initrd\n").unwrap();
        std::fs::write(root.join(&long_dir).join("deep"), "deep\n").unwrap();
        let tar = dir.join("initrd.tar");
        let status = Command::new("tar")
            .args(["--format=ustar", "--sort=name", "-cf"])
            .arg(&tar)
            .arg("-C")
            .arg(&root)
            .args(["init", "README", "a-directory-name-long-enough"])
            .status()
            .expect("GNU tar runs");
        assert!(status.success());
        let bytes = std::fs::read(&tar).unwrap();

        let archive = Archive::new(&bytes).unwrap();
        assert_eq!(archive.file("init"), Some(&[0xAB; 3000][..]));
        assert_eq!(archive.file("README"), Some(&b"initrd\n"[..]));
        let deep = format!("{long_dir}deep");
        assert!(deep.len() > 100, "the name must need the prefix field");
        assert_eq!(archive.file(&deep), Some(&b"deep\n"[..]));
        let dirs = archive.entries().filter(|e| e.kind == Kind::Directory).count();
        assert_eq!(dirs, 4);
    }
}
