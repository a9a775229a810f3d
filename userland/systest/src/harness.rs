//! How a test reports, and the helpers the tests share.
//!
//! A test is a `fn() -> Outcome`; `Err(reason)` fails it, and [`ensure!`],
//! [`ok`] and [`expect_err`] make the reason say what was expected and what
//! happened.
#![forbid(unsafe_code)]

use alloc::format;
use alloc::string::String;
use core::fmt::Debug;
use core::time::Duration;

use libipc::{Error, Result};

/// What a test returns: `Err` carries why it failed.
pub use libipc::testing::Outcome;

/// Fails the test with a formatted reason unless the condition holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($why:tt)+) => {
        if !$cond {
            return Err(alloc::format!($($why)+));
        }
    };
}

/// Turns an unexpected error into a failure reason.
pub fn ok<T>(what: &str, r: Result<T>) -> core::result::Result<T, String> {
    r.map_err(|e| format!("{what}: {e:?}"))
}

/// Checks that `r` failed with `want`.
pub fn expect_err<T: Debug>(what: &str, r: Result<T>, want: Error) -> Outcome {
    match r {
        Err(e) if e == want => Ok(()),
        Err(e) => Err(format!("{what}: got error {e:?}, expected {want:?}")),
        Ok(v) => Err(format!("{what}: succeeded with {v:?}, expected {want:?}")),
    }
}

/// Asks `probe` every 10 ms until it gives `Some`, for at most `limit`.
pub fn poll<T>(limit: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = libipc::time_ns().saturating_add(u64::try_from(limit.as_nanos()).unwrap_or(u64::MAX));
    loop {
        if let Some(v) = probe() {
            return Some(v);
        }
        if libipc::time_ns() >= deadline {
            return None;
        }
        libipc::sleep(Duration::from_millis(10));
    }
}
