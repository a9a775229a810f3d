//! Leases: the client lends a buffer with its `send` (4 KiB or 64 KiB) and
//! the server reads it whole (`lease_read`) or writes it whole
//! (`lease_write`) before replying. Two rows each: the client's round trip
//! (send with the lease, the server's copy, the reply), and the server's
//! `lease_read`/`lease_write` call alone, timed in the server with the same
//! bracket and sent back in the reply.
//!
//! Contents are checked: a read lease starts and ends with the iteration's
//! number, which the server checks; a written lease must come back with
//! it.
#![forbid(unsafe_code)]

use alloc::format;
use alloc::vec;

use abi::ipc::lease::{READ, WRITE};

use super::Served;
use crate::bench::{Bench, Measured};
use crate::counters::Expect;
use crate::measure::Samples;
use crate::peer::{ends_with_seq, stamp_ends, word, LEASE_READ, LEASE_WRITE, MAX_LEASE};
use crate::raw;

/// Lease sizes.
const SIZES: [usize; 2] = [4096, 64 * 1024];

/// Every lease row.
pub fn run(b: &mut Bench) {
    b.case("lease", |b| {
        let served = Served::start("lease")?;
        let conn = served.raw();
        let mut data = vec![0u8; MAX_LEASE];
        let mut reply = [0u8; 16];
        let ops = [
            (LEASE_READ, READ, "lease_read", "lease_read: send round trip", "lease_read call (server)"),
            (LEASE_WRITE, WRITE, "lease_write", "lease_write: send round trip", "lease_write call (server)"),
        ];
        for (op, rights, case, label, call_label) in ops {
            for size in SIZES {
                let plan = b.plan(if size > 4096 { 10 } else { 50 }, 1);
                let mut calls = Samples::new(plan.iterations);
                let m = b.measure(plan, |i, w| {
                    let lease = &mut data[..size];
                    stamp_ends(lease, if op == LEASE_READ { i } else { !i });
                    let mut msg = [0u8; 24];
                    for (k, v) in [op, i, size as u64].into_iter().enumerate() {
                        msg[k * 8..k * 8 + 8].copy_from_slice(&v.to_le_bytes());
                    }
                    w.start();
                    let (rax, len) = raw::send_leased(conn, &msg, lease, rights, &mut reply);
                    w.stop();
                    if rax != 0 || len != 16 || word(&reply, 1) != 1 {
                        return Err(format!(
                            "send returned {}, reply {len} bytes, server ok {}",
                            rax as i64,
                            word(&reply, 1)
                        ));
                    }
                    if op == LEASE_WRITE && !ends_with_seq(lease, i) {
                        return Err(format!("the written lease does not carry {i}"));
                    }
                    if i >= plan.warmup as u64 {
                        calls.push(word(&reply, 0));
                    }
                    Ok(())
                });
                let m = match m {
                    Ok(m) => m,
                    Err(why) => {
                        b.broke(Bench::id(case, size), why);
                        continue;
                    }
                };
                let call = Measured { ticks: calls.summary(), before: m.before, after: m.after };
                b.row(Bench::id(case, size), case, label, size, "round trip", plan, m, Expect::FastSends);
                let call_case = if op == LEASE_READ { "lease_read_call" } else { "lease_write_call" };
                b.row(Bench::id(call_case, size), call_case, call_label, size, "call", plan, call, Expect::FastSends);
            }
        }
        served.stop();
        Ok(())
    });
}
