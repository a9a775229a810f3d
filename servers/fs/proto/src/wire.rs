//! The messages: the [`proto`] module that `libipc::protocol!` makes
//! (requests with the standard header, each op's reply), the argument
//! types it needs ([`OpenFlags`], [`SeekFrom`]), the [`Answer`] every op
//! replies with, and the result structs. Decoding never panics: what is
//! not a whole, valid request is refused with `BadArgument` by the
//! server's executor before the server sees it.

use alloc::string::String;
use alloc::vec::Vec;

use abi::Error;
use libipc::wire::{Reader, Wire, Writer};

use crate::FsError;

/// Longest path a request may carry, in bytes of UTF-8.
pub const MAX_PATH: usize = 1024;

/// How to open a file: [`OpenFlags::READ`] | [`OpenFlags::WRITE`] | ...
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenFlags(u32);

impl OpenFlags {
    /// Reading through the handle.
    pub const READ: OpenFlags = OpenFlags(1 << 0);
    /// Writing through the handle.
    pub const WRITE: OpenFlags = OpenFlags(1 << 1);
    /// Create the file if it does not exist (needs `WRITE`).
    pub const CREATE: OpenFlags = OpenFlags(1 << 2);
    /// Cut the file to length 0 on opening (needs `WRITE`).
    pub const TRUNCATE: OpenFlags = OpenFlags(1 << 3);
    /// Every write goes to the end of the file (needs `WRITE`).
    pub const APPEND: OpenFlags = OpenFlags(1 << 4);
    /// With `CREATE`: fail with `Exists` if the file exists.
    pub const EXCLUSIVE: OpenFlags = OpenFlags(1 << 5);
    /// Every flag this version knows.
    pub const ALL: OpenFlags = OpenFlags((1 << 6) - 1);

    /// The bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// The flags of `bits`; `None` if an unknown bit is set.
    pub const fn from_bits(bits: u32) -> Option<OpenFlags> {
        if bits & !Self::ALL.0 != 0 {
            None
        } else {
            Some(OpenFlags(bits))
        }
    }

    /// True if every flag of `other` is set in `self`.
    pub const fn contains(self, other: OpenFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl core::ops::BitOr for OpenFlags {
    type Output = OpenFlags;
    fn bitor(self, rhs: OpenFlags) -> OpenFlags {
        OpenFlags(self.0 | rhs.0)
    }
}

/// Where a seek counts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeekFrom {
    /// This many bytes from the start.
    Start(u64),
    /// This many bytes from the current position.
    Current(i64),
    /// This many bytes from the end.
    End(i64),
}

impl Wire for OpenFlags {
    const MIN_SIZE: usize = 4;

    fn encode(&self, w: &mut Writer) {
        self.0.encode(w);
    }

    /// `BadArgument` for an unknown flag.
    fn decode(r: &mut Reader<'_>) -> Result<OpenFlags, Error> {
        OpenFlags::from_bits(u32::decode(r)?).ok_or(Error::BadArgument)
    }
}

impl Wire for SeekFrom {
    const MIN_SIZE: usize = 9;

    /// A byte (0 start, 1 current, 2 end), then the offset as an `i64`
    /// (`Start`'s `u64` reinterpreted).
    fn encode(&self, w: &mut Writer) {
        let (whence, offset) = match *self {
            SeekFrom::Start(o) => (0u8, o as i64),
            SeekFrom::Current(o) => (1, o),
            SeekFrom::End(o) => (2, o),
        };
        whence.encode(w);
        offset.encode(w);
    }

    fn decode(r: &mut Reader<'_>) -> Result<SeekFrom, Error> {
        match (u8::decode(r)?, i64::decode(r)?) {
            (0, o) => Ok(SeekFrom::Start(o as u64)),
            (1, o) => Ok(SeekFrom::Current(o)),
            (2, o) => Ok(SeekFrom::End(o)),
            _ => Err(Error::BadArgument),
        }
    }
}

/// What every operation answers: its result, or why it failed. On the
/// wire a `u32` status (0, or an [`FsError`] code), then on success the
/// result. (A failure of the exchange itself — a malformed request, a dead
/// server — is an IPC error instead, and never an `Answer`.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer<T>(pub Result<T, FsError>);

impl<T> Answer<T> {
    /// The result.
    pub fn into_result(self) -> Result<T, FsError> {
        self.0
    }
}

impl<T> From<Result<T, FsError>> for Answer<T> {
    fn from(r: Result<T, FsError>) -> Answer<T> {
        Answer(r)
    }
}

impl<T: Wire> Wire for Answer<T> {
    const MIN_SIZE: usize = 4;

