//! A simulated kernel for host tests of anything built on the executor: a
//! fake clock and a script of what arrives when.
//!
//! - The clock stands still except when the executor waits in `receive`
//!   (it jumps to the next scripted arrival or to the timeout) and when a
//!   test task calls [`SimKernel::advance`] to pretend it computed for a
//!   while (that is how overruns are provoked).
//! - Arrivals are scripted with their time: [`message_at`](SimKernel::message_at),
//!   [`pulse_at`](SimKernel::pulse_at). Asynchronous sends are answered by
//!   a [`responder`](SimKernel::responder) registered for the connection
//!   number, after the delay it chooses (so replies can come in any order).
//! - Replies, sends and log lines are recorded for the test to check.
//! - `receive` with nothing scripted and no timeout would block forever: it
//!   returns `Err(BadState)` instead, so a test never hangs.
//!
//! The limit of `MAX_ASYNC_OUTSTANDING` asynchronous sends is modelled
//! (a slot is freed when its reply arrives), and so is `MessageTooLong`
//! for messages longer than the receive buffer.
#![forbid(unsafe_code)]

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use abi::ipc::MAX_ASYNC_OUTSTANDING;
use abi::Error;
use hashbrown::{HashMap, HashSet};

use super::backend::{Arrival, Backend};
use super::WAKE_PULSE;
use crate::Result;

/// What a responder answers to an asynchronous send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimResponse {
    /// Status (negative: `-(error code)`).
    pub status: i64,
    /// Reply bytes.
    pub data: Vec<u8>,
    /// Nanoseconds after the send that the reply arrives.
    pub delay_ns: u64,
}

/// A reply the executor made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimReply {
    /// The message answered.
    pub rcvid: u64,
    /// The status (negative: `-(error code)`).
    pub status: i64,
    /// The reply bytes.
    pub data: Vec<u8>,
    /// The handle number given with it.
    pub handle: Option<u64>,
    /// When (simulated ns).
    pub at_ns: u64,
}

impl SimReply {
    /// The error, if the status is one.
    pub fn error(&self) -> Option<Error> {
        Error::from_raw(self.status).err()
    }
}

/// An asynchronous send the executor made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimSend {
    /// The connection number.
    pub conn: u64,
    /// The message.
    pub data: Vec<u8>,
    /// Its token.
    pub token: u64,
    /// When (simulated ns).
    pub at_ns: u64,
}

/// Answers asynchronous sends on one connection: `None` = never answers.
pub type Responder = Box<dyn FnMut(&[u8]) -> Option<SimResponse> + Send>;

enum Event {
    Message { rcvid: u64, pid: u64, data: Vec<u8>, asynchronous: bool },
    Pulse { code: u64, value: u64 },
    AsyncReply { token: u64, status: i64, data: Vec<u8> },
}

struct State {
    now: u64,
    /// Scripted arrivals by (time, sequence).
    events: BTreeMap<(u64, u64), Event>,
    seq: u64,
    next_rcvid: u64,
    /// Messages delivered and not answered yet.
    open: HashSet<u64>,
    replies: Vec<SimReply>,
    sends: Vec<SimSend>,
    responders: HashMap<u64, Responder>,
    outstanding: usize,
    async_limit: usize,
    leases: HashMap<u64, Vec<Vec<u8>>>,
    log: Vec<String>,
    receives: u64,
    clock_reads: u64,
}

/// The simulated kernel; see the module documentation. Share it with the
/// executor as an `Arc<SimKernel>` (which implements [`Backend`]).
pub struct SimKernel {
    state: spin::Mutex<State>,
}

impl SimKernel {
    /// A kernel at time 0 with nothing scripted.
    pub fn new() -> Arc<SimKernel> {
        Arc::new(SimKernel {
            state: spin::Mutex::new(State {
                now: 0,
                events: BTreeMap::new(),
                seq: 0,
                next_rcvid: 0,
                open: HashSet::new(),
                replies: Vec::new(),
                sends: Vec::new(),
                responders: HashMap::new(),
                outstanding: 0,
                async_limit: MAX_ASYNC_OUTSTANDING,
                leases: HashMap::new(),
                log: Vec::new(),
                receives: 0,
                clock_reads: 0,
            }),
        })
    }

