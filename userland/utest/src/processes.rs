//! Processes: exit statuses travel back whole, bad images are refused,
//! faults end only the faulting process, CPU-bound processes are preempted,
//! the process limit holds cleanly, and random system calls break nothing.
#![forbid(unsafe_code)]

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use abi::{EXIT_FAULTED, EXIT_KILLED};
use libipc::{println, Error, Instant, Process};

use crate::ensure;
use crate::harness::{expect_err, free_frames, ok, run, run_expect, status_name, Outcome};

pub fn spawn_wait_exit() -> Outcome {
    run_expect("hello", "from utest", 0)?;
    for status in [0i64, 7, -3, 255, 256, 0x1234_5678_9abc_def0, i64::MIN, i64::MAX] {
        run_expect("exitcode", &format!("{status}"), status)?;
    }
    // Arguments arrive whole: `exitcode hash` exits with their FNV-1a hash.
    let mut args = String::from("hash ");
    for i in 0..1000u32 {
        args.push(char::from(b' ' + (i.wrapping_mul(2_654_435_761) >> 24) as u8 % 95));
    }
    run_expect("exitcode", &args, fnv1a(args.as_bytes()) as i64)?;

    // spawn tells the child's pid: the process list agrees while it runs.
    let child = ok("spawn sleeper", libipc::spawn("sleeper", b"ms=60000"))?;
    let listed = ok("process list", libipc::ipc::processes())?;
    let me = libipc::getpid();
    let found = listed.iter().find(|p| p.pid == child.pid());
    ensure!(
        found.is_some_and(|p| p.parent == me && p.name() == "sleeper" && !p.ended),
        "spawn said pid {}, the process list has {:?}",
        child.pid(),
        found.map(|p| (p.parent, p.name()))
    );
    ok("kill sleeper", child.kill())?;
    ok("wait sleeper", child.wait())?;

    expect_err("spawn of a missing program", libipc::spawn("no-such-program", b""), &[Error::NotFound])?;
    expect_err("spawn with an empty name", libipc::spawn("", b""), &[Error::NotFound, Error::BadArgument])?;
    let long = "x".repeat(5000);
    expect_err("spawn with a 5000-byte name", libipc::spawn(&long, b""), &[Error::NotFound, Error::BadArgument])?;
    for name in ["hostile-truncated", "hostile-overlap", "hostile-entry", "hostile-kernel", "hostile-wx"] {
        expect_err(&format!("spawn {name}"), libipc::spawn(name, b""), &[Error::BadElf])?;
    }
    expect_err("spawn hostile-bigmem", libipc::spawn("hostile-bigmem", b""), &[Error::NoMemory, Error::LimitReached])?;
    // A panic, and an allocation the heap cannot satisfy, end the program
    // through libipc's panic handler with status 101.
    run_expect("crash", "panic", 101)?;
    run_expect("crash", "oom", 101)?;
    // Still fine after all that.
    run_expect("hello", "after the refusals", 0)
}

/// 64-bit FNV-1a, as `exitcode hash` computes it.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// `crash` modes that must end with `EXIT_FAULTED`.
const FAULTS: &[&str] = &[
    "kernel-read",
    "kernel-write",
    "noncanonical",
    "null",
    "write-text",
    "write-rodata",
    "exec-stack",
    "exec-heap",
    "jump-kernel",
    "divide",
    "sse",
    "x87",
    "ud2",
    "int3",
    "privileged",
    "port-io",
    "stack-overflow",
];

pub fn faults() -> Outcome {
    let mut wrong = Vec::new();
    for mode in FAULTS {
        let status = run("crash", mode)?;
        if status != EXIT_FAULTED {
            wrong.push(format!("{mode} -> {}", status_name(status)));
        }
    }
    ensure!(wrong.is_empty(), "not ended by a fault (expected EXIT_FAULTED): {}", wrong.join(", "));
    run_expect("hello", "after the faults", 0)
}

/// How long each spinner computes.
const SPIN_MS: u64 = 500;

