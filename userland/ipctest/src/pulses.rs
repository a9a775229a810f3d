//! Pulses: they queue in order with messages; a channel holds exactly
//! `PULSE_QUEUE` of them and then says `QueueFull` (nothing is dropped);
//! all of them come out in order; kernel codes cannot be forged; another
//! process's pulses arrive the same way.
#![forbid(unsafe_code)]

use alloc::sync::Arc;
use core::time::Duration;

use libipc::ipc::{self, Channel, Received, PULSE_QUEUE};
use libipc::{thread, Error};

use crate::ensure;
use crate::harness::{expect_err, ok, send_bounded, stats, wait_for_stats, Outcome, Peer, GIVE_UP};
use crate::proto::PULSE_BULK;

fn expect_pulse(ch: &Channel, code: u64, value: u64) -> Outcome {
    let mut buf = [0u8; 16];
    match ok("receive", ch.receive_timeout(&mut buf, Duration::from_secs(1)))? {
        Received::Pulse { code: c, value: v } if c == code && v == value => Ok(()),
        other => Err(alloc::format!("expected pulse ({code}, {value}), got {other:?}")),
    }
}

pub fn pulses() -> Outcome {
    let ch = ok("channel_create", Channel::create())?;
    let conn = Arc::new(ok("connect", ch.connect())?);

    // Pulse, message, pulse: received in that order.
    let before = stats()?;
    ok("pulse", conn.pulse(10, 1))?;
    let sender = {
        let conn = conn.clone();
        ok(
            "thread spawn",
            thread::spawn(move || {
                send_bounded(&conn, b"between", &mut [0u8; 4]).map_or_else(|e| -(e as i64), |(s, _)| s)
            }),
        )?
    };
    wait_for_stats("the message to queue", Duration::from_secs(2), |s| s.slow_sends > before.slow_sends)?;
    ok("pulse", conn.pulse(10, 2))?;
    expect_pulse(&ch, 10, 1)?;
    let mut buf = [0u8; 16];
    match ok("receive", ch.receive_timeout(&mut buf, GIVE_UP))? {
        Received::Message(m) if &buf[..m.len] == b"between" => ok("reply", ipc::reply(m.rcvid, 5, &[]))?,
        other => return Err(alloc::format!("expected the message between the pulses, got {other:?}")),
    }
    expect_pulse(&ch, 10, 2)?;
    let status = ok("join", sender.join())?;
    ensure!(status == 5, "sender got {status}, expected the reply status 5");

    // Back-pressure: exactly PULSE_QUEUE fit.
    let mut queued = 0u64;
    let refusal = loop {
        match conn.pulse(20, queued) {
            Ok(()) => queued += 1,
            Err(e) => break e,
        }
        ensure!(queued <= 10 * PULSE_QUEUE as u64, "{queued} pulses queued and none refused");
    };
    ensure!(refusal == Error::QueueFull, "pulse {queued} refused with {refusal:?}, expected QueueFull");
    ensure!(queued == PULSE_QUEUE as u64, "{queued} pulses queued, expected exactly PULSE_QUEUE = {PULSE_QUEUE}");
    for i in 0..queued {
        expect_pulse(&ch, 20, i)?;
    }
    expect_err(
        "receive on a drained channel",
        ch.receive_timeout(&mut buf, Duration::from_millis(20)),
        Error::TimedOut,
    )?;
    ok("pulse after draining", conn.pulse(21, 0))?;
    expect_pulse(&ch, 21, 0)?;

    // Codes at or above PULSE_CODE_KERNEL are the kernel's.
    expect_err("a pulse with a kernel code", conn.pulse(abi::ipc::PULSE_CODE_IRQ, 0), Error::BadArgument)?;
    expect_err("a pulse with code u64::MAX", conn.pulse(u64::MAX, 0), Error::BadArgument)?;

    // From another process: as many as fit, then its own QueueFull.
    let mut peer = Peer::spawn("pulser", &[conn.handle()])?;
    peer.expect_exit(PULSE_QUEUE as i64)?;
    for i in 0..PULSE_QUEUE as u64 {
        expect_pulse(&ch, PULSE_BULK, i)?;
    }
    let after = stats()?;
    let counted = after.pulses - before.pulses;
    let sent = 2 + PULSE_QUEUE as u64 + 1 + PULSE_QUEUE as u64;
    // At least: other processes (an interrupt-driven console) may pulse too.
    ensure!(counted >= sent, "the pulse counter went up by {counted}, expected at least {sent}");
    Ok(())
}
