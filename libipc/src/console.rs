//! The console protocol and its client: what the console server
//! (`servers/console`, the 16550 UART driver) understands, written down once
//! for both sides: the server, the shell, and [`io`](crate::io), which sends
//! every `println!` here once the console is up.
//!
//! # Messages
//!
//! A request is a little-endian `u32` opcode followed by its payload; the
//! answer is the reply status and, for reads, the reply bytes.
//!
//! | op | payload | reply status | reply bytes |
//! |---|---|---|---|
//! | [`op::WRITE`] | the bytes (at most [`MAX_WRITE`]) | bytes taken (all) | — |
//! | [`op::READ_LINE`] | `u32` flags ([`READ_NO_ECHO`]) | a [`LineStatus`] | the line, without its end |
//! | [`op::READ_RAW`] | `u32` most bytes wanted | bytes read (≥ 1) | the bytes |
//! | [`op::SUBSCRIBE`] | — (a connection comes with the message) | 0 | — |
//! | [`op::UNSUBSCRIBE`] | — | 0 | — |
//! | [`op::STATS`] | — | 0 | [`Stats`] as little-endian `u64`s |
//! | [`op::INJECT`] | bytes to treat as typed input (tests) | 0 | — |
//! | [`op::LOOPBACK`] | bytes to send through the UART in loopback (tests) | bytes that came back | them |
//! | [`op::FLUSH`] | — | 0, once everything written before has gone to the UART | — |
//!
//! A write is one message, written to the UART as a whole: lines from
//! different processes never mix. `\n` becomes `\r\n` on the wire. The
//! console answers a write once the bytes are in its transmit buffer (on
//! QEMU: once they are on the wire).
//!
//! # Reading and Ctrl-C
//!
//! Two ways to read, and the reader decides how what is typed is kept
//! (the reader at the front of the queue, or while nobody reads, the kind
//! of the last reader; line readers at first):
//!
//! - [`Console::read_line`] (cooked): the console edits the line (echo,
//!   Backspace, Ctrl-U kills the line, Ctrl-W the last word, escape
//!   sequences are dropped) and answers when it is complete (Enter) with
//!   [`Input::Line`]; Ctrl-D on an empty line gives [`Input::EndOfInput`].
//!   Lines typed while nobody reads wait in order.
//! - [`Console::read_raw`] (raw, for a program that edits lines itself):
//!   bytes as typed, unechoed; bytes typed between two raw reads wait for
//!   the next one.
//!
//! What waits is carried over when the mode changes (lines become bytes
//! again, bytes go through the line editor).
//!
//! **Ctrl-C**: to a raw reader that waits, it is byte 3 like any other.
//! Otherwise it throws away the line being typed and everything typed
//! ahead, then every waiting `read_line` returns [`Input::Interrupted`],
//! *and* the subscriber (the shell, see [`Console::subscribe_interrupts`])
//! gets a pulse [`PULSE_INTERRUPT`] on its own channel. So the shell,
//! blocked waiting for a foreground program, learns of Ctrl-C and can kill
//! it; at its prompt it sees `Interrupted` (or byte 3) from its read and
//! should ignore the pulse when nothing runs.
#![deny(unsafe_code)]

use alloc::vec::Vec;
use core::mem::ManuallyDrop;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use core::time::Duration;

use abi::ipc::MAX_MESSAGE;
use abi::syscall::first_handle;
use abi::Error;

use crate::ipc::raw::{self, Handle, LeaseTable};
use crate::ipc::{Connection, SendOptions};
use crate::Result;

/// The name the console registers.
pub const NAME: &str = "console";

/// Request opcodes: the first four bytes of a request, little-endian.
pub mod op {
    /// Write bytes to the console.
    pub const WRITE: u32 = 1;
    /// Read one edited line.
    pub const READ_LINE: u32 = 2;
    /// Read raw bytes, unedited and unechoed.
    pub const READ_RAW: u32 = 3;
    /// Register the connection sent with the message for Ctrl-C pulses.
    pub const SUBSCRIBE: u32 = 4;
    /// Drop the sender's subscription.
    pub const UNSUBSCRIBE: u32 = 5;
    /// The console's counters.
    pub const STATS: u32 = 6;
    /// Tests: treat the payload as typed input.
    pub const INJECT: u32 = 7;
    /// Tests: send the payload through the UART in loopback mode and
    /// return what the interrupt-driven receive path got back.
    pub const LOOPBACK: u32 = 8;
    /// Wait until the transmit buffer is empty.
    pub const FLUSH: u32 = 9;
}

