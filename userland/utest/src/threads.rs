//! Threads: they run in the same address space, return distinct codes
//! through `join`, one exiting does not end the others, the last one's code
//! ends the process, and the kernel enforces a thread limit cleanly.
#![forbid(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;

use libipc::{sys, thread, Error};

use crate::ensure;
use crate::harness::{expect_err, ok, run_expect, Outcome};

/// Most threads the limit check tries before calling the limit missing.
const LIMIT_PROBE: usize = 1024;

pub fn threads() -> Outcome {
    compute_and_share()?;
    one_exits_early()?;
    bad_joins()?;
    // The last thread's exit ends the process with its code (23), not the
    // main thread's (5).
    run_expect("exitcode", "threads", 23)?;
    limit()
}

/// Work a thread does: a sum that depends on `k`.
fn work(k: u64) -> u64 {
    (0..(10_000 * k)).fold(0u64, |acc, i| acc.wrapping_add(i * i) % 1_000_003)
}

fn compute_and_share() -> Outcome {
    let counter = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for k in 1..=4u64 {
        let counter = counter.clone();
        let t = thread::spawn(move || {
            let mut boxes = Vec::new();
            for i in 0..1000 {
                counter.fetch_add(1, Ordering::Relaxed);
                // Allocate and free under contention: the heap is shared.
                boxes.push(alloc::boxed::Box::new(i));
                if boxes.len() > 16 {
                    boxes.clear();
                }
            }
            (k * 1_000_000 + work(k)) as i64
        });
        handles.push(ok("spawn thread", t)?);
    }
    for (i, t) in handles.into_iter().enumerate() {
        let k = i as u64 + 1;
        let code = ok("join", t.join())?;
        let want = (k * 1_000_000 + work(k)) as i64;
        ensure!(code == want, "thread {k} returned {code}, expected {want}");
    }
    let total = counter.load(Ordering::Relaxed);
    ensure!(total == 4000, "shared counter is {total} after 4 threads added 1000 each");
    Ok(())
}

fn one_exits_early() -> Outcome {
    let done = Arc::new(AtomicBool::new(false));
    let slow_done = done.clone();
    let slow = ok(
        "spawn slow thread",
        thread::spawn(move || {
            libipc::sleep(Duration::from_millis(50));
            slow_done.store(true, Ordering::SeqCst);
            22
        }),
    )?;
    let quick = ok("spawn quick thread", thread::spawn(|| 11))?;
    let code = ok("join quick thread", quick.join())?;
    ensure!(code == 11, "quick thread returned {code}");
    ensure!(!done.load(Ordering::SeqCst), "slow thread finished before the quick one was joined");
    // This thread and the slow one are still alive after the quick one left.
    let code = ok("join slow thread", slow.join())?;
    ensure!(code == 22, "slow thread returned {code}");
    ensure!(done.load(Ordering::SeqCst), "slow thread's store not visible after join");
    Ok(())
}

fn bad_joins() -> Outcome {
    for h in [0, 0xdead_beef, u64::MAX] {
        expect_err(&alloc::format!("thread_join({h:#x})"), sys::thread_join(h), &[Error::BadHandle])?;
    }
    // A process handle is not a thread handle.
    let child = ok("spawn hello", libipc::spawn("hello", b"join me"))?;
    expect_err("thread_join(process handle)", sys::thread_join(child.raw_handle()), &[Error::BadHandle])?;
    ok("wait hello", child.wait())?;
    // A thread handle is not a process handle.
    let t = ok("spawn thread", thread::spawn(|| 1))?;
    expect_err("wait(thread handle)", sys::wait(t.raw_handle()), &[Error::BadHandle])?;
    expect_err("kill(thread handle)", sys::kill(t.raw_handle()), &[Error::BadHandle])?;
    ok("join", t.join())?;
    Ok(())
}

fn limit() -> Outcome {
    let release = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    let mut refusal = None;
    while handles.len() < LIMIT_PROBE {
        let release = release.clone();
        match thread::spawn_with_stack(8 * 1024, move || {
            while !release.load(Ordering::SeqCst) {
                libipc::sleep(Duration::from_millis(50));
            }
            7
        }) {
            Ok(t) => handles.push(t),
            Err(e) => {
                refusal = Some(e);
                break;
            }
        }
    }
    release.store(true, Ordering::SeqCst);
    let started = handles.len();
    for t in handles {
        let code = ok("join a waiting thread", t.join())?;
        ensure!(code == 7, "waiting thread returned {code}");
    }
    match refusal {
        None => Err(alloc::format!("{LIMIT_PROBE} threads started and none refused: no thread limit")),
        Some(e) => {
            ensure!(
                matches!(e, Error::LimitReached | Error::NoMemory),
                "thread {started} refused with {e:?}, expected LimitReached or NoMemory"
            );
            ensure!(started >= 4, "only {started} threads could start");
            // Slots come back once the threads are joined.
            let again = ok("spawn after the limit", thread::spawn(|| 3))?;
            ensure!(ok("join", again.join())? == 3, "thread after the limit returned wrong code");
            Ok(())
        }
    }
}
