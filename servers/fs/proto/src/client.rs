//! [`Fs`]: the client programs call. One blocking `send` per call, the
//! caller's buffer lent to the server for the data.
//!
//! Failure handling: if the server dies, the call in flight (or the next
//! one made on the dead connection) returns `FsError::Ipc(PeerDied)` at
//! once, never hangs, and the connection is dropped. The call after that
//! looks "fs" up again; while the server is being restarted (the name is
//! missing, or still names the dead server) it retries the lookup and the
//! send for up to [`RECONNECT_FOR`], so a call made just after a crash
//! works once init has restarted the server. Handles from before the crash
//! are gone (`BadHandle`): the new server never issued them.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use abi::ipc::MAX_MESSAGE;
use abi::Error;
use libipc::ipc::{Connection, SendOptions};

use crate::wire::proto::{encode, result};
use crate::wire::{Answer, DirEntry, DirPage, Metadata, OpenFlags, Opened, SeekFrom, ServerStats, VolumeInfo};
use crate::FsError;

/// One of `proto::result::*`: an op's reply out of the reply bytes.
type Decode<T> = fn(&[u8]) -> libipc::Result<Answer<T>>;

/// The name the server registers.
pub const NAME: &str = crate::wire::proto::NAME;
/// How long a call keeps trying to reach a restarted server.
pub const RECONNECT_FOR: Duration = Duration::from_secs(3);
/// Pause between those tries.
const RECONNECT_PAUSE: Duration = Duration::from_millis(20);

/// An open file: a number the server gave this process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fd(u64);

impl Fd {
    /// The number on the wire.
    pub fn raw(self) -> u64 {
        self.0
    }

    /// An `Fd` from a number (one the server issued to this process; any
    /// other fails with `BadHandle`).
    pub fn from_raw(raw: u64) -> Fd {
        Fd(raw)
    }
}

/// A connection to the fs server. Cheap to share: several threads may
/// call through one `Fs` at once (each call is its own message).
pub struct Fs {
    conn: spin::Mutex<Option<Arc<Connection>>>,
}

impl core::fmt::Debug for Fs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Fs").field("connected", &self.conn.lock().is_some()).finish()
    }
}

impl Fs {
    /// Looks up the server ("fs"); `Ipc(NotFound)` if it is not there.
    pub fn connect() -> Result<Fs, FsError> {
        let fs = Fs { conn: spin::Mutex::new(None) };
        fs.connection()?;
        Ok(fs)
    }

    /// Talks to the server through `conn`, looking "fs" up again if the
    /// server dies.
    pub fn with_connection(conn: Connection) -> Fs {
        Fs { conn: spin::Mutex::new(Some(Arc::new(conn))) }
    }

    /// The current connection, looked up if there is none.
    fn connection(&self) -> Result<(Arc<Connection>, bool), Error> {
        if let Some(c) = self.conn.lock().as_ref() {
            return Ok((c.clone(), false));
        }
        let fresh = Arc::new(libipc::names::lookup(NAME)?);
        *self.conn.lock() = Some(fresh.clone());
        Ok((fresh, true))
    }

    /// Drops `dead` if it is still the current connection.
    fn forget(&self, dead: &Arc<Connection>) {
        let mut conn = self.conn.lock();
        if conn.as_ref().is_some_and(|c| Arc::ptr_eq(c, dead)) {
            *conn = None;
        }
    }

