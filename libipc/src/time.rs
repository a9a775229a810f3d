//! Time: the kernel's monotonic nanosecond clock, sleeping and yielding.
//!
//! Reading the clock takes no system call: the kernel's `time` is the TSC
//! scaled by a factor fixed at boot (`kernel_info(Clock)`), so [`time_ns`]
//! fetches that factor once per process and then computes the very same
//! value from `rdtsc`. If the kernel cannot tell it, every reading falls
//! back to the `time` system call.
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

use crate::sys;

pub use crate::sys::{sleep_ns, yield_now};

/// The clock's scale (ns per TSC tick, 32.32): 0 until fetched, `NO_SCALE`
/// if the kernel would not tell.
static SCALE: AtomicU64 = AtomicU64::new(0);
const NO_SCALE: u64 = u64::MAX;

/// Nanoseconds since boot on the kernel's monotonic clock.
pub fn time_ns() -> u64 {
    let scale = match SCALE.load(Ordering::Relaxed) {
        0 => {
            let s = sys::clock_scale().ok().filter(|&s| s != 0 && s != NO_SCALE).unwrap_or(NO_SCALE);
            SCALE.store(s, Ordering::Relaxed);
            s
        }
        s => s,
    };
    if scale == NO_SCALE {
        return sys::time_ns();
    }
    ((u128::from(sys::tsc()) * u128::from(scale)) >> 32) as u64
}

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
        Instant(time_ns())
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
