//! Host tests of the executor against the simulated kernel.

use alloc::rc::Rc;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::time::Duration;

use abi::Error;

use super::sim::{SimKernel, SimResponse};
use super::*;
use crate::wire::{from_bytes, to_vec};

const MS: u64 = 1_000_000;

fn executor(sim: &Arc<SimKernel>) -> Executor {
    Executor::with_config(sim.clone(), Config { name: "test".into(), ..Config::default() })
}

/// Replies of the run, decoded as `u64`, by rcvid.
fn reply_value(sim: &SimKernel, rcvid: u64) -> Result<u64> {
    let r = sim.reply_to(rcvid).ok_or(Error::NotFound)?;
    match r.error() {
        Some(e) => Err(e),
        None => from_bytes(&r.data),
    }
}

#[test]
fn tasks_run_in_wake_order() {
    let sim = SimKernel::new();
    let mut ex = executor(&sim);
    let log = Rc::new(RefCell::new(Vec::new()));
    for name in ["a", "b", "c"] {
        let log = log.clone();
        ex.spawn(name, async move {
            log.borrow_mut().push(name);
            yield_now().await;
            log.borrow_mut().push(name);
        })
        .unwrap();
    }
    let report = ex.run().unwrap();
    assert_eq!(report.stopped, Stopped::Idle);
    assert_eq!(*log.borrow(), ["a", "b", "c", "a", "b", "c"]);
    assert_eq!(report.stats.finished, 3);
    assert_eq!(sim.receives(), 0, "nothing to wait for: the loop never blocked");
}

#[test]
fn a_wake_before_the_poll_ends_is_not_lost() {
    // A task that wakes itself and returns Pending must be polled again,
    // and one wake-up per poll is enough (no duplicates in the queue).
    let sim = SimKernel::new();
    let mut ex = executor(&sim);
    let polls = Rc::new(RefCell::new(0));
    let p = polls.clone();
    ex.spawn(
        "self-waker",
        core::future::poll_fn(move |cx| {
            *p.borrow_mut() += 1;
            if *p.borrow() == 5 {
                return core::task::Poll::Ready(());
            }
            cx.waker().wake_by_ref();
            cx.waker().wake_by_ref();
            core::task::Poll::Pending
        }),
    )
    .unwrap();
    ex.run().unwrap();
    assert_eq!(*polls.borrow(), 5);
}

#[test]
fn many_concurrent_requests_all_answered() {
    const N: u64 = 100;
    let sim = SimKernel::new();
    let rcvids: Vec<u64> = (0..N).map(|i| sim.message_at(i, to_vec(&i))).collect();
    let ex = executor(&sim).serve(|i: u64, _ctx| async move {
        // Later requests finish first.
        sleep(Duration::from_millis(N - i)).await;
        Ok(i * 2)
    });
    let mut ex = ex;
    let handle = ex.shutdown_handle();
    ex.spawn("stopper", async move {
        sleep(Duration::from_secs(1)).await;
        handle.request(Shutdown::Graceful);
    })
    .unwrap();
    let report = ex.run().unwrap();
    for (i, &rcvid) in rcvids.iter().enumerate() {
        assert_eq!(reply_value(&sim, rcvid), Ok(i as u64 * 2));
    }
    assert!(report.stats.peak_live >= N as usize, "all in progress at once: {}", report.stats.peak_live);
    let order: Vec<u64> = sim.replies().iter().map(|r| r.rcvid).collect();
    assert_eq!(order.first(), rcvids.last(), "the shortest sleep answers first");
    assert_eq!(report.stats.requests, N);
    assert_eq!(report.stopped, Stopped::Shutdown(Shutdown::Graceful));
}

