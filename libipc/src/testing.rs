//! The runner the in-OS test suites share, so every suite reports the same
//! way: `<suite>: running <name>`, then `PASS <name>` or `FAIL <name>: <why>`
//! per test, and the closing line `<suite>: N passed, N failed` that the
//! host's QEMU runner checks against the PASS/FAIL lines.
#![forbid(unsafe_code)]

use alloc::string::String;

/// What a test returns: `Err(reason)` fails it.
pub type Outcome = Result<(), String>;

/// Runs `tests` in order and prints their results and the closing line.
/// Returns the number that failed (a suite's exit status).
pub fn run<'a, F: FnOnce() -> Outcome>(suite: &str, tests: impl IntoIterator<Item = (&'a str, F)>) -> i32 {
    let (mut passed, mut failed) = (0, 0);
    for (name, test) in tests {
        crate::println!("{suite}: running {name}");
        match test() {
            Ok(()) => {
                passed += 1;
                crate::println!("PASS {name}");
            }
            Err(why) => {
                failed += 1;
                crate::println!("FAIL {name}: {why}");
            }
        }
    }
    crate::println!("{suite}: {passed} passed, {failed} failed");
    failed
}
