//! `systest`: the in-QEMU test suite for the system servers (issue 6): the
//! name service init hosts, init's supervision (kill the console, see it
//! restarted and found again), and the console's write path, receive path
//! (UART loopback), line editing, raw reads and Ctrl-C delivery.
//!
//! init runs it in test mode once the test-mode servers are up, with a
//! connection to its name service as `first_handle(0)`. Prints `PASS
//! <name>` or `FAIL <name>: <why>` per test and closes with `systest: N
//! passed, N failed`; the exit status is the number of failed tests.
//! `systest <name>...` runs only the named tests.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

mod console;
mod harness;
mod names;
mod supervision;

use harness::Outcome;
use libipc::{println, Args};

libipc::main!(main);

/// A test: its name, and the function that runs it.
type Test = (&'static str, fn() -> Outcome);

/// Every test, in the order they run; the one that kills the console last.
const TESTS: &[Test] = &[
    ("names_register_lookup", names::register_lookup),
    ("init_services", names::init_services),
    ("console_write_path", console::write_path),
    ("console_loopback", console::loopback),
    ("console_line_editing", console::line_editing),
    ("console_ctrl_c", console::ctrl_c),
    ("console_raw_reads", console::raw_reads),
    ("console_restart", supervision::console_restart),
];

fn main(args: Args) -> i32 {
    let named = args.words_str().any(|w| !w.contains('='));
    let selected = |name: &str| !named || args.contains(name);
    let count = TESTS.iter().filter(|(name, _)| selected(name)).count();
    println!("systest: pid {}, {count} of {} tests", libipc::getpid(), TESTS.len());
    libipc::testing::run("systest", TESTS.iter().filter(|(name, _)| selected(name)).copied())
}
