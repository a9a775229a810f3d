//! `qemu-runner`: runs one QEMU boot and says whether it succeeded.
//!
//! ```text
//! qemu-runner [--timeout SECS] [--log FILE] [--expect-tests] -- qemu-system-x86_64 ARGS...
//! ```
//!
//! QEMU's standard output (the guest's serial console, `-serial stdio`) is
//! streamed live to our standard output and to the log file, and kept for
//! judging; its standard error passes straight through. The runner kills QEMU
//! when the time limit runs out, or shortly after a kernel panic that did not
//! exit. The verdict comes from [`judge::judge`]; each problem is printed as a
//! `runner: ` line, and with `--expect-tests` a closing line
//! `qemu: N passed, N failed` follows. Exit status: 0 on success, 1 on a
//! failed boot, 2 on a usage error.

mod judge;

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use judge::{Exit, Verdict, PANIC_MARKER};

const USAGE: &str = "usage: qemu-runner [--timeout SECS] [--log FILE] [--expect-tests] -- QEMU ARGS...";
/// How long a panicked kernel gets to exit by itself before QEMU is killed.
const PANIC_GRACE: Duration = Duration::from_secs(2);
/// How long the output may go on arriving after QEMU has ended.
const DRAIN: Duration = Duration::from_secs(2);
/// How often the runner checks on QEMU.
const POLL: Duration = Duration::from_millis(20);

/// The command line, parsed.
struct Args {
    timeout: u64,
    log: Option<PathBuf>,
    expect_tests: bool,
    qemu: Vec<OsString>,
}

fn parse_args(mut args: impl Iterator<Item = OsString>) -> Result<Args, String> {
    let mut parsed = Args { timeout: 120, log: None, expect_tests: false, qemu: Vec::new() };
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--timeout") => {
                let value = args.next().ok_or("--timeout needs a value")?;
                parsed.timeout = value
                    .to_str()
                    .and_then(|v| v.parse().ok())
                    .filter(|&t| t > 0)
                    .ok_or("--timeout needs a positive number of seconds")?;
            }
            Some("--log") => parsed.log = Some(args.next().ok_or("--log needs a file")?.into()),
            Some("--expect-tests") => parsed.expect_tests = true,
            Some("--") => {
                parsed.qemu = args.collect();
                break;
            }
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    if parsed.qemu.is_empty() {
        return Err("no QEMU command after `--`".into());
    }
    Ok(parsed)
}

/// Where everything the user should see goes: our stdout (unless `echo` is
/// off, in tests) and the log file.
#[derive(Clone)]
struct Sink {
    echo: bool,
    log: Arc<Mutex<Option<File>>>,
}

impl Sink {
    fn write(&self, bytes: &[u8]) {
        if self.echo {
            let mut out = io::stdout().lock();
            // A closed stdout (e.g. `| head`) must not stop the run: ignore errors.
            let _ = out.write_all(bytes).and_then(|()| out.flush());
        }
        if let Some(log) = self.log.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            let _ = log.write_all(bytes);
        }
    }

    fn line(&self, text: &str) {
        self.write(format!("{text}\n").as_bytes());
    }
}

/// Copies QEMU's output to `sink` and appends it to `all` until it closes,
/// raising `panicked` as soon as the panic marker appears.
fn stream(mut from: impl Read, sink: Sink, all: Arc<Mutex<Vec<u8>>>, panicked: Arc<AtomicBool>) {
    let mut chunk = [0u8; 4096];
    loop {
        let n = match from.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        sink.write(&chunk[..n]);
        let mut all = all.lock().unwrap_or_else(|e| e.into_inner());
        // Look again at the marker's length of old bytes, in case it was split.
        let from = all.len().saturating_sub(PANIC_MARKER.len());
        all.extend_from_slice(&chunk[..n]);
        if all[from..].windows(PANIC_MARKER.len()).any(|w| w == PANIC_MARKER.as_bytes()) {
            panicked.store(true, Ordering::Relaxed);
        }
    }
}

/// Waits for QEMU to exit, killing it at the time limit or after a panic.
fn supervise(child: &mut Child, timeout: u64, panicked: &AtomicBool) -> io::Result<Exit> {
    let deadline = Instant::now() + Duration::from_secs(timeout);
    let mut panic_deadline = None;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(match (status.code(), status.signal()) {
                (Some(code), _) => Exit::Status(code),
                (None, Some(signal)) => Exit::Signal(signal),
                (None, None) => Exit::Status(-1),
            });
        }
        let now = Instant::now();
        if panicked.load(Ordering::Relaxed) {
            panic_deadline.get_or_insert(now + PANIC_GRACE);
        }
        let exit = if now >= deadline {
            Exit::Timeout(timeout)
        } else if panic_deadline.is_some_and(|d| now >= d) {
            Exit::StoppedAfterPanic
        } else {
            thread::sleep(POLL);
            continue;
        };
        // kill() fails only if QEMU has exited meanwhile; wait() reaps it either way.
        let _ = child.kill();
        child.wait()?;
        return Ok(exit);
    }
}

