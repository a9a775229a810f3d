//! Handles are capabilities: numbers that name nothing in this process are
//! refused, another process's numbers mean nothing here, rights taken away
//! by `dup` stay away, and a handle given in a message (or a reply) works
//! in the receiver.
#![forbid(unsafe_code)]

use core::time::Duration;

use abi::ipc::rights::{CONNECT, DUPLICATE, RECEIVE, SEND, TRANSFER};
use abi::syscall::first_handle;
use libipc::ipc::{self, raw, Channel, Connection, Received, SendOptions};
use libipc::{sys, Error};

use crate::ensure;
use crate::harness::{expect_err, ok, Outcome, Peer};
use crate::proto::{OP_ECHO, OP_EXIT, OP_GIVE_HANDLE, OP_USE_HANDLE, PULSE_HELLO};

pub fn handle_security() -> Outcome {
    forged()?;
    other_process()?;
    reduced_rights()?;
    passed_handles()
}

fn send_raw(handle: u64) -> libipc::Result<i64> {
    raw::send(handle, &[OP_ECHO], &mut [0u8; 4], &raw::LeaseTable::new(), 0, 0).map(|r| r.status)
}

/// Numbers that name nothing, or the wrong kind of object.
fn forged() -> Outcome {
    let ch = ok("channel_create", Channel::create())?;
    let conn = ok("connect", ch.connect())?;
    let c = conn.handle().raw();
    // The live connection with another generation, a slot far past the
    // table, bits above the handle format, and 0.
    let forgeries = [c ^ (1 << 16), c.wrapping_add(0x40), first_handle(250), c | (1 << 40), 0, u64::MAX];
    for f in forgeries {
        expect_err(&alloc::format!("send on forged handle {f:#x}"), send_raw(f), Error::BadHandle)?;
        expect_err(&alloc::format!("pulse on forged handle {f:#x}"), raw::pulse(f, 1, 0), Error::BadHandle)?;
        expect_err(
            &alloc::format!("receive on forged handle {f:#x}"),
            raw::receive(f, &mut [0u8; 4], 1),
            Error::BadHandle,
        )?;
    }
    // A closed handle's number is dead.
    let closed = ok("connect", ch.connect())?.into_handle();
    let value = closed.raw();
    drop(closed);
    expect_err("send on a closed handle", send_raw(value), Error::BadHandle)?;
    // Wrong kinds: a channel cannot send, a connection cannot receive (the
    // kernel may say either that the kind is wrong or that the right is
    // missing: channel handles never carry SEND, connections never RECEIVE),
    // and neither is a process or an interrupt line.
    wrong_kind("send on a channel handle", send_raw(ch.handle().raw()))?;
    wrong_kind("receive on a connection", raw::receive(c, &mut [0u8; 4], 1))?;
    wrong_kind("wait on a connection", sys::wait(c))?;
    expect_err("irq_ack on a channel", raw::irq_ack(ch.handle().raw()), Error::BadHandle)?;
    Ok(())
}

fn wrong_kind<T: core::fmt::Debug>(what: &str, r: libipc::Result<T>) -> Outcome {
    match r {
        Err(Error::BadHandle | Error::PermissionDenied) => Ok(()),
        other => Err(alloc::format!("{what}: got {other:?}, expected BadHandle or PermissionDenied")),
    }
}

/// A process holding no connection cannot send, even with our numbers.
fn other_process() -> Outcome {
    let ch = ok("channel_create", Channel::create())?;
    let conn = ok("connect", ch.connect())?;
    let mut peer = Peer::spawn(&alloc::format!("nohandle {}", conn.handle().raw()), &[])?;
    peer.expect_exit(0)?;
    let mut buf = [0u8; 8];
    expect_err("anything arrived", ch.receive_timeout(&mut buf, Duration::from_millis(10)), Error::TimedOut)
}

