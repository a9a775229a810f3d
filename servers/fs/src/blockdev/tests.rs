//! [`BlkDisk`]'s retries against fake drivers over one RAM image, on
//! libipc's executor with the simulated kernel (so the back-off runs on a
//! simulated clock). The drivers can die after a number of requests, as a
//! killed `virtio-blk` fails what it had in flight.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;

use libipc::executor::sim::SimKernel;
use libipc::executor::{yield_now, Executor};

use super::*;

const SECTORS: u64 = 64;

type Image = Rc<RefCell<Vec<u8>>>;

/// A driver over `image` that answers `budget` requests, then behaves as
/// a dead one (`PeerDied`). Every request waits once first, so requests of
/// several tasks are in flight together.
struct FakeDriver {
    image: Image,
    budget: Cell<u32>,
}

impl FakeDriver {
    async fn serve(&self) -> Result<(), BlkError> {
        yield_now().await;
        match self.budget.get() {
            0 => Err(BlkError::Ipc(Error::PeerDied)),
            n => {
                self.budget.set(n - 1);
                Ok(())
            }
        }
    }

    fn range(sector: u64, len: usize) -> Result<core::ops::Range<usize>, BlkError> {
        let start = sector as usize * SECTOR_SIZE;
        if sector + (len / SECTOR_SIZE) as u64 > SECTORS {
            return Err(BlkError::OutOfRange);
        }
        Ok(start..start + len)
    }
}

impl Driver for FakeDriver {
    async fn info(&self) -> Result<Info, BlkError> {
        self.serve().await?;
        Ok(Info { capacity: SECTORS, sector_size: 512, block_size: 512, max_transfer: 8, flags: 0 })
    }

    async fn read(&self, sector: u64, buf: &mut [u8]) -> Result<(), BlkError> {
        self.serve().await?;
        buf.copy_from_slice(&self.image.borrow()[Self::range(sector, buf.len())?]);
        Ok(())
    }

    async fn write(&self, sector: u64, buf: &[u8]) -> Result<(), BlkError> {
        self.serve().await?;
        self.image.borrow_mut()[Self::range(sector, buf.len())?].copy_from_slice(buf);
        Ok(())
    }

    async fn flush(&self) -> Result<(), BlkError> {
        self.serve().await
    }
}

/// Hands out drivers: each lookup makes the next one (with the next budget
/// from `budgets`, else unlimited); `missing` lookups fail first.
#[derive(Default)]
struct FakeLink {
    image: Image,
    budgets: RefCell<VecDeque<u32>>,
    current: RefCell<Option<Rc<FakeDriver>>>,
    missing: Cell<u32>,
    lookups: Cell<u32>,
}

impl Link for Rc<FakeLink> {
    type Driver = FakeDriver;

    fn get(&self) -> Result<Rc<FakeDriver>, Error> {
        if let Some(d) = self.current.borrow().as_ref() {
            return Ok(d.clone());
        }
        if self.missing.get() > 0 {
            self.missing.set(self.missing.get() - 1);
            return Err(Error::NotFound);
        }
        self.lookups.set(self.lookups.get() + 1);
        let budget = self.budgets.borrow_mut().pop_front().unwrap_or(u32::MAX);
        let d = Rc::new(FakeDriver { image: self.image.clone(), budget: Cell::new(budget) });
        *self.current.borrow_mut() = Some(d.clone());
        Ok(d)
    }

    fn forget(&self, driver: &Rc<FakeDriver>) {
        let mut current = self.current.borrow_mut();
        if current.as_ref().is_some_and(|c| Rc::ptr_eq(c, driver)) {
            *current = None;
        }
    }
}

fn setup(budgets: &[u32]) -> (Arc<SimKernel>, Executor, Rc<FakeLink>) {
    let sim = SimKernel::new();
    let exec = Executor::new(sim.clone());
    let image = (0..SECTORS as usize * SECTOR_SIZE).map(|i| (i % 251) as u8).collect();
    let link = Rc::new(FakeLink {
        image: Rc::new(RefCell::new(image)),
        budgets: RefCell::new(budgets.iter().copied().collect()),
        ..Default::default()
    });
    (sim, exec, link)
}

use alloc::sync::Arc;

