//! [`Server`]: one request in, one [`Reply`] out, on a mounted fatcore
//! volume. Each request runs as its own executor task ([`serve`]), so
//! while one waits for the disk the others go on: fatcore lets reads
//! overlap and runs changes one at a time.
//!
//! File data moves through the client's lease 0 in pieces of [`CHUNK`]
//! bytes (read from the volume, then copied into the lease; or the other
//! way), so a read or write of any size needs only a bounded buffer.
//!
//! Besides the requests, the server keeps house ([`Server::housekeeping`]):
//! every [`HOUSEKEEPING`] it closes the files of processes that have ended
//! and writes back what changed since the last sync, so the disk is never
//! far behind the cache even if nobody asks for a sync. `Shutdown` syncs
//! and then refuses every change.

use alloc::rc::Rc;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::future::Future;
use core::time::Duration;

use abi::Error;
use fatcore::{BlockDevice, FatType, FileSystem, Handle};
use fs_proto::proto::{Reply, Request};
use fs_proto::{Answer, FsError, OpenFlags, Opened, SeekFrom, ServerStats, VolumeInfo, MAX_PATH};
use libipc::executor::{sleep, Ctx};

use crate::blockdev::Counted;
use crate::clients::Clients;
use crate::convert::{self, error};

/// Bytes of file data moved per step of a read or write.
pub const CHUNK: usize = 64 * 1024;
/// How often the server closes dead clients' files and syncs.
pub const HOUSEKEEPING: Duration = Duration::from_secs(3);

/// The client's lease 0, as a request sees it.
pub trait Lease {
    /// Copies from the lease at `offset` into `buf`.
    fn read(&self, offset: usize, buf: &mut [u8]) -> Result<usize, Error>;
    /// Copies `data` into the lease at `offset`.
    fn write(&self, offset: usize, data: &[u8]) -> Result<usize, Error>;
}

impl Lease for Ctx {
    fn read(&self, offset: usize, buf: &mut [u8]) -> Result<usize, Error> {
        self.read_lease(0, offset, buf)
    }

    fn write(&self, offset: usize, data: &[u8]) -> Result<usize, Error> {
        self.write_lease(0, offset, data)
    }
}

/// A failed lease copy as the client sees it: a lease that is missing, too
/// short or lent the wrong way is the client's mistake.
fn lease_error(e: Error) -> FsError {
    match e {
        Error::PeerDied => FsError::Ipc(Error::PeerDied),
        _ => FsError::InvalidArgument,
    }
}

/// The processes alive now, or `None` if that cannot be found out.
pub type Liveness = fn() -> Option<Vec<u64>>;

/// The fs server's state, shared by every request task.
pub struct Server<D: BlockDevice + Counted> {
    fs: FileSystem<D>,
    clients: RefCell<Clients<Handle>>,
    alive: Liveness,
    /// A change was made since the last sync.
    dirty: Cell<bool>,
    /// `Shutdown` came: no more changes.
    shutting_down: Cell<bool>,
}

/// True for requests that change the disk (refused after `Shutdown`).
fn mutates(req: &Request) -> bool {
    match req {
        Request::Open { flags, .. } => flags.contains(OpenFlags::WRITE),
        Request::Write { .. }
        | Request::Truncate { .. }
        | Request::Mkdir { .. }
        | Request::Rmdir { .. }
        | Request::Unlink { .. }
        | Request::Rename { .. } => true,
        _ => false,
    }
}

/// `path`, if it is not longer than the protocol allows.
fn checked(path: &str) -> Result<&str, FsError> {
    if path.len() > MAX_PATH {
        return Err(FsError::InvalidName);
    }
    Ok(path)
}

/// Runs `op` unless `refused` (then `ShuttingDown`, and `op` never runs).
async fn answer<T>(refused: bool, op: impl Future<Output = Result<T, FsError>>) -> Answer<T> {
    Answer(if refused { Err(FsError::ShuttingDown) } else { op.await })
}

impl<D: BlockDevice + Counted> Server<D> {
    /// Serves `fs`; handle numbers carry `salt` (the server's pid) and
    /// `alive` tells which clients still exist.
    pub fn new(fs: FileSystem<D>, salt: u64, alive: Liveness) -> Server<D> {
        Server {
            fs,
            clients: RefCell::new(Clients::new(salt)),
            alive,
            dirty: Cell::new(false),
            shutting_down: Cell::new(false),
        }
    }

    /// The volume.
    pub fn fs(&self) -> &FileSystem<D> {
        &self.fs
    }

    /// Files open for clients.
    pub fn open_files(&self) -> usize {
        self.clients.borrow().len()
    }

