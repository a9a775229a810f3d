//! The context switch: this process and a peer that does nothing but
//! `yield`, both at the same priority and alone on the CPU. Each timed
//! `yield` switches to the peer, whose `yield` switches back: two switches,
//! each a system call, a scheduler pass and an address-space change. One
//! figure is half of that: one switch.
#![forbid(unsafe_code)]

use alloc::format;
use alloc::string::String;

use super::Peer;
use crate::bench::Bench;
use crate::counters::Expect;
use crate::raw;

/// The yield ping-pong.
pub fn run(b: &mut Bench) {
    const CASE: &str = "yield";
    b.case(CASE, |b| {
        let peer = Peer::spawn("yield", &[])?;
        let plan = b.plan(100, 2);
        let m = b.measure(plan, |_, w| {
            w.start();
            let r = raw::yield_now();
            w.stop();
            if r == 0 {
                Ok(())
            } else {
                Err(format!("yield returned {}", r as i64))
            }
        });
        peer.stop();
        let label = "context switch by yield, 2 spaces";
        b.row(String::from(CASE), CASE, label, 0, "switch", plan, m?, Expect::Switches);
        Ok(())
    });
}