#[test]
fn async_replies_out_of_order_reach_their_callers() {
    const N: u64 = 40;
    const CONN: u64 = 7;
    let sim = SimKernel::new();
    // The second server answers x -> x*x + 1, later for smaller x, so
    // replies arrive in the reverse order of the sends.
    sim.responder(CONN, |msg| {
        let x: u64 = from_bytes(msg).ok()?;
        Some(SimResponse { status: 0, data: to_vec(&(x * x + 1)), delay_ns: (N - x) * MS })
    });
    let rcvids: Vec<u64> = (0..N).map(|i| sim.message_at(0, to_vec(&i))).collect();
    let mut ex = executor(&sim).serve(|x: u64, _ctx| async move {
        let (_, data) = call_async_raw(CONN, to_vec(&x)).await?;
        let y: u64 = from_bytes(&data)?;
        Ok(y + 1000)
    });
    let handle = ex.shutdown_handle();
    ex.spawn("stopper", async move {
        sleep(Duration::from_secs(10)).await;
        handle.request(Shutdown::Graceful);
    })
    .unwrap();
    let report = ex.run().unwrap();
    for (x, &rcvid) in rcvids.iter().enumerate() {
        let x = x as u64;
        assert_eq!(reply_value(&sim, rcvid), Ok(x * x + 1 + 1000), "request {x}");
    }
    let s = report.stats;
    assert_eq!(s.async_calls, N);
    assert_eq!(s.async_replies, N);
    assert_eq!(s.orphan_replies, 0);
    // 40 calls against a limit of 16 outstanding: the rest waited for slots.
    assert!(s.async_queue_full > 0);
    assert_eq!(sim.outstanding(), 0);
    let tokens: hashbrown::HashSet<u64> = sim.sends().iter().map(|s| s.token).collect();
    assert_eq!(tokens.len(), N as usize, "every call has its own token");
}

#[test]
fn async_errors_and_bad_replies() {
    let sim = SimKernel::new();
    sim.responder(1, |_| Some(SimResponse { status: Error::NotFound.to_raw(), data: vec![], delay_ns: MS }));
    sim.responder(2, |_| Some(SimResponse { status: 0, data: vec![1, 2], delay_ns: MS }));
    let mut ex = executor(&sim);
    let r = ex
        .block_on(async {
            let a = call_async_raw(1, vec![0]).await.map(|_| ());
            let b = call_async_raw(99, vec![0]).await.map(|_| ());
            let c = call_async_raw(2, vec![0; abi::ipc::MAX_MESSAGE + 1]).await.map(|_| ());
            let d: Result<u64> = match call_async_raw(2, vec![0]).await {
                Ok((_, data)) => from_bytes(&data),
                Err(e) => Err(e),
            };
            (a, b, c, d)
        })
        .unwrap();
    assert_eq!(r.0, Err(Error::NotFound), "the server's error comes back");
    assert_eq!(r.1, Err(Error::PeerDied), "no such server");
    assert_eq!(r.2, Err(Error::MessageTooLong));
    assert_eq!(r.3, Err(Error::BadArgument), "a short reply does not decode");
}

#[test]
fn timers_fire_in_deadline_order_at_the_right_time() {
    let sim = SimKernel::new();
    let mut ex = executor(&sim);
    let log = Rc::new(RefCell::new(Vec::new()));
    for (name, ms) in [("c", 30u64), ("a", 10), ("b", 20), ("zero", 0)] {
        let log = log.clone();
        ex.spawn(name, async move {
            sleep(Duration::from_millis(ms)).await;
            log.borrow_mut().push((name, now_ns()));
        })
        .unwrap();
    }
    ex.run().unwrap();
    assert_eq!(*log.borrow(), [("zero", 0), ("a", 10 * MS), ("b", 20 * MS), ("c", 30 * MS)]);
    assert_eq!(ex.stats().timers_fired, 3);
}

#[test]
fn timeout_cancels_a_call_and_the_late_reply_is_an_orphan() {
    let sim = SimKernel::new();
    sim.responder(5, |_| Some(SimResponse { status: 0, data: to_vec(&1u64), delay_ns: 50 * MS }));
    sim.responder(6, |_| None); // never answers
    let mut ex = executor(&sim);
    let (slow, never, fast) = ex
        .block_on(async {
            let slow = timeout(Duration::from_millis(20), call_async_raw(5, vec![])).await;
            let never = timeout(Duration::from_millis(5), call_async_raw(6, vec![])).await;
            let fast = timeout(Duration::from_millis(1), async { 42 }).await;
            // Wait past the slow reply's arrival so the loop receives it.
            sleep(Duration::from_millis(100)).await;
            (slow.map(drop), never.map(drop), fast)
        })
        .unwrap();
    assert_eq!(slow, Err(Error::TimedOut));
    assert_eq!(never, Err(Error::TimedOut));
    assert_eq!(fast, Ok(42));
    let s = ex.stats();
    assert_eq!(s.orphan_replies, 1, "the slow reply came after its caller gave up");
    assert_eq!(sim.now(), 125 * MS);
}

