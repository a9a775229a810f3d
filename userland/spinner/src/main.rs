//! `spinner`: a CPU-bound process that never yields, for the preemption test.
//!
//! It computes in chunks of pure arithmetic (no system calls) and reads the
//! clock between chunks, until `ms=N` milliseconds (default 300) have passed
//! since it started. A gap between two clock reads much longer than the
//! fastest chunk means the CPU was taken away mid-computation and given back:
//! it was preempted. It prints one progress line per `report` gaps.
//!
//! Exit status: 0 if time advanced and, when asked with the word
//! `expect-preempt`, at least one preemption was seen; 1 if the clock never
//! moved; 2 if it expected preemption and saw none.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::hint::black_box;

use libipc::{println, time_ns, Args};

libipc::main!(main);

/// Iterations of the arithmetic loop between clock reads.
const CHUNK: u64 = 20_000;
/// A gap must exceed both this many times the fastest chunk and
/// [`MIN_GAP_NS`] to count as a preemption.
const GAP_FACTOR: u64 = 4;
const MIN_GAP_NS: u64 = 1_000_000;

fn main(args: Args) -> i32 {
    let ms: u64 = args.value("ms").and_then(|v| v.parse().ok()).unwrap_or(300);
    let expect_preempt = args.contains("expect-preempt");
    let me = libipc::getpid();

    let start = time_ns();
    let deadline = start.saturating_add(ms.saturating_mul(1_000_000));
    let mut last = start;
    let mut fastest = u64::MAX;
    let mut gaps = 0u64;
    let mut chunks = 0u64;
    let mut acc = 0u64;
    let mut advanced = false;
    loop {
        for i in 0..CHUNK {
            acc = black_box(acc.wrapping_mul(6364136223846793005).wrapping_add(i));
        }
        chunks += 1;
        let now = time_ns();
        if now > last {
            advanced = true;
        }
        let delta = now.saturating_sub(last);
        if delta > 0 && delta < fastest {
            fastest = delta;
        }
        if fastest != u64::MAX && delta > MIN_GAP_NS && delta > fastest.saturating_mul(GAP_FACTOR) {
            gaps += 1;
            if gaps.is_power_of_two() {
                println!(
                    "spinner[{me}]: preempted {gaps} times so far ({chunks} chunks, last gap {} us)",
                    delta / 1000
                );
            }
        }
        last = now;
        if now >= deadline {
            break;
        }
    }
    println!(
        "spinner[{me}]: done after {} ms: {chunks} chunks, fastest {} us, {gaps} preemptions (checksum {:x})",
        (last - start) / 1_000_000,
        if fastest == u64::MAX { 0 } else { fastest / 1000 },
        acc & 0xffff
    );
    if !advanced {
        1
    } else if expect_preempt && gaps == 0 {
        2
    } else {
        0
    }
}
