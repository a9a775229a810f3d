//! The library rows: the same round trip through libipc's typed layer
//! (`proto::bench`, declared with `protocol!` and `wire!`), to show what the
//! library costs over the raw system calls.
//!
//! - **typed call**: the generated client's blocking `ping` (encode into a
//!   `Writer` on the stack, `send` with an uncleared `MAX_MESSAGE` stack
//!   buffer for the reply, decode) to a server on libipc's blocking
//!   `Channel::reply_receive` that decodes, answers and encodes (into a
//!   `Writer` it reuses).
//! - **typed call_async**: the generated client's `ping(..).await` in an
//!   executor's task, to the same server.
//! - **typed call, executor server**: the blocking `ping` to a server run
//!   by libipc's executor (a task per request; it answers with `reply`,
//!   then blocks in `receive`).
#![forbid(unsafe_code)]

use alloc::format;
use alloc::string::String;

use abi::ipc::rights;
use libipc::executor::{Executor, KernelBackend};
use libipc::ipc::{Channel, Connection};

use super::Served;
use crate::bench::{Bench, Measured, Plan};
use crate::counters::{self, Expect};
use crate::measure::{Samples, Timer};
use crate::proto::{self, bench};
use crate::raw;

/// Bytes of a ping request (8 of header, 12 of stamp), the rows' size.
const PING_BYTES: usize = 20;

/// A client of `served`'s peer, on a new connection.
fn client(served: &Served) -> Result<bench::Client, String> {
    let conn: Connection = served.conn.dup(rights::SEND).map_err(|e| format!("handle_dup: {e}"))?;
    Ok(bench::Client::from(conn))
}

/// Every typed row.
pub fn run(b: &mut Bench) {
    b.case("typed_call", |b| {
        let served = Served::start("typed")?;
        let client = client(&served)?;
        blocking_row(b, &client, "typed_call", "typed call (libipc protocol!)", Expect::FastPath);
        let plan = b.plan(50, 1);
        let m = async_loop(client, plan, b.timer);
        let (case, label) = ("typed_call_async", "typed call_async (libipc runtime)");
        match m {
            Ok(m) => b.row(String::from(case), case, label, PING_BYTES, "round trip", plan, m, Expect::AsyncSends),
            Err(why) => b.broke(String::from(case), why),
        }
        served.stop();
        Ok(())
    });
    b.case("typed_executor", |b| {
        let served = Served::start("executor")?;
        let client = client(&served)?;
        blocking_row(b, &client, "typed_executor", "typed call, executor server", Expect::FastSends);
        served.stop();
        Ok(())
    });
}

/// A row of blocking typed calls.
fn blocking_row(b: &mut Bench, client: &bench::Client, case: &'static str, label: &'static str, expect: Expect) {
    let plan = b.plan(50, 1);
    let m = b.measure(plan, |i, w| {
        let stamp = proto::stamp(i);
        w.start();
        let got = client.blocking().ping(stamp);
        w.stop();
        match got {
            Ok(s) if proto::answered(i, &s) => Ok(()),
            Ok(s) => Err(format!("wrong answer {s:?} to {stamp:?}")),
            Err(e) => Err(format!("ping: {e}")),
        }
    });
    match m {
        Ok(m) => b.row(String::from(case), case, label, PING_BYTES, "round trip", plan, m, expect),
        Err(why) => b.broke(String::from(case), why),
    }
}

/// Typed asynchronous calls in a task of a fresh executor.
fn async_loop(client: bench::Client, plan: Plan, timer: Timer) -> Result<Measured, String> {
    let chan = Channel::create().map_err(|e| format!("channel_create: {e}"))?;
    let backend = KernelBackend::new(chan).map_err(|e| format!("executor: {e}"))?;
    let task = async move {
        let mut samples = Samples::new(plan.iterations);
        let mut before = counters::snapshot();
        for i in 0..(plan.warmup + plan.iterations) as u64 {
            if i == plan.warmup as u64 {
                before = counters::snapshot();
            }
            let stamp = proto::stamp(i);
            let t0 = raw::rdtsc();
            let got = client.ping(stamp).await;
            let t1 = raw::rdtsc();
            if i >= plan.warmup as u64 {
                samples.record(&timer, t0, t1);
            }
            match got {
                Ok(s) if proto::answered(i, &s) => {}
                Ok(s) => return Err(format!("wrong answer {s:?} to {stamp:?}")),
                Err(e) => return Err(format!("ping: {e}")),
            }
        }
        let after = counters::snapshot();
        Ok(Measured { ticks: samples.summary(), before, after })
    };
    Executor::new(backend).block_on(task).map_err(|e| format!("executor: {e}"))?
}