    fn encode(&self, w: &mut Writer) {
        match &self.0 {
            Ok(v) => {
                0u32.encode(w);
                v.encode(w);
            }
            // `Ipc` errors are the client's own and have no code; a server
            // never answers one, but if it did the client sees `Io`.
            Err(e) => (e.status().or(FsError::Io.status()).unwrap_or(1) as u32).encode(w),
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Answer<T>, Error> {
        let status = u32::decode(r)?;
        Ok(Answer(match FsError::from_status(i64::from(status)) {
            Ok(()) => Ok(T::decode(r)?),
            Err(e) => Err(e),
        }))
    }
}

libipc::protocol! {
    /// The fs protocol. Paths are absolute, `/`-separated UTF-8, at most
    /// [`MAX_PATH`] bytes; names match without regard to case. File data
    /// moves through lease 0 of the send: `read` writes at most `len`
    /// bytes into it (lent for writing), `write` reads `len` bytes from it
    /// (lent for reading). Handles are per process.
    pub mod proto = "fs", version 1 {
        /// Opens (and with `CREATE`, creates) a file: its handle and size.
        Open = 1 => fn open(path: String, flags: OpenFlags) -> Answer<Opened>;
        /// Reads at most `len` bytes at the handle's position into lease 0
        /// and advances it: the bytes read (fewer only at the end).
        Read = 2 => fn read(handle: u64, len: u64) -> Answer<u64>;
        /// Writes `len` bytes from lease 0 at the handle's position (the
        /// end, with `APPEND`) and advances it: the bytes written (all).
        Write = 3 => fn write(handle: u64, len: u64) -> Answer<u64>;
        /// Moves the handle's position: the new position.
        Seek = 4 => fn seek(handle: u64, from: SeekFrom) -> Answer<u64>;
        /// Cuts or extends (with zeros) the handle's file to `len` bytes.
        Truncate = 5 => fn truncate(handle: u64, len: u64) -> Answer<()>;
        /// Closes the handle.
        Close = 6 => fn close(handle: u64) -> Answer<()>;
        /// Closes every handle of the calling process.
        CloseAll = 7 => fn close_all() -> Answer<()>;
        /// What is at `path`.
        Stat = 8 => fn stat(path: String) -> Answer<Metadata>;
        /// What the handle's file is now.
        Fstat = 9 => fn fstat(handle: u64) -> Answer<Metadata>;
        /// The directory's entries from `cursor` (0 = the start): as many
        /// as fit in one reply, and the cursor of the next page.
        Readdir = 10 => fn readdir(path: String, cursor: u64) -> Answer<DirPage>;
        /// Makes a directory (its parent must exist).
        Mkdir = 11 => fn mkdir(path: String) -> Answer<()>;
        /// Removes an empty directory.
        Rmdir = 12 => fn rmdir(path: String) -> Answer<()>;
        /// Removes a file.
        Unlink = 13 => fn unlink(path: String) -> Answer<()>;
        /// Renames or moves a file or directory; a file at `to` is replaced.
        Rename = 14 => fn rename(from: String, to: String) -> Answer<()>;
        /// Writes every cached change to the disk and flushes it.
        Sync = 15 => fn sync() -> Answer<()>;
        /// Syncs, then refuses every change (`ShuttingDown`): init sends it
        /// before the machine stops.
        Shutdown = 16 => fn shutdown() -> Answer<()>;
        /// The volume's figures.
        Statfs = 17 => fn statfs() -> Answer<VolumeInfo>;
        /// The server's counters.
        Stats = 18 => fn stats() -> Answer<ServerStats>;
    }
}

libipc::wire! {
    /// A date and time as FAT stores it (local time, 2-second steps).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
    pub struct DateTime {
        /// 1980..=2107.
        pub year: u16,
        /// 1..=12.
        pub month: u8,
        /// 1..=31.
        pub day: u8,
        /// 0..=23.
        pub hour: u8,
        /// 0..=59.
        pub minute: u8,
        /// 0..=58.
        pub second: u8,
    }

    /// The reply to `Open`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Opened {
        /// Names the open file in later requests of this process.
        pub handle: u64,
        /// The file's size now.
        pub size: u64,
    }

    /// The reply to `Stat` and `Fstat`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Metadata {
        /// A directory (else a file).
        pub is_dir: bool,
        /// Bytes (0 for directories).
        pub size: u64,
        /// FAT's attribute byte (`attr::*`).
        pub attributes: u8,
        /// Last modification, if the disk recorded one.
        pub modified: Option<DateTime>,
    }