#[test]
fn the_clock_is_read_around_polls_only() {
    // A task making calls one after the other: each turn of the loop polls
    // it once (a clock reading before, one after) and then blocks in
    // `receive`; with no timer pending nothing else reads the clock.
    const N: u64 = 10;
    const CONN: u64 = 3;
    let sim = SimKernel::new();
    sim.responder(CONN, |msg| Some(SimResponse { status: 0, data: msg.to_vec(), delay_ns: MS }));
    let mut ex = executor(&sim);
    let sum = ex
        .block_on(async {
            let mut sum = 0;
            for i in 0..N {
                let (_, data) = call_async_raw(CONN, to_vec(&i)).await?;
                sum += from_bytes::<u64>(&data)?;
            }
            Ok::<_, Error>(sum)
        })
        .unwrap();
    assert_eq!(sum, Ok(N * (N - 1) / 2));
    assert_eq!(sim.receives(), N);
    assert_eq!(sim.clock_reads(), 2 * (N + 1), "N + 1 turns, one poll each");
    // Two tasks ready together: three readings for two polls.
    let sim = SimKernel::new();
    let mut ex = executor(&sim);
    for name in ["a", "b"] {
        ex.spawn(name, async {}).unwrap();
    }
    ex.run().unwrap();
    assert_eq!(sim.clock_reads(), 3);
    // A sleeping task: the reading that fires its timer also starts its
    // next poll (no `receive` in between).
    let sim = SimKernel::new();
    let mut ex = executor(&sim);
    ex.spawn("sleeper", async {
        for _ in 0..3 {
            sleep(Duration::from_millis(1)).await;
        }
    })
    .unwrap();
    ex.run().unwrap();
    assert_eq!(sim.now(), 3 * MS);
    // Per sleep: `sleep` reads the clock for its deadline, the loop after
    // that poll and once to fire the timer (that reading also starts the
    // next poll); plus the first poll's start and the last poll's end.
    assert_eq!(sim.clock_reads(), 1 + 3 * 3 + 1);
}

#[test]
fn a_blocking_task_is_reported_as_an_overrun() {
    let sim = SimKernel::new();
    let mut ex =
        Executor::with_config(sim.clone(), Config { name: "srv".into(), overrun_ns: 10 * MS, ..Config::default() });
    let s2 = sim.clone();
    ex.spawn("blocker", async move {
        yield_now().await;
        s2.advance(25 * MS); // "computes" for 25 ms without an await
        yield_now().await;
    })
    .unwrap();
    let s3 = sim.clone();
    ex.spawn("polite", async move {
        for _ in 0..5 {
            s3.advance(MS);
            yield_now().await;
        }
    })
    .unwrap();
    ex.run().unwrap();
    let s = ex.stats();
    assert_eq!(s.overruns, 1);
    assert_eq!(s.last_overrun, Some(Overrun { task: "blocker".into(), ns: 25 * MS }));
    assert_eq!(s.recent_overruns, [Overrun { task: "blocker".into(), ns: 25 * MS }]);
    assert_eq!(s.longest_poll_ns, 25 * MS);
    let lines = sim.log_lines();
    assert_eq!(lines.len(), 1);
    assert!(lines[0].contains("srv") && lines[0].contains("'blocker'") && lines[0].contains("25000 us"), "{lines:?}");
}

#[test]
fn the_default_bound_and_the_recent_overruns() {
    let sim = SimKernel::new();
    let mut ex = executor(&sim);
    assert_eq!(ex.config().overrun_ns, DEFAULT_OVERRUN_NS);
    let s2 = sim.clone();
    ex.spawn("slow", async move {
        for i in 0..RECENT_OVERRUNS as u64 + 2 {
            s2.advance(DEFAULT_OVERRUN_NS + 1 + i);
            yield_now().await;
        }
        s2.advance(DEFAULT_OVERRUN_NS); // exactly the bound: not an overrun
    })
    .unwrap();
    ex.run().unwrap();
    let s = ex.stats();
    assert_eq!(s.overruns, RECENT_OVERRUNS as u64 + 2);
    assert_eq!(s.recent_overruns.len(), RECENT_OVERRUNS);
    assert_eq!(s.recent_overruns[0].ns, DEFAULT_OVERRUN_NS + 3, "the oldest two were let go");
    assert_eq!(s.recent_overruns.last(), s.last_overrun.as_ref());
}

