//! The test harness: how a test reports, and the helpers the tests share:
//! starting `ipcpeer` with handles ([`Peer`]), checking errors, waiting for
//! the kernel's counters to move.
//!
//! A test is a `fn() -> Outcome`; `Err(reason)` fails it. [`ensure!`] and
//! [`expect_err`] turn a broken expectation into a reason that says what was
//! expected and what happened.
#![forbid(unsafe_code)]

use alloc::format;
use alloc::string::String;
use core::fmt::Debug;
use core::time::Duration;

use libipc::ipc::{self, Handle, IpcStats};
use libipc::sys::{self, OwnedHandle};
use libipc::{Error, Instant, Result};

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

/// Checks that `r` failed with `want`.
pub fn expect_err<T: Debug>(what: &str, r: Result<T>, want: Error) -> Outcome {
    match r {
        Err(e) if e == want => Ok(()),
        Err(e) => Err(format!("{what}: got {e:?}, expected {want:?}")),
        Ok(v) => Err(format!("{what}: succeeded with {v:?}, expected {want:?}")),
    }
}

/// Turns an unexpected error into a failure reason.
pub fn ok<T>(what: &str, r: Result<T>) -> core::result::Result<T, String> {
    r.map_err(|e| format!("{what}: {e:?}"))
}

/// The IPC counters, or a failure.
pub fn stats() -> core::result::Result<IpcStats, String> {
    ok("ipc_stats", ipc::ipc_stats())
}

/// Waits (yielding, then sleeping) until `f(counters)` holds, for at most
/// `limit`.
pub fn wait_for_stats(what: &str, limit: Duration, f: impl Fn(&IpcStats) -> bool) -> Outcome {
    let start = Instant::now();
    let mut rounds = 0u32;
    loop {
        if f(&stats()?) {
            return Ok(());
        }
        if start.elapsed() > limit {
            return Err(format!("timed out after {limit:?} waiting for {what}"));
        }
        rounds += 1;
        if rounds < 50 {
            libipc::yield_now();
        } else {
            libipc::sleep(Duration::from_millis(1));
        }
    }
}

/// Free frames now, or 0 if the kernel will not say.
pub fn free_frames() -> u64 {
    libipc::memory_info().map(|m| m.free_frames).unwrap_or(0)
}

/// An `ipcpeer` process. Dropping it kills it (if still running) and waits
/// for it, so a failed test leaves nothing behind.
pub struct Peer {
    process: OwnedHandle,
    args: String,
    done: bool,
}

impl Peer {
    /// Starts `ipcpeer <args>` with copies of `handles` as its
    /// `first_handle(0..)`.
    pub fn spawn(args: &str, handles: &[&Handle]) -> core::result::Result<Peer, String> {
        let mut raw = [0u64; 8];
        let raw = &mut raw[..handles.len().min(8)];
        for (r, h) in raw.iter_mut().zip(handles) {
            *r = h.raw();
        }
        let process = ok(&format!("spawn ipcpeer {args}"), sys::spawn(b"ipcpeer", args.as_bytes(), raw))?;
        Ok(Peer { process, args: String::from(args), done: false })
    }

    /// Waits for its exit status.
    pub fn wait(&mut self) -> core::result::Result<i64, String> {
        let s = ok(&format!("wait for ipcpeer {}", self.args), sys::wait(self.process.raw()))?;
        self.done = true;
        Ok(s)
    }

    /// Waits and requires exit status `want`.
    pub fn expect_exit(&mut self, want: i64) -> Outcome {
        let s = self.wait()?;
        ensure!(s == want, "ipcpeer {} exited with {s}, expected {want}", self.args);
        Ok(())
    }

    /// Ends it and waits; returns its status.
    pub fn kill(&mut self) -> core::result::Result<i64, String> {
        ok(&format!("kill ipcpeer {}", self.args), sys::kill(self.process.raw()))?;
        self.wait()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if !self.done {
            let _ = sys::kill(self.process.raw());
            let _ = sys::wait(self.process.raw());
        }
    }
}

/// How long a test thread waits for a reply before calling the kernel
/// broken (so a lost wake-up fails the test instead of hanging the suite).
pub const GIVE_UP: Duration = Duration::from_secs(5);

/// `send` that gives up with `TimedOut` after [`GIVE_UP`].
pub fn send_bounded(conn: &ipc::Connection, msg: &[u8], reply: &mut [u8]) -> Result<(i64, usize)> {
    conn.send_with(msg, reply, &ipc::SendOptions::new().timeout(GIVE_UP)).map(|r| (r.status, r.len))
}
