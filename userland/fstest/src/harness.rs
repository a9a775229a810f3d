//! What every test uses: the outcome type, `ensure!`, turning errors into
//! reasons, reading and writing whole files by content, and waiting with a
//! deadline (a test never hangs: what does not happen in time fails).

use alloc::format;
use alloc::string::String;
use alloc::vec;
use core::fmt::Debug;
use core::time::Duration;

use fs_proto::{Fs, FsError, OpenFlags};
use fsfixture::{Content, Fnv1a64};
use libipc::Instant;

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

/// Turns an unexpected error into a failure reason naming `what`.
pub fn ok<T, E: Debug>(what: &str, r: Result<T, E>) -> Result<T, String> {
    r.map_err(|e| format!("{what}: {e:?}"))
}

/// Requires `r` to have failed with `want`.
pub fn expect_err<T: Debug>(what: &str, r: Result<T, FsError>, want: FsError) -> Outcome {
    match r {
        Err(e) if e == want => Ok(()),
        Err(e) => Err(format!("{what}: got {e:?}, expected {want:?}")),
        Ok(v) => Err(format!("{what}: succeeded with {v:?}, expected {want:?}")),
    }
}

/// The size and FNV-1a 64 hash of the file at `path`, read `chunk` bytes
/// per request.
pub fn hash_file(fs: &Fs, path: &str, chunk: usize) -> Result<(u64, u64), String> {
    let fd = ok(&format!("open {path}"), fs.open(path, OpenFlags::READ))?;
    let mut buf = vec![0u8; chunk.max(1)];
    let mut h = Fnv1a64::new();
    let mut size = 0u64;
    let result = loop {
        match fs.read(fd, &mut buf) {
            Ok(0) => break Ok((size, h.finish())),
            Ok(n) => {
                h.update(&buf[..n]);
                size += n as u64;
            }
            Err(e) => break Err(format!("read {path} at {size}: {e:?}")),
        }
    };
    ok(&format!("close {path}"), fs.close(fd))?;
    result
}

/// Checks that `path` holds exactly `content`.
pub fn check_content(fs: &Fs, path: &str, content: &Content) -> Outcome {
    let (size, hash) = hash_file(fs, path, 64 * 1024)?;
    ensure!(size == content.len(), "{path}: {size} bytes, expected {}", content.len());
    ensure!(hash == content.hash(), "{path}: the contents differ (hash {hash:016x}, expected {:016x})", content.hash());
    Ok(())
}

/// Makes `path` hold `content` (created or replaced), written `chunk`
/// bytes per request.
pub fn write_content(fs: &Fs, path: &str, content: &Content, chunk: usize) -> Outcome {
    let fd = ok(&format!("create {path}"), fs.create(path))?;
    let mut buf = vec![0u8; chunk.max(1)];
    let mut offset = 0;
    let result = loop {
        let n = content.fill(offset, &mut buf);
        if n == 0 {
            break Ok(());
        }
        match fs.write(fd, &buf[..n]) {
            Ok(w) if w == n => offset += n as u64,
            Ok(w) => break Err(format!("write {path} at {offset}: {w} of {n} bytes")),
            Err(e) => break Err(format!("write {path} at {offset}: {e:?}")),
        }
    };
    ok(&format!("close {path}"), fs.close(fd))?;
    result
}

/// Polls `f` every 10 ms until it gives `Some`, for at most `limit`.
pub fn wait_for<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> Result<T, String> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Ok(v);
        }
        if start.elapsed() > limit {
            return Err(format!("{what}: nothing after {} ms", limit.as_millis()));
        }
        libipc::sleep(Duration::from_millis(10));
    }
}
