//! The disk as fatcore sees it: [`BlkDisk`], a [`BlockDevice`] over the
//! `virtio-blk` server, which survives the driver's death.
//!
//! The requests themselves are `blk_proto`'s [`AsyncClient`]: every block
//! request an asynchronous call, so the task that needs the blocks waits
//! and every other task of the server runs; a run of blocks cut into
//! inline pieces that are all in flight at once.
//!
//! What this file adds is the retry. If the driver dies, the requests it
//! had taken fail with `PeerDied` (requests still queued on its channel,
//! which init holds, wait there for its successor; a connection whose
//! channel is gone fails at once). The disk then drops its connection,
//! waits ([`Retry`]: 10 ms doubling to 1 s, on the executor's timers, so
//! other requests go on), looks the driver up again by name (init
//! restarts it; the name then leads to its channel) and re-sends. Reads
//! and writes of whole sectors are idempotent, so re-sending one that may
//! have reached the disk is safe. After [`Retry::attempts`] tries the
//! request fails with `Io`. A request the driver answered with an error
//! (out of range, a device error) is not retried.
//!
//! How the driver is reached is the [`Link`] trait: [`NamedLink`] looks a
//! name up with `libipc::names`; the host tests script a fake driver.

use alloc::rc::Rc;
use core::cell::{Cell, RefCell};
use core::time::Duration;

use abi::Error;
use blk_proto::{AsyncClient, BlkError, Info, SECTOR_SIZE};
use fatcore::BlockDevice;
use libipc::executor::sleep;

/// One try at the block driver: what [`AsyncClient`] does.
#[allow(async_fn_in_trait)] // single-threaded executor: no `Send` needed
pub trait Driver {
    /// The device's size and properties.
    async fn info(&self) -> Result<Info, BlkError>;
    /// Reads `buf.len() / 512` sectors from `sector`.
    async fn read(&self, sector: u64, buf: &mut [u8]) -> Result<(), BlkError>;
    /// Writes `buf` (whole sectors) at `sector`.
    async fn write(&self, sector: u64, buf: &[u8]) -> Result<(), BlkError>;
    /// Makes completed writes durable.
    async fn flush(&self) -> Result<(), BlkError>;
}

impl Driver for AsyncClient {
    async fn info(&self) -> Result<Info, BlkError> {
        AsyncClient::info(self).await
    }

    async fn read(&self, sector: u64, buf: &mut [u8]) -> Result<(), BlkError> {
        AsyncClient::read(self, sector, buf).await
    }

    async fn write(&self, sector: u64, buf: &[u8]) -> Result<(), BlkError> {
        AsyncClient::write(self, sector, buf).await
    }

    async fn flush(&self) -> Result<(), BlkError> {
        AsyncClient::flush(self).await
    }
}

/// How the disk reaches the block driver.
pub trait Link {
    /// What requests go through.
    type Driver: Driver;
    /// The current driver, looked up if there is none.
    fn get(&self) -> Result<Rc<Self::Driver>, Error>;
    /// `driver` is gone: drop it if it is still the current one, so the
    /// next [`get`](Self::get) looks the driver up again.
    fn forget(&self, driver: &Rc<Self::Driver>);
}

/// A [`Link`] to the driver registered under a name.
#[derive(Debug)]
pub struct NamedLink {
    name: &'static str,
    current: RefCell<Option<Rc<AsyncClient>>>,
}

impl NamedLink {
    /// A link to the driver called `name` (looked up on first use).
    pub fn new(name: &'static str) -> NamedLink {
        NamedLink { name, current: RefCell::new(None) }
    }
}

impl Link for NamedLink {
    type Driver = AsyncClient;

    fn get(&self) -> Result<Rc<AsyncClient>, Error> {
        if let Some(c) = self.current.borrow().as_ref() {
            return Ok(c.clone());
        }
        let c = Rc::new(AsyncClient::new(libipc::names::lookup(self.name)?));
        *self.current.borrow_mut() = Some(c.clone());
        Ok(c)
    }

    fn forget(&self, driver: &Rc<AsyncClient>) {
        let mut current = self.current.borrow_mut();
        if current.as_ref().is_some_and(|c| Rc::ptr_eq(c, driver)) {
            // The connection closes when the last request using it is done.
            *current = None;
        }
    }
}

/// How often and how patiently a failed request is re-sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// Tries in all (the first send included).
    pub attempts: u32,
    /// The wait before the first re-send; it doubles each time...
    pub first: Duration,
    /// ...up to this.
    pub max: Duration,
}

/// 12 tries over about 5 s: enough for init to notice a dead driver,
/// wait out its restart back-off and for the driver to set the device up
/// again.
pub const RETRY: Retry = Retry { attempts: 12, first: Duration::from_millis(10), max: Duration::from_secs(1) };