    /// Answers one request from process `pid`, whose lease 0 is `lease`.
    pub async fn handle(&self, pid: u64, req: Request, lease: &impl Lease) -> Reply {
        let changes = mutates(&req);
        let refused = changes && self.shutting_down.get();
        let fs = &self.fs;
        let reply = match req {
            Request::Open { path, flags } => Reply::Open(answer(refused, self.open(pid, &path, flags)).await),
            Request::Read { handle, len } => Reply::Read(answer(refused, self.read(pid, handle, len, lease)).await),
            Request::Write { handle, len } => Reply::Write(answer(refused, self.write(pid, handle, len, lease)).await),
            Request::Seek { handle, from } => Reply::Seek(
                answer(refused, async {
                    let from = match from {
                        SeekFrom::Start(o) => fatcore::SeekFrom::Start(o),
                        SeekFrom::Current(o) => fatcore::SeekFrom::Current(o),
                        SeekFrom::End(o) => fatcore::SeekFrom::End(o),
                    };
                    fs.seek(self.file(pid, handle)?, from).map_err(error)
                })
                .await,
            ),
            Request::Truncate { handle, len } => Reply::Truncate(
                answer(refused, async { fs.truncate(self.file(pid, handle)?, len).await.map_err(error) }).await,
            ),
            Request::Close { handle } => Reply::Close(
                answer(refused, async {
                    let h = self.clients.borrow_mut().remove(pid, handle)?;
                    fs.close(h).map_err(error)
                })
                .await,
            ),
            Request::CloseAll {} => Reply::CloseAll(
                answer(refused, async {
                    self.close_all(pid);
                    Ok(())
                })
                .await,
            ),
            Request::Stat { path } => Reply::Stat(
                answer(refused, async { Ok(convert::metadata(&fs.stat(checked(&path)?).await.map_err(error)?)) }).await,
            ),
            Request::Fstat { handle } => Reply::Fstat(
                answer(refused, async {
                    Ok(convert::metadata(&fs.fstat(self.file(pid, handle)?).await.map_err(error)?))
                })
                .await,
            ),
            Request::Readdir { path, cursor } => Reply::Readdir(
                answer(refused, async {
                    let entries = fs.list(checked(&path)?).await.map_err(error)?;
                    Ok(convert::page(entries.into_iter().map(convert::dir_entry).collect(), cursor))
                })
                .await,
            ),
            Request::Mkdir { path } => {
                Reply::Mkdir(answer(refused, async { fs.mkdir(checked(&path)?).await.map_err(error) }).await)
            }
            Request::Rmdir { path } => Reply::Rmdir(
                answer(refused, async {
                    let path = checked(&path)?;
                    self.retry_busy(|| fs.rmdir(path)).await
                })
                .await,
            ),
            Request::Unlink { path } => Reply::Unlink(
                answer(refused, async {
                    let path = checked(&path)?;
                    self.retry_busy(|| fs.unlink(path)).await
                })
                .await,
            ),
            Request::Rename { from, to } => Reply::Rename(
                answer(refused, async {
                    let (from, to) = (checked(&from)?, checked(&to)?);
                    self.retry_busy(|| fs.rename(from, to)).await
                })
                .await,
            ),
            Request::Sync {} => Reply::Sync(answer(refused, self.sync()).await),
            Request::Shutdown {} => {
                self.shutting_down.set(true);
                Reply::Shutdown(answer(refused, self.sync()).await)
            }
            Request::Statfs {} => Reply::Statfs(answer(refused, self.statfs()).await),
            Request::Stats {} => Reply::Stats(Answer(Ok(self.stats()))),
        };
        if changes {
            self.dirty.set(true);
        }
        reply
    }

    /// The counters.
    pub fn stats(&self) -> ServerStats {
        let disk = self.fs.device().disk_stats();
        let cache = self.fs.cache_stats();
        ServerStats {
            open_files: self.open_files() as u64,
            disk_tries: disk.tries,
            disk_retries: disk.retries,
            disk_failures: disk.failures,
            disk_in_flight: disk.in_flight,
            cache_hits: cache.hits,
            cache_misses: cache.misses,
        }
    }

    async fn statfs(&self) -> Result<VolumeInfo, FsError> {
        let s = self.fs.statfs().await.map_err(error)?;
        let fat_bits = match s.fat_type {
            FatType::Fat12 => 12,
            FatType::Fat16 => 16,
            FatType::Fat32 => 32,
        };
        Ok(VolumeInfo {
            fat_bits,
            cluster_size: s.cluster_size,
            total_clusters: s.total_clusters,
            free_clusters: s.free_clusters,
            label: s.label,
        })
    }