pub fn preemption() -> Outcome {
    let start = Instant::now();
    let spin_args = format!("ms={SPIN_MS} expect-preempt");
    let a = ok("spawn spinner", libipc::spawn("spinner", spin_args.as_bytes()))?;
    let b = ok("spawn spinner", libipc::spawn("spinner", spin_args.as_bytes()))?;
    // Two processes that never yield are running; this one must still get
    // the CPU to start and finish a third.
    let hello = ok("spawn hello while spinners run", libipc::spawn("hello", b"among spinners"))?;
    let hello_status = ok("wait hello", hello.wait())?;
    let hello_done = start.elapsed();
    let sa = ok("wait spinner", a.wait())?;
    let sb = ok("wait spinner", b.wait())?;
    let all_done = start.elapsed();
    ensure!(hello_status == 0, "hello among spinners exited {}", status_name(hello_status));
    for s in [sa, sb] {
        ensure!(s == 0, "a spinner exited {} (1: the clock did not move, 2: it was never preempted)", status_name(s));
    }
    // The spinners cannot end before SPIN_MS after `start`: if hello was done
    // before that, it ran while they spun.
    ensure!(
        hello_done.as_millis() < u128::from(SPIN_MS),
        "hello finished {} ms after the spinners started, not before they ended ({SPIN_MS} ms)",
        hello_done.as_millis()
    );
    ensure!(
        all_done.as_millis() >= u128::from(SPIN_MS),
        "spinners asked to run {SPIN_MS} ms were all done after {} ms",
        all_done.as_millis()
    );
    Ok(())
}

/// Most processes the limit check starts before calling the limit missing.
const PROCESS_PROBE: usize = 1000;

pub fn spawn_until_refused() -> Outcome {
    let mut children: Vec<Process> = Vec::new();
    let refusal = loop {
        if children.len() == PROCESS_PROBE {
            break None;
        }
        match libipc::spawn("sleeper", b"") {
            Ok(p) => children.push(p),
            Err(e) => break Some(e),
        }
    };
    let started = children.len();
    println!("utest: {started} sleepers started, then {refusal:?}");
    let mut kill_errors = Vec::new();
    for p in &children {
        if let Err(e) = p.kill() {
            kill_errors.push(e);
        }
    }
    let mut statuses = Vec::new();
    for p in &children {
        statuses.push(ok("wait for a killed sleeper", p.wait())?);
    }
    drop(children);
    ensure!(kill_errors.is_empty(), "kill failed: {kill_errors:?}");
    if let Some(s) = statuses.iter().find(|&&s| s != EXIT_KILLED) {
        return Err(format!("a killed sleeper ended with {}, expected EXIT_KILLED", status_name(*s)));
    }
    match refusal {
        None => return Err(format!("{PROCESS_PROBE} sleepers started and none refused: no limit")),
        Some(e) => ensure!(
            matches!(e, Error::LimitReached | Error::NoMemory),
            "spawn refused after {started} with {e:?}, expected LimitReached or NoMemory"
        ),
    }
    ensure!(started >= 4, "only {started} sleepers could start");
    run_expect("hello", "after the process limit", 0)
}

/// The fuzz run's seed and length (`fuzz_seed=N`, `fuzz_calls=N` in
/// utest's arguments override them).
pub static FUZZ_SEED: AtomicU64 = AtomicU64::new(12345);
pub static FUZZ_CALLS: AtomicU64 = AtomicU64::new(3000);

pub fn fuzz() -> Outcome {
    let before = free_frames();
    let args = format!("seed={} calls={}", FUZZ_SEED.load(Ordering::Relaxed), FUZZ_CALLS.load(Ordering::Relaxed));
    let status = run("fuzz", &args)?;
    println!("utest: fuzz exited with {}", status_name(status));
    run_expect("hello", "after the fuzz", 0)?;
    let after = free_frames();
    println!("utest: free frames {before} before the fuzz, {after} after");
    Ok(())
}
