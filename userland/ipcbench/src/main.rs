//! `ipcbench`: the IPC latency benchmark. `make bench` runs it through
//! init's bench mode (`docs/benchmarks.md`: the method and the figures);
//! the shell's `bench` runs `ipcbench quick`; `make test` runs
//! `ipcbench smoke`. `ipcbench peer <kind>` is the other side of a case.
//!
//! - `bench.rs`: modes, the shared timed loop, rows
//! - `measure.rs`: the timer, samples and their summary
//! - `counters.rs`: the kernel's IPC counters and what each row needs them to show
//! - `report.rs`: the `BENCH` lines, `PASS`/`FAIL` lines and the table
//! - `cases/`: the cases; `peer.rs`: their peers; `proto.rs`: the typed protocol
//! - `raw.rs`: the hand-written `syscall` sequences (the only unsafe code)
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

mod bench;
mod cases;
mod counters;
mod measure;
mod peer;
mod proto;
mod raw;
mod report;

use libipc::Args;

libipc::main!(main);

fn main(args: Args) -> i32 {
    if args.word(0) == Some("peer") {
        return peer::run(args.word(1));
    }
    let mut b = bench::Bench::new(&args);
    report::announce_start(&b);
    cases::run_all(&mut b);
    report::finish(&b);
    i32::try_from(b.failed()).unwrap_or(i32::MAX)
}
