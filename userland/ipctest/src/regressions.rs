//! Tests of kernel behaviour found wrong while writing this suite, kept as
//! regression tests now that the kernel is fixed:
//!
//! - `stale_rcvid`: a receive id used to name the client *thread*, not the
//!   message, so a late reply to a message whose sender timed out answered
//!   that thread's next message (receive ids now carry the send's sequence
//!   number).
//! - `error_reply_handle`: a reply with a negative status and a handle used
//!   to put the handle in the client's table although the client only saw
//!   the error.
//! - `priority_inheritance_queued`: a server used to be raised to a
//!   client's priority only when it received the message, not while the
//!   message waited for a busy server, so a medium-priority hog could delay
//!   a high-priority client behind a low-priority request.
#![forbid(unsafe_code)]

use alloc::sync::Arc;
use core::time::Duration;

use libipc::ipc::{self, raw, Channel, Received, SendOptions};
use libipc::{println, thread, Error, Instant};

use crate::ensure;
use crate::harness::{expect_err, ok, Outcome, Peer, GIVE_UP};
use crate::proto::{OP_ECHO, OP_EXIT, OP_SPIN, PULSE_READY};

pub fn stale_rcvid() -> Outcome {
    let ch = ok("channel_create", Channel::create())?;
    let conn = Arc::new(ok("connect", ch.connect())?);
    let client = {
        let conn = conn.clone();
        ok(
            "thread spawn",
            thread::spawn(move || {
                let mut reply = [0u8; 16];
                let quick = SendOptions::new().timeout(Duration::from_millis(20));
                if conn.send_with(b"first", &mut reply, &quick).err() != Some(Error::TimedOut) {
                    return 1;
                }
                match conn.send_with(b"second", &mut reply, &SendOptions::new().timeout(GIVE_UP)) {
                    Ok(r) if r.status == 2 && &reply[..r.len] == b"for-second" => 0,
                    Ok(r) => {
                        println!("ipctest: second send answered {} {:?}", r.status, &reply[..r.len]);
                        2
                    }
                    Err(_) => 3,
                }
            }),
        )?
    };
    let mut buf = [0u8; 16];
    let Received::Message(first) = ok("receive", ch.receive_timeout(&mut buf, GIVE_UP))? else {
        return Err("expected the first message".into());
    };
    // Hold it until its sender has given up and sent again.
    let Received::Message(second) = ok("receive", ch.receive_timeout(&mut buf, GIVE_UP))? else {
        return Err("expected the second message".into());
    };
    ensure!(&buf[..second.len] == b"second", "second message {:?}", &buf[..second.len]);
    let late = ipc::reply(first.rcvid, 1, b"for-first");
    let _ = ipc::reply(second.rcvid, 2, b"for-second");
    let code = ok("join", client.join())?;
    expect_err("reply to the timed-out message", late, Error::PeerDied)?;
    ensure!(code == 0, "the client's second send got the wrong answer (code {code}: 2 = the late reply)");
    Ok(())
}

pub fn error_reply_handle() -> Outcome {
    const ROUNDS: usize = 300; // more than a handle table holds
    let ch = ok("channel_create", Channel::create())?;
    let conn = Arc::new(ok("connect", ch.connect())?);
    let gift = ok("connect", ch.connect())?;
    let client = {
        let conn = conn.clone();
        ok(
            "thread spawn",
            thread::spawn(move || {
                let mut wrong = 0;
                for _ in 0..ROUNDS {
                    if conn.send(b"x", &mut [0u8; 4]).err() != Some(Error::NotFound) {
                        wrong += 1;
                    }
                }
                wrong
            }),
        )?
    };
    let mut buf = [0u8; 16];
    for _ in 0..ROUNDS {
        let Received::Message(m) = ok("receive", ch.receive_timeout(&mut buf, GIVE_UP))? else {
            return Err("expected a message".into());
        };
        ok("error reply with a handle", raw::reply(m.rcvid, Error::NotFound.to_raw(), &[], gift.handle().raw()))?;
    }
    let wrong = ok("join", client.join())?;
    ensure!(
        wrong == 0,
        "{wrong} of {ROUNDS} sends did not end with the server's NotFound (handles leaked into the table)"
    );
    Ok(())
}

pub fn priority_inheritance_queued() -> Outcome {
    let result = queued();
    ok("set_priority back", ipc::set_priority(8))?;
    result
}

fn queued() -> Outcome {
    let ch = ok("channel_create", Channel::create())?;
    let conn = Arc::new(ok("connect", ch.connect())?);
    let mut server = Peer::spawn("serve prio=2", &[ch.handle()])?;
    drop(ch);
    let mut reply = [0u8; 8];
    ok("warm-up", conn.send(&[OP_ECHO], &mut reply))?;
    ok("set_priority", ipc::set_priority(20))?;
    // A low-priority client keeps the server busy for 100 ms.
    let low = {
        let conn = conn.clone();
        ok(
            "thread spawn",
            thread::spawn(move || {
                if ipc::set_priority(2).is_err() {
                    return -1;
                }
                let mut spin = [OP_SPIN, 0, 0, 0, 0];
                spin[1..].copy_from_slice(&100u32.to_le_bytes());
                conn.send(&spin, &mut [0u8; 8]).map_or(-2, |(s, _)| s)
            }),
        )?
    };
    libipc::sleep(Duration::from_millis(10));
    let notify = ok("channel_create", Channel::create())?;
    let notify_conn = ok("connect", notify.connect())?;
    let mut hog = Peer::spawn("hog ms=500 prio=12", &[notify_conn.handle()])?;
    let mut buf = [0u8; 8];
    match ok("receive", notify.receive_timeout(&mut buf, Duration::from_secs(2)))? {
        Received::Pulse { code: PULSE_READY, .. } => {}
        other => return Err(alloc::format!("expected the hog's ready pulse, got {other:?}")),
    }
    let start = Instant::now();
    ok("high-priority request behind a low one", conn.send(&[OP_ECHO], &mut reply))?;
    let round_trip = start.elapsed();
    hog.wait()?;
    ok("join", low.join())?;
    println!("ipctest: queued high-priority round trip took {} ms", round_trip.as_millis());
    ensure!(round_trip.as_millis() < 300, "took {} ms: the busy server was not raised", round_trip.as_millis());
    ok("exit request", conn.send(&[OP_EXIT], &mut reply))?;
    server.expect_exit(0)
}
