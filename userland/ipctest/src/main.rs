//! `ipctest`: the in-QEMU test suite for message passing (issue 4):
//! message sizes between processes, the fast path and its counters, the
//! slow path's ordering, leases, pulses, asynchronous sends, the deaths of
//! servers and clients, handle security, interrupts as pulses, leaks and
//! priority inheritance. Most tests run `ipcpeer` as the other process.
//!
//! Prints `PASS <name>` or `FAIL <name>: <why>` per test and closes with
//! `ipctest: N passed, N failed`; the exit status is the number of failed
//! tests. `ipctest <name>...` runs only the named tests; the tests of
//! known kernel bugs in `known.rs` run only when named.
//!
//! The unsafe blocks: `irq.rs`'s access to the RTC's two ports, and
//! `remembered.rs` handing the kernel a buffer address that is unmapped.
//!
//! `irq_pulse` needs, from its spawner (init), copies of the I/O port handle
//! as `first_handle(0)` and of interrupt line 8 (the RTC) as
//! `first_handle(1)`.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

mod asynchronous;
mod death;
mod harness;
mod irq;
mod known;
mod leaks;
mod leases;
mod paths;
mod priority;
#[path = "../../ipcpeer/src/proto.rs"]
mod proto;
mod pulses;
mod remembered;
mod security;
mod sizes;

use harness::Outcome;
use libipc::{println, Args};

libipc::main!(main);

/// A test: its name, and the function that runs it.
type Test = (&'static str, fn() -> Outcome);

/// Every test, in the order they run. `fast_path` comes before anything
/// that leaves devices or processes busy; `irq_pulse` comes last but one
/// because its line stays bound.
const TESTS: &[Test] = &[
    ("sizes_roundtrip", sizes::sizes_roundtrip),
    ("fast_path", paths::fast_path),
    ("slow_path_order", paths::slow_path_order),
    ("unmapped_receive_buffer", remembered::unmapped_receive_buffer),
    ("closed_connection", remembered::closed_connection),
    ("leases", leases::leases),
    ("pulses", pulses::pulses),
    ("async_send", asynchronous::async_send),
    ("server_death", death::server_death),
    ("client_death", death::client_death),
    ("handle_security", security::handle_security),
    ("priority_inheritance", priority::priority_inheritance),
    ("irq_pulse", irq::irq_pulse),
    ("leak_check", leaks::leak_check),
];

/// Tests of known kernel bugs (see `known.rs`): run only when named.
const KNOWN_BUGS: &[Test] = &[
    ("stale_rcvid", known::stale_rcvid),
    ("error_reply_handle", known::error_reply_handle),
    ("priority_inheritance_queued", known::priority_inheritance_queued),
];

fn main(args: Args) -> i32 {
    let selected = |name: &str| args.is_empty() || args.contains(name);
    let chosen = || {
        let known = KNOWN_BUGS.iter().filter(|(name, _)| args.contains(name));
        TESTS.iter().filter(|(name, _)| selected(name)).chain(known)
    };
    println!("ipctest: pid {}, {} of {} tests", libipc::getpid(), chosen().count(), TESTS.len());
    libipc::testing::run("ipctest", chosen().copied())
}