/// Bytes of a request header (the opcode).
pub const HEADER: usize = 4;
/// Most bytes one write message carries; [`Console::write`] splits longer
/// output.
pub const MAX_WRITE: usize = 2048;
/// Longest line [`Console::read_line`] returns (bytes; longer input is
/// refused with a bell while typing).
pub const MAX_LINE: usize = 1024;
/// `read_line` flag: do not echo what is typed (passwords).
pub const READ_NO_ECHO: u32 = 1;
/// The pulse code a subscriber gets on Ctrl-C (the value counts Ctrl-Cs
/// typed since the console started).
pub const PULSE_INTERRUPT: u64 = 0x4354_524c; // "CTRL"

/// The reply status of a `READ_LINE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i64)]
pub enum LineStatus {
    /// A line; its bytes are the reply.
    Line = 0,
    /// Ctrl-C was typed.
    Interrupted = 1,
    /// Ctrl-D on an empty line.
    EndOfInput = 2,
}

impl LineStatus {
    /// Decodes a reply status.
    pub fn from_status(status: i64) -> Option<LineStatus> {
        [LineStatus::Line, LineStatus::Interrupted, LineStatus::EndOfInput].into_iter().find(|s| *s as i64 == status)
    }
}

/// What [`Console::read_line`] got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A line, without its end (`\r`/`\n`).
    Line(Vec<u8>),
    /// Ctrl-C.
    Interrupted,
    /// Ctrl-D on an empty line.
    EndOfInput,
}

/// The console's counters ([`op::STATS`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes received from the UART (typed, or looped back).
    pub rx_bytes: u64,
    /// Bytes handed to the UART.
    pub tx_bytes: u64,
    /// Interrupt pulses handled.
    pub irqs: u64,
    /// Write requests served.
    pub writes: u64,
    /// Lines delivered to readers.
    pub lines: u64,
    /// Ctrl-Cs seen.
    pub interrupts: u64,
    /// Received bytes lost (UART overrun, or typed-ahead input beyond the
    /// console's buffer).
    pub dropped: u64,
    /// Readers blocked in `read_line`/`read_raw` right now.
    pub waiting_readers: u64,
}

impl Stats {
    /// Encoded size.
    pub const SIZE: usize = 8 * 8;

    /// The wire form: the fields in order as little-endian `u64`s.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let words = [
            self.rx_bytes,
            self.tx_bytes,
            self.irqs,
            self.writes,
            self.lines,
            self.interrupts,
            self.dropped,
            self.waiting_readers,
        ];
        let mut b = [0u8; Self::SIZE];
        for (chunk, w) in b.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        b
    }

    /// Decodes [`to_bytes`](Self::to_bytes); `None` if `b` is short.
    pub fn from_bytes(b: &[u8]) -> Option<Stats> {
        let w = |i: usize| -> Option<u64> { Some(u64::from_le_bytes(b.get(i * 8..i * 8 + 8)?.try_into().ok()?)) };
        Some(Stats {
            rx_bytes: w(0)?,
            tx_bytes: w(1)?,
            irqs: w(2)?,
            writes: w(3)?,
            lines: w(4)?,
            interrupts: w(5)?,
            dropped: w(6)?,
            waiting_readers: w(7)?,
        })
    }
}

/// Splits a request into its opcode and payload; `None` if too short.
pub fn parse_request(msg: &[u8]) -> Option<(u32, &[u8])> {
    let (head, payload) = msg.split_first_chunk::<HEADER>()?;
    Some((u32::from_le_bytes(*head), payload))
}

/// A request: the opcode, then the payload.
pub fn request(op: u32, payload: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(HEADER + payload.len());
    m.extend_from_slice(&op.to_le_bytes());
    m.extend_from_slice(payload);
    m
}

/// A connection to the console.
#[derive(Debug)]
pub struct Console {
    conn: Connection,
}

