//! When to restart a server that died: exponential back-off and a limit,
//! MINIX 3's reincarnation server in miniature. Pure logic (times are
//! passed in), tested on the host.
//!
//! - The first restart waits [`Policy::first_delay_ms`]; each further one
//!   doubles the wait, up to [`Policy::max_delay_ms`].
//! - A server that ran at least [`Policy::stable_ms`] before dying starts
//!   over at the first delay (it was healthy; this is a new problem).
//! - More than [`Policy::max_restarts`] restarts within
//!   [`Policy::window_ms`] and init gives up on it (a crash loop would
//!   only flood the log and starve everyone else).

use alloc::collections::VecDeque;

/// The restart rules (one set for every server; see [`DEFAULT`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub first_delay_ms: u64,
    pub max_delay_ms: u64,
    pub stable_ms: u64,
    pub max_restarts: usize,
    pub window_ms: u64,
}

/// 50 ms doubling to 2 s; reset after 10 s of good health; at most 5
/// restarts a minute.
pub const DEFAULT: Policy =
    Policy { first_delay_ms: 50, max_delay_ms: 2000, stable_ms: 10_000, max_restarts: 5, window_ms: 60_000 };

/// What to do about a death.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Start it again after this many milliseconds.
    Restart { delay_ms: u64 },
    /// Too many restarts in the window: leave it dead.
    GiveUp { restarts: usize, window_ms: u64 },
}

/// One server's restart history.
#[derive(Debug, Default)]
pub struct History {
    /// When recent restarts were decided (ms since boot), oldest first.
    restarts: VecDeque<u64>,
    /// The delay the next quick death gets.
    next_delay_ms: u64,
}

impl History {
    /// No restarts yet.
    pub fn new() -> History {
        History::default()
    }

    /// The server started at `started_ms` died at `now_ms`: what now?
    pub fn on_death(&mut self, policy: &Policy, started_ms: u64, now_ms: u64) -> Decision {
        while self.restarts.front().is_some_and(|&t| now_ms.saturating_sub(t) >= policy.window_ms) {
            self.restarts.pop_front();
        }
        if self.restarts.len() >= policy.max_restarts {
            return Decision::GiveUp { restarts: self.restarts.len(), window_ms: policy.window_ms };
        }
        if self.next_delay_ms == 0 || now_ms.saturating_sub(started_ms) >= policy.stable_ms {
            self.next_delay_ms = policy.first_delay_ms;
        }
        let delay_ms = self.next_delay_ms;
        self.next_delay_ms = delay_ms.saturating_mul(2).min(policy.max_delay_ms);
        self.restarts.push_back(now_ms);
        Decision::Restart { delay_ms }
    }

    /// Restarts decided within the window ending at the last one.
    pub fn recent(&self) -> usize {
        self.restarts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// Deaths at `times` (each right after its restart), returning the delays.
    fn delays(h: &mut History, times: &[u64]) -> Vec<Decision> {
        let mut started = 0;
        times
            .iter()
            .map(|&t| {
                let d = h.on_death(&DEFAULT, started, t);
                started = t;
                d
            })
            .collect()
    }

    #[test]
    fn delays_double_up_to_the_cap() {
        let policy = Policy { max_restarts: 100, ..DEFAULT };
        let mut h = History::new();
        let got: Vec<u64> = (0..8)
            .map(|i| match h.on_death(&policy, i * 10, i * 10 + 5) {
                Decision::Restart { delay_ms } => delay_ms,
                d => panic!("{d:?}"),
            })
            .collect();
        assert_eq!(got, [50, 100, 200, 400, 800, 1600, 2000, 2000]);
    }

    #[test]
    fn a_crash_loop_is_given_up_after_five_restarts_a_minute() {
        let mut h = History::new();
        let got = delays(&mut h, &[100, 200, 300, 400, 500, 600]);
        assert_eq!(got[4], Decision::Restart { delay_ms: 800 });
        assert_eq!(got[5], Decision::GiveUp { restarts: 5, window_ms: 60_000 });
        assert_eq!(h.recent(), 5);
    }

    #[test]
    fn old_restarts_leave_the_window() {
        let mut h = History::new();
        delays(&mut h, &[0, 1, 2, 3, 4]);
        // A minute after the first, one slot is free again.
        assert!(matches!(h.on_death(&DEFAULT, 4, 60_000), Decision::Restart { .. }));
        assert!(matches!(h.on_death(&DEFAULT, 60_000, 60_000), Decision::GiveUp { .. }));
    }

    #[test]
    fn a_stable_run_resets_the_back_off() {
        let mut h = History::new();
        assert_eq!(h.on_death(&DEFAULT, 0, 10), Decision::Restart { delay_ms: 50 });
        assert_eq!(h.on_death(&DEFAULT, 60, 70), Decision::Restart { delay_ms: 100 });
        // Ran 30 s this time.
        assert_eq!(h.on_death(&DEFAULT, 170, 30_170), Decision::Restart { delay_ms: 50 });
    }
}
