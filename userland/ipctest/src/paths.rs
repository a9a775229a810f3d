//! The two ways a message travels. Fast: the server already waits in
//! `receive`/`reply_receive`, so the kernel copies and switches straight to
//! it and straight back, without the scheduler (the counters must show
//! exactly that). Slow: the server is busy, senders queue, and are served in
//! the order they sent.
#![forbid(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

use libipc::ipc::Channel;
use libipc::{println, thread, Instant};

use crate::ensure;
use crate::harness::{ok, send_bounded, stats, wait_for_stats, Outcome, Peer};
use crate::proto::{OP_BUSY, OP_ECHO, OP_EXIT, OP_SEQ, PULSE_GO};

/// Round trips the fast-path test makes.
const ROUND_TRIPS: u64 = 10_000;

pub fn fast_path() -> Outcome {
    let ch = ok("channel_create", Channel::create())?;
    let conn = ok("connect", ch.connect())?;
    let mut peer = Peer::spawn("serve", &[ch.handle()])?;
    drop(ch);
    let mut msg = [OP_ECHO, 0, 0, 0, 0, 0, 0, 0];
    let mut reply = [0u8; 8];
    // Let whatever the system was doing (output still draining, say) settle:
    // the counters must see nothing but this exchange.
    libipc::sleep(Duration::from_millis(20));
    // Warm up: afterwards the server waits in reply_receive.
    for _ in 0..3 {
        ok("warm-up send", send_bounded(&conn, &msg, &mut reply))?;
    }
    let before = stats()?;
    let start = Instant::now();
    for i in 0..ROUND_TRIPS {
        msg[1..5].copy_from_slice(&(i as u32).to_le_bytes());
        let (status, len) = ok("send", conn.send(&msg, &mut reply))?;
        ensure!(status == 8 && len == 8 && reply == msg, "round trip {i}: status {status}, reply {:?}", &reply[..len]);
    }
    let elapsed = start.elapsed();
    let after = stats()?;
    let fast_sends = after.fast_sends - before.fast_sends;
    let fast_replies = after.fast_replies - before.fast_replies;
    let slow = after.slow_sends - before.slow_sends;
    let scheduled = after.scheduler_invocations - before.scheduler_invocations;
    println!(
        "ipctest: {ROUND_TRIPS} round trips in {} ms ({} ns each): fast-path hits {}, slow sends {slow}, \
         scheduler invocations {scheduled}, context switches {}",
        elapsed.as_millis(),
        elapsed.as_nanos() / u128::from(ROUND_TRIPS),
        fast_sends + fast_replies,
        after.context_switches - before.context_switches
    );
    ensure!(fast_sends == ROUND_TRIPS, "fast sends went up by {fast_sends}, expected {ROUND_TRIPS}");
    ensure!(fast_replies == ROUND_TRIPS, "fast replies went up by {fast_replies}, expected {ROUND_TRIPS}");
    ensure!(scheduled == 0, "the scheduler ran {scheduled} times during the round trips, expected 0");
    ok("exit request", conn.send(&[OP_EXIT], &mut reply))?;
    peer.expect_exit(0)
}

/// Client threads of the slow-path test.
const SENDERS: usize = 6;

pub fn slow_path_order() -> Outcome {
    let ch = ok("channel_create", Channel::create())?;
    let control = ok("channel_create", Channel::create())?;
    let conn = Arc::new(ok("connect", ch.connect())?);
    let go = ok("connect", control.connect())?;
    let mut peer = Peer::spawn("serve", &[ch.handle(), control.handle()])?;
    drop((ch, control));
    let mut reply = [0u8; 8];
    // The server answers this, then waits on its control channel: busy.
    ok("busy request", conn.send(&[OP_BUSY], &mut reply))?;
    let before = stats()?;
    let mut threads = Vec::new();
    for i in 0..SENDERS {
        let conn = conn.clone();
        let t = thread::spawn(move || {
            let mut reply = [0u8; 8];
            match send_bounded(&conn, &[OP_SEQ, i as u8], &mut reply) {
                // The server's arrival index, and our own number back.
                Ok((status, 1)) if reply[0] == i as u8 => status,
                Ok((status, len)) => 1000 + status * 10 + len as i64,
                Err(e) => -(e as i64),
            }
        });
        threads.push(ok("thread spawn", t)?);
        // This sender is queued before the next one starts.
        let want = before.slow_sends + i as u64 + 1;
        wait_for_stats("a queued send", Duration::from_secs(2), |s| s.slow_sends >= want)?;
    }
    ok("go pulse", go.pulse(PULSE_GO, 0))?;
    let mut order = Vec::new();
    for t in threads {
        order.push(ok("join", t.join())?);
    }
    let after = stats()?;
    let expected: Vec<i64> = (0..SENDERS as i64).collect();
    ensure!(order == expected, "sender i got arrival index order[i] = {order:?}, expected {expected:?}");
    let slow = after.slow_sends - before.slow_sends;
    ensure!(slow >= SENDERS as u64, "slow sends went up by {slow}, expected at least {SENDERS}");
    ok("exit request", conn.send(&[OP_EXIT], &mut reply))?;
    peer.expect_exit(0)
}
