//! Nothing leaks: channels, connections, duplicates, pulses left queued,
//! messages with leases and handles, asynchronous messages answered and
//! unanswered, and whole server processes come and go in a loop, and the
//! free frame count returns to where it started.
#![forbid(unsafe_code)]

use alloc::vec;
use core::time::Duration;

use abi::ipc::rights::SEND;
use libipc::ipc::{self, Channel, Received, SendOptions};
use libipc::println;

use crate::ensure;
use crate::harness::{free_frames, ok, Outcome, Peer, GIVE_UP};
use crate::proto::{OP_ECHO, OP_EXIT, OP_LEASE_CHECK};

/// Rounds measured (after warm-up rounds that let heaps settle).
const ROUNDS: usize = 6;
/// Channels made and dropped per round.
const CHANNELS_PER_ROUND: u64 = 300;

pub fn leak_check() -> Outcome {
    for _ in 0..2 {
        round()?;
    }
    let before = free_frames();
    for _ in 0..ROUNDS {
        round()?;
    }
    let after = free_frames();
    println!("ipctest: free frames {before} before {ROUNDS} rounds of IPC, {after} after");
    ensure!(before != 0, "memory_info gave no free frame count");
    ensure!(after >= before, "{} frames lost over {ROUNDS} rounds", before - after);
    Ok(())
}

fn round() -> Outcome {
    let mut buf = [0u8; 128];
    // Objects alone, with pulses left queued when they go. Over all rounds,
    // each of the two ways a channel goes is taken more often than the
    // kernel holds channels at once (1024), so a leaked channel record ends
    // in LimitReached, although the kernel heap is invisible to the frame
    // count.
    for i in 0..CHANNELS_PER_ROUND {
        let ch = ok("channel_create", Channel::create())?;
        let conn = ok("connect", ch.connect())?;
        let dup = ok("dup", conn.dup(SEND))?;
        ok("pulse", dup.pulse(1, i))?;
        ok("pulse", conn.pulse(2, i))?;
        if i % 2 == 0 {
            ok("receive", ch.receive_timeout(&mut buf, GIVE_UP))?;
            // The channel goes first (it stops; the connections keep the
            // record until they go), or last (it stops and goes at once).
            drop(ch);
        }
    }
    // Asynchronous messages: one answered, one dropped with its channel.
    let ch = ok("channel_create", Channel::create())?;
    let replies = ok("channel_create", Channel::create())?;
    let conn = ok("connect", ch.connect())?;
    ok("send_async", conn.send_async(&[1; 100], 1, &replies))?;
    ok("send_async", conn.send_async(&[2; 100], 2, &replies))?;
    match ok("receive", ch.receive_timeout(&mut buf, GIVE_UP))? {
        Received::AsyncMessage(m) => ok("reply", ipc::reply(m.rcvid, 0, &[3; 50]))?,
        other => return Err(alloc::format!("expected an asynchronous message, got {other:?}")),
    }
    drop((ch, conn));
    // The unanswered one comes back as PeerDied; then drop the rest queued.
    let mut seen = 0;
    while let Ok(Received::AsyncReply { .. }) = replies.receive_timeout(&mut buf, Duration::from_millis(50)) {
        seen += 1;
        if seen == 2 {
            break;
        }
    }
    ensure!(seen == 2, "{seen} asynchronous replies came back, expected 2");
    drop(replies);

    // A server process: messages, a lease, a handle, then exit.
    let ch = ok("channel_create", Channel::create())?;
    let conn = ok("connect", ch.connect())?;
    let mut peer = Peer::spawn("serve", &[ch.handle()])?;
    let mut reply = [0u8; 64];
    for i in 0..50u8 {
        ok("echo", conn.send(&[OP_ECHO, i], &mut reply))?;
    }
    let data = vec![0u8; 8192];
    let mut check = [OP_LEASE_CHECK, 0, 0, 0, 0, 0];
    check[2..].copy_from_slice(&8192u32.to_le_bytes());
    let spare = ok("connect", ch.connect())?;
    let opts = SendOptions::new().lease_read(&data).handle(spare.handle());
    ok("send with a lease and a handle", conn.send_with(&check, &mut reply, &opts))?;
    ok("exit request", conn.send(&[OP_EXIT], &mut reply))?;
    peer.expect_exit(0)?;
    // A second server, killed.
    let mut peer = Peer::spawn("serve", &[ch.handle()])?;
    drop(ch);
    ok("echo", conn.send(&[OP_ECHO], &mut reply))?;
    peer.kill()?;
    Ok(())
}