    /// One entry of a directory listing (`.` and `..` are left out).
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct DirEntry {
        /// The long name if there is one, else the 8.3 name.
        pub name: String,
        /// A directory (else a file).
        pub is_dir: bool,
        /// Bytes (0 for directories).
        pub size: u64,
        /// FAT's attribute byte (`attr::*`).
        pub attributes: u8,
        /// Last modification, if the disk recorded one.
        pub modified: Option<DateTime>,
    }

    /// The reply to `Readdir`: one page of entries.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct DirPage {
        /// Entries in directory order.
        pub entries: Vec<DirEntry>,
        /// The cursor of the next page; 0 when this was the last.
        pub next: u64,
    }

    /// The reply to `Stats`: what the server has done since it started.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct ServerStats {
        /// Files open for clients now.
        pub open_files: u64,
        /// Block requests tried (re-sends included).
        pub disk_tries: u64,
        /// Block requests re-sent because the driver was gone.
        pub disk_retries: u64,
        /// Block requests that failed for good.
        pub disk_failures: u64,
        /// Block requests waiting for the driver now.
        pub disk_in_flight: u64,
        /// Sector cache hits.
        pub cache_hits: u64,
        /// Sector cache misses.
        pub cache_misses: u64,
    }

    /// The reply to `Statfs`.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct VolumeInfo {
        /// 12, 16 or 32.
        pub fat_bits: u8,
        /// Bytes per cluster.
        pub cluster_size: u32,
        /// Clusters on the volume.
        pub total_clusters: u32,
        /// Clusters free.
        pub free_clusters: u32,
        /// The volume label (may be empty).
        pub label: String,
    }
}

/// FAT's attribute bits, as [`Metadata::attributes`] reports them.
pub mod attr {
    /// Read-only.
    pub const READ_ONLY: u8 = 0x01;
    /// Hidden.
    pub const HIDDEN: u8 = 0x02;
    /// System.
    pub const SYSTEM: u8 = 0x04;
    /// A directory.
    pub const DIRECTORY: u8 = 0x10;
    /// Changed since the last backup.
    pub const ARCHIVE: u8 = 0x20;
}

