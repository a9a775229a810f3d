//! `utest`: the in-QEMU test suite for processes, threads, system calls and
//! scheduling. `init` runs it in test mode and exits with its status, which
//! the kernel turns into QEMU's exit code.
//!
//! Prints `PASS <name>` or `FAIL <name>: <why>` per test and closes with
//! `utest: N passed, N failed` (the form the QEMU runner parses); the exit
//! status is the number of failed tests. `utest <name>...` runs only the
//! named tests; `fuzz_seed=N` and `fuzz_calls=N` change the fuzz run.
//!
//! The tests use helper programs from the initrd: `hello`, `exitcode`,
//! `spinner`, `crash`, `sleeper`, `fuzz`, and the `hostile-*` images.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

mod harness;
mod memory;
mod pointers;
mod processes;
mod threads;
mod time;

use harness::Outcome;
use libipc::{println, Args};

libipc::main!(main);

/// A test: its name, and the function that runs it.
type Test = (&'static str, fn() -> Outcome);

/// Every test, in the order they run: the basic ones first, the ones that
/// exhaust resources last.
const TESTS: &[Test] = &[
    ("spawn_wait_exit", processes::spawn_wait_exit),
    ("threads", threads::threads),
    ("memory", memory::memory),
    ("sleep_and_time", time::sleep_and_time),
    ("bad_pointers", pointers::bad_pointers),
    ("faults", processes::faults),
    ("preemption", processes::preemption),
    ("no_leaks", memory::no_leaks),
    ("spawn_until_refused", processes::spawn_until_refused),
    ("fuzz", processes::fuzz),
];

fn main(args: Args) -> i32 {
    for (key, slot) in [("fuzz_seed", &processes::FUZZ_SEED), ("fuzz_calls", &processes::FUZZ_CALLS)] {
        if let Some(v) = args.value(key).and_then(|v| v.parse().ok()) {
            slot.store(v, core::sync::atomic::Ordering::Relaxed);
        }
    }
    let named = args.words_str().any(|w| !w.contains('='));
    let selected = |name: &str| !named || args.contains(name);
    let count = TESTS.iter().filter(|(name, _)| selected(name)).count();
    println!("utest: pid {}, {count} of {} tests", libipc::getpid(), TESTS.len());
    libipc::testing::run("utest", TESTS.iter().filter(|(name, _)| selected(name)).copied())
}
