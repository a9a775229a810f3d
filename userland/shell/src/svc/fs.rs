//! The file system server, as the shell uses it: `fs_proto::Fs` (the fs
//! server's client library), connected on first use so the shell starts
//! even while the fs server is not up yet, with `remove` choosing between
//! `unlink` and `rmdir`.
//!
//! After the server died (say `crash fs`), the client library answers the
//! next call on the dead connection with `PeerDied` and looks "fs" up again
//! on the call after. The shell makes that second call itself: every
//! operation is tried once more after `PeerDied`, so the first command
//! after a restart works. (A request the old server took and completed
//! before dying could be repeated; every shell operation is safe to
//! repeat except that a repeated `rm`/`mv` then says the path is gone.)

use alloc::vec::Vec;

use fs_proto::{DirEntry, FsError, Metadata};
use libipc::Error;

/// The shell's link to the fs server.
#[derive(Default)]
pub struct Fs {
    client: Option<fs_proto::Fs>,
}

impl Fs {
    /// Not connected yet; the first call connects.
    pub fn new() -> Fs {
        Fs::default()
    }

    fn client(&mut self) -> Result<&fs_proto::Fs, FsError> {
        if self.client.is_none() {
            self.client = Some(fs_proto::Fs::connect()?);
        }
        self.client.as_ref().ok_or(FsError::Io)
    }

    /// Runs `op`, once more if the server had died.
    fn call<T>(&mut self, op: impl Fn(&fs_proto::Fs) -> Result<T, FsError>) -> Result<T, FsError> {
        match op(self.client()?) {
            Err(FsError::Ipc(Error::PeerDied)) => op(self.client()?),
            r => r,
        }
    }

    /// What is at `path`.
    pub fn stat(&mut self, path: &str) -> Result<Metadata, FsError> {
        self.call(|fs| fs.stat(path))
    }

    /// The entries of the directory `path`.
    pub fn list(&mut self, path: &str) -> Result<Vec<DirEntry>, FsError> {
        self.call(|fs| fs.readdir(path))
    }

    /// The whole contents of the file `path`.
    pub fn read(&mut self, path: &str) -> Result<Vec<u8>, FsError> {
        self.call(|fs| fs.read_file(path))
    }

    /// Makes `path` a file holding exactly `data`.
    pub fn write(&mut self, path: &str, data: &[u8]) -> Result<(), FsError> {
        self.call(|fs| fs.write_file(path, data))
    }

    /// Makes the directory `path`.
    pub fn mkdir(&mut self, path: &str) -> Result<(), FsError> {
        self.call(|fs| fs.mkdir(path))
    }

    /// Removes the file or empty directory `path`.
    pub fn remove(&mut self, path: &str) -> Result<(), FsError> {
        self.call(|fs| if fs.stat(path)?.is_dir { fs.rmdir(path) } else { fs.unlink(path) })
    }

    /// Renames (or moves) `from` to `to`.
    pub fn rename(&mut self, from: &str, to: &str) -> Result<(), FsError> {
        self.call(|fs| fs.rename(from, to))
    }
}
