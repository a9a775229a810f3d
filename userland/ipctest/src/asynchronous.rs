//! Asynchronous sends: replies come back on the sender's channel tagged
//! with its tokens, in the order the server answers (here reversed);
//! `MAX_ASYNC_OUTSTANDING` unanswered sends are the limit; a message
//! outlives its sender (delivered, its reply dropped); a server's death
//! answers what it held and what was queued with `PeerDied`.
#![forbid(unsafe_code)]

use alloc::vec::Vec;
use core::time::Duration;

use libipc::ipc::{self, Channel, Received, MAX_ASYNC_OUTSTANDING};
use libipc::Error;

use crate::ensure;
use crate::harness::{expect_err, ok, Outcome, Peer, GIVE_UP};
use crate::proto::{OP_HOLD, PULSE_READY, PULSE_STOP};

/// Receives one asynchronous reply: (token, status, data).
fn async_reply(ch: &Channel) -> core::result::Result<(u64, i64, Vec<u8>), alloc::string::String> {
    let mut buf = [0u8; 64];
    match ok("receive", ch.receive_timeout(&mut buf, Duration::from_secs(1)))? {
        Received::AsyncReply { token, status, len } => Ok((token, status, buf[..len].to_vec())),
        other => Err(alloc::format!("expected an asynchronous reply, got {other:?}")),
    }
}

pub fn async_send() -> Outcome {
    out_of_order()?;
    outstanding_limit()?;
    sender_dies()?;
    server_dies()
}

/// Four sends; the server answers them last first.
fn out_of_order() -> Outcome {
    let server = ok("channel_create", Channel::create())?;
    let replies = ok("channel_create", Channel::create())?;
    let conn = ok("connect", server.connect())?;
    let mut peer = Peer::spawn("async-rev 4", &[server.handle()])?;
    drop(server);
    for i in 0..4u8 {
        let msg: Vec<u8> = (0..10 + i).map(|b| b.wrapping_mul(i + 1)).collect();
        ok("send_async", conn.send_async(&msg, 1000 + u64::from(i), &replies))?;
    }
    for i in (0..4u8).rev() {
        let (token, status, data) = async_reply(&replies)?;
        let mut want: Vec<u8> = (0..10 + i).map(|b| b.wrapping_mul(i + 1)).collect();
        want.reverse();
        ensure!(token == 1000 + u64::from(i), "reply with token {token}, expected {}", 1000 + u64::from(i));
        ensure!(status == i64::from(i), "token {token}: status {status}, expected {i}");
        ensure!(data == want, "token {token}: data {data:?}, expected {want:?}");
    }
    ok("stop pulse", conn.pulse(PULSE_STOP, 0))?;
    peer.expect_exit(0)
}

/// `MAX_ASYNC_OUTSTANDING` unanswered sends, then `QueueFull` until one is
/// answered.
fn outstanding_limit() -> Outcome {
    let server = ok("channel_create", Channel::create())?;
    let replies = ok("channel_create", Channel::create())?;
    let conn = ok("connect", server.connect())?;
    for i in 0..MAX_ASYNC_OUTSTANDING as u64 {
        ok(&alloc::format!("send_async {i}"), conn.send_async(&i.to_le_bytes(), i, &replies))?;
    }
    expect_err("one send_async too many", conn.send_async(b"x", 99, &replies), Error::QueueFull)?;
    let me = libipc::getpid();
    let mut buf = [0u8; 16];
    for i in 0..MAX_ASYNC_OUTSTANDING as u64 {
        match ok("receive", server.receive_timeout(&mut buf, Duration::from_secs(1)))? {
            Received::AsyncMessage(m) if m.len == 8 && buf[..8] == i.to_le_bytes() && m.sender_pid == me => {
                ok("async reply", ipc::reply(m.rcvid, 7, &(i * 3).to_le_bytes()))?
            }
            other => return Err(alloc::format!("expected asynchronous message {i} from pid {me}, got {other:?}")),
        }
        let (token, status, data) = async_reply(&replies)?;
        ensure!(
            token == i && status == 7 && data == (i * 3).to_le_bytes(),
            "reply {i}: token {token}, status {status}, data {data:?}"
        );
    }
    ok("send_async once the replies are in", conn.send_async(b"again", 100, &replies))?;
    let Received::AsyncMessage(m) = ok("receive", server.receive_timeout(&mut buf, GIVE_UP))? else {
        return Err("expected the last asynchronous message".into());
    };
    ok("error reply", ipc::error_reply(m.rcvid, Error::NotFound))?;
    let (token, status, _) = async_reply(&replies)?;
    ensure!(
        token == 100 && status == Error::NotFound.to_raw(),
        "error reply arrived as token {token}, status {status}"
    );
    Ok(())
}

/// The sender exits right after sending: the message is still delivered;
/// the reply has nowhere to go and is dropped.
fn sender_dies() -> Outcome {
    let server = ok("channel_create", Channel::create())?;
    let conn = ok("connect", server.connect())?;
    let reply_to = ok("channel_create", Channel::create())?;
    let mut peer = Peer::spawn("async-die", &[conn.handle(), reply_to.handle()])?;
    drop(reply_to);
    peer.expect_exit(0)?;
    let mut buf = [0u8; 32];
    match ok("receive", server.receive_timeout(&mut buf, Duration::from_secs(1)))? {
        Received::AsyncMessage(m) if &buf[..m.len] == b"from beyond" => {
            ok("reply to a dead sender (dropped)", ipc::reply(m.rcvid, 0, b"too late"))?;
            expect_err("replying twice", ipc::reply(m.rcvid, 0, &[]), Error::PeerDied)
        }
        other => Err(alloc::format!("expected the dead sender's message, got {other:?}")),
    }
}

/// A server holding one asynchronous message, with another queued, dies:
/// both come back as `PeerDied`.
fn server_dies() -> Outcome {
    let server = ok("channel_create", Channel::create())?;
    let notify = ok("channel_create", Channel::create())?;
    let replies = ok("channel_create", Channel::create())?;
    let conn = ok("connect", server.connect())?;
    let notify_conn = ok("connect", notify.connect())?;
    let mut peer = Peer::spawn("holder 1", &[server.handle(), notify_conn.handle()])?;
    drop(server);
    ok("send_async", conn.send_async(&[OP_HOLD], 1, &replies))?;
    let mut buf = [0u8; 8];
    match ok("receive", notify.receive_timeout(&mut buf, Duration::from_secs(2)))? {
        Received::Pulse { code: PULSE_READY, .. } => {}
        other => return Err(alloc::format!("expected the holder's ready pulse, got {other:?}")),
    }
    ok("send_async", conn.send_async(&[OP_HOLD], 2, &replies))?;
    peer.kill()?;
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let (token, status, _) = async_reply(&replies)?;
        ensure!(status == Error::PeerDied.to_raw(), "token {token}: status {status}, expected -PeerDied");
        tokens.push(token);
    }
    tokens.sort_unstable();
    ensure!(tokens == [1, 2], "PeerDied replies for tokens {tokens:?}, expected [1, 2]");
    expect_err("send_async to the dead server", conn.send_async(b"x", 3, &replies), Error::PeerDied)
}
