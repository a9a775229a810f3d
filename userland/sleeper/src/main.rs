//! `sleeper`: sleeps (in one long `sleep`, 10 minutes by default or
//! `ms=N`), then exits 0. The test suite spawns many to find the process
//! limit and kills them.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::time::Duration;

use libipc::Args;

libipc::main!(main);

fn main(args: Args) -> i32 {
    let ms = args.value("ms").and_then(|v| v.parse().ok()).unwrap_or(600_000);
    libipc::sleep(Duration::from_millis(ms));
    0
}