    /// Sends the request `msg` with `options` and decodes the reply with
    /// `decode` (one of `proto::result::*`); `reply` is the buffer for the
    /// reply message.
    fn call_into<T>(
        &self,
        msg: &[u8],
        decode: Decode<T>,
        options: &SendOptions<'_>,
        reply: &mut [u8],
    ) -> Result<T, FsError> {
        let start = libipc::Instant::now();
        let pause = || {
            let waited = start.elapsed() < RECONNECT_FOR;
            if waited {
                libipc::sleep(RECONNECT_PAUSE);
            }
            waited
        };
        loop {
            let (conn, fresh) = match self.connection() {
                Ok(c) => c,
                // Not registered (yet again): the server is being restarted.
                Err(Error::NotFound) if pause() => continue,
                Err(e) => return Err(e.into()),
            };
            match conn.send_with(msg, reply, options) {
                Ok(r) => return decode(reply.get(..r.len).unwrap_or(&[]))?.into_result(),
                Err(Error::PeerDied) => {
                    self.forget(&conn);
                    // A connection looked up for this very call that is
                    // dead already names the server that just died, not
                    // one that took the request: wait for its successor.
                    if fresh && pause() {
                        continue;
                    }
                    return Err(FsError::Ipc(Error::PeerDied));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// [`call_into`](Self::call_into) with a buffer for a small reply.
    fn call<T>(&self, msg: &[u8], decode: Decode<T>, options: &SendOptions<'_>) -> Result<T, FsError> {
        let mut reply = [0u8; 128];
        self.call_into(msg, decode, options, &mut reply)
    }

    /// A call without leases.
    fn simple<T>(&self, msg: &[u8], decode: Decode<T>) -> Result<T, FsError> {
        self.call(msg, decode, &SendOptions::new())
    }

    /// Opens the file at `path`.
    pub fn open(&self, path: &str, flags: OpenFlags) -> Result<Fd, FsError> {
        self.open_sized(path, flags).map(|(fd, _)| fd)
    }

    /// Opens the file at `path`; also returns its size.
    pub fn open_sized(&self, path: &str, flags: OpenFlags) -> Result<(Fd, u64), FsError> {
        let o: Opened = self.simple(&encode::open(path, flags), result::open)?;
        Ok((Fd(o.handle), o.size))
    }

    /// Creates the file at `path`, or empties it if it exists, and opens it
    /// for reading and writing.
    pub fn create(&self, path: &str) -> Result<Fd, FsError> {
        self.open(path, OpenFlags::READ | OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE)
    }

    /// Reads from `fd`'s position into `buf`; returns the bytes read, which
    /// is `buf.len()` unless the end of the file came first (0 at the end).
    pub fn read(&self, fd: Fd, buf: &mut [u8]) -> Result<usize, FsError> {
        let msg = encode::read(fd.0, buf.len() as u64);
        let n = self.call(&msg, result::read, &SendOptions::new().lease_write(buf))?;
        usize::try_from(n).map_err(|_| FsError::Io)
    }

    /// Writes all of `buf` at `fd`'s position (the end, if opened with
    /// `APPEND`); returns `buf.len()`.
    pub fn write(&self, fd: Fd, buf: &[u8]) -> Result<usize, FsError> {
        let msg = encode::write(fd.0, buf.len() as u64);
        let n = self.call(&msg, result::write, &SendOptions::new().lease_read(buf))?;
        usize::try_from(n).map_err(|_| FsError::Io)
    }

    /// Moves `fd`'s position; returns the new one. Past the end is allowed
    /// (a write there fills the gap with zeros); before the start is
    /// `InvalidArgument`.
    pub fn seek(&self, fd: Fd, from: SeekFrom) -> Result<u64, FsError> {
        self.simple(&encode::seek(fd.0, from), result::seek)
    }

    /// Cuts (or extends with zeros) `fd`'s file to `len` bytes.
    pub fn truncate(&self, fd: Fd, len: u64) -> Result<(), FsError> {
        self.simple(&encode::truncate(fd.0, len), result::truncate)
    }

    /// Closes `fd`.
    pub fn close(&self, fd: Fd) -> Result<(), FsError> {
        self.simple(&encode::close(fd.0), result::close)
    }

    /// Closes every file this process has open (the server also does this
    /// by itself once the process has ended).
    pub fn close_all(&self) -> Result<(), FsError> {
        self.simple(&encode::close_all(), result::close_all)
    }

    /// What is at `path`.
    pub fn stat(&self, path: &str) -> Result<Metadata, FsError> {
        self.simple(&encode::stat(path), result::stat)
    }

    /// What `fd`'s file is now (its size after this process's writes).
    pub fn fstat(&self, fd: Fd) -> Result<Metadata, FsError> {
        self.simple(&encode::fstat(fd.0), result::fstat)
    }

    /// The entries of the directory at `path`, in directory order, without
    /// `.` and `..`.
    pub fn readdir(&self, path: &str) -> Result<Vec<DirEntry>, FsError> {
        let mut entries = Vec::new();
        let mut reply = vec![0u8; MAX_MESSAGE];
        let mut cursor = 0;
        loop {
            let msg = encode::readdir(path, cursor);
            let page: DirPage = self.call_into(&msg, result::readdir, &SendOptions::new(), &mut reply)?;
            entries.extend(page.entries);
            // A cursor that does not move on would loop forever.
            if page.next == 0 || page.next <= cursor {
                return Ok(entries);
            }
            cursor = page.next;
        }
    }

    /// Makes the directory `path` (its parent must exist).
    pub fn mkdir(&self, path: &str) -> Result<(), FsError> {
        self.simple(&encode::mkdir(path), result::mkdir)
    }

    /// Removes the empty directory `path`.
    pub fn rmdir(&self, path: &str) -> Result<(), FsError> {
        self.simple(&encode::rmdir(path), result::rmdir)
    }

    /// Removes the file `path`.
    pub fn unlink(&self, path: &str) -> Result<(), FsError> {
        self.simple(&encode::unlink(path), result::unlink)
    }

    /// Renames (or moves) `from` to `to`; a file at `to` is replaced.
    pub fn rename(&self, from: &str, to: &str) -> Result<(), FsError> {
        self.simple(&encode::rename(from, to), result::rename)
    }

    /// Writes every cached change to the disk.
    pub fn sync(&self) -> Result<(), FsError> {
        self.simple(&encode::sync(), result::sync)
    }

    /// Syncs and makes the server refuse further changes (for init, before
    /// the machine stops).
    pub fn shutdown(&self) -> Result<(), FsError> {
        self.simple(&encode::shutdown(), result::shutdown)
    }

    /// The volume's figures (FAT type, sizes, free space, label).
    pub fn statfs(&self) -> Result<VolumeInfo, FsError> {
        self.simple(&encode::statfs(), result::statfs)
    }

    /// The server's counters (open files, disk retries, cache hits).
    pub fn stats(&self) -> Result<ServerStats, FsError> {
        self.simple(&encode::stats(), result::stats)
    }

    /// The whole file at `path`.
    pub fn read_file(&self, path: &str) -> Result<Vec<u8>, FsError> {
        let (fd, size) = self.open_sized(path, OpenFlags::READ)?;
        let result = self.read_to_end(fd, size);
        let closed = self.close(fd);
        let data = result?;
        closed.map(|()| data)
    }

    /// Reads `fd` from its position to the end; `hint` is the expected size
    /// (asking for one byte more shows the end in one request).
    fn read_to_end(&self, fd: Fd, hint: u64) -> Result<Vec<u8>, FsError> {
        const MAX_STEP: usize = 16 << 20;
        let mut data = Vec::new();
        let mut want = usize::try_from(hint).unwrap_or(MAX_STEP).saturating_add(1).clamp(4096, MAX_STEP);
        loop {
            let len = data.len();
            data.try_reserve_exact(want).map_err(|_| FsError::Ipc(Error::NoMemory))?;
            data.resize(len + want, 0);
            let n = self.read(fd, &mut data[len..])?;
            data.truncate(len + n);
            // A short read is the end of the file.
            if n < want {
                return Ok(data);
            }
            want = want.saturating_mul(2).min(MAX_STEP);
        }
    }

    /// Makes `path` hold exactly `data` (created or replaced).
    pub fn write_file(&self, path: &str, data: &[u8]) -> Result<(), FsError> {
        let fd = self.open(path, OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE)?;
        let written = self.write(fd, data);
        let closed = self.close(fd);
        written?;
        closed
    }
}

/// Asks the server behind `conn` to sync and refuse further changes
/// (`Shutdown`), giving up after `timeout`: what init does before it powers
/// off (with its own connection to "fs", and a timeout so a wedged server
/// cannot hold the power-off).
pub fn shutdown_with(conn: &Connection, timeout: Duration) -> Result<(), FsError> {
    let mut reply = [0u8; 16];
    let r = conn.send_with(&encode::shutdown(), &mut reply, &SendOptions::new().timeout(timeout))?;
    result::shutdown(reply.get(..r.len).unwrap_or(&[]))?.into_result()
}