    fn schedule(&self, at_ns: u64, event: Event) {
        let mut s = self.state.lock();
        s.seq += 1;
        let key = (at_ns, s.seq);
        s.events.insert(key, event);
    }

    fn new_rcvid(&self) -> u64 {
        let mut s = self.state.lock();
        s.next_rcvid += 1;
        s.next_rcvid
    }

    /// The simulated time (ns).
    pub fn now(&self) -> u64 {
        self.state.lock().now
    }

    /// Moves the clock forward, as if the caller computed for `ns`.
    pub fn advance(&self, ns: u64) {
        let mut s = self.state.lock();
        s.now = s.now.saturating_add(ns);
    }

    /// Scripts a synchronous message from pid 1 at `at_ns`; returns its rcvid.
    pub fn message_at(&self, at_ns: u64, data: Vec<u8>) -> u64 {
        self.message_from(at_ns, 1, data, false)
    }

    /// Scripts a message from `pid` (asynchronous if `asynchronous`).
    pub fn message_from(&self, at_ns: u64, pid: u64, data: Vec<u8>, asynchronous: bool) -> u64 {
        let rcvid = self.new_rcvid();
        self.schedule(at_ns, Event::Message { rcvid, pid, data, asynchronous });
        rcvid
    }

    /// Scripts a pulse.
    pub fn pulse_at(&self, at_ns: u64, code: u64, value: u64) {
        self.schedule(at_ns, Event::Pulse { code, value });
    }

    /// Scripts an asynchronous reply with a token of the test's choosing.
    pub fn async_reply_at(&self, at_ns: u64, token: u64, status: i64, data: Vec<u8>) {
        self.schedule(at_ns, Event::AsyncReply { token, status, data });
    }

    /// Answers asynchronous sends on connection number `conn` with `f`.
    pub fn responder(&self, conn: u64, f: impl FnMut(&[u8]) -> Option<SimResponse> + Send + 'static) {
        self.state.lock().responders.insert(conn, Box::new(f));
    }

    /// Sets how many asynchronous sends may be unanswered at once.
    pub fn set_async_limit(&self, n: usize) {
        self.state.lock().async_limit = n;
    }

    /// Lends `leases` with message `rcvid`.
    pub fn set_leases(&self, rcvid: u64, leases: Vec<Vec<u8>>) {
        self.state.lock().leases.insert(rcvid, leases);
    }

    /// Lease `index` of message `rcvid` as it is now.
    pub fn lease(&self, rcvid: u64, index: usize) -> Option<Vec<u8>> {
        self.state.lock().leases.get(&rcvid).and_then(|l| l.get(index).cloned())
    }

    /// Every reply so far, in order.
    pub fn replies(&self) -> Vec<SimReply> {
        self.state.lock().replies.clone()
    }

    /// The reply to `rcvid`, if any.
    pub fn reply_to(&self, rcvid: u64) -> Option<SimReply> {
        self.state.lock().replies.iter().find(|r| r.rcvid == rcvid).cloned()
    }

    /// Every asynchronous send so far, in order.
    pub fn sends(&self) -> Vec<SimSend> {
        self.state.lock().sends.clone()
    }

    /// Every log line so far.
    pub fn log_lines(&self) -> Vec<String> {
        self.state.lock().log.clone()
    }

    /// Asynchronous sends not answered yet.
    pub fn outstanding(&self) -> usize {
        self.state.lock().outstanding
    }

    /// How many times `receive` was called.
    pub fn receives(&self) -> u64 {
        self.state.lock().receives
    }

    /// How many times the executor read the clock (`Backend::now_ns`; a
    /// system call with the real kernel).
    pub fn clock_reads(&self) -> u64 {
        self.state.lock().clock_reads
    }
}

impl Backend for SimKernel {
    fn now_ns(&self) -> u64 {
        let mut s = self.state.lock();
        s.clock_reads += 1;
        s.now
    }

