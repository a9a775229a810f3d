//! Test mode (`test` on the kernel command line): run each suite of
//! `manifest::SUITES` in turn, as a child with its grants, and report.
//! The suites that do not need servers run first, on a quiet system (their
//! output goes to the kernel log); then the test-mode servers start
//! (`supervisor::start_all(Mode::Test)`: the console, and the disk and file
//! system servers when they are in the initrd) and the other suites run.
//!
//! The QEMU runner judges the `PASS`/`FAIL` lines and each suite's closing
//! `N passed, N failed` line. A suite that cannot be judged that way — not
//! in the initrd, killed at its time limit, faulted or panicked — gets a
//! `FAIL <suite>: why` line from init and a closing line of init's own
//! (`init: 0 passed, 1 failed`), so the runner counts it.
//!
//! The command line chooses: `suites=utest,systest` runs only those;
//! `<suite>=a,b` passes `a b` to that suite (utest and ipctest run only the
//! named tests then).

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;

use abi::{EXIT_FAULTED, EXIT_KILLED};
use init::manifest::{Suite, SUITES};
use libipc::ipc::Channel;
use libipc::rt::PANIC_STATUS;
use libipc::{println, thread, Args, Error};

use crate::child::{self, Extras};
use crate::supervisor::{self, describe_status, Mode};
use crate::system::System;

/// Runs the selected suites, starting the servers between the two groups;
/// returns how many failed.
pub fn run(system: &'static System, args: &Args) -> usize {
    let chosen: Option<Vec<&str>> = args.value("suites").map(|s| s.split(',').collect());
    let suites: Vec<&Suite> =
        SUITES.iter().filter(|s| chosen.as_ref().is_none_or(|c| c.contains(&s.program))).collect();
    let mut failed = 0;
    for needs_servers in [false, true] {
        if needs_servers {
            supervisor::start_all(system, Mode::Test);
        }
        for suite in suites.iter().filter(|s| s.needs_servers == needs_servers) {
            let suite_args = args.value(suite.program).unwrap_or("").replace(',', " ");
            if !run_one(system, suite, &suite_args) {
                failed += 1;
            }
        }
    }
    println!("init: {} of {} test suites passed", suites.len() - failed, suites.len());
    failed
}

/// Runs one suite; true if it passed.
fn run_one(system: &System, suite: &Suite, args: &str) -> bool {
    let name = suite.program;
    let extras = Extras { names: &system.channel, channel: None };
    let started = libipc::time_ns();
    let child = match child::spawn(name, args, suite.grants, &extras) {
        Ok(c) => c,
        Err(e) => {
            let why =
                if e == Error::NotFound { String::from("not in the initrd") } else { format!("cannot start: {e}") };
            fail(name, &why);
            return false;
        }
    };
    println!("init: running suite {name} (pid {})", child.pid);
    // A watchdog kills the suite at its time limit; `wait` stays the only
    // blocking call here. It sleeps in `receive` on a channel of its own,
    // woken early by a pulse when the suite ends: no periodic wake-ups to
    // disturb the suites that count the scheduler's work.
    let timed_out = Arc::new(AtomicBool::new(false));
    let alarm = Channel::create().and_then(|chan| chan.connect().map(|conn| (chan, conn)));
    let watchdog = match alarm {
        Ok((chan, conn)) => {
            let (timed_out, raw, limit) = (timed_out.clone(), child.raw(), Duration::from_secs(suite.timeout_s));
            thread::spawn(move || {
                let mut buf = [0u8; 8];
                if let Err(Error::TimedOut) = chan.receive_timeout(&mut buf, limit) {
                    timed_out.store(true, Ordering::Release);
                    let _ = child::kill(raw);
                }
                0
            })
            .map(|w| (w, conn))
        }
        Err(e) => Err(e),
    };
    let status = child.wait().unwrap_or(-1);
    match watchdog {
        Ok((w, conn)) => {
            let _ = conn.pulse(1, 0);
            let _ = w.join();
        }
        Err(e) => println!("init: no watchdog for {name} ({e}); it ran without a time limit"),
    }
    drop(child);
    let ms = libipc::time_ns().saturating_sub(started) / 1_000_000;
    if timed_out.load(Ordering::Acquire) {
        fail(name, &format!("killed at its time limit of {} s", suite.timeout_s));
        return false;
    }
    match status {
        0 => {
            println!("init: suite {name} passed ({ms} ms)");
            true
        }
        EXIT_KILLED | EXIT_FAULTED | PANIC_STATUS => {
            fail(name, &format!("ended with status {}", describe_status(status)));
            false
        }
        n => {
            println!("init: suite {name} failed: {n} test(s) ({ms} ms)");
            false
        }
    }
}

/// A failure the suite could not report itself, in the runner's terms.
fn fail(name: &str, why: &str) {
    println!("FAIL {name}: {why}");
    println!("init: 0 passed, 1 failed");
}