    /// fatcore's handle for `pid`'s file `id`.
    fn file(&self, pid: u64, id: u64) -> Result<Handle, FsError> {
        self.clients.borrow().get(pid, id)
    }

    async fn open(&self, pid: u64, path: &str, flags: OpenFlags) -> Result<Opened, FsError> {
        let path = checked(path)?;
        let opts = convert::open_options(flags)?;
        if !self.clients.borrow().has_room(pid) {
            return Err(FsError::TooManyOpen);
        }
        let h = self.retry_busy(|| self.fs.open(path, opts)).await?;
        let size = match self.fs.fstat(h).await {
            Ok(m) => m.size,
            Err(e) => {
                let _ = self.fs.close(h);
                return Err(error(e));
            }
        };
        match self.clients.borrow_mut().insert(pid, h) {
            Ok(handle) => Ok(Opened { handle, size }),
            Err(e) => {
                let _ = self.fs.close(h);
                Err(e)
            }
        }
    }

    async fn read(&self, pid: u64, id: u64, len: u64, lease: &impl Lease) -> Result<u64, FsError> {
        let h = self.file(pid, id)?;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let mut buf = vec![0u8; len.min(CHUNK)];
        let mut done = 0;
        while done < len {
            let want = (len - done).min(CHUNK);
            let n = self.fs.read(h, &mut buf[..want]).await.map_err(error)?;
            lease.write(done, &buf[..n]).map_err(lease_error)?;
            done += n;
            if n < want {
                break;
            }
        }
        Ok(done as u64)
    }

    async fn write(&self, pid: u64, id: u64, len: u64, lease: &impl Lease) -> Result<u64, FsError> {
        let h = self.file(pid, id)?;
        let len = usize::try_from(len).map_err(|_| FsError::FileTooLarge)?;
        let mut buf = vec![0u8; len.min(CHUNK)];
        let mut done = 0;
        while done < len {
            let piece = &mut buf[..(len - done).min(CHUNK)];
            lease.read(done, piece).map_err(lease_error)?;
            let n = self.fs.write(h, piece).await.map_err(error)?;
            done += n;
            if n < piece.len() {
                break;
            }
        }
        Ok(done as u64)
    }

    /// Writes back everything cached.
    async fn sync(&self) -> Result<(), FsError> {
        // Changes made while the sync runs set the flag again.
        self.dirty.set(false);
        let r = self.fs.sync().await.map_err(error);
        if r.is_err() {
            self.dirty.set(true);
        }
        r
    }

    /// Runs `op`; if it failed with `Busy` or `TooManyOpen` and closing
    /// dead clients' files freed something, runs it once more.
    async fn retry_busy<T, F, Fut>(&self, op: F) -> Result<T, FsError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = fatcore::Result<T>>,
    {
        match op().await {
            Err(fatcore::Error::Busy | fatcore::Error::TooManyOpen) if self.sweep() > 0 => op().await.map_err(error),
            r => r.map_err(error),
        }
    }

    /// Closes every file of `pid`.
    fn close_all(&self, pid: u64) {
        let handles = self.clients.borrow_mut().remove_pid(pid);
        for h in handles {
            let _ = self.fs.close(h);
        }
    }

    /// Closes the files of processes that have ended; returns how many
    /// processes that was.
    pub fn sweep(&self) -> usize {
        if self.clients.borrow().is_empty() {
            return 0;
        }
        let Some(alive) = (self.alive)() else { return 0 };
        let gone = self.clients.borrow().orphans(&alive);
        for &pid in &gone {
            self.close_all(pid);
        }
        gone.len()
    }

    /// Every [`HOUSEKEEPING`]: close dead clients' files, write back
    /// changes. Runs until the executor stops.
    pub async fn housekeeping(self: Rc<Self>) {
        loop {
            sleep(HOUSEKEEPING).await;
            self.sweep();
            if self.dirty.get() && !self.shutting_down.get() {
                let _ = self.sync().await;
            }
        }
    }
}

/// The executor's handler: answers the request, and if the client turns
/// out to be gone, closes the files of every ended process.
pub async fn serve<D: BlockDevice + Counted>(server: Rc<Server<D>>, req: Request, ctx: Ctx) -> libipc::Result<Reply> {
    let reply = server.handle(ctx.pid(), req, &ctx).await;
    if ctx.reply(&reply) == Err(Error::PeerDied) {
        server.sweep();
    }
    // Already answered: the executor ignores this.
    Ok(reply)
}

#[cfg(test)]
mod tests;