#[test]
fn graceful_shutdown_finishes_requests_and_refuses_new_ones() {
    let sim = SimKernel::new();
    let first = sim.message_at(0, to_vec(&10u64));
    let second = sim.message_at(MS, to_vec(&0u64)); // asks for the shutdown
    let late = sim.message_at(2 * MS, to_vec(&1u64));
    let mut ex = executor(&sim).serve(|ms: u64, _ctx| async move {
        if ms == 0 {
            shutdown(Shutdown::Graceful);
            return Ok(0u64);
        }
        sleep(Duration::from_millis(ms)).await;
        Ok(ms)
    });
    ex.spawn("background", async {
        loop {
            sleep(Duration::from_secs(1)).await;
        }
    })
    .unwrap();
    let report = ex.run().unwrap();
    assert_eq!(report.stopped, Stopped::Shutdown(Shutdown::Graceful));
    assert_eq!(reply_value(&sim, first), Ok(10), "the request in progress finished");
    assert_eq!(reply_value(&sim, second), Ok(0));
    assert_eq!(reply_value(&sim, late), Err(Error::PeerDied), "a request after the shutdown is refused");
    assert_eq!(report.dropped, 1, "the background task was dropped");
    assert_eq!(report.stats.refused, 1);
}

#[test]
fn immediate_shutdown_drops_tasks_and_answers_their_requests() {
    let sim = SimKernel::new();
    let waiting: Vec<u64> = (0..3).map(|i| sim.message_at(i, to_vec(&1000u64))).collect();
    let mut ex = executor(&sim).serve(|ms: u64, _ctx| async move {
        sleep(Duration::from_millis(ms)).await;
        Ok(ms)
    });
    let handle = ex.shutdown_handle();
    ex.spawn("killer", async move {
        sleep(Duration::from_millis(5)).await;
        handle.request(Shutdown::Immediate);
        sleep(Duration::from_millis(1)).await;
    })
    .unwrap();
    let report = ex.run().unwrap();
    assert_eq!(report.stopped, Stopped::Shutdown(Shutdown::Immediate));
    assert_eq!(report.dropped, 4, "three handlers and the killer itself");
    for r in waiting {
        assert_eq!(reply_value(&sim, r), Err(Error::PeerDied));
    }
}

#[test]
fn malformed_requests_get_bad_argument_and_no_task() {
    let sim = SimKernel::new();
    let short = sim.message_at(0, vec![1, 2, 3]);
    let good = sim.message_at(0, to_vec(&5u64));
    let calls = Rc::new(RefCell::new(0));
    let c = calls.clone();
    let mut ex = executor(&sim).serve(move |x: u64, _ctx| {
        *c.borrow_mut() += 1;
        async move {
            shutdown(Shutdown::Graceful);
            Ok(x)
        }
    });
    let report = ex.run().unwrap();
    assert_eq!(reply_value(&sim, short), Err(Error::BadArgument));
    assert_eq!(reply_value(&sim, good), Ok(5));
    assert_eq!(*calls.borrow(), 1);
    assert_eq!(report.stats.malformed, 1);
}

#[test]
fn handler_errors_and_early_replies() {
    let sim = SimKernel::new();
    let err = sim.message_at(0, to_vec(&1u64));
    let early = sim.message_at(0, to_vec(&2u64));
    let big = sim.message_at(0, to_vec(&3u64));
    let mut ex = executor(&sim).serve(|x: u64, ctx: Ctx| async move {
        match x {
            1 => Err(Error::NotFound),
            2 => {
                ctx.reply(&77u64)?;
                assert_eq!(ctx.reply(&78u64), Err(Error::BadState), "one reply only");
                Ok(vec![0u8; 1])
            }
            _ => {
                shutdown(Shutdown::Graceful);
                Ok(vec![0u8; abi::ipc::MAX_MESSAGE])
            }
        }
    });
    ex.run().unwrap();
    assert_eq!(reply_value(&sim, err), Err(Error::NotFound));
    assert_eq!(reply_value(&sim, early), Ok(77));
    assert_eq!(reply_value(&sim, big), Err(Error::MessageTooLong), "4 KiB plus the length prefix is too long");
}

