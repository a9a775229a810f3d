//! The test harness: how a test reports, and the helpers every test uses.
//!
//! A test is a `fn() -> Outcome`; `Err(reason)` fails it. [`ensure!`] and
//! [`expect_err`] turn a broken expectation into a reason that says what was
//! expected and what happened, so a `FAIL` line is enough to start debugging.
#![forbid(unsafe_code)]

use alloc::format;
use alloc::string::String;
use core::fmt::Debug;

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

/// Checks that `r` failed with one of `allowed`.
pub fn expect_err<T: Debug>(what: &str, r: Result<T>, allowed: &[Error]) -> Outcome {
    match r {
        Err(e) if allowed.contains(&e) => Ok(()),
        Err(e) => Err(format!("{what}: got error {e:?}, expected one of {allowed:?}")),
        Ok(v) => Err(format!("{what}: succeeded with {v:?}, expected one of {allowed:?}")),
    }
}

/// Checks that `r` failed, with any error.
pub fn expect_some_err<T: Debug>(what: &str, r: Result<T>) -> Outcome {
    match r {
        Err(_) => Ok(()),
        Ok(v) => Err(format!("{what}: succeeded with {v:?}, expected an error")),
    }
}

/// Turns an unexpected error into a failure reason.
pub fn ok<T>(what: &str, r: Result<T>) -> core::result::Result<T, String> {
    r.map_err(|e| format!("{what}: {e:?}"))
}

/// Spawns `name` with `args`, waits, returns the exit status.
pub fn run(name: &str, args: &str) -> core::result::Result<i64, String> {
    let child = ok(&format!("spawn {name} {args}"), libipc::spawn(name, args.as_bytes()))?;
    ok(&format!("wait for {name} {args}"), child.wait())
}

/// Runs `name` and requires exit status `want`.
pub fn run_expect(name: &str, args: &str, want: i64) -> Outcome {
    let status = run(name, args)?;
    ensure!(status == want, "{name} {args}: exit status {}, expected {}", status_name(status), status_name(want));
    Ok(())
}

/// A status for messages: the special ones by name.
pub fn status_name(status: i64) -> String {
    match status {
        abi::EXIT_KILLED => String::from("EXIT_KILLED"),
        abi::EXIT_FAULTED => String::from("EXIT_FAULTED"),
        s => format!("{s}"),
    }
}

/// Free frames now, or 0 if the kernel will not say.
pub fn free_frames() -> u64 {
    libipc::memory_info().map(|m| m.free_frames).unwrap_or(0)
}
