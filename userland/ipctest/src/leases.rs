//! Leases: the server writes 64 KiB into one client buffer and reads 64 KiB
//! from another while the client waits, byte for byte; accesses past a
//! lease's end, with the wrong rights, to a lease that does not exist, or
//! after the reply are refused.
#![forbid(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec;

use libipc::ipc::{self, Channel, Received, SendOptions};
use libipc::{thread, Error};

use crate::ensure;
use crate::harness::{expect_err, ok, Outcome, Peer, GIVE_UP};
use crate::proto::{self, OP_EXIT, OP_LEASE_CHECK, OP_LEASE_FILL, OP_LEASE_PROBE};

const LEASE: usize = 64 * 1024;

fn op(code: u8, seed: u8, len: usize) -> [u8; 6] {
    let l = (len as u32).to_le_bytes();
    [code, seed, l[0], l[1], l[2], l[3]]
}

pub fn leases() -> Outcome {
    let ch = ok("channel_create", Channel::create())?;
    let conn = ok("connect", ch.connect())?;
    let mut peer = Peer::spawn("serve", &[ch.handle()])?;
    drop(ch);
    let mut reply = [0u8; 8];

    // The server fills a buffer that starts 3 bytes into a page.
    let mut area = vec![0x55u8; LEASE + 16];
    let opts = SendOptions::new().lease_write(&mut area[3..3 + LEASE]);
    let r = ok("send with a write lease", conn.send_with(&op(OP_LEASE_FILL, 41, LEASE), &mut reply, &opts))?;
    ensure!(r.status == 0, "server could not write the lease: status {}", r.status);
    if let Some(i) = proto::first_mismatch(&area[3..3 + LEASE], 41) {
        return Err(alloc::format!("written lease wrong at byte {i} of {LEASE}"));
    }
    ensure!(area[..3] == [0x55; 3] && area[3 + LEASE..] == [0x55; 13], "the server wrote outside the lease");

    // The server reads one and checks it.
    let mut data = vec![0u8; LEASE];
    proto::fill(&mut data, 97);
    let opts = SendOptions::new().lease_read(&data);
    let r = ok("send with a read lease", conn.send_with(&op(OP_LEASE_CHECK, 97, LEASE), &mut reply, &opts))?;
    ensure!(r.status == 0, "server read the lease wrong (status {}: 1 + first bad byte)", r.status);

    // Bounds and rights, probed by the server.
    let small = [7u8; 4096];
    let mut small_out = [0u8; 4096];
    let opts = SendOptions::new().lease_read(&small).lease_write(&mut small_out);
    let mut probe = [OP_LEASE_PROBE, 0, 0, 0, 0];
    probe[1..].copy_from_slice(&4096u32.to_le_bytes());
    let r = ok("send with probe leases", conn.send_with(&probe, &mut reply, &opts))?;
    ensure!(r.status == 0, "lease probe {} got the wrong answer (ipcpeer printed it)", r.status - 1);

    // More than MAX_LEASES is refused before anything is sent.
    let mut opts = SendOptions::new();
    for _ in 0..=ipc::MAX_LEASES {
        opts = opts.lease_read(&small);
    }
    expect_err("a send with 5 leases", conn.send_with(&[0], &mut reply, &opts), Error::BadArgument)?;
    ok("exit request", conn.send(&[OP_EXIT], &mut reply))?;
    peer.expect_exit(0)?;

    stale_lease()
}

/// After the reply, the receive id no longer names a lease.
fn stale_lease() -> Outcome {
    let ch = ok("channel_create", Channel::create())?;
    let conn = Arc::new(ok("connect", ch.connect())?);
    let client = {
        let conn = conn.clone();
        ok(
            "thread spawn",
            thread::spawn(move || {
                let mut lent = vec![0u8; 100];
                let mut reply = [0u8; 4];
                let opts = SendOptions::new().lease_read_write(&mut lent).timeout(GIVE_UP);
                match conn.send_with(b"lease", &mut reply, &opts) {
                    Ok(_) if lent[..5] == *b"hello" => 0,
                    Ok(_) => 1,
                    Err(e) => -(e as i64),
                }
            }),
        )?
    };
    let mut buf = [0u8; 64];
    let Received::Message(m) = ok("receive", ch.receive_timeout(&mut buf, GIVE_UP))? else {
        return Err("expected a message".into());
    };
    ok("lease_write", ipc::lease_write(m.rcvid, 0, 0, b"hello"))?;
    let mut back = [0u8; 5];
    ok("lease_read", ipc::lease_read(m.rcvid, 0, 0, &mut back))?;
    ensure!(&back == b"hello", "read back {back:?} from a read-write lease");
    ok("reply", ipc::reply(m.rcvid, 0, &[]))?;
    expect_err("lease_read after the reply", ipc::lease_read(m.rcvid, 0, 0, &mut back), Error::PeerDied)?;
    expect_err("lease_write after the reply", ipc::lease_write(m.rcvid, 0, 0, b"x"), Error::PeerDied)?;
    let code = ok("join", client.join())?;
    ensure!(code == 0, "client thread saw {code} (1: lease not written)");
    Ok(())
}