/// Runs QEMU, returning its output and how it ended.
fn run(args: &Args, sink: &Sink) -> io::Result<(String, Exit)> {
    let mut child = Command::new(&args.qemu[0])
        .args(&args.qemu[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let panicked = Arc::new(AtomicBool::new(false));
    let output = Arc::new(Mutex::new(Vec::new()));
    let stdout = child.stdout.take().expect("stdout is piped");
    let reader = {
        let (sink, output, panicked) = (sink.clone(), output.clone(), panicked.clone());
        thread::spawn(move || stream(stdout, sink, output, panicked))
    };
    let exit = supervise(&mut child, args.timeout, &panicked)?;
    // The pipe closes when QEMU ends, unless something it started still holds
    // it: give the reader a moment to drain, then judge what arrived.
    let drained = Instant::now() + DRAIN;
    while !reader.is_finished() && Instant::now() < drained {
        thread::sleep(POLL);
    }
    let output = output.lock().unwrap_or_else(|e| e.into_inner());
    Ok((String::from_utf8_lossy(&output).into_owned(), exit))
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args_os().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("qemu-runner: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let log = match args.log.as_ref().map(File::create).transpose() {
        Ok(log) => log,
        Err(e) => {
            eprintln!("qemu-runner: cannot create the log file: {e}");
            return ExitCode::from(2);
        }
    };
    let sink = Sink { echo: true, log: Arc::new(Mutex::new(log)) };

    let started = Instant::now();
    let (output, verdict) = match run(&args, &sink) {
        Ok((output, exit)) => {
            let verdict = judge::judge(&output, exit, args.expect_tests);
            (output, verdict)
        }
        Err(e) => {
            let problem = format!("cannot run {:?}: {e}", args.qemu[0]);
            let verdict = Verdict { problems: vec![problem], passed: 0, failed: 1 };
            (String::new(), verdict)
        }
    };

    if !output.is_empty() && !output.ends_with('\n') {
        sink.write(b"\n");
    }
    for problem in &verdict.problems {
        sink.line(&format!("runner: {problem}"));
    }
    let outcome = if verdict.ok() { "success" } else { "FAILED" };
    let secs = started.elapsed().as_secs_f64();
    sink.line(&format!("runner: {outcome} after {secs:.1} s"));
    if args.expect_tests {
        sink.line(&format!("qemu: {} passed, {} failed", verdict.passed, verdict.failed));
    }
    if verdict.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        parse_args(args.iter().map(OsString::from))
    }

    #[test]
    fn parses_all_options() {
        let a = parse(&["--timeout", "5", "--log", "x.log", "--expect-tests", "--", "q", "-m", "1"]).unwrap();
        assert_eq!(a.timeout, 5);
        assert_eq!(a.log, Some(PathBuf::from("x.log")));
        assert!(a.expect_tests);
        assert_eq!(a.qemu, ["q", "-m", "1"]);
    }

    #[test]
    fn rejects_bad_arguments() {
        assert!(parse(&["--",]).is_err());
        assert!(parse(&["q"]).is_err());
        assert!(parse(&["--timeout", "0", "--", "q"]).is_err());
        assert!(parse(&["--timeout", "x", "--", "q"]).is_err());
        assert!(parse(&["--log"]).is_err());
    }

    #[test]
    fn stream_spots_a_split_panic_marker() {
        struct Chunks(Vec<&'static [u8]>);
        impl Read for Chunks {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() {
                    return Ok(0);
                }
                let c = self.0.remove(0);
                buf[..c.len()].copy_from_slice(c);
                Ok(c.len())
            }
        }
        let panicked = Arc::new(AtomicBool::new(false));
        let sink = Sink { echo: false, log: Arc::new(Mutex::new(None)) };
        let input = Chunks(vec![b"ok\nKERNEL P", b"ANIC: oops\n"]);
        let all = Arc::new(Mutex::new(Vec::new()));
        stream(input, sink, all.clone(), panicked.clone());
        assert_eq!(*all.lock().unwrap(), b"ok\nKERNEL PANIC: oops\n");
        assert!(panicked.load(Ordering::Relaxed));
    }
}
