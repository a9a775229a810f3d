//! `blktest`: in-QEMU tests of the block driver (`virtio-blk`) through the
//! block protocol (`blk-proto`), as a client sees it.
//!
//! It finds the driver by the name `blk` through the name service (the
//! connection every process init starts gets as `first_handle(0)`).
//! Every write lands in a scratch region at the end of the disk
//! ([`REGION`] sectors), whose contents are saved first and written back at
//! the end (checked by the last test, `restore`), so the tests can run on
//! a disk that holds a filesystem.
//!
//! Prints `PASS <name>` or `FAIL <name>: <why>` per test and closes with
//! `blktest: N passed, N failed`; the exit status is the number of failures.
//! Arguments: test names to run only those; `sectors=N` also checks the
//! capacity the driver reports; `ioerr=N` checks that a read of sector N
//! fails with an I/O error (QEMU's blkdebug can inject one); `keep` skips the restore, so the host can
//! check what landed in the disk image (the last sector holds its own
//! number, little-endian, then the tag byte 13).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

mod tests;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use core::time::Duration;

use blk_proto::{Client, Info, SECTOR_SIZE};
use libipc::{names, println, Args};

libipc::main!(main);

/// Sectors at the end of the disk the tests may write (1 MiB).
pub const REGION: u64 = 2048;
/// The longest any request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What every test gets.
pub struct Ctx {
    pub client: Arc<Client>,
    pub info: Info,
    /// First sector of the scratch region.
    pub base: u64,
    /// `sectors=N` from the arguments.
    pub expect_sectors: Option<u64>,
    /// `ioerr=N`: the device fails reads of sector N.
    pub ioerr: Option<u64>,
}

/// A test: its name and body (`Err` says why it failed).
type Test = (&'static str, fn(&Ctx) -> Result<(), String>);

fn main(args: Args) -> i32 {
    let conn = match names::lookup_wait(blk_proto::NAME, Duration::from_secs(5)) {
        Ok(conn) => conn,
        Err(e) => return fail_early(&alloc::format!("looking up {:?}: {e}", blk_proto::NAME)),
    };
    // A registered name nobody serves (no disk) must fail the suite, not hang it.
    let client = Arc::new(Client::new(conn).with_timeout(REQUEST_TIMEOUT));
    let info = match client.info() {
        Ok(info) => info,
        Err(e) => return fail_early(&alloc::format!("info: {e}")),
    };
    if info.capacity < REGION {
        return fail_early("disk smaller than the scratch region");
    }
    let ctx = Ctx {
        client,
        info,
        base: info.capacity - REGION,
        expect_sectors: args.value("sectors").and_then(|v| v.parse().ok()),
        ioerr: args.value("ioerr").and_then(|v| v.parse().ok()),
    };
    println!(
        "blktest: {} sectors, block {} bytes, {} sectors per device request, flags {:#x}",
        info.capacity, info.block_size, info.max_transfer, info.flags
    );
    let mut saved = vec![0u8; REGION as usize * SECTOR_SIZE];
    if let Err(e) = ctx.client.read(ctx.base, &mut saved) {
        return fail_early(&alloc::format!("saving the scratch region: {e}"));
    }

    let named: Vec<&str> = args.words_str().filter(|w| !w.contains('=') && *w != "keep").collect();
    let keep = args.contains("keep");
    if keep {
        println!("blktest: the scratch region will be left as the tests write it");
    }
    let ctx = &ctx;
    let chosen = tests::ALL.iter().filter(|(name, _)| named.is_empty() || named.contains(name));
    let mut steps: Vec<(&str, Step)> =
        chosen.map(|&(name, test)| (name, Box::new(move || test(ctx)) as Step)).collect();
    if !keep {
        // Putting the scratch region back is a step of its own: it can fail.
        steps.push(("restore", Box::new(|| tests::restore(ctx, &saved))));
    }
    libipc::testing::run("blktest", steps)
}

/// A step of the run: a test, or restoring the scratch region afterwards.
type Step<'a> = Box<dyn FnOnce() -> Result<(), String> + 'a>;

/// Reports a failure before any test could run.
fn fail_early(why: &str) -> i32 {
    println!("FAIL setup: {why}");
    println!("blktest: 0 passed, 1 failed");
    1
}
