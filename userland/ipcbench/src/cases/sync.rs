//! The synchronous cases: the null system call, and `send` → `receive` →
//! `reply_receive` round trips between two processes (the fast path, then
//! the same forced through the scheduler with the kernel's direct hand-off
//! turned off), and between two threads of this process.
//!
//! The client is `raw::send`; the server is the echo loop of
//! [`peer::echo`](crate::peer::echo), raw `reply_receive`, which replies
//! with the bytes it received (so the reply has the message's size).
#![forbid(unsafe_code)]

use alloc::format;
use alloc::string::String;
use alloc::vec;

use abi::ipc::MAX_MESSAGE;
use abi::syscall::IPC_KNOB_DIRECT_HANDOFF;
use libipc::ipc::Channel;

use super::{check_echo, fill, pattern, Served, SIZES};
use crate::bench::Bench;
use crate::counters::Expect;
use crate::{peer, raw};

/// `getpid`, timed.
pub fn null_syscall(b: &mut Bench) {
    b.case("null", |b| {
        let plan = b.plan(100, 1);
        let pid = libipc::getpid();
        let m = b.measure(plan, |_, w| {
            w.start();
            let got = raw::null_syscall();
            w.stop();
            if got == pid {
                Ok(())
            } else {
                Err(format!("getpid returned {got}, expected {pid}"))
            }
        })?;
        b.row(String::from("null"), "null", "null system call (getpid)", 0, "syscall", plan, m, Expect::Syscalls);
        Ok(())
    });
}

/// Round trips to an echo server in another process, each size.
pub fn fast(b: &mut Bench) {
    round_trips(b, "fast", "round trip, fast path", Expect::FastPath);
}

/// The same round trips with the direct hand-off off: every wake-up goes
/// through the run queue and the scheduler. The knob is system-wide, so it
/// is put back as it was before anything else runs.
pub fn slow(b: &mut Bench) {
    let previous = raw::ipc_tune(IPC_KNOB_DIRECT_HANDOFF, 0);
    if raw::is_err(previous) {
        b.broke(String::from("slow"), format!("ipc_tune refused: {}", previous as i64));
        return;
    }
    round_trips(b, "slow", "round trip, via the scheduler", Expect::SlowPath);
    let was = raw::ipc_tune(IPC_KNOB_DIRECT_HANDOFF, previous);
    if was != 0 {
        b.broke(String::from("slow_restore"), format!("ipc_tune restoring the hand-off returned {}", was as i64));
    }
}

/// Makes sure the direct hand-off is on before anything is measured: a run
/// killed during the slow rows (Ctrl-C on the shell's `bench`) leaves it
/// off, system-wide, and the next run puts it back.
pub fn handoff_on() {
    let was = raw::ipc_tune(IPC_KNOB_DIRECT_HANDOFF, 1);
    if was == 0 {
        libipc::println!("ipcbench: the direct hand-off was off (an interrupted run?); turned it back on");
    }
}

/// One row per size in [`SIZES`] of raw round trips to an echo peer.
fn round_trips(b: &mut Bench, case: &'static str, label: &'static str, expect: Expect) {
    b.case(case, |b| {
        let served = Served::start("echo")?;
        let conn = served.raw();
        let (mut msg, mut reply) = (vec![0u8; MAX_MESSAGE], vec![0u8; MAX_MESSAGE]);
        fill(&mut msg);
        for size in SIZES {
            let plan = b.plan(100, 1);
            let m = b.measure(plan, |i, w| {
                let msg = &mut msg[..size];
                pattern(msg, i);
                w.start();
                let (rax, len) = raw::send(conn, msg, &mut reply[..size]);
                w.stop();
                check_echo(rax, len, msg, &reply)
            });
            match m {
                Ok(m) => b.row(Bench::id(case, size), case, label, size, "round trip", plan, m, expect),
                Err(why) => b.broke(Bench::id(case, size), why),
            }
        }
        served.stop();
        Ok(())
    });
}

/// Message sizes of the same-address-space rows.
const SAME_SPACE_SIZES: [usize; 2] = [0, 64];

/// Round trips to an echo loop on another thread of this process.
pub fn same_space(b: &mut Bench) {
    const CASE: &str = "same_space";
    b.case(CASE, |b| {
        let chan = Channel::create().map_err(|e| format!("channel_create: {e}"))?;
        let conn = chan.connect().map_err(|e| format!("connect: {e}"))?;
        let raw_chan = chan.handle().raw();
        let server = libipc::thread::spawn(move || peer::echo(raw_chan)).map_err(|e| format!("thread: {e}"))?;
        let (mut msg, mut reply) = (vec![0u8; MAX_MESSAGE], vec![0u8; MAX_MESSAGE]);
        fill(&mut msg);
        for size in SAME_SPACE_SIZES {
            let plan = b.plan(100, 1);
            let m = b.measure(plan, |i, w| {
                let msg = &mut msg[..size];
                pattern(msg, i);
                w.start();
                let (rax, len) = raw::send(conn.handle().raw(), msg, &mut reply[..size]);
                w.stop();
                check_echo(rax, len, msg, &reply)
            });
            let label = "round trip, two threads, one space";
            match m {
                Ok(m) => b.row(Bench::id(CASE, size), CASE, label, size, "round trip", plan, m, Expect::FastPath),
                Err(why) => b.broke(Bench::id(CASE, size), why),
            }
        }
        // A pulse ends the echo loop.
        conn.pulse(peer::PING, 0).map_err(|e| format!("pulse: {e}"))?;
        server.join().map_err(|e| format!("join: {e}"))?;
        Ok(())
    });
}