impl Console {
    /// Looks the console up by name ([`NAME`]).
    ///
    /// Errors: those of [`names::lookup`](crate::names::lookup) (`NotFound`
    /// if it is not registered yet).
    pub fn connect() -> Result<Console> {
        crate::names::lookup(NAME).map(Console::from_connection)
    }

    /// Wraps a connection to the console's channel.
    pub fn from_connection(conn: Connection) -> Console {
        Console { conn }
    }

    /// The connection.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Writes `bytes`, in messages of at most [`MAX_WRITE`] bytes.
    pub fn write(&self, bytes: &[u8]) -> Result<()> {
        write_raw(self.conn.handle().raw(), bytes, None)
    }

    /// Reads one edited line, echoing what is typed; blocks until Enter,
    /// Ctrl-C or Ctrl-D.
    pub fn read_line(&self) -> Result<Input> {
        self.read_line_with(0)
    }

    /// [`read_line`](Self::read_line) with flags ([`READ_NO_ECHO`]).
    pub fn read_line_with(&self, flags: u32) -> Result<Input> {
        let mut reply = alloc::vec![0u8; MAX_LINE];
        let (status, len) = self.conn.send(&request(op::READ_LINE, &flags.to_le_bytes()), &mut reply)?;
        match LineStatus::from_status(status).ok_or(Error::BadState)? {
            LineStatus::Line => {
                reply.truncate(len);
                Ok(Input::Line(reply))
            }
            LineStatus::Interrupted => Ok(Input::Interrupted),
            LineStatus::EndOfInput => Ok(Input::EndOfInput),
        }
    }

    /// Reads at least one and at most `max` raw bytes (no echo, no
    /// editing; Ctrl-C arrives as byte 3). Blocks until something is typed.
    pub fn read_raw(&self, max: usize) -> Result<Vec<u8>> {
        let max = max.clamp(1, MAX_MESSAGE);
        let mut reply = alloc::vec![0u8; max];
        let want = u32::try_from(max).unwrap_or(u32::MAX);
        let (_, len) = self.conn.send(&request(op::READ_RAW, &want.to_le_bytes()), &mut reply)?;
        reply.truncate(len);
        Ok(reply)
    }

    /// Asks for a [`PULSE_INTERRUPT`] pulse on `notify` (a connection to a
    /// channel of the caller's) at every Ctrl-C. One subscriber at a time:
    /// the newest replaces the previous one.
    pub fn subscribe_interrupts(&self, notify: &Connection) -> Result<()> {
        let opts = SendOptions::new().handle(notify.handle());
        self.conn.send_with(&request(op::SUBSCRIBE, &[]), &mut [], &opts).map(drop)
    }

    /// Drops the caller's subscription (if it is the current one).
    pub fn unsubscribe_interrupts(&self) -> Result<()> {
        self.conn.send(&request(op::UNSUBSCRIBE, &[]), &mut []).map(drop)
    }

    /// The console's counters.
    pub fn stats(&self) -> Result<Stats> {
        let mut reply = [0u8; Stats::SIZE];
        let (_, len) = self.conn.send(&request(op::STATS, &[]), &mut reply)?;
        Stats::from_bytes(&reply[..len]).ok_or(Error::BadState)
    }

    /// Waits until everything written so far has been handed to the UART
    /// (init calls it before powering off, so the last lines are not lost).
    pub fn flush(&self, timeout: Duration) -> Result<()> {
        let opts = SendOptions::new().timeout(timeout);
        self.conn.send_with(&request(op::FLUSH, &[]), &mut [], &opts).map(drop)
    }

    /// Tests: hands `bytes` to the line editor as if typed.
    pub fn inject(&self, bytes: &[u8]) -> Result<()> {
        self.conn.send(&request(op::INJECT, bytes), &mut []).map(drop)
    }

    /// Tests: sends `bytes` (at most 16) through the UART in loopback mode
    /// and returns what the interrupt-driven receive path got back.
    pub fn loopback(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        let mut reply = alloc::vec![0u8; bytes.len()];
        let (_, len) = self.conn.send(&request(op::LOOPBACK, bytes), &mut reply)?;
        reply.truncate(len);
        Ok(reply)
    }
}

