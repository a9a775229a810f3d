//! Every message size from 0 to `MAX_MESSAGE` crosses between two
//! processes intact, requests and replies, with the other process as the
//! server and then as the client; buffers straddle page boundaries at
//! varying points, and nothing is written past a message's end.
#![forbid(unsafe_code)]

use alloc::vec;

use libipc::ipc::{Channel, MAX_MESSAGE};
use libipc::Error;

use crate::harness::{expect_err, ok, Outcome, Peer};
use crate::proto::{self, PULSE_STOP};

pub fn sizes_roundtrip() -> Outcome {
    // ipctest sends, ipcpeer serves.
    let ch = ok("channel_create", Channel::create())?;
    let conn = ok("connect", ch.connect())?;
    let mut peer = Peer::spawn("sizes", &[ch.handle()])?;
    drop(ch);
    proto::send_sizes(&conn).map_err(|e| alloc::format!("ipctest -> ipcpeer: {e}"))?;
    let big = vec![0u8; MAX_MESSAGE + 1];
    let mut reply = [0u8; 8];
    expect_err("a message of MAX_MESSAGE + 1 bytes", conn.send(&big, &mut reply), Error::MessageTooLong)?;
    ok("stop pulse", conn.pulse(PULSE_STOP, 0))?;
    peer.expect_exit(0)?;

    // ipcpeer sends, ipctest serves.
    let ch = ok("channel_create", Channel::create())?;
    let conn = ok("connect", ch.connect())?;
    let mut peer = Peer::spawn("sizes-client", &[conn.handle()])?;
    drop(conn);
    let bad = proto::serve_sizes(&ch).map_err(|e| alloc::format!("ipcpeer -> ipctest: {e}"))?;
    crate::ensure!(bad == 0, "ipcpeer -> ipctest: {bad} messages arrived damaged");
    peer.expect_exit(0)
}
