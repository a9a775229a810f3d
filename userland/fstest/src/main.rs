//! `fstest`: the in-QEMU tests of the fs server, run by init in test mode
//! on a disk the host made (`fsfixture mkimage`: many files, long names,
//! nested directories, a multi-MiB file, and a manifest of their hashes).
//!
//! - `read`: what the host wrote reads back right (hashes, listings,
//!   seeks, lookups, errors, several clients at once).
//! - `write`: files written here, which the host checks byte for byte
//!   after QEMU exits (`fsfixture check`, with `fsck.fat -n`).
//! - `restart`: the block driver killed under load (the fs server retries),
//!   and the fs server killed while a client waits (the client gets an
//!   error, the next call works).
//!
//! Prints `PASS <name>` or `FAIL <name>: <why>` per test and closes with
//! `fstest: N passed, N failed`; the exit status is the number of failures.
//! `fstest <name>...` runs only the named tests (the write tests build on
//! each other: run them in order).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

mod harness;
mod read;
mod restart;
mod write;

use fs_proto::Fs;
use libipc::{println, Args};

use crate::harness::Outcome;

libipc::main!(main);

/// A test: its name, and the function that runs it.
type Test = (&'static str, fn(&Fs) -> Outcome);

/// Every test, in the order they run: reads of the untouched fixture
/// first, then writes, then the restarts (which need the `/out` directory),
/// and a last sync.
const TESTS: &[Test] = &[
    ("manifest_matches_fixture", read::manifest_matches_fixture),
    ("files_match_the_manifest", read::files_match_the_manifest),
    ("big_file_in_one_and_in_pieces", read::big_file_in_one_and_in_pieces),
    ("seeks_and_reads_anywhere", read::seeks_and_reads_anywhere),
    ("directories_list_what_the_host_wrote", read::directories_list_what_the_host_wrote),
    ("lookups_ignore_case", read::lookups_ignore_case),
    ("errors_are_reported", read::errors_are_reported),
    ("concurrent_clients", read::concurrent_clients),
    ("write_and_read_back", write::write_and_read_back),
    ("long_names_and_nesting", write::long_names_and_nesting),
    ("seek_overwrite_truncate", write::seek_overwrite_truncate),
    ("rename_unlink_rmdir", write::rename_unlink_rmdir),
    ("append_to_a_host_file", write::append_to_a_host_file),
    ("close_all", write::close_all),
    ("block_driver_restart", restart::block_driver_restart),
    ("fs_server_restart", restart::fs_server_restart),
    ("sync", write::sync),
];

fn main(args: Args) -> i32 {
    let named = args.words_str().any(|w| !w.contains('='));
    let selected = |name: &str| !named || args.contains(name);
    let fs = match Fs::connect() {
        Ok(fs) => fs,
        Err(e) => {
            println!("FAIL connect: {e}");
            println!("fstest: 0 passed, 1 failed");
            return 1;
        }
    };
    let fs = &fs;
    libipc::testing::run(
        "fstest",
        TESTS.iter().filter(|(name, _)| selected(name)).map(|&(name, test)| (name, move || test(fs))),
    )
}
