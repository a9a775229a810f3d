//! Time and sleeping: the clock is monotonic and the one read without a
//! system call agrees with the kernel's, `sleep` lasts at least as long as
//! asked, and sleeping blocks only the thread that sleeps.
#![forbid(unsafe_code)]

use alloc::vec::Vec;
use core::time::Duration;

use libipc::{thread, Instant};

use crate::ensure;
use crate::harness::{ok, Outcome};

pub fn sleep_and_time() -> Outcome {
    // Monotonic, and moving.
    let first = libipc::time_ns();
    let mut last = first;
    for i in 0..2000 {
        let now = libipc::time_ns();
        ensure!(now >= last, "time went back from {last} to {now} ns at read {i}");
        last = now;
    }
    ensure!(last > first, "2000 reads of the clock all gave {first} ns");

    // The clock read without a system call is the kernel's: a reading taken
    // between two `time` calls lies between their results.
    ok("the clock's scale", libipc::sys::clock_scale())?;
    for i in 0..100 {
        let before = libipc::sys::time_ns();
        let local = libipc::time_ns();
        let after = libipc::sys::time_ns();
        ensure!(before <= local && local <= after, "read {i}: time {before}, local clock {local}, time {after} ns");
    }

    // Sleeping lasts at least as long as asked.
    for ms in [20u64, 1, 35] {
        let start = Instant::now();
        libipc::sleep(Duration::from_millis(ms));
        let took = start.elapsed();
        ensure!(took >= Duration::from_millis(ms), "sleep({ms} ms) returned after {} us", took.as_micros());
    }
    ok("sleep_ns(0)", libipc::sleep_ns(0))?;
    ok("sleep_ns(1)", libipc::sleep_ns(1))?;

    // Sleeping blocks the thread, not the process: four threads sleeping
    // 100 ms at once take far less than 400 ms together.
    let start = Instant::now();
    let sleepers: Vec<_> = (0..4)
        .map(|i| {
            thread::spawn(move || {
                libipc::sleep(Duration::from_millis(100));
                i
            })
        })
        .collect();
    for (i, t) in sleepers.into_iter().enumerate() {
        let code = ok("join a sleeping thread", ok("spawn a sleeping thread", t)?.join())?;
        ensure!(code == i as i64, "sleeping thread {i} returned {code}");
    }
    let took = start.elapsed();
    ensure!(
        took >= Duration::from_millis(100) && took < Duration::from_millis(350),
        "four threads sleeping 100 ms each in parallel took {} ms (expected 100..350)",
        took.as_millis()
    );
    Ok(())
}
