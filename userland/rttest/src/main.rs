//! `rttest`: in-QEMU tests of the per-server runtime.
//!
//! - `rttest::concurrent_async_calls`: a server (`rttest front`) handles 32
//!   concurrent client requests, each of which awaits an asynchronous call
//!   to a second server (`rttest back`), and answers them all correctly.
//!   The front server holds every request until all 32 are in progress
//!   together, so the test cannot pass unless they really are; the back
//!   server answers after different delays, so the replies come back out of
//!   order; and the process may have only 16 asynchronous sends outstanding,
//!   so the runtime's throttling on `QueueFull` is exercised too. The 32
//!   requests come from two client processes (`rttest client`) of 16
//!   threads each, each thread blocked in its own `send`.
//! - `rttest::overrun_reported`: a task that computes for twice the
//!   default bound (50 ms) without an await is reported (log line and
//!   counters) by the overrun detector.
//!
//! Run with no arguments it is the driver: it hosts a name service, starts
//! the servers and clients as children (each gets a connection to the name
//! service as its first handle), prints `PASS`/`FAIL` lines and
//! `rttest: N passed, N failed`, and exits with the number failed.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

mod proto;
mod servers;

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

use libipc::executor::{self, Config};
use libipc::server::{self, Server};
use libipc::sys::{self, OwnedHandle};
use libipc::{names, println, Args};

use proto::{expected, front, GROUP};

libipc::main!(main);

fn main(args: Args) -> i32 {
    server::apply_priority(&args);
    match args.word(0) {
        Some("front") => server::exit_code("rttest front", servers::front()),
        Some("back") => server::exit_code("rttest back", servers::back()),
        Some("client") => client(args.value("from").and_then(|v| v.parse().ok()).unwrap_or(0)),
        _ => driver(),
    }
}

type Outcome = Result<(), String>;
/// A test: its name and its function (given the children to end afterwards).
type Test = (&'static str, fn(&mut Vec<OwnedHandle>) -> Outcome);

fn driver() -> i32 {
    let mut children = Vec::new();
    let tests: [Test; 2] =
        [("rttest::concurrent_async_calls", concurrent_async_calls), ("rttest::overrun_reported", overrun_reported)];
    let cell = core::cell::RefCell::new(&mut children);
    let cell = &cell;
    let failed = libipc::testing::run("rttest", tests.map(|(name, test)| (name, move || test(&mut cell.borrow_mut()))));
    for c in &children {
        let _ = sys::kill(c.raw());
    }
    failed
}

/// Clients per client process (threads, each with one request).
const PER_CLIENT: u32 = 16;

fn concurrent_async_calls(children: &mut Vec<OwnedHandle>) -> Outcome {
    let service = names::spawn_service().map_err(|e| format!("name service: {e}"))?;
    let with_names = [service.handle().raw()];
    // The servers run above their clients, as init's manifest would have it.
    for role in ["back prio=10", "front prio=10"] {
        children.push(sys::spawn(b"rttest", role.as_bytes(), &with_names).map_err(|e| format!("spawn {role}: {e}"))?);
    }
    let mut clients = Vec::new();
    for from in (0..GROUP as u32).step_by(PER_CLIENT as usize) {
        let args = format!("client from={from}");
        clients.push(sys::spawn(b"rttest", args.as_bytes(), &with_names).map_err(|e| format!("spawn client: {e}"))?);
    }
    let mut wrong = 0;
    for c in &clients {
        match sys::wait(c.raw()) {
            Ok(0) => {}
            Ok(n) => wrong += n,
            Err(e) => return Err(format!("wait for a client: {e}")),
        }
    }
    names::set_service(service).map_err(|e| format!("set_service: {e}"))?;
    let stats = front::lookup().and_then(|f| f.blocking().stats());
    let (peak, gate_timeouts) = stats.map_err(|e| format!("front stats: {e}"))?;
    if wrong != 0 {
        return Err(format!("{wrong} of {GROUP} requests failed or got a wrong answer"));
    }
    if gate_timeouts != 0 || peak < GROUP as u32 {
        return Err(format!("at most {peak} requests were in progress together ({gate_timeouts} waited in vain)"));
    }
    Ok(())
}

/// `rttest client from=N`: `PER_CLIENT` threads, each sending one `Work`
/// request (x = N, N+1, ...) and checking the answer. Exits with the number
/// of requests that failed or were answered wrongly.
fn client(from: u32) -> i32 {
    let front = match names::lookup_wait(front::NAME, Duration::from_secs(5)) {
        Ok(conn) => Arc::new(front::Client::from(conn)),
        Err(e) => {
            println!("rttest client: no front server: {e}");
            return PER_CLIENT as i32;
        }
    };
    let threads: Vec<_> = (from..from + PER_CLIENT)
        .map(|x| {
            let front = front.clone();
            libipc::thread::spawn(move || match front.blocking().work(x) {
                Ok((rx, y)) if rx == x && y == expected(x) => 0,
                Ok(r) => {
                    println!("rttest client: work({x}) answered {r:?}");
                    1
                }
                Err(e) => {
                    println!("rttest client: work({x}) failed: {e}");
                    1
                }
            })
        })
        .collect();
    let mut wrong = 0;
    for t in threads {
        wrong += t.and_then(|t| t.join()).unwrap_or(1);
    }
    wrong as i32
}

fn overrun_reported(_: &mut Vec<OwnedHandle>) -> Outcome {
    let config = Config { name: "rttest".into(), ..Config::default() };
    let bound = config.overrun_ns;
    let mut ex = Server::with_config(config).map_err(|e| format!("executor: {e}"))?.into_executor();
    ex.spawn("polite", async {
        for _ in 0..5 {
            executor::sleep(Duration::from_millis(2)).await;
        }
    })
    .map_err(|e| format!("spawn: {e}"))?;
    ex.spawn("blocker", async move {
        executor::yield_now().await;
        let start = libipc::time_ns();
        while libipc::time_ns() - start < 2 * bound {}
        executor::yield_now().await;
    })
    .map_err(|e| format!("spawn: {e}"))?;
    ex.run().map_err(|e| format!("run: {e}"))?;
    // Only the blocker must be there (a preempted poll of the polite task
    // could be reported too on a loaded machine, rarely).
    let s = ex.stats();
    if s.recent_overruns.iter().any(|o| o.task == "blocker" && o.ns >= 2 * bound) {
        Ok(())
    } else {
        Err(format!("the blocker was not reported: {} overruns, recently {:?}", s.overruns, s.recent_overruns))
    }
}
