//! Starting the servers and keeping them running: MINIX 3's reincarnation
//! server, in init.
//!
//! Each server gets a supervisor thread (`wait` blocks the calling thread,
//! so one thread per child is the simple way to wait for many). It starts
//! the server, waits for it to end, and then:
//!
//! 1. forgets the names the dead process registered, so its successor can
//!    register them again (clients holding a connection to the dead one get
//!    `PeerDied` and look the name up again);
//! 2. logs `init: fs (pid 7) died with status -1001 (faulted); restarting in 50 ms`;
//! 3. decides by the manifest's [`Restart`] rule and the back-off policy
//!    (`policy.rs`: 50 ms doubling to 2 s, at most 5 restarts a minute,
//!    then `init: fs died 5 times in 60 s; giving up`), sleeps, and starts
//!    it again.
//!
//! [`start_all`] starts the servers of a mode in manifest order, each once
//! the one before is ready: registered under its name (for
//! [`Endpoint::Registers`]), or just started. A server that does not
//! register within `REGISTER_TIMEOUT_MS` is reported and the boot goes on.

use alloc::format;
use alloc::string::String;

use abi::{EXIT_FAULTED, EXIT_KILLED};
use init::manifest::{Endpoint, Restart, Service, REGISTER_TIMEOUT_MS, SERVICES};
use init::policy::{self, Decision, History};
use libipc::init::state;
use libipc::{println, thread, Error};

use crate::child::{self, Extras};
use crate::system::System;

/// How often the boot sequence checks whether a server is ready.
const READY_POLL_MS: u64 = 5;
/// A shell that ran this long and exited with 0 is restarted at once,
/// without counting against the limit (the user typed `exit`).
const CLEAN_EXIT_MIN_MS: u64 = 1000;

/// Which servers a boot starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A normal boot: every server with `boot`.
    Boot,
    /// Test mode: every server with `test`.
    Test,
}

/// Starts the servers of `mode` in order, each after the previous one is
/// ready.
pub fn start_all(system: &'static System, mode: Mode) {
    for (index, service) in SERVICES.iter().enumerate() {
        let wanted = match mode {
            Mode::Boot => service.boot,
            Mode::Test => service.test,
        };
        if !wanted {
            set_state(system, index, state::STOPPED);
            continue;
        }
        let started = libipc::time_ns();
        if let Err(e) = thread::spawn(move || supervise(system, index)) {
            println!("init: no supervisor thread for {}: {e}", service.program);
            continue;
        }
        wait_ready(system, index, service, started);
    }
}

fn ms_since(t0: u64) -> u64 {
    libipc::time_ns().saturating_sub(t0) / 1_000_000
}

/// Waits until the server at `index` is ready, gone, or late.
fn wait_ready(system: &System, index: usize, service: &Service, started: u64) {
    loop {
        let (st, pid) = {
            let s = system.state.lock();
            (s.slots[index].state, s.slots[index].pid)
        };
        match st {
            state::ABSENT => return,
            state::RUNNING => match service.endpoint {
                Endpoint::Registers(name) if !system.registered(name) => {}
                endpoint => {
                    let name = endpoint.name().map_or(String::new(), |n| format!(" as '{n}'"));
                    println!("init: {} (pid {pid}) is up{name} after {} ms", service.program, ms_since(started));
                    return;
                }
            },
            state::STOPPED => {
                println!("init: {} stopped before it was ready", service.program);
                return;
            }
            _ => {}
        }
        if ms_since(started) >= REGISTER_TIMEOUT_MS {
            let what = service.endpoint.name().map_or(String::from("start"), |n| format!("register '{n}'"));
            println!("init: {} did not {what} within {REGISTER_TIMEOUT_MS} ms; going on", service.program);
            return;
        }
        libipc::sleep(core::time::Duration::from_millis(READY_POLL_MS));
    }
}

/// A status in words, for log lines.
pub fn describe_status(status: i64) -> String {
    match status {
        EXIT_KILLED => format!("{status} (killed)"),
        EXIT_FAULTED => format!("{status} (faulted)"),
        s => format!("{s}"),
    }
}

fn set_state(system: &System, index: usize, st: u8) {
    system.state.lock().slots[index].state = st;
}

/// Runs the server at `index` of `SERVICES` for as long as it should run.
fn supervise(system: &'static System, index: usize) -> i64 {
    let service = &SERVICES[index];
    let program = service.program;
    let args = format!("{} prio={}", service.args, service.priority);
    let mut history = History::new();
    loop {
        let started_ms = libipc::time_ns() / 1_000_000;
        let spawned = {
            let held = system.held[index].lock();
            let extras = Extras { names: &system.channel, channel: held.as_ref() };
            child::spawn(program, args.trim(), service.grants, &extras)
        };
        let (pid, status) = match spawned {
            Err(Error::NotFound) => {
                println!("init: {program} is not in the initrd; skipped");
                set_state(system, index, state::ABSENT);
                system.retire_endpoint(index);
                return 0;
            }
            Err(e) => {
                println!("init: cannot start {program}: {e}");
                (0, -1)
            }
            Ok(child) => {
                let restarts = {
                    let mut st = system.state.lock();
                    let slot = &mut st.slots[index];
                    slot.pid = child.pid;
                    slot.process = child.raw();
                    slot.state = state::RUNNING;
                    slot.restarts
                };
                if restarts > 0 {
                    println!("init: {program} restarted as pid {} (restart {restarts})", child.pid);
                }
                let status = child.wait().unwrap_or(-1);
                let mut st = system.state.lock();
                st.slots[index].process = 0;
                st.slots[index].pid = 0;
                st.slots[index].last_status = Some(status);
                // Its names die with it (their handles are closed here).
                drop(st.names.remove_owner(child.pid));
                (child.pid, status)
            }
        };
        if system.shutting_down() {
            return 0;
        }
        let now_ms = libipc::time_ns() / 1_000_000;
        let ran_ms = now_ms.saturating_sub(started_ms);
        let who = format!("{program} (pid {pid})");
        let decision = match service.restart {
            Restart::Never => None,
            _ if service.done_statuses.contains(&status) => None,
            Restart::OnFailure if status == 0 => None,
            Restart::Always if status == 0 && ran_ms >= CLEAN_EXIT_MIN_MS => Some(Decision::Restart { delay_ms: 0 }),
            _ => Some(history.on_death(&policy::DEFAULT, started_ms, now_ms)),
        };
        match decision {
            None => {
                println!("init: {who} exited with status {}; not restarted", describe_status(status));
                set_state(system, index, state::STOPPED);
                system.retire_endpoint(index);
                return status;
            }
            Some(Decision::GiveUp { restarts, window_ms }) => {
                println!(
                    "init: {who} died with status {}; it died {restarts} times in {} s: giving up",
                    describe_status(status),
                    window_ms / 1000
                );
                set_state(system, index, state::STOPPED);
                system.retire_endpoint(index);
                return status;
            }
            Some(Decision::Restart { delay_ms }) => {
                let how = if status == 0 {
                    String::from("exited")
                } else {
                    format!("died with status {}", describe_status(status))
                };
                println!("init: {who} {how}; restarting in {delay_ms} ms");
                set_state(system, index, state::RESTARTING);
                libipc::sleep(core::time::Duration::from_millis(delay_ms));
                system.state.lock().slots[index].restarts += 1;
            }
        }
    }
}
