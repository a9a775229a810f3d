//! The asynchronous paths: `send_async` and its reply token with raw
//! system calls, the same through libipc's executor (`call_async`), and
//! pulses.
//!
//! - **async, raw**: `send_async(conn, msg, token, my_channel)` then
//!   `receive(my_channel)` until the `AsyncReply` with the token arrives;
//!   the server is the raw echo peer (`reply_receive` answers an
//!   asynchronous message like any other).
//! - **async, `call_async`**: `call_async_raw(conn, msg).await` in a task of
//!   an executor whose channel receives the reply; the message's `Vec` is
//!   built before the clock starts (the API takes it by value).
//! - **pulse**: a ping-pong between this process and a peer, each side
//!   `pulse` then `receive`. One figure is half a ping-pong: one pulse
//!   from the `pulse` call to the receiver's `receive` returning with it.
#![forbid(unsafe_code)]

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use abi::ipc::{Kind, MAX_MESSAGE};
use libipc::executor::{call_async_raw, Executor, KernelBackend};
use libipc::ipc::Channel;

use super::{fill, pattern, Peer, Served};
use crate::bench::{Bench, Measured, Plan};
use crate::counters::{self, Expect};
use crate::measure::{Samples, Timer};
use crate::{peer, raw};

/// Message sizes of the asynchronous rows.
const SIZES: [usize; 2] = [0, 64];

/// A channel of our own for replies (or pulses) to arrive on.
fn own_channel() -> Result<Channel, String> {
    Channel::create().map_err(|e| format!("channel_create: {e}"))
}

/// `send_async` + `receive` of the reply, raw.
pub fn raw(b: &mut Bench) {
    const CASE: &str = "async_raw";
    b.case(CASE, |b| {
        let served = Served::start("echo")?;
        let mine = own_channel()?;
        let (conn, chan) = (served.raw(), mine.handle().raw());
        let (mut msg, mut buf) = (vec![0u8; MAX_MESSAGE], vec![0u8; MAX_MESSAGE]);
        fill(&mut msg);
        for size in SIZES {
            let plan = b.plan(50, 1);
            let m = b.measure(plan, |i, w| {
                let msg = &mut msg[..size];
                pattern(msg, i);
                w.start();
                let sent = raw::send_async(conn, msg, i, chan);
                let r = raw::receive(chan, &mut buf);
                w.stop();
                if sent != 0 {
                    return Err(format!("send_async returned {}", sent as i64));
                }
                if r.rax != 0 || r.kind != Kind::AsyncReply as u64 || r.word != i || r.value != 0 {
                    return Err(format!("expected the async reply to token {i}, got {r:?}"));
                }
                super::check_echo(0, r.len, msg, &buf)
            });
            let label = "async send + reply, raw";
            match m {
                Ok(m) => b.row(Bench::id(CASE, size), CASE, label, size, "round trip", plan, m, Expect::AsyncSends),
                Err(why) => b.broke(Bench::id(CASE, size), why),
            }
        }
        served.stop();
        Ok(())
    });
}

/// `call_async_raw` through an executor, each size.
pub fn runtime(b: &mut Bench) {
    const CASE: &str = "call_async";
    b.case(CASE, |b| {
        let served = Served::start("echo")?;
        for size in SIZES {
            let plan = b.plan(50, 1);
            let m = call_async_loop(served.raw(), size, plan, b.timer);
            let label = "async call_async (libipc runtime)";
            match m {
                Ok(m) => b.row(Bench::id(CASE, size), CASE, label, size, "round trip", plan, m, Expect::AsyncSends),
                Err(why) => b.broke(Bench::id(CASE, size), why),
            }
        }
        served.stop();
        Ok(())
    });
}

/// The timed loop of [`runtime`], as a task of a fresh executor.
fn call_async_loop(conn: u64, size: usize, plan: Plan, timer: Timer) -> Result<Measured, String> {
    let backend = KernelBackend::new(own_channel()?).map_err(|e| format!("executor: {e}"))?;
    let mut executor = Executor::new(backend);
    let mut template = vec![0u8; size];
    fill(&mut template);
    let task = async move {
        let mut samples = Samples::new(plan.iterations);
        let mut before = counters::snapshot();
        for i in 0..(plan.warmup + plan.iterations) as u64 {
            if i == plan.warmup as u64 {
                before = counters::snapshot();
            }
            let mut msg: Vec<u8> = template.clone();
            pattern(&mut msg, i);
            let t0 = raw::rdtsc();
            let r = call_async_raw(conn, msg).await;
            let t1 = raw::rdtsc();
            if i >= plan.warmup as u64 {
                samples.record(&timer, t0, t1);
            }
            let (status, data) = r.map_err(|e| format!("call_async: {e}"))?;
            let mut want = template.clone();
            pattern(&mut want, i);
            if status != 0 || data != want {
                return Err(format!("call_async: status {status}, reply of {} bytes differs", data.len()));
            }
        }
        let after = counters::snapshot();
        Ok(Measured { ticks: samples.summary(), before, after })
    };
    executor.block_on(task).map_err(|e| format!("executor: {e}"))?
}

/// Pulse ping-pong with a peer.
pub fn pulses(b: &mut Bench) {
    const CASE: &str = "pulse";
    b.case(CASE, |b| {
        let (mine, theirs) = (own_channel()?, own_channel()?);
        let back = mine.connect().map_err(|e| format!("connect: {e}"))?;
        let to_peer = theirs.connect().map_err(|e| format!("connect: {e}"))?;
        let peer = Peer::spawn("pulse", &[theirs.handle().raw(), back.handle().raw()])?;
        let (conn, chan) = (to_peer.handle().raw(), mine.handle().raw());
        let mut buf = [0u8; 16];
        let plan = b.plan(100, 2);
        let m = b.measure(plan, |i, w| {
            w.start();
            let sent = raw::pulse(conn, peer::PING, i);
            let r = raw::receive(chan, &mut buf);
            w.stop();
            if sent != 0 {
                return Err(format!("pulse returned {}", sent as i64));
            }
            if r.kind != Kind::Pulse as u64 || r.word != peer::PONG || r.value != i + 1 {
                return Err(format!("expected pong {}, got {r:?}", i + 1));
            }
            Ok(())
        });
        peer.stop();
        let label = "pulse ping-pong, per one-way pulse";
        b.row(String::from(CASE), CASE, label, 0, "one-way pulse", plan, m?, Expect::PulsePairs);
        Ok(())
    });
}