/// `dup` can only drop rights, and what was dropped is refused.
fn reduced_rights() -> Outcome {
    let ch = ok("channel_create", Channel::create())?;
    let conn = ok("connect", ch.connect())?;
    let mut buf = [0u8; 8];

    let connect_only = ok("dup channel CONNECT", ch.dup(CONNECT))?;
    expect_err(
        "receive without RECEIVE",
        connect_only.receive_timeout(&mut buf, Duration::from_millis(1)),
        Error::PermissionDenied,
    )?;
    ok("connect through a CONNECT-only handle", connect_only.connect())?;
    let receive_only = ok("dup channel RECEIVE", ch.dup(RECEIVE))?;
    expect_err("connect without CONNECT", receive_only.connect(), Error::PermissionDenied)?;
    expect_err("dup without DUPLICATE", receive_only.dup(RECEIVE), Error::PermissionDenied)?;

    let no_send = ok("dup connection TRANSFER", conn.dup(TRANSFER))?;
    expect_err("send without SEND", no_send.send(&[1], &mut buf), Error::PermissionDenied)?;
    expect_err("pulse without SEND", no_send.pulse(1, 0), Error::PermissionDenied)?;
    expect_err("dup with more rights than held", no_send.dup(SEND | TRANSFER), Error::PermissionDenied)?;
    let no_transfer = ok("dup connection SEND|DUPLICATE", conn.dup(SEND | DUPLICATE))?;
    expect_err("dup adding TRANSFER", no_transfer.dup(SEND | TRANSFER), Error::PermissionDenied)?;
    let opts = SendOptions::new().handle(no_transfer.handle());
    expect_err("giving a handle without TRANSFER", conn.send_with(&[1], &mut buf, &opts), Error::PermissionDenied)?;
    expect_err(
        "spawn with a handle without TRANSFER",
        sys::spawn(b"ipcpeer", b"nohandle", &[no_transfer.handle().raw()]),
        Error::PermissionDenied,
    )?;
    // The refused send was not delivered.
    expect_err("anything arrived", ch.receive_timeout(&mut buf, Duration::from_millis(10)), Error::TimedOut)?;
    Ok(())
}

/// A connection sent to the peer works there; one it replies with works here.
fn passed_handles() -> Outcome {
    let server = ok("channel_create", Channel::create())?;
    let conn = ok("connect", server.connect())?;
    let mut peer = Peer::spawn("serve", &[server.handle()])?;
    drop(server);
    let mine = ok("channel_create", Channel::create())?;
    // Only SEND and TRANSFER travel: the peer gets no more than that.
    let gift = ok("dup", ok("connect", mine.connect())?.dup(SEND | TRANSFER))?;
    let mut msg = [OP_USE_HANDLE, 0, 0, 0, 0, 0, 0, 0, 0];
    msg[1..].copy_from_slice(&0x1234_5678u64.to_le_bytes());
    let mut reply = [0u8; 8];
    let r = ok("send with a handle", conn.send_with(&msg, &mut reply, &SendOptions::new().handle(gift.handle())))?;
    ensure!(r.status == 0, "the peer could not pulse through the handle it got (status {})", r.status);
    let mut buf = [0u8; 8];
    match ok("receive", mine.receive_timeout(&mut buf, Duration::from_secs(1)))? {
        Received::Pulse { code: PULSE_HELLO, value: 0x1234_5678 } => {}
        other => return Err(alloc::format!("expected the peer's pulse through the passed handle, got {other:?}")),
    }
    // The sender keeps its own copy.
    ok("pulse through the kept copy", gift.pulse(PULSE_HELLO, 1))?;

    let r = ok("ask for a handle", conn.send_with(&[OP_GIVE_HANDLE], &mut reply, &SendOptions::new()))?;
    let Some(h) = r.handle else { return Err("the reply carried no handle".into()) };
    let given = Connection::from_handle(h);
    let (status, len) = ok("send through the handle from the reply", given.send(&[OP_ECHO, 9], &mut reply))?;
    ensure!(
        status == 2 && reply[..len] == [OP_ECHO, 9],
        "echo through the given handle: {status}, {:?}",
        &reply[..len]
    );
    ok("exit request", given.send(&[OP_EXIT], &mut reply))?;
    peer.expect_exit(0)?;
    expect_err("send after the peer exited", ipc::raw::pulse(conn.handle().raw(), 1, 0), Error::PeerDied)
}