/// Writes `bytes` to the console behind connection handle `conn` without
/// allocating (the panic handler prints through this), in messages of at
/// most [`MAX_WRITE`] bytes, each sent with `timeout` if given. Stops at
/// the first error.
pub fn write_raw(conn: u64, bytes: &[u8], timeout: Option<Duration>) -> Result<()> {
    match write_pieces(conn, bytes, timeout) {
        (_, Some(e)) => Err(e),
        (_, None) => Ok(()),
    }
}

/// [`write_raw`], also saying how many bytes were written before an error.
fn write_pieces(conn: u64, bytes: &[u8], timeout: Option<Duration>) -> (usize, Option<Error>) {
    let mut msg = [0u8; HEADER + MAX_WRITE];
    msg[..HEADER].copy_from_slice(&op::WRITE.to_le_bytes());
    let timeout_ns = timeout.map_or(0, crate::ipc::timeout_ns);
    let mut done = 0;
    for piece in bytes.chunks(MAX_WRITE) {
        msg[HEADER..HEADER + piece.len()].copy_from_slice(piece);
        if let Err(e) = raw::send(conn, &msg[..HEADER + piece.len()], &mut [], &LeaseTable::new(), 0, timeout_ns) {
            return (done, Some(e));
        }
        done += piece.len();
    }
    (done, None)
}

pub use stdout::use_kernel_log;
#[cfg(not(test))]
pub(crate) use stdout::write_stdout;

/// Standard output's route: the console once it is found, else the kernel
/// log. (Host tests capture output in `io` instead, hence the allowance.)
#[cfg_attr(test, allow(dead_code))]
mod stdout {
    use super::*;

    /// How long a write to the console may take before the line goes to the
    /// kernel log instead (a wedged console must not wedge its writers).
    const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
    /// How long a lookup may take (what answers at `first_handle(0)` may not
    /// be a name service).
    const LOOKUP_TIMEOUT: Duration = Duration::from_secs(1);
    /// How long to wait before looking the console up again after it was not
    /// found or died.
    const RETRY_NS: u64 = 100_000_000;

    /// [`ROUTE`]: look the console up when it is time to.
    const ROUTE_CONSOLE: u8 = 0;
    /// [`ROUTE`]: this process writes to the kernel log only.
    const ROUTE_DIRECT: u8 = 1;

    static ROUTE: AtomicU8 = AtomicU8::new(ROUTE_CONSOLE);
    /// The connection to the console (owned here), 0 = none yet.
    static CONN: AtomicU64 = AtomicU64::new(0);
    /// When to try the lookup again (ns since boot).
    static RETRY_AT: AtomicU64 = AtomicU64::new(0);
    /// A thread is looking the console up (the others use the kernel log
    /// meanwhile, so a lookup never runs twice or recursively).
    static LOOKING: AtomicBool = AtomicBool::new(false);

    /// Makes this process's output bypass the console for good and go to the
    /// kernel log (`debug_write`). The console itself calls it (it cannot send
    /// to itself), and so does init (which must not depend on a server it
    /// supervises).
    pub fn use_kernel_log() {
        ROUTE.store(ROUTE_DIRECT, Ordering::Relaxed);
        forget(CONN.swap(0, Ordering::AcqRel));
    }

    /// Writes what it can of `bytes` to the console and returns how many bytes
    /// it wrote; the rest must go elsewhere (no console, it died, it timed out,
    /// or this process opted out).
    pub(crate) fn write_stdout(bytes: &[u8]) -> usize {
        if ROUTE.load(Ordering::Relaxed) == ROUTE_DIRECT {
            return 0;
        }
        let mut conn = CONN.load(Ordering::Acquire);
        if conn == 0 {
            conn = match find() {
                Some(c) => c,
                None => return 0,
            };
        }
        let (written, error) = write_pieces(conn, bytes, Some(WRITE_TIMEOUT));
        if error.is_some() {
            // Dead (PeerDied), closed under us (BadHandle) or wedged (TimedOut):
            // drop it, and look again a little later.
            if CONN.compare_exchange(conn, 0, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                forget(conn);
            }
            RETRY_AT.store(crate::time_ns().saturating_add(RETRY_NS), Ordering::Relaxed);
        }
        written
    }