impl DirEntry {
    /// Bytes this entry takes in a [`DirPage`].
    pub fn wire_size(&self) -> usize {
        let mut w = Writer::new();
        self.encode(&mut w);
        w.as_slice().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;
    use libipc::wire::{from_bytes, to_vec};
    use proto::Request;

    fn all_requests() -> Vec<Request> {
        let p = |s: &str| s.to_string();
        vec![
            Request::Open { path: p("/a b/ünï.txt"), flags: OpenFlags::READ | OpenFlags::CREATE },
            Request::Read { handle: 7, len: u64::MAX },
            Request::Write { handle: 1 << 40, len: 0 },
            Request::Seek { handle: 3, from: SeekFrom::Start(u64::MAX) },
            Request::Seek { handle: 3, from: SeekFrom::Current(-5) },
            Request::Seek { handle: 3, from: SeekFrom::End(i64::MIN) },
            Request::Truncate { handle: 3, len: 12 },
            Request::Close { handle: 9 },
            Request::CloseAll {},
            Request::Stat { path: p("/") },
            Request::Fstat { handle: 2 },
            Request::Readdir { path: p("/many"), cursor: 42 },
            Request::Mkdir { path: p("/d") },
            Request::Rmdir { path: p("/d") },
            Request::Unlink { path: p("") },
            Request::Rename { from: p("/x"), to: p("/y/z") },
            Request::Sync {},
            Request::Shutdown {},
            Request::Statfs {},
            Request::Stats {},
        ]
    }

    #[test]
    fn requests_round_trip() {
        for req in all_requests() {
            assert_eq!(from_bytes::<Request>(&to_vec(&req)), Ok(req.clone()), "{}", req.describe());
        }
        assert_eq!(to_vec(&Request::Stat { path: "/x".into() }), proto::encode::stat("/x"));
    }

    #[test]
    fn every_truncation_is_refused() {
        for req in all_requests() {
            let bytes = to_vec(&req);
            for cut in 0..bytes.len() {
                assert_eq!(
                    from_bytes::<Request>(&bytes[..cut]),
                    Err(Error::BadArgument),
                    "{} cut {cut}",
                    req.describe()
                );
            }
        }
    }

    #[test]
    fn malformed_requests_are_refused() {
        let bad = |b: &[u8]| assert_eq!(from_bytes::<Request>(b), Err(Error::BadArgument), "{b:?}");
        bad(&[]);
        bad(&proto::encode::sync()[..7]);
        // Unknown open flag.
        let mut open = proto::encode::open("/f", OpenFlags::READ);
        let n = open.len();
        open[n - 1] = 0x80;
        bad(&open);
        // Bad whence.
        let mut seek = proto::encode::seek(1u64, SeekFrom::Start(0));
        seek[libipc::protocol::HEADER + 8] = 3;
        bad(&seek);
        // Invalid UTF-8; a length far past the message.
        let mut stat = proto::encode::stat("ab");
        let n = stat.len();
        stat[n - 1] = 0xff;
        bad(&stat);
        let mut long = proto::encode::stat("");
        long.truncate(libipc::protocol::HEADER);
        long.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        bad(&long);
    }

    #[test]
    fn fuzzed_bytes_never_panic() {
        let mut x = 0x1234_5678_9abc_def0u64;
        let header = proto::encode::sync();
        for len in 0..4000 {
            let mut bytes = header[..6].to_vec();
            bytes.extend((0..len % 64).map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % 20) as u8
            }));
            let _ = from_bytes::<Request>(&bytes);
            let _ = from_bytes::<proto::Reply>(&bytes);
            let _ = from_bytes::<Answer<DirPage>>(&bytes);
        }
    }

    #[test]
    fn replies_round_trip() {
        let t = DateTime { year: 2024, month: 2, day: 29, hour: 23, minute: 59, second: 58 };
        let page = DirPage {
            entries: vec![
                DirEntry {
                    name: "a long name.txt".into(),
                    is_dir: false,
                    size: 5,
                    attributes: 0x20,
                    modified: Some(t),
                },
                DirEntry { name: "DIR".into(), is_dir: true, size: 0, attributes: 0x10, modified: None },
            ],
            next: 17,
        };
        let bytes = to_vec(&proto::Reply::Readdir(Answer(Ok(page.clone()))));
        assert_eq!(proto::result::readdir(&bytes), Ok(Answer(Ok(page.clone()))));
        let bytes = to_vec(&proto::Reply::Rmdir(Answer(Err(FsError::NotEmpty))));
        assert_eq!(proto::result::rmdir(&bytes), Ok(Answer(Err(FsError::NotEmpty))));
        // A reply to another op is refused, not misread.
        assert_eq!(proto::result::stat(&bytes), Err(Error::BadArgument));
        let m = Metadata { is_dir: false, size: 1 << 33, attributes: attr::READ_ONLY, modified: Some(t) };
        assert_eq!(from_bytes::<Answer<Metadata>>(&to_vec(&Answer(Ok(m)))), Ok(Answer(Ok(m))));
        assert_eq!(page.entries[1].wire_size(), 4 + 3 + 1 + 8 + 1 + 1);
    }
}
