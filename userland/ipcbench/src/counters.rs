//! The kernel's IPC counters around each case (`libipc::ipc::ipc_stats`),
//! and what they must show for the row to be the path it claims: a fast
//! round trip that never met the scheduler, a slow one that did, and so on.
//!
//! The counters are system-wide, so these checks hold on a quiet system
//! (`make bench`, the test boot); from the shell other programs may add to
//! them. Each snapshot is itself a system call, counted by the kernel before
//! it answers: the closing snapshot adds 1 to `syscalls`.
#![forbid(unsafe_code)]

use alloc::format;
use alloc::string::String;

use abi::ipc::IpcStats;

/// Short names of the counters, in `IpcStats::to_words` order.
pub const NAMES: [&str; IpcStats::WORDS] = ["fs", "fr", "ss", "sch", "cs", "sys", "pl", "as"];

/// The counters now (all zero if the kernel would not say).
pub fn snapshot() -> IpcStats {
    libipc::ipc::ipc_stats().unwrap_or_default()
}

/// `after - before`, counter by counter.
pub fn delta(before: &IpcStats, after: &IpcStats) -> IpcStats {
    let (b, a) = (before.to_words(), after.to_words());
    let mut d = [0u64; IpcStats::WORDS];
    for i in 0..IpcStats::WORDS {
        d[i] = a[i].wrapping_sub(b[i]);
    }
    IpcStats::from_words(d)
}

/// `fs=.. fr=.. ...` for the table.
pub fn describe(d: &IpcStats) -> String {
    let mut s = String::new();
    for (name, v) in NAMES.iter().zip(d.to_words()) {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(&format!("{name}={v}"));
    }
    s
}

/// What a case's counter deltas must show, for `n` timed operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// `n` system calls (and the closing snapshot), no IPC.
    Syscalls,
    /// Every send and every reply handed the CPU straight over:
    /// `fast_sends == fast_replies == n`, no slow send.
    FastPath,
    /// The direct hand-off is off: no fast reply, and the scheduler chose
    /// the next thread at least twice per round trip.
    SlowPath,
    /// Every send went straight to the waiting receiver (`fast_sends == n`);
    /// the reply is the server's business (an executor replies with
    /// `reply`, then receives: the scheduler brings the client back).
    FastSends,
    /// `async_sends == n`, and the scheduler ran (nothing hands over the
    /// CPU directly on the asynchronous path).
    AsyncSends,
    /// `pulses == 2n` (a ping and a pong per timed iteration).
    PulsePairs,
    /// `context_switches >= 2n` and `scheduler_invocations >= 2n` (a yield
    /// each way per timed iteration).
    Switches,
}

impl Expect {
    /// Checks the deltas `d` for `n` timed operations.
    pub fn check(self, d: &IpcStats, n: u64) -> Result<(), String> {
        let want = |ok: bool, what: &str| if ok { Ok(()) } else { Err(format!("{what} ({})", describe(d))) };
        match self {
            Expect::Syscalls => want(
                d.syscalls == n + 1 && d.fast_sends == 0 && d.slow_sends == 0,
                &format!("expected {} system calls and no IPC", n + 1),
            ),
            Expect::FastPath => want(
                d.fast_sends == n && d.fast_replies == n && d.slow_sends == 0,
                &format!("expected fast_sends = fast_replies = {n}, slow_sends = 0"),
            ),
            Expect::SlowPath => want(
                d.fast_replies == 0 && d.scheduler_invocations >= 2 * n,
                &format!("expected fast_replies = 0, scheduler_invocations >= {}", 2 * n),
            ),
            Expect::FastSends => want(d.fast_sends == n, &format!("expected fast_sends = {n}")),
            Expect::AsyncSends => want(
                d.async_sends == n && d.scheduler_invocations > 0,
                &format!("expected async_sends = {n}, scheduler_invocations > 0"),
            ),
            Expect::PulsePairs => want(d.pulses == 2 * n, &format!("expected pulses = {}", 2 * n)),
            Expect::Switches => want(
                d.context_switches >= 2 * n && d.scheduler_invocations >= 2 * n,
                &format!("expected context_switches, scheduler_invocations >= {}", 2 * n),
            ),
        }
    }
}