    /// Looks the console up, if no other thread is and it is time to; caches
    /// the connection.
    fn find() -> Option<u64> {
        if crate::time_ns() < RETRY_AT.load(Ordering::Relaxed) || LOOKING.swap(true, Ordering::Acquire) {
            return None;
        }
        let found = match lookup(NAME) {
            Ok(conn) => {
                let raw = conn.into_handle().into_raw();
                match CONN.compare_exchange(0, raw, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => Some(raw),
                    Err(other) => {
                        forget(raw);
                        Some(other)
                    }
                }
            }
            // Not registered yet, the name service is restarting or short
            // of memory: later.
            Err(Error::NotFound | Error::PeerDied | Error::TimedOut | Error::NoMemory | Error::LimitReached) => {
                RETRY_AT.store(crate::time_ns().saturating_add(RETRY_NS), Ordering::Relaxed);
                None
            }
            // No name service to ask: no handle at first_handle(0)
            // (`BadHandle`), something that is not a connection
            // (`PermissionDenied`), or a server that does not speak the name
            // protocol (`BadArgument`, ...). Never ask again.
            Err(_) => {
                ROUTE.store(ROUTE_DIRECT, Ordering::Relaxed);
                None
            }
        };
        LOOKING.store(false, Ordering::Release);
        found
    }

    /// Looks `name` up with the name service behind `first_handle(0)` without
    /// claiming that handle (`names::service` would): a program may use its
    /// first handle for something else, and printing must not take it away.
    /// If something else is there, the send fails (`BadHandle`,
    /// `PermissionDenied`) or its server refuses the foreign request; and
    /// [`LOOKUP_TIMEOUT`] bounds a server that does not answer at all.
    fn lookup(name: &str) -> Result<Connection> {
        #[allow(unsafe_code)]
        // SAFETY: the `ManuallyDrop` never closes the handle, so whoever owns
        // (or later claims) `first_handle(0)` is unaffected; a number that
        // names nothing only makes the send fail.
        let conn = ManuallyDrop::new(Connection::from_handle(unsafe { Handle::from_raw(first_handle(0)) }));
        let mut reply = [0u8; 64];
        let options = SendOptions::new().timeout(LOOKUP_TIMEOUT);
        let r = conn.send_with(&crate::names::proto::encode::lookup(name), &mut reply, &options)?;
        crate::names::proto::result::lookup(reply.get(..r.len).unwrap_or(&[]))?;
        r.handle.map(Connection::from_handle).ok_or(Error::BadState)
    }

    /// Closes a connection number this module owned and has just unpublished.
    fn forget(conn: u64) {
        if conn != 0 {
            #[allow(unsafe_code)]
            // SAFETY: `conn` came from `Handle::into_raw` and this module was its
            // only owner; the caller has just removed it from `CONN` (winning the
            // swap), so no one else will close it. Another thread may still be
            // sending with the number: handle values carry a generation, so such
            // a send gets `BadHandle` and falls back; nothing else can go wrong.
            drop(unsafe { Handle::from_raw(conn) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_back() {
        let m = request(op::READ_LINE, &READ_NO_ECHO.to_le_bytes());
        assert_eq!(parse_request(&m), Some((op::READ_LINE, &READ_NO_ECHO.to_le_bytes()[..])));
        assert_eq!(parse_request(&[1, 0, 0]), None);
        assert_eq!(parse_request(&op::STATS.to_le_bytes()), Some((op::STATS, &[][..])));
    }

    #[test]
    fn stats_round_trip() {
        let s = Stats {
            rx_bytes: 1,
            tx_bytes: 2,
            irqs: 3,
            writes: 4,
            lines: 5,
            interrupts: 6,
            dropped: u64::MAX,
            waiting_readers: 8,
        };
        assert_eq!(Stats::from_bytes(&s.to_bytes()), Some(s));
        assert_eq!(Stats::from_bytes(&s.to_bytes()[..Stats::SIZE - 1]), None);
    }

    #[test]
    fn line_status_decodes() {
        for s in [LineStatus::Line, LineStatus::Interrupted, LineStatus::EndOfInput] {
            assert_eq!(LineStatus::from_status(s as i64), Some(s));
        }
        assert_eq!(LineStatus::from_status(3), None);
        assert_eq!(LineStatus::from_status(-1), None);
    }
}
