//! Judging one QEMU boot: a pure function from what the guest printed and how
//! QEMU ended to a verdict, kept apart from the process handling in `main.rs`
//! so that every rule is tested on the host without QEMU.
//!
//! The rules:
//! - The guest leaves through `isa-debug-exit`: writing `v` makes QEMU exit
//!   with status `(v << 1) | 1`, so 0x10 gives 33 (success) and 0x11 gives 35
//!   (failure). Any other ending is a failure with a message saying what it
//!   most likely was (status 0 is a reset or triple fault under `-no-reboot`).
//! - A line containing `KERNEL PANIC` is a failure, whatever the status.
//! - With tests expected, the guest prints `PASS <name>` / `FAIL <name>` lines,
//!   each suite (the kernel's, then userspace's, ...) closed by a line
//!   `N passed, N failed` (one `word: ` may precede it) that must count the
//!   PASS/FAIL lines since the previous closing line. The last test must be
//!   followed by a closing line, no test may fail and at least one must pass.

/// Status QEMU exits with when the guest writes 0x10 to `isa-debug-exit`.
pub const STATUS_SUCCESS: i32 = (0x10 << 1) | 1;
/// Status QEMU exits with when the guest writes 0x11 to `isa-debug-exit`.
pub const STATUS_FAILURE: i32 = (0x11 << 1) | 1;

/// The marker the kernel's panic handler prints.
pub const PANIC_MARKER: &str = "KERNEL PANIC";

/// How the QEMU process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// QEMU exited by itself with this status.
    Status(i32),
    /// QEMU was ended by this signal (it crashed, or someone killed it).
    Signal(i32),
    /// The runner killed QEMU when the time limit of this many seconds ran out.
    Timeout(u64),
    /// The runner killed QEMU because the kernel panicked and did not exit.
    StoppedAfterPanic,
}

/// The outcome of one boot.
#[derive(Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Why the run failed, one message each; empty means success.
    pub problems: Vec<String>,
    /// `PASS` lines seen.
    pub passed: usize,
    /// `FAIL` lines seen, or 1 if the run failed without any `FAIL` line (the
    /// boot itself counts as the failed test), so the runner's closing line
    /// never reads "0 failed" for a failed run.
    pub failed: usize,
}