#[test]
fn requests_pass_through() {
    let (_sim, mut exec, link) = setup(&[]);
    let l = link.clone();
    let (data, stats) = exec
        .block_on(async move {
            let disk = BlkDisk::probe(l, RETRY).await.unwrap();
            assert_eq!((disk.block_count(), disk.block_size()), (SECTORS, 512));
            disk.write_blocks(4, &[7; 1024]).await.unwrap();
            let mut buf = vec![0u8; 2048];
            disk.read_blocks(3, &mut buf).await.unwrap();
            disk.flush().await.unwrap();
            (buf, disk.disk_stats())
        })
        .unwrap();
    assert!(data[512..1536].iter().all(|&b| b == 7));
    assert_eq!(data[0], ((3 * 512) % 251) as u8);
    assert_eq!(stats, DiskStats { tries: 4, retries: 0, failures: 0, in_flight: 0 });
    assert_eq!(link.lookups.get(), 1);
}

#[test]
fn a_dead_driver_is_looked_up_again_and_the_request_resent() {
    // The first driver answers Info and one write, then dies.
    let (_sim, mut exec, link) = setup(&[2]);
    let l = link.clone();
    let stats = exec
        .block_on(async move {
            let disk = BlkDisk::probe(l, RETRY).await.unwrap();
            disk.write_blocks(0, &[1; 512]).await.unwrap();
            disk.write_blocks(1, &[2; 512]).await.unwrap();
            let mut buf = vec![0u8; 1024];
            disk.read_blocks(0, &mut buf).await.unwrap();
            assert!(buf[..512].iter().all(|&b| b == 1) && buf[512..].iter().all(|&b| b == 2));
            disk.disk_stats()
        })
        .unwrap();
    assert_eq!(link.lookups.get(), 2, "looked up again once");
    assert_eq!(stats, DiskStats { tries: 5, retries: 1, failures: 0, in_flight: 0 });
}

#[test]
fn requests_in_flight_together_share_one_reconnection() {
    let (_sim, mut exec, link) = setup(&[1]);
    let l = link.clone();
    let disk = Rc::new(exec.block_on(async move { BlkDisk::probe(l, RETRY).await.unwrap() }).unwrap());
    // Four tasks read while the driver is dead: all fail together, all are
    // re-sent to the one successor.
    let done = Rc::new(Cell::new(0));
    for i in 0..4u64 {
        let (disk, done) = (disk.clone(), done.clone());
        exec.spawn("reader", async move {
            let mut buf = vec![0u8; 512];
            disk.read_blocks(i, &mut buf).await.unwrap();
            assert_eq!(buf[0], ((i * 512) % 251) as u8);
            done.set(done.get() + 1);
        })
        .unwrap();
    }
    exec.run().unwrap();
    assert_eq!(done.get(), 4);
    assert_eq!(link.lookups.get(), 2);
    assert_eq!(disk.disk_stats().retries, 4);
}

#[test]
fn a_missing_driver_is_waited_for_then_given_up() {
    let (sim, mut exec, link) = setup(&[]);
    link.missing.set(3);
    let l = link.clone();
    let stats = exec.block_on(async move { BlkDisk::probe(l, RETRY).await.map(|d| d.disk_stats()) }).unwrap().unwrap();
    assert_eq!(stats.retries, 3, "waited for the name to come back");
    // 10 + 20 + 40 ms of back-off passed on the simulated clock.
    assert!(sim.now() >= 70_000_000, "{}", sim.now());

    let (sim, mut exec, link) = setup(&[]);
    link.missing.set(u32::MAX);
    let r = exec.block_on(async move { BlkDisk::probe(link, RETRY).await.map(drop) }).unwrap();
    assert_eq!(r.err(), Some(fatcore::Error::Io));
    // 11 waits: 10, 20, ..., 640 ms, then 1 s four times.
    assert_eq!(sim.now(), 1_270_000_000 + 4_000_000_000);
}

#[test]
fn device_errors_are_not_retried() {
    let (_sim, mut exec, link) = setup(&[]);
    let (r, stats) = exec
        .block_on(async move {
            let disk = BlkDisk::probe(link, RETRY).await.unwrap();
            let mut buf = vec![0u8; 512];
            let r = disk.read_blocks(SECTORS, &mut buf).await;
            (r, disk.disk_stats())
        })
        .unwrap();
    assert_eq!(r, Err(fatcore::Error::Io));
    assert_eq!(stats, DiskStats { tries: 2, retries: 0, failures: 1, in_flight: 0 });
}
