//! The fast path remembers, per thread, the page it last received into and
//! the handles it last sent and received on, so it neither walks page tables
//! nor decodes handles on every message. These tests check that the memory
//! is forgotten when the thing remembered goes away: a receive into an
//! unmapped buffer fails with `BadAddress` (not landing in the freed frame),
//! and a send on a closed connection fails with `BadHandle`.

use core::time::Duration;

use libipc::abi::{prot, Error, Syscall};
use libipc::ipc::raw::LeaseTable;
use libipc::ipc::{raw, Channel, Received};
use libipc::{thread, Mapping};

use crate::ensure;
use crate::harness::{ok, stats, Outcome};

/// Time for the other thread to block in `receive`, so sends take the fast path.
const SETTLE: Duration = Duration::from_millis(20);

pub fn unmapped_receive_buffer() -> Outcome {
    let ch = ok("channel_create", Channel::create())?;
    let conn = ok("connect", ch.connect())?;
    let server = thread::spawn(move || {
        let Ok(mut page) = Mapping::new(4096, prot::READ | prot::WRITE) else { return 1 };
        let Some(buf) = page.as_mut_slice() else { return 2 };
        // First message: delivered into the page, which the kernel remembers.
        let Ok(Received::Message(r)) = ch.receive(buf) else { return 3 };
        if r.len != 8 || buf[..8] != *b"message1" || libipc::ipc::reply(r.rcvid, 0, &[]).is_err() {
            return 4;
        }
        let addr = page.addr() as u64;
        drop(page);
        // The page is gone: the next message must not be delivered there.
        #[allow(unsafe_code)]
        // SAFETY: `addr` is no longer mapped in this process; nothing here
        // reads or writes it, and the kernel must refuse to.
        let r = unsafe { raw::syscall(Syscall::Receive, [ch.handle().raw(), addr, 64, 0, 0, 0]) };
        match raw::check(r.rax) {
            Err(Error::BadAddress) => {}
            Ok(rcvid) => {
                // Delivered into freed memory: answer, so the sender does not hang.
                let _ = libipc::ipc::reply(rcvid, 0, &[]);
                return 5;
            }
            Err(_) => return 5,
        }
        // The refused message is still queued for a good buffer.
        let mut good = [0u8; 64];
        let Ok(Received::Message(r)) = ch.receive(&mut good) else { return 6 };
        if r.len != 8 || good[..8] != *b"message2" || libipc::ipc::reply(r.rcvid, 0, &[]).is_err() {
            return 7;
        }
        0
    });
    let server = ok("thread spawn", server)?;
    for msg in [b"message1", b"message2"] {
        libipc::sleep(SETTLE);
        let before = stats()?;
        let (status, _) = ok("send", conn.send(msg, &mut [0u8; 8]))?;
        ensure!(status == 0, "send of {:?}: status {status}", core::str::from_utf8(msg));
        // The first must have gone the fast path, or nothing was remembered.
        let fast = stats()?.fast_sends - before.fast_sends;
        ensure!(msg != b"message1" || fast == 1, "message1 took the general path ({fast} fast sends)");
    }
    let code = ok("join", server.join())?;
    ensure!(code == 0, "server thread failed at step {code} (5: the unmapped buffer was written)");
    Ok(())
}

pub fn closed_connection() -> Outcome {
    let ch = ok("channel_create", Channel::create())?;
    let conn = ok("connect", ch.connect())?;
    let control = ok("connect", ch.connect())?;
    // Answers every message until one says "stop".
    let server = thread::spawn(move || {
        let mut buf = [0u8; 8];
        loop {
            let Ok(Received::Message(r)) = ch.receive(&mut buf) else { return 1 };
            if libipc::ipc::reply(r.rcvid, 0, &[]).is_err() {
                return 2;
            }
            if buf[..r.len] == *b"stop" {
                return 0;
            }
        }
    });
    let server = ok("thread spawn", server)?;
    libipc::sleep(SETTLE);
    let before = stats()?;
    ok("send", conn.send(b"hello", &mut [0u8; 8]))?;
    let fast = stats()?.fast_sends - before.fast_sends;
    ensure!(fast == 1, "the first send took the general path ({fast} fast sends)");
    let value = conn.handle().raw();
    drop(conn);
    libipc::sleep(SETTLE);
    let after_close = raw::send(value, b"again", &mut [0u8; 8], &LeaseTable::new(), 0, 0);
    ok("stop", control.send(b"stop", &mut [0u8; 8]))?;
    let code = ok("join", server.join())?;
    ensure!(code == 0, "server thread failed at step {code}");
    ensure!(
        matches!(after_close, Err(Error::BadHandle)),
        "a send on the closed connection gave {:?}, expected BadHandle",
        after_close.map(|r| r.status)
    );
    Ok(())
}