impl Verdict {
    /// True if nothing went wrong.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Judges a boot from the guest's whole serial output and QEMU's ending.
pub fn judge(output: &str, exit: Exit, expect_tests: bool) -> Verdict {
    let mut problems = Vec::new();
    if let Some(problem) = describe_exit(exit) {
        problems.push(problem);
    }
    let lines = || output.lines().map(|l| l.trim_end_matches('\r'));
    if let Some(line) = lines().find(|l| l.contains(PANIC_MARKER)) {
        problems.push(format!("kernel panic: {}", line.trim()));
    }

    // Each closing line ends a suite (the kernel's, then userspace's, ...)
    // and must count the PASS/FAIL lines since the previous one.
    let mut passed = Vec::new();
    let mut failed = Vec::new();
    let mut suite = (0, 0);
    let mut closed = false;
    for line in lines() {
        if let Some((pass, name)) = test_line(line) {
            if pass {
                passed.push(name);
                suite.0 += 1;
            } else {
                failed.push(name);
                suite.1 += 1;
            }
            closed = false;
        } else if let Some((p, f)) = closing_line(line) {
            if (p, f) != suite {
                problems.push(format!(
                    "the closing line `{}` does not match the {} PASS and {} FAIL lines before it",
                    line.trim(),
                    suite.0,
                    suite.1
                ));
            }
            suite = (0, 0);
            closed = true;
        }
    }

    if expect_tests {
        if !closed {
            problems.push("the guest printed no closing line `N passed, N failed` after its last test".into());
        }
        if !failed.is_empty() {
            problems.push(format!("{} test(s) failed: {}", failed.len(), failed.join(", ")));
        }
        if passed.is_empty() {
            problems.push("no test passed".into());
        }
    }

    let failed_count = if failed.is_empty() && !problems.is_empty() { 1 } else { failed.len() };
    Verdict { problems, passed: passed.len(), failed: failed_count }
}

/// Says what is wrong with QEMU's ending, or `None` for the success status.
fn describe_exit(exit: Exit) -> Option<String> {
    Some(match exit {
        Exit::Status(STATUS_SUCCESS) => return None,
        Exit::Status(STATUS_FAILURE) => "the guest reported failure (isa-debug-exit 0x11)".into(),
        Exit::Status(0) => "QEMU exited with status 0: guest reset or triple fault \
                            (with -no-reboot), or QEMU was told to quit"
            .into(),
        Exit::Status(1) => "QEMU exited with status 1: QEMU error (see its message above), \
                            or the guest wrote 0 to isa-debug-exit"
            .into(),
        Exit::Status(s) if s % 2 == 1 && s < 512 => format!(
            "QEMU exited with status {s}: the guest wrote {:#x} to isa-debug-exit \
             (0x10 means success, 0x11 failure)",
            s >> 1
        ),
        Exit::Status(s) => format!("QEMU exited with status {s}"),
        Exit::Signal(n) => format!("QEMU was ended by signal {n} (crashed or killed)"),
        Exit::Timeout(secs) => format!("TIMEOUT after {secs} s"),
        Exit::StoppedAfterPanic => "QEMU did not exit after the kernel panic; stopped it".into(),
    })
}

/// Removes one leading `word: ` (letters, digits, `_`), if there is one.
fn strip_word_prefix(line: &str) -> &str {
    match line.split_once(": ") {
        Some((word, rest)) if !word.is_empty() && word.chars().all(|c| c.is_alphanumeric() || c == '_') => rest,
        _ => line,
    }
}

/// Parses `PASS <name>` (true) or `FAIL <name>` (false).
fn test_line(line: &str) -> Option<(bool, &str)> {
    let line = strip_word_prefix(line.trim());
    let (word, name) = line.split_once(' ')?;
    let name = name.trim();
    match word {
        _ if name.is_empty() => None,
        "PASS" => Some((true, name)),
        "FAIL" => Some((false, name)),
        _ => None,
    }
}

/// Parses a closing line `^(\w+: )?(\d+) passed, (\d+) failed` into its counts.
fn closing_line(line: &str) -> Option<(usize, usize)> {
    let rest = strip_word_prefix(line);
    let (passed, rest) = leading_number(rest)?;
    let rest = rest.strip_prefix(" passed, ")?;
    let (failed, rest) = leading_number(rest)?;
    rest.starts_with(" failed").then_some((passed, failed))
}

/// Splits a leading decimal number off `s`.
fn leading_number(s: &str) -> Option<(usize, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    Some((s[..end].parse().ok()?, &s[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "boot\nPASS frames\r\nPASS paging\nktest: 2 passed, 0 failed\n";

    #[test]
    fn success_needs_status_33() {
        let v = judge("hello\n", Exit::Status(STATUS_SUCCESS), false);
        assert!(v.ok(), "{v:?}");
        assert_eq!(STATUS_SUCCESS, 33);
        assert_eq!(STATUS_FAILURE, 35);
    }

    #[test]
    fn other_endings_fail_with_a_reason() {
        let cases = [
            (Exit::Status(STATUS_FAILURE), "reported failure"),
            (Exit::Status(0), "triple fault"),
            (Exit::Status(1), "QEMU error"),
            (Exit::Status(5), "wrote 0x2"),
            (Exit::Status(2), "status 2"),
            (Exit::Signal(11), "signal 11"),
            (Exit::Timeout(120), "TIMEOUT after 120 s"),
            (Exit::StoppedAfterPanic, "stopped"),
        ];
        for (exit, reason) in cases {
            let v = judge("", exit, false);
            assert!(!v.ok());
            assert!(v.problems[0].contains(reason), "{exit:?}: {:?}", v.problems);
            assert_eq!(v.failed, 1);
        }
    }

    #[test]
    fn panic_line_fails_even_with_success_status() {
        let v = judge("x\n[0.1] KERNEL PANIC at a.rs:1\n", Exit::Status(STATUS_SUCCESS), false);
        assert_eq!(v.problems, ["kernel panic: [0.1] KERNEL PANIC at a.rs:1"]);
    }

    #[test]
    fn tests_all_passing() {
        let v = judge(GOOD, Exit::Status(STATUS_SUCCESS), true);
        assert!(v.ok(), "{v:?}");
        assert_eq!((v.passed, v.failed), (2, 0));
    }

    #[test]
    fn closing_line_forms() {
        assert_eq!(closing_line("3 passed, 1 failed"), Some((3, 1)));
        assert_eq!(closing_line("qemu: 3 passed, 0 failed, 2 skipped"), Some((3, 0)));
        assert_eq!(closing_line("ktest_1: 10 passed, 0 failed"), Some((10, 0)));
        assert_eq!(closing_line(" 3 passed, 1 failed"), None);
        assert_eq!(closing_line("x y: 3 passed, 1 failed"), None);
        assert_eq!(closing_line("3 passed; 1 failed"), None);
        assert_eq!(closing_line("passed, 1 failed"), None);
        assert_eq!(closing_line("99999999999999999999999 passed, 0 failed"), None);
    }

    #[test]
    fn test_line_forms() {
        assert_eq!(test_line("PASS ipc::send"), Some((true, "ipc::send")));
        assert_eq!(test_line("  FAIL heap  "), Some((false, "heap")));
        assert_eq!(test_line("test: PASS x"), Some((true, "x")));
        assert_eq!(test_line("PASS"), None);
        assert_eq!(test_line("PASSED x"), None);
        assert_eq!(test_line("it should PASS x"), None);
    }

    #[test]
    fn failing_test_fails_the_run() {
        let out = "PASS a\nFAIL b\n1 passed, 1 failed\n";
        let v = judge(out, Exit::Status(STATUS_FAILURE), true);
        assert!(v.problems.iter().any(|p| p.contains("1 test(s) failed: b")));
        assert_eq!((v.passed, v.failed), (1, 1));
    }

    #[test]
    fn missing_closing_line_fails() {
        let v = judge("PASS a\n", Exit::Status(STATUS_SUCCESS), true);
        assert_eq!(v.problems.len(), 1);
        assert!(v.problems[0].contains("no closing line"));
        assert_eq!((v.passed, v.failed), (1, 1));
        // Tests after the last closing line are not closed either.
        let v = judge("PASS a\n1 passed, 0 failed\nPASS b\n", Exit::Status(33), true);
        assert!(v.problems[0].contains("no closing line"), "{v:?}");
    }

    #[test]
    fn counts_must_match_lines() {
        let v = judge("PASS a\n2 passed, 0 failed\n", Exit::Status(STATUS_SUCCESS), true);
        assert_eq!(
            v.problems,
            ["the closing line `2 passed, 0 failed` does not match the 1 PASS and 0 FAIL lines before it"]
        );
    }

    #[test]
    fn suites_close_separately() {
        let out = "PASS k1\nPASS k2\nktest: 2 passed, 0 failed\nlog\nPASS u1\nutest: 1 passed, 0 failed\n";
        let v = judge(out, Exit::Status(STATUS_SUCCESS), true);
        assert!(v.ok(), "{v:?}");
        assert_eq!((v.passed, v.failed), (3, 0));
        let out = "PASS k1\nktest: 1 passed, 0 failed\nPASS u1\nutest: 2 passed, 0 failed\n";
        assert!(!judge(out, Exit::Status(STATUS_SUCCESS), true).ok());
    }

    #[test]
    fn zero_tests_fail() {
        let v = judge("0 passed, 0 failed\n", Exit::Status(STATUS_SUCCESS), true);
        assert_eq!(v.problems, ["no test passed"]);
    }

    #[test]
    fn fail_line_with_reason() {
        let out = "FAIL heap: out of memory\n0 passed, 1 failed\n";
        let v = judge(out, Exit::Status(STATUS_FAILURE), true);
        assert!(v.problems.contains(&"1 test(s) failed: heap: out of memory".to_string()));
    }

    #[test]
    fn timeout_after_passes_still_fails() {
        let v = judge("PASS a\nPASS b\n", Exit::Timeout(5), true);
        assert!(!v.ok());
        assert_eq!((v.passed, v.failed), (2, 1));
    }
}