/// What the disk has done, for diagnostics and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskStats {
    /// Requests tried (re-sends included).
    pub tries: u64,
    /// Re-sends after a failure.
    pub retries: u64,
    /// Requests that failed for good.
    pub failures: u64,
    /// Requests waiting for the driver now.
    pub in_flight: u64,
}

/// A disk that counts what it did (the `Stats` request reports it).
pub trait Counted {
    /// The counters so far.
    fn disk_stats(&self) -> DiskStats;
}

impl<L: Link> Counted for BlkDisk<L> {
    fn disk_stats(&self) -> DiskStats {
        self.stats.get()
    }
}

/// A RAM disk (tests, or a server on memory) counts its requests as tries.
impl Counted for fatcore::RamDisk {
    fn disk_stats(&self) -> DiskStats {
        let s = self.stats();
        DiskStats { tries: s.reads + s.writes + s.flushes, ..DiskStats::default() }
    }
}

/// True for the failures that mean "the driver is gone or not there yet".
fn lost(e: &BlkError) -> bool {
    matches!(e, BlkError::Ipc(Error::PeerDied | Error::BadHandle | Error::NotFound))
}

/// Runs `op` on `link`'s driver, retrying as the module documentation says.
async fn with_retry<L: Link, T>(
    link: &L,
    retry: Retry,
    stats: &Cell<DiskStats>,
    mut op: impl AsyncFnMut(&L::Driver) -> Result<T, BlkError>,
) -> Result<T, BlkError> {
    let mut wait = retry.first;
    let mut tries = 0;
    loop {
        tries += 1;
        bump(stats, |s| s.tries += 1);
        let r = match link.get() {
            Ok(driver) => {
                let counted = InFlight::new(stats);
                let r = op(&driver).await;
                drop(counted);
                if r.as_ref().is_err_and(lost) {
                    link.forget(&driver);
                }
                r
            }
            Err(e) => Err(BlkError::Ipc(e)),
        };
        match r {
            Err(e) if lost(&e) && tries < retry.attempts => {
                bump(stats, |s| s.retries += 1);
                sleep(wait).await;
                wait = (wait * 2).min(retry.max);
            }
            Err(e) => {
                bump(stats, |s| s.failures += 1);
                return Err(e);
            }
            ok => return ok,
        }
    }
}

/// Counts a request as in flight while it lives (also if its future is
/// dropped half-way).
struct InFlight<'a>(&'a Cell<DiskStats>);

impl<'a> InFlight<'a> {
    fn new(stats: &'a Cell<DiskStats>) -> InFlight<'a> {
        bump(stats, |s| s.in_flight += 1);
        InFlight(stats)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        bump(self.0, |s| s.in_flight = s.in_flight.saturating_sub(1));
    }
}

fn bump(stats: &Cell<DiskStats>, f: impl FnOnce(&mut DiskStats)) {
    let mut s = stats.get();
    f(&mut s);
    stats.set(s);
}

/// Every failure fatcore sees from the disk is `Io`.
fn io(_: BlkError) -> fatcore::Error {
    fatcore::Error::Io
}

/// The virtio disk, in 512-byte blocks.
#[derive(Debug)]
pub struct BlkDisk<L: Link> {
    link: L,
    capacity: u64,
    retry: Retry,
    stats: Cell<DiskStats>,
}

impl<L: Link> BlkDisk<L> {
    /// Asks the driver behind `link` what the disk is (retrying while it
    /// is not there yet). `Unsupported` for sectors other than 512 bytes.
    pub async fn probe(link: L, retry: Retry) -> fatcore::Result<BlkDisk<L>> {
        let stats = Cell::new(DiskStats::default());
        let info = with_retry(&link, retry, &stats, async |d| d.info().await).await.map_err(io)?;
        if info.sector_size as usize != SECTOR_SIZE {
            return Err(fatcore::Error::Unsupported);
        }
        Ok(BlkDisk { link, capacity: info.capacity, retry, stats })
    }
}

impl<L: Link> BlockDevice for BlkDisk<L> {
    fn block_size(&self) -> usize {
        SECTOR_SIZE
    }

    fn block_count(&self) -> u64 {
        self.capacity
    }

    async fn read_blocks(&self, lba: u64, buf: &mut [u8]) -> fatcore::Result<()> {
        with_retry(&self.link, self.retry, &self.stats, async |d| d.read(lba, buf).await).await.map_err(io)
    }

    async fn write_blocks(&self, lba: u64, buf: &[u8]) -> fatcore::Result<()> {
        with_retry(&self.link, self.retry, &self.stats, async |d| d.write(lba, buf).await).await.map_err(io)
    }

    async fn flush(&self) -> fatcore::Result<()> {
        with_retry(&self.link, self.retry, &self.stats, async |d| d.flush().await).await.map_err(io)
    }
}

#[cfg(test)]
mod tests;
