//! Priority inheritance through messages: a low-priority server serving a
//! high-priority client runs at the client's priority, so a medium-priority
//! process spinning meanwhile cannot delay the round trip. Without
//! inheritance the server would get no CPU until the hog ends.
#![forbid(unsafe_code)]

use core::time::Duration;

use libipc::ipc::{self, Channel, Received};
use libipc::{println, Instant};

use crate::ensure;
use crate::harness::{ok, Outcome, Peer};
use crate::proto::{OP_ECHO, OP_EXIT, OP_SPIN, PULSE_READY};

const LOW: u8 = 2;
const MEDIUM: u8 = 12;
const HIGH: u8 = 20;
/// The priority new processes (and so this thread) start at.
const DEFAULT: u8 = 8;
/// How long the server computes for the request.
const WORK_MS: u32 = 50;
/// How long the hog spins.
const HOG_MS: u64 = 500;
/// The round trip must end well before the hog does.
const LIMIT_MS: u128 = 300;

pub fn priority_inheritance() -> Outcome {
    let result = run();
    ok("set_priority back", ipc::set_priority(DEFAULT))?;
    result
}

fn run() -> Outcome {
    let ch = ok("channel_create", Channel::create())?;
    let conn = ok("connect", ch.connect())?;
    let mut server = Peer::spawn(&alloc::format!("serve prio={LOW}"), &[ch.handle()])?;
    drop(ch);
    let mut reply = [0u8; 8];
    // Afterwards the server runs at LOW and waits in reply_receive.
    ok("warm-up", conn.send(&[OP_ECHO], &mut reply))?;
    ok("set_priority", ipc::set_priority(HIGH))?;

    let notify = ok("channel_create", Channel::create())?;
    let notify_conn = ok("connect", notify.connect())?;
    let mut hog = Peer::spawn(&alloc::format!("hog ms={HOG_MS} prio={MEDIUM}"), &[notify_conn.handle()])?;
    let mut buf = [0u8; 8];
    match ok("receive", notify.receive_timeout(&mut buf, Duration::from_secs(2)))? {
        Received::Pulse { code: PULSE_READY, .. } => {}
        other => return Err(alloc::format!("expected the hog's ready pulse, got {other:?}")),
    }
    // The hog spins now (it pulsed, and nothing else of its priority or
    // above is ready while this thread is blocked).
    let start = Instant::now();
    let mut spin = [OP_SPIN, 0, 0, 0, 0];
    spin[1..].copy_from_slice(&WORK_MS.to_le_bytes());
    ok("request to the low-priority server", conn.send(&spin, &mut reply))?;
    let round_trip = start.elapsed();
    let hog_status = hog.wait()?;
    let hog_done = start.elapsed();
    println!(
        "ipctest: round trip with {WORK_MS} ms of work took {} ms while a hog spun; the hog ended after {} ms",
        round_trip.as_millis(),
        hog_done.as_millis()
    );
    ensure!(hog_status == 0, "the hog exited with {hog_status}");
    ensure!(
        round_trip.as_millis() < LIMIT_MS,
        "the round trip took {} ms (the server's work is {WORK_MS} ms): the hog ran first",
        round_trip.as_millis()
    );
    ensure!(
        round_trip.as_millis() >= u128::from(WORK_MS),
        "the round trip took {} ms, less than the server's {WORK_MS} ms of work",
        round_trip.as_millis()
    );
    ok("exit request", conn.send(&[OP_EXIT], &mut reply))?;
    server.expect_exit(0)
}
