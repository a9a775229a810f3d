//! Deaths. A server killed with clients waiting on it (some received and
//! waiting for the reply, some still queued) fails all of them with
//! `PeerDied`, and every later send. A client killed while the server holds
//! its request makes the reply (and its leases) `PeerDied`; a client killed
//! while still queued just disappears; the server serves the next one.
#![forbid(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

use libipc::ipc::{self, Channel, Received};
use libipc::{thread, Error};

use crate::ensure;
use crate::harness::{expect_err, ok, send_bounded, stats, wait_for_stats, Outcome, Peer};
use crate::proto::{OP_HOLD, PULSE_READY};

/// Client threads blocked on the dying server.
const CLIENTS: usize = 8;
/// Of those, how many the server has received (the rest stay queued).
const RECEIVED: usize = 4;

pub fn server_death() -> Outcome {
    let server = ok("channel_create", Channel::create())?;
    let notify = ok("channel_create", Channel::create())?;
    let conn = Arc::new(ok("connect", server.connect())?);
    let notify_conn = ok("connect", notify.connect())?;
    let mut peer = Peer::spawn(&alloc::format!("holder {RECEIVED}"), &[server.handle(), notify_conn.handle()])?;
    drop(server);
    let before = stats()?;
    let mut threads = Vec::new();
    for i in 0..CLIENTS {
        let conn = conn.clone();
        let t = thread::spawn(move || match send_bounded(&conn, &[OP_HOLD, i as u8], &mut [0u8; 8]) {
            Err(Error::PeerDied) => 0,
            Err(e) => e as i64,
            Ok((status, _)) => 100 + status,
        });
        threads.push(ok("thread spawn", t)?);
    }
    let mut buf = [0u8; 8];
    match ok("receive", notify.receive_timeout(&mut buf, Duration::from_secs(2)))? {
        Received::Pulse { code: PULSE_READY, .. } => {}
        other => return Err(alloc::format!("expected the holder's ready pulse, got {other:?}")),
    }
    let all = before.fast_sends + before.slow_sends + CLIENTS as u64;
    wait_for_stats("all clients to send", Duration::from_secs(2), |s| s.fast_sends + s.slow_sends >= all)?;
    let status = peer.kill()?;
    ensure!(status == abi::EXIT_KILLED, "killed server ended with {status}");
    let mut codes = Vec::new();
    for t in threads {
        codes.push(ok("join", t.join())?);
    }
    ensure!(codes.iter().all(|&c| c == 0), "client outcomes (0 = PeerDied) {codes:?}");
    expect_err("send after the server's death", conn.send(&[OP_HOLD], &mut buf), Error::PeerDied)?;
    expect_err("pulse after the server's death", conn.pulse(1, 0), Error::PeerDied)
}

pub fn client_death() -> Outcome {
    let ch = ok("channel_create", Channel::create())?;
    let conn = Arc::new(ok("connect", ch.connect())?);
    let mut buf = [0u8; 16];

    // Killed while we hold its request.
    let mut client = Peer::spawn("client", &[conn.handle()])?;
    let Received::Message(m) = ok("receive", ch.receive_timeout(&mut buf, Duration::from_secs(2)))? else {
        return Err("expected the client's message".into());
    };
    ensure!(buf[0] == OP_HOLD && m.len == 1, "unexpected request {:?}", &buf[..m.len]);
    ok("lease_write to a live client", ipc::lease_write(m.rcvid, 0, 0, b"ok"))?;
    client.kill()?;
    // The kernel's process list shows it ended (kept while we hold its handle).
    let list = ok("processes", ipc::processes())?;
    match list.iter().find(|p| p.pid == m.sender_pid) {
        Some(p) if p.ended && p.status == abi::EXIT_KILLED && p.name() == "ipcpeer" => {}
        other => {
            return Err(alloc::format!("process list entry for the killed client (pid {}): {other:?}", m.sender_pid))
        }
    }
    expect_err("reply to a killed client", ipc::reply(m.rcvid, 0, b"late"), Error::PeerDied)?;
    expect_err("lease_write to a killed client", ipc::lease_write(m.rcvid, 0, 0, b"x"), Error::PeerDied)?;

    // Killed while still queued: its message is never delivered.
    let before = stats()?;
    let mut queued = Peer::spawn("client", &[conn.handle()])?;
    wait_for_stats("the second client to queue", Duration::from_secs(2), |s| s.slow_sends > before.slow_sends)?;
    queued.kill()?;

    // The server goes on serving others.
    let other = {
        let conn = conn.clone();
        ok(
            "thread spawn",
            thread::spawn(move || {
                send_bounded(&conn, b"alive", &mut [0u8; 4]).map_or_else(|e| -(e as i64), |(s, _)| s)
            }),
        )?
    };
    match ok("receive", ch.receive_timeout(&mut buf, Duration::from_secs(2)))? {
        Received::Message(m) if &buf[..m.len] == b"alive" => ok("reply", ipc::reply(m.rcvid, 3, &[]))?,
        other => return Err(alloc::format!("expected the live client's message, got {other:?} ({:?})", &buf[..4])),
    }
    let status = ok("join", other.join())?;
    ensure!(status == 3, "live client got {status}, expected 3");
    expect_err("nothing else queued", ch.receive_timeout(&mut buf, Duration::from_millis(20)), Error::TimedOut)
}
