//! Time: the kernel's monotonic nanosecond clock, sleeping and yielding.
#![forbid(unsafe_code)]

use core::time::Duration;

use crate::sys;

pub use crate::sys::{sleep_ns, time_ns, yield_now};

/// Blocks for at least `d` (saturating at `u64::MAX` nanoseconds).
pub fn sleep(d: Duration) {
    let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    // The kernel accepts every duration; an error here would be its bug and
    // there is nothing useful to do about it in the caller.
    let _ = sys::sleep_ns(ns);
}

/// A point on the kernel's monotonic clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant(u64);

impl Instant {
    /// Now.
    pub fn now() -> Instant {
        Instant(sys::time_ns())
    }

    /// Nanoseconds since boot.
    pub fn as_ns(&self) -> u64 {
        self.0
    }

    /// Time since `self` (zero if the clock seems to have gone back).
    pub fn elapsed(&self) -> Duration {
        Instant::now().duration_since(*self)
    }

    /// `self - earlier`, or zero.
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}