#[test]
fn task_limit_refuses_with_queue_full() {
    let sim = SimKernel::new();
    let ids: Vec<u64> = (0..3).map(|_| sim.message_at(0, to_vec(&5u64))).collect();
    let cfg = Config { max_tasks: 2, ..Config::default() };
    let mut ex = Executor::with_config(sim.clone(), cfg).serve(|ms: u64, _ctx| async move {
        sleep(Duration::from_millis(ms)).await;
        shutdown(Shutdown::Graceful);
        Ok(ms)
    });
    assert!(ex.spawn("x", async {}).is_ok());
    assert!(ex.spawn("y", async {}).is_ok());
    assert_eq!(ex.spawn("z", async {}).err(), Some(Error::LimitReached));
    ex.run().unwrap();
    assert_eq!(reply_value(&sim, ids[0]), Ok(5));
    assert_eq!(reply_value(&sim, ids[1]), Ok(5));
    assert_eq!(reply_value(&sim, ids[2]), Err(Error::QueueFull));
}

#[test]
fn pulses_wake_their_waiters_and_are_kept_between_waits() {
    let sim = SimKernel::new();
    sim.pulse_at(0, 99, 1); // nobody waits for code 99 yet: dropped
    for (i, t) in [5u64, 6, 7].iter().enumerate() {
        sim.pulse_at(t * MS, 3, i as u64 + 10);
    }
    sim.pulse_at(8 * MS, 4, 40);
    let mut ex = executor(&sim);
    let got = ex
        .block_on(async {
            let mut v = Vec::new();
            let four = wait_pulse(4); // not polled yet: code 4 not waited for
            v.push(wait_pulse(3).await.unwrap());
            // The other two arrive while this task sleeps: kept for it.
            sleep(Duration::from_millis(20)).await;
            v.push(wait_pulse(3).await.unwrap());
            v.push(wait_pulse(3).await.unwrap());
            drop(four);
            v
        })
        .unwrap();
    assert_eq!(got, [10, 11, 12]);
    let s = ex.stats();
    assert_eq!(s.pulses, 5);
    assert_eq!(s.pulses_dropped, 2, "codes 99 and 4 had no waiter ever");
}

#[test]
fn leases_and_request_context() {
    let sim = SimKernel::new();
    let rcvid = sim.message_from(0, 42, to_vec(&3u64), false);
    sim.set_leases(rcvid, vec![b"hello".to_vec(), vec![0; 8]]);
    let mut ex = executor(&sim).serve(|n: u64, ctx: Ctx| async move {
        assert_eq!(ctx.pid(), 42);
        assert!(!ctx.is_async());
        let mut buf = vec![0u8; n as usize];
        ctx.read_lease(0, 1, &mut buf)?;
        ctx.write_lease(1, 2, &buf)?;
        assert_eq!(ctx.read_lease(0, 4, &mut buf), Err(Error::BadArgument));
        shutdown(Shutdown::Graceful);
        Ok(())
    });
    ex.run().unwrap();
    assert_eq!(sim.reply_to(rcvid).map(|r| r.status), Some(0));
    assert_eq!(sim.lease(rcvid, 1), Some(b"\0\0ell\0\0\0".to_vec()));
}

#[test]
fn spawning_from_tasks_and_block_on() {
    let sim = SimKernel::new();
    let mut ex = executor(&sim);
    let spawner = ex.spawner();
    let hits = Rc::new(RefCell::new(0));
    let h = hits.clone();
    let v = ex
        .block_on(async move {
            for _ in 0..10 {
                let h = h.clone();
                spawner
                    .spawn("child", async move {
                        sleep(Duration::from_millis(1)).await;
                        *h.borrow_mut() += 1;
                    })
                    .unwrap();
            }
            sleep(Duration::from_millis(2)).await;
            7
        })
        .unwrap();
    assert_eq!(v, 7);
    assert_eq!(*hits.borrow(), 10);
}

#[test]
fn nested_run_is_refused_and_a_dead_channel_ends_run() {
    let sim = SimKernel::new();
    let mut ex = executor(&sim).serve(|x: u64, _ctx| async move { Ok(x) });
    // Nothing scripted and a handler installed: the simulated receive would
    // block forever and says BadState, which run passes on.
    assert_eq!(ex.run().err(), Some(Error::BadState));
    let mut outer = executor(&sim);
    let inner_result = outer
        .block_on(async move {
            let mut inner = Executor::new(SimKernel::new());
            inner.block_on(async {}).err()
        })
        .unwrap();
    assert_eq!(inner_result, Some(Error::BadState), "one executor at a time");
}
