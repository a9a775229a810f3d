//! `fs`: the filesystem server. Start-up only; the logic is the
//! `fs_server` library (`lib.rs`).
//!
//! 1. Take the priority init passes (`prio=N`, the manifest's), make the
//!    channel and the executor (`libipc::server`).
//! 2. Find the disk: ask the block driver registered as `blk`
//!    (`blk_proto::NAME`) what it is, retrying while it is not registered
//!    yet.
//! 3. Mount the FAT volume on it (fatcore; FAT12/16/32 at block 0).
//! 4. Start housekeeping, install the request handler, register as
//!    [`fs_proto::NAME`] ("fs"), and serve until the channel stops.
//!
//! Exit status [`NO_DISK`] (2) means there is nothing to serve: no block
//! driver answered within [`PROBE_TIMEOUT`] (QEMU started without a disk),
//! or the disk holds no FAT volume; restarting cannot help, so init's
//! manifest lists it as a "done" status. Status 1 is any other failure to
//! start (no name service, say).
//!
//! Block requests themselves have no time limit: the driver's channel is
//! init's and outlives the driver, so a request waits for a restarted
//! driver rather than being re-sent while the first copy may still be
//! served (a late stale write could then overwrite a newer one).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use fatcore::{FileSystem, MountOptions};
use fs_server::{serve, BlkDisk, NamedLink, Server, RETRY};
use libipc::executor::timeout;
use libipc::names::{self, Names};
use libipc::server::Server as Endpoint;
use libipc::{println, Args};

libipc::main!(main);

/// The exit status for "no disk or no FAT volume on it".
const NO_DISK: i32 = 2;
/// How long the block driver may take to answer the first request.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// Sectors fatcore's write-back cache holds (512 KiB).
const CACHE_SECTORS: usize = 1024;
/// Files open at once, over all clients.
const MAX_OPEN: usize = 256;

fn main(args: Args) -> i32 {
    libipc::server::apply_priority(&args);
    match run() {
        Ok(()) => 0,
        Err((status, why)) => {
            println!("fs: {why}");
            status
        }
    }
}

/// Why start-up failed: the exit status and a message.
type Failure = (i32, String);

/// A failure to start other than a missing disk.
fn fail(what: &str, e: impl core::fmt::Display) -> Failure {
    (1, format!("{what}: {e}"))
}

fn run() -> Result<(), Failure> {
    // Registered only once the volume is mounted, so no request arrives
    // before there is something to answer it with.
    let endpoint = Endpoint::unregistered("fs").map_err(|e| fail("no channel", e))?;
    let own = endpoint.connect().map_err(|e| fail("no connection", e))?;
    let mut exec = endpoint.into_executor();

    let probe = timeout(PROBE_TIMEOUT, BlkDisk::probe(NamedLink::new(blk_proto::NAME), RETRY));
    let disk = match exec.block_on(probe).map_err(|e| fail("executor", e))? {
        Ok(Ok(disk)) => disk,
        Ok(Err(e)) => return Err((NO_DISK, format!("no disk ({}): {e}", blk_proto::NAME))),
        Err(_) => return Err((NO_DISK, format!("no disk: {} did not answer", blk_proto::NAME))),
    };
    let sectors = fatcore::BlockDevice::block_count(&disk);
    let options = MountOptions { cache_sectors: CACHE_SECTORS, max_open: MAX_OPEN, ..MountOptions::default() };
    let fs = exec
        .block_on(FileSystem::mount(disk, options))
        .map_err(|e| fail("executor", e))?
        .map_err(|e| (NO_DISK, format!("no FAT volume on the disk: {e}")))?;

    let server = Rc::new(Server::new(fs, libipc::getpid(), alive));
    exec.spawn("housekeeping", server.clone().housekeeping()).map_err(|e| fail("no task", e))?;
    let mut exec = exec.serve(move |req, ctx| serve(server.clone(), req, ctx));
    names::service()
        .and_then(|s| Names::new(s).register_connection(fs_proto::NAME, &own))
        .map_err(|e| fail("cannot register", e))?;
    println!("fs: serving the FAT volume on {} ({} MiB)", blk_proto::NAME, sectors / 2048);
    let report = exec.run().map_err(|e| fail("stopped", e))?;
    println!("fs: stopped ({:?})", report.stopped);
    Ok(())
}

/// The processes alive now (for closing the files of ended clients).
fn alive() -> Option<Vec<u64>> {
    let list = libipc::ipc::processes().ok()?;
    Some(list.iter().filter(|p| !p.ended).map(|p| p.pid).collect())
}
