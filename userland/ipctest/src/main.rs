//! `ipctest`: the in-QEMU test suite for message passing (issue 4):
//! message sizes between processes, the fast path and its counters, the
//! slow path's ordering, leases, pulses, asynchronous sends, the deaths of
//! servers and clients, handle security, interrupts as pulses, leaks and
//! priority inheritance. Most tests run `ipcpeer` as the other process.
//!
//! Prints `PASS <name>` or `FAIL <name>: <why>` per test and closes with
//! `ipctest: N passed, N failed`; the exit status is the number of failed
//! tests. `ipctest <name>...` runs only the named tests. `regressions.rs`
//! holds the tests of kernel bugs this suite found (all fixed).
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
mod leaks;
mod leases;
mod paths;
mod priority;
#[path = "../../ipcpeer/src/proto.rs"]
mod proto;
mod pulses;
mod regressions;
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
    ("priority_inheritance_queued", regressions::priority_inheritance_queued),
    ("stale_rcvid", regressions::stale_rcvid),
    ("error_reply_handle", regressions::error_reply_handle),
    ("ioports_narrow", irq::ioports_narrow),
    ("irq_pulse", irq::irq_pulse),
    ("leak_check", leaks::leak_check),
];

fn main(args: Args) -> i32 {
    let selected = |name: &str| args.is_empty() || args.contains(name);
    let chosen = || TESTS.iter().filter(|(name, _)| selected(name));
    println!("ipctest: pid {}, {} of {} tests", libipc::getpid(), chosen().count(), TESTS.len());
    libipc::testing::run("ipctest", chosen().copied())
}
