//! Servers dying under load. init supervises both servers and restarts
//! them; `libipc::init::kill` asks it to end one.
//!
//! - The block driver dies while the fs server has requests in flight (a
//!   writer syncing every 16 KiB and a reader of a file larger than the
//!   cache keep it busy): the fs server re-sends them to the restarted
//!   driver, the reader sees right bytes throughout, and the files written
//!   before, during and after are intact (here, and on the host afterwards).
//! - The fs server dies while a client waits for it: that client gets
//!   `PeerDied` at once (no hang); a client that was not in a call gets
//!   `PeerDied` from its next call (its connection is dead); the call after
//!   that finds the restarted server. Handles from before are gone.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;

use abi::Error;
use fs_proto::{Fs, FsError, OpenFlags};
use fsfixture::OUT_DIR;
use libipc::init::{state, ServiceInfo};
use libipc::sync::Mutex;

use crate::ensure;
use crate::harness::{check_content, expect_err, hash_file, ok, wait_for, write_content, Outcome};
use crate::write::{mkdir_all, output};

/// The supervised server running `program`.
fn running(program: &str) -> Result<ServiceInfo, String> {
    let list = ok("init's service list", libipc::init::services())?;
    list.into_iter()
        .find(|s| s.program == program && s.state == state::RUNNING && s.pid != 0)
        .ok_or_else(|| format!("{program} is not running"))
}

/// Waits until `program` runs again under a pid other than `old`.
fn restarted(program: &str, old: &ServiceInfo) -> Result<ServiceInfo, String> {
    wait_for(&format!("{program} to be restarted"), Duration::from_secs(15), || {
        running(program).ok().filter(|s| s.pid != old.pid)
    })
}

/// What a helper thread reports: `u64::MAX` while it runs, then its result.
struct Report {
    progress: AtomicU64,
    result: Mutex<Option<Result<u64, String>>>,
}

impl Report {
    fn new() -> Arc<Report> {
        Arc::new(Report { progress: AtomicU64::new(0), result: Mutex::new(None) })
    }

    fn finish(&self, r: Result<u64, String>) -> i64 {
        let code = i64::from(r.is_err());
        *self.result.lock() = Some(r);
        code
    }

    fn wait(&self, what: &str, limit: Duration) -> Result<Result<u64, String>, String> {
        wait_for(what, limit, || self.result.lock().clone())
    }
}

/// The writer of `path`: 16 KiB pieces, each followed by a sync, so the
/// fs server nearly always has block writes in flight.
fn writer(path: &'static str, report: Arc<Report>) -> Result<libipc::thread::JoinHandle, String> {
    let content = output(path)?;
    let t = libipc::thread::spawn(move || {
        let result = (|| {
            let fs = ok("connect", Fs::connect())?;
            let fd = ok("create", fs.create(path))?;
            let mut buf = alloc::vec![0u8; 16 * 1024];
            let mut offset = 0;
            loop {
                let n = content.fill(offset, &mut buf);
                if n == 0 {
                    break;
                }
                ok(&format!("write at {offset}"), fs.write(fd, &buf[..n]))?;
                offset += n as u64;
                report.progress.store(offset, Ordering::Release);
                ok(&format!("sync at {offset}"), fs.sync())?;
            }
            ok("close", fs.close(fd))?;
            Ok(offset)
        })();
        report.finish(result)
    });
    ok("spawn the writer", t)
}

/// Most rounds the reader reads (a bound, in case the test stalls).
const READER_ROUNDS: u64 = 4;

/// The reader: whole reads of the 3 MiB fixture file (more than the fs
/// server's cache holds, so it keeps block reads in flight), each checked,
/// until `stop` or [`READER_ROUNDS`].
fn reader(stop: Arc<AtomicBool>, report: Arc<Report>) -> Result<libipc::thread::JoinHandle, String> {
    let t = libipc::thread::spawn(move || {
        let result = (|| {
            let fs = ok("connect", Fs::connect())?;
            let content = fsfixture::fixture_tree()
                .into_iter()
                .find_map(|e| match e {
                    fsfixture::Entry::File(p, c) if p == "/big.bin" => Some(c),
                    _ => None,
                })
                .ok_or("no /big.bin in the fixture")?;
            let want = (content.len(), content.hash());
            let mut rounds = 0;
            while !stop.load(Ordering::Acquire) && rounds < READER_ROUNDS {
                let got = hash_file(&fs, "/big.bin", 64 * 1024).map_err(|e| format!("round {rounds}: {e}"))?;
                ensure!(got == want, "round {rounds}: /big.bin reads back wrong ({got:x?}, expected {want:x?})");
                rounds += 1;
                report.progress.store(rounds, Ordering::Release);
            }
            Ok(rounds)
        })();
        report.finish(result)
    });
    ok("spawn the reader", t)
}