    fn receive(&self, buf: &mut [u8], timeout_ns: Option<u64>) -> Result<Arrival> {
        let mut s = self.state.lock();
        s.receives += 1;
        loop {
            let Some((&(at, seq), _)) = s.events.iter().next() else {
                return match timeout_ns {
                    Some(t) => {
                        s.now = s.now.saturating_add(t);
                        Err(Error::TimedOut)
                    }
                    None => Err(Error::BadState),
                };
            };
            if at > s.now {
                match timeout_ns {
                    Some(t) if at > s.now.saturating_add(t) => {
                        s.now = s.now.saturating_add(t);
                        return Err(Error::TimedOut);
                    }
                    _ => s.now = at,
                }
            }
            let Some(event) = s.events.remove(&(at, seq)) else { continue };
            match event {
                Event::Message { rcvid, pid, data, asynchronous } => {
                    if data.len() > buf.len() {
                        // The kernel refuses it to the sender; record that.
                        let at_ns = s.now;
                        let status = Error::MessageTooLong.to_raw();
                        s.replies.push(SimReply { rcvid, status, data: Vec::new(), handle: None, at_ns });
                        continue;
                    }
                    buf[..data.len()].copy_from_slice(&data);
                    s.open.insert(rcvid);
                    return Ok(Arrival::Message { rcvid, pid, len: data.len(), handle: None, asynchronous });
                }
                Event::Pulse { code, value } => return Ok(Arrival::Pulse { code, value }),
                Event::AsyncReply { token, status, data } => {
                    s.outstanding = s.outstanding.saturating_sub(1);
                    let (status, len) = if data.len() > buf.len() {
                        (Error::MessageTooLong.to_raw(), 0)
                    } else {
                        buf[..data.len()].copy_from_slice(&data);
                        (status, data.len())
                    };
                    return Ok(Arrival::AsyncReply { token, status, len });
                }
            }
        }
    }

    fn reply(&self, rcvid: u64, status: i64, msg: &[u8], handle: Option<u64>) -> Result<()> {
        let mut s = self.state.lock();
        if !s.open.remove(&rcvid) {
            return Err(Error::PeerDied);
        }
        let at_ns = s.now;
        let data = if status < 0 { Vec::new() } else { msg.to_vec() };
        s.replies.push(SimReply { rcvid, status, data, handle, at_ns });
        Ok(())
    }

    fn send_async(&self, conn: u64, msg: &[u8], token: u64) -> Result<()> {
        let mut s = self.state.lock();
        if msg.len() > abi::ipc::MAX_MESSAGE {
            return Err(Error::MessageTooLong);
        }
        if s.outstanding >= s.async_limit {
            return Err(Error::QueueFull);
        }
        let now = s.now;
        let response = match s.responders.get_mut(&conn) {
            Some(f) => f(msg),
            None => return Err(Error::PeerDied),
        };
        s.outstanding += 1;
        s.sends.push(SimSend { conn, data: msg.to_vec(), token, at_ns: now });
        drop(s);
        if let Some(r) = response {
            self.schedule(now.saturating_add(r.delay_ns), Event::AsyncReply { token, status: r.status, data: r.data });
        }
        Ok(())
    }

    fn lease_read(&self, rcvid: u64, index: usize, offset: usize, buf: &mut [u8]) -> Result<usize> {
        let s = self.state.lock();
        let lease = s.leases.get(&rcvid).and_then(|l| l.get(index)).ok_or(Error::BadArgument)?;
        let src = offset.checked_add(buf.len()).and_then(|end| lease.get(offset..end)).ok_or(Error::BadArgument)?;
        buf.copy_from_slice(src);
        Ok(buf.len())
    }

    fn lease_write(&self, rcvid: u64, index: usize, offset: usize, data: &[u8]) -> Result<usize> {
        let mut s = self.state.lock();
        let lease = s.leases.get_mut(&rcvid).and_then(|l| l.get_mut(index)).ok_or(Error::BadArgument)?;
        let end = offset.checked_add(data.len()).ok_or(Error::BadArgument)?;
        lease.get_mut(offset..end).ok_or(Error::BadArgument)?.copy_from_slice(data);
        Ok(data.len())
    }

    fn interrupt(&self) -> Result<()> {
        let now = self.now();
        self.schedule(now, Event::Pulse { code: WAKE_PULSE, value: 0 });
        Ok(())
    }

    fn log(&self, line: &str) {
        self.state.lock().log.push(line.to_string());
    }
}