/// Kills the block driver while a writer and a reader keep block requests
/// in flight.
pub fn block_driver_restart(fs: &Fs) -> Outcome {
    let (before, during, after) = ("/out/blk-before.bin", "/out/blk-during.bin", "/out/blk-after.bin");
    mkdir_all(fs, OUT_DIR)?;
    write_content(fs, before, &output(before)?, 64 * 1024)?;
    ok("sync", fs.sync())?;
    let retries_before = ok("stats", fs.stats())?.disk_retries;

    let (written, read) = (Report::new(), Report::new());
    let stop = Arc::new(AtomicBool::new(false));
    let writer = writer(during, written.clone())?;
    let reader = reader(stop.clone(), read.clone())?;

    // Kill the driver once the writer is well under way; if the fs server
    // happened to have nothing in flight at that instant (it saw no death),
    // kill the restarted driver again, at most three times.
    let mut kills = 0;
    let mut saw_death = false;
    while kills < 3 && !saw_death {
        let at = (kills + 1) * 192 * 1024;
        wait_for("the writer to get going", Duration::from_secs(30), || {
            (written.progress.load(Ordering::Acquire) >= at || written.result.lock().is_some()).then_some(())
        })?;
        if written.result.lock().is_some() {
            break;
        }
        let old = running("virtio-blk")?;
        // Right when the fs server says it waits for the driver, after
        // letting the driver (and the load) run, so that the driver has
        // taken the requests rather than left them queued on its channel
        // (those survive it and need no re-send). If the requests complete
        // meanwhile, the loop kills the restarted driver again.
        wait_for("a block request in flight", Duration::from_secs(10), || {
            fs.stats().ok().filter(|s| s.disk_in_flight > 0).map(drop)
        })?;
        libipc::yield_now();
        ok("kill virtio-blk", libipc::init::kill(old.pid))?;
        kills += 1;
        let new = restarted("virtio-blk", &old)?;
        ensure!(new.restarts > old.restarts, "virtio-blk: restarts {} -> {}", old.restarts, new.restarts);
        saw_death = ok("stats", fs.stats())?.disk_retries > retries_before;
    }
    let wrote = written.wait("the writer to finish", Duration::from_secs(60))?;
    stop.store(true, Ordering::Release);
    let rounds = read.wait("the reader to finish", Duration::from_secs(60))?;
    ok("join the writer", writer.join())?;
    ok("join the reader", reader.join())?;
    let wrote = wrote.map_err(|e| format!("the writer failed across the driver restart: {e}"))?;
    let rounds = rounds.map_err(|e| format!("the reader failed across the driver restart: {e}"))?;
    ensure!(wrote == output(during)?.len(), "the writer wrote {wrote} bytes");
    ensure!(kills > 0, "the writer finished before the driver could be killed");
    let retries = ok("stats", fs.stats())?.disk_retries - retries_before;
    ensure!(saw_death, "the fs server never had to re-send a request ({kills} kills)");
    libipc::println!(
        "fstest: the driver was killed {kills} time(s); the fs server re-sent {retries} request(s); \
         the reader read /big.bin {rounds} time(s)"
    );

    write_content(fs, after, &output(after)?, 64 * 1024)?;
    ok("sync", fs.sync())?;
    for path in [before, during, after] {
        check_content(fs, path, &output(path)?)?;
    }
    Ok(())
}

/// Kills the fs server while a client waits for it.
pub fn fs_server_restart(fs: &Fs) -> Outcome {
    ok("sync", fs.sync())?;
    let stale = ok("open", fs.open("/hello.txt", OpenFlags::READ))?;
    let old = running("fs")?;

    // The reader: whole-file reads of the 3 MiB file, back to back, on its
    // own connection, until a call fails.
    let report = Report::new();
    let r = report.clone();
    let reader = libipc::thread::spawn(move || {
        let result = (|| {
            let fs = ok("connect", Fs::connect())?;
            let mut reads = 0;
            loop {
                r.progress.store(reads + 1, Ordering::Release);
                match fs.read_file("/big.bin") {
                    Ok(_) if reads < 1000 => reads += 1,
                    Ok(_) => return Err(String::from("1000 reads and no error")),
                    Err(FsError::Ipc(Error::PeerDied)) => return Ok(reads),
                    Err(e) => return Err(format!("read {reads}: {e:?}, expected PeerDied")),
                }
            }
        })();
        r.finish(result)
    });
    let reader = ok("spawn the reader", reader)?;
    wait_for("the reader to start", Duration::from_secs(10), || {
        (report.progress.load(Ordering::Acquire) > 0).then_some(())
    })?;
    libipc::sleep(Duration::from_millis(50));
    ok("kill fs", libipc::init::kill(old.pid))?;

    let got = report.wait("the waiting client to get an error", Duration::from_secs(10))?;
    ok("join the reader", reader.join())?;
    got?;

    // This client's connection died with the server: its next call says so.
    expect_err("the first call after the death", fs.stat("/hello.txt"), FsError::Ipc(Error::PeerDied))?;
    // The call after that looks the restarted server up.
    let m = ok("stat after the restart", fs.stat("/hello.txt"))?;
    ensure!(m.size == 21, "/hello.txt: {} bytes", m.size);
    let new = restarted("fs", &old)?;
    ensure!(new.restarts > old.restarts, "fs: restarts {} -> {}", old.restarts, new.restarts);
    expect_err("a handle from before the restart", fs.read(stale, &mut [0u8; 4]), FsError::BadHandle)?;

    let path = "/out/fs-after.bin";
    mkdir_all(fs, OUT_DIR)?;
    write_content(fs, path, &output(path)?, 4096)?;
    ok("sync", fs.sync())?;
    check_content(fs, path, &output(path)?)
}
