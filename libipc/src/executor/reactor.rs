//! The reactor: the state shared between the executor's loop and the futures
//! it runs — timers, asynchronous calls in flight (token → waker), pulse
//! waiters, counters, the shutdown flag and the backend.
//!
//! The loop turns what `receive` delivers into wake-ups here: a pulse wakes
//! the tasks waiting for its code, an asynchronous reply the task awaiting
//! its token, an expired deadline the sleepers. Futures register their
//! waker and re-check under the same lock, so no wake-up falls between the
//! check and the registration.
//!
//! The futures find the reactor of the executor that runs them through
//! [`current`]: [`run`](super::Executor::run) installs it for its duration.
//! One executor runs at a time per process (per thread in host tests), as a
//! server has one executor; a second `run` meanwhile fails with `BadState`.
//! The state sits behind one `spin` lock that only the executor's thread
//! takes, never while waking or calling out, so it is never contended.
#![forbid(unsafe_code)]

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU8, Ordering};
use core::task::Waker;

use hashbrown::HashMap;
use kcore::arena::{Arena, Id};

use super::backend::Backend;
use super::stats::{Config, Stats};
use super::task::ReadyQueue;
use super::Shutdown;
use crate::Result;

/// Pulses of one code kept for a waiter that is not waiting right now.
const PULSES_KEPT: usize = abi::ipc::PULSE_QUEUE;
/// Reply buffers kept for reuse ([`Reactor::recycle_reply`]).
const SPARE_REPLIES: usize = 4;

/// A timer's key: deadline, then a sequence number for equal deadlines.
pub(crate) type TimerKey = (u64, u64);

/// An asynchronous call in flight.
struct Call {
    waker: Option<Waker>,
    reply: Option<(i64, Vec<u8>)>,
}

/// The calls in flight, each under a token: a generation-checked slot of a
/// `kcore::arena::Arena` (index in the low 32 bits, generation in the high
/// ones), so a reply for a call that was given up (a stale token) finds no
/// call even after its slot was reused. No hashing on every call.
struct Calls(Arena<Call>);

impl Default for Calls {
    fn default() -> Self {
        Calls(Arena::new(usize::MAX))
    }
}

impl Calls {
    fn id(token: u64) -> Id {
        Id { index: token as u32, generation: (token >> 32) as u32 }
    }

    /// The new call's token; `None` only when memory is short.
    fn insert(&mut self, call: Call) -> Option<u64> {
        let id = self.0.insert_with(|_| call)?;
        Some((u64::from(id.generation) << 32) | u64::from(id.index))
    }

    fn get_mut(&mut self, token: u64) -> Option<&mut Call> {
        self.0.get_mut(Self::id(token))
    }

    fn remove(&mut self, token: u64) -> Option<Call> {
        self.0.remove(Self::id(token))
    }
}

/// Waiters for one pulse code and pulses nobody took yet.
#[derive(Default)]
struct PulseCode {
    waiters: Vec<Waker>,
    pending: VecDeque<u64>,
}

#[derive(Default)]
struct State {
    timers: BTreeMap<TimerKey, Waker>,
    next_timer: u64,
    calls: Calls,
    /// Calls waiting for an asynchronous-send slot (`QueueFull`).
    slot_waiters: Vec<Waker>,
    pulses: HashMap<u64, PulseCode>,
    /// Emptied reply buffers, for the next replies.
    spare_replies: Vec<Vec<u8>>,
    stats: Stats,
}

/// See the module documentation.
pub(crate) struct Reactor {
    pub(crate) backend: Box<dyn Backend>,
    pub(crate) ready: Arc<ReadyQueue>,
    pub(crate) config: Config,
    state: spin::Mutex<State>,
    /// 0 = running, else a `Shutdown` as `shutdown_code` encodes it.
    shutdown: AtomicU8,
}

fn shutdown_code(mode: Shutdown) -> u8 {
    match mode {
        Shutdown::Graceful => 1,
        Shutdown::Immediate => 2,
    }
}

impl Reactor {
    pub(crate) fn new(backend: Box<dyn Backend>, config: Config) -> Reactor {
        let ready = Arc::new(ReadyQueue::new(config.max_tasks));
        Reactor { backend, ready, config, state: spin::Mutex::new(State::default()), shutdown: AtomicU8::new(0) }
    }

    pub(crate) fn now(&self) -> u64 {
        self.backend.now_ns()
    }

    /// Runs `f` on the counters.
    pub(crate) fn stats<R>(&self, f: impl FnOnce(&mut Stats) -> R) -> R {
        f(&mut self.state.lock().stats)
    }

    // --- shutdown -------------------------------------------------------

    /// Asks for a shutdown; `Immediate` wins over `Graceful`.
    pub(crate) fn request_shutdown(&self, mode: Shutdown) {
        self.shutdown.fetch_max(shutdown_code(mode), Ordering::AcqRel);
    }

    pub(crate) fn shutdown_requested(&self) -> Option<Shutdown> {
        match self.shutdown.load(Ordering::Acquire) {
            0 => None,
            1 => Some(Shutdown::Graceful),
            _ => Some(Shutdown::Immediate),
        }
    }

    // --- timers ---------------------------------------------------------

    /// Registers a timer for `deadline`.
    pub(crate) fn add_timer(&self, deadline: u64, waker: Waker) -> TimerKey {
        let mut s = self.state.lock();
        s.next_timer += 1;
        let key = (deadline, s.next_timer);
        s.timers.insert(key, waker);
        key
    }

    /// True if the timer has not fired yet (and then its waker is updated).
    pub(crate) fn timer_pending(&self, key: TimerKey, waker: &Waker) -> bool {
        let mut s = self.state.lock();
        match s.timers.get_mut(&key) {
            Some(w) => {
                if !w.will_wake(waker) {
                    *w = waker.clone();
                }
                true
            }
            None => false,
        }
    }

    pub(crate) fn remove_timer(&self, key: TimerKey) {
        self.state.lock().timers.remove(&key);
    }

    /// The earliest deadline.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.state.lock().timers.keys().next().map(|k| k.0)
    }

    /// Fires every timer due at `now`; returns how many.
    pub(crate) fn fire_timers(&self, now: u64) -> usize {
        let due: Vec<Waker> = {
            let mut s = self.state.lock();
            let later = s.timers.split_off(&(now.saturating_add(1), 0));
            let due = core::mem::replace(&mut s.timers, later);
            s.stats.timers_fired += due.len() as u64;
            due.into_values().collect()
        };
        let n = due.len();
        due.into_iter().for_each(Waker::wake);
        n
    }

    // --- asynchronous calls ----------------------------------------------

    /// A token no call in flight uses, registered with `waker`
    /// (`NoMemory` if the table cannot grow).
    pub(crate) fn register_call(&self, waker: &Waker) -> Result<u64> {
        let call = Call { waker: Some(waker.clone()), reply: None };
        self.state.lock().calls.insert(call).ok_or(abi::Error::NoMemory)
    }

    /// The reply for `token` if it came; otherwise remembers `waker`.
    pub(crate) fn poll_call(&self, token: u64, waker: &Waker) -> Option<(i64, Vec<u8>)> {
        let mut s = self.state.lock();
        let call = s.calls.get_mut(token)?;
        if call.reply.is_some() {
            return s.calls.remove(token).and_then(|c| c.reply);
        }
        match &call.waker {
            Some(w) if w.will_wake(waker) => {}
            _ => call.waker = Some(waker.clone()),
        }
        None
    }

    /// Forgets a call (its future was dropped, or the send failed).
    pub(crate) fn cancel_call(&self, token: u64) {
        let call = self.state.lock().calls.remove(token);
        // Its waker and any reply are dropped outside the lock.
        drop(call);
    }

    /// Remembers a call waiting for a send slot.
    pub(crate) fn wait_for_slot(&self, waker: &Waker) {
        let mut s = self.state.lock();
        s.stats.async_queue_full += 1;
        if !s.slot_waiters.iter().any(|w| w.will_wake(waker)) {
            s.slot_waiters.push(waker.clone());
        }
    }

    /// An asynchronous reply arrived (`data`: its bytes, copied into a
    /// spare buffer if there is one): wake its caller, and every call
    /// waiting for a send slot (one just became free).
    pub(crate) fn deliver_reply(&self, token: u64, status: i64, data: &[u8]) {
        let (caller, slot_waiters) = {
            let mut guard = self.state.lock();
            let s = &mut *guard;
            s.stats.async_replies += 1;
            let caller = match s.calls.get_mut(token) {
                Some(call) => {
                    let buf = match s.spare_replies.pop() {
                        Some(mut spare) => {
                            spare.extend_from_slice(data);
                            spare
                        }
                        None => data.to_vec(),
                    };
                    call.reply = Some((status, buf));
                    call.waker.take()
                }
                None => {
                    s.stats.orphan_replies += 1;
                    None
                }
            };
            (caller, core::mem::take(&mut s.slot_waiters))
        };
        if let Some(w) = caller {
            w.wake();
        }
        slot_waiters.into_iter().for_each(Waker::wake);
    }

    /// Takes back a reply's buffer (its caller is done with the bytes) for
    /// a later reply, if fewer than `SPARE_REPLIES` are kept.
    pub(crate) fn recycle_reply(&self, mut buf: Vec<u8>) {
        if buf.capacity() == 0 {
            return;
        }
        let mut s = self.state.lock();
        if s.spare_replies.len() < SPARE_REPLIES {
            buf.clear();
            s.spare_replies.push(buf);
        }
    }

    // --- pulses ---------------------------------------------------------

    /// A pulse of `code` if one is waiting; otherwise remembers `waker`.
    /// From the first call on, pulses of `code` are kept until taken.
    pub(crate) fn poll_pulse(&self, code: u64, waker: &Waker) -> Option<u64> {
        let mut s = self.state.lock();
        let entry = s.pulses.entry(code).or_default();
        if let Some(v) = entry.pending.pop_front() {
            return Some(v);
        }
        if !entry.waiters.iter().any(|w| w.will_wake(waker)) {
            entry.waiters.push(waker.clone());
        }
        None
    }

    /// A pulse arrived: keep it for its code's waiters and wake them. A
    /// code nobody ever waited for is dropped (and counted), as is the
    /// oldest kept pulse of a code past `PULSES_KEPT`.
    pub(crate) fn deliver_pulse(&self, code: u64, value: u64) {
        let waiters = {
            let mut s = self.state.lock();
            s.stats.pulses += 1;
            let Some(entry) = s.pulses.get_mut(&code) else {
                s.stats.pulses_dropped += 1;
                return;
            };
            let dropped = if entry.pending.len() >= PULSES_KEPT {
                entry.pending.pop_front();
                true
            } else {
                false
            };
            entry.pending.push_back(value);
            let waiters = core::mem::take(&mut entry.waiters);
            if dropped {
                s.stats.pulses_dropped += 1;
            }
            waiters
        };
        waiters.into_iter().for_each(Waker::wake);
    }
}

// --- the current reactor --------------------------------------------------

#[cfg(not(test))]
static CURRENT: spin::Mutex<Option<Arc<Reactor>>> = spin::Mutex::new(None);

#[cfg(test)]
std::thread_local! {
    static CURRENT: core::cell::RefCell<Option<Arc<Reactor>>> = const { core::cell::RefCell::new(None) };
}

#[cfg(not(test))]
fn with_slot<R>(f: impl FnOnce(&mut Option<Arc<Reactor>>) -> R) -> R {
    f(&mut CURRENT.lock())
}

#[cfg(test)]
fn with_slot<R>(f: impl FnOnce(&mut Option<Arc<Reactor>>) -> R) -> R {
    CURRENT.with(|c| f(&mut c.borrow_mut()))
}

/// The reactor of the running executor, if one runs.
pub(crate) fn current() -> Option<Arc<Reactor>> {
    with_slot(|slot| slot.clone())
}

/// Installs a reactor as [`current`] until dropped.
pub(crate) struct CurrentGuard;

impl CurrentGuard {
    /// `BadState` if another executor is running.
    pub(crate) fn install(reactor: &Arc<Reactor>) -> Result<CurrentGuard> {
        with_slot(|slot| match slot {
            Some(_) => Err(abi::Error::BadState),
            None => {
                *slot = Some(reactor.clone());
                Ok(CurrentGuard)
            }
        })
    }
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        with_slot(|slot| *slot = None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> Call {
        Call { waker: None, reply: None }
    }

    #[test]
    fn call_tokens_are_unique_and_stale_ones_find_nothing() {
        let mut calls = Calls::default();
        let a = calls.insert(call()).unwrap();
        let b = calls.insert(call()).unwrap();
        assert_ne!(a, b);
        assert!(calls.remove(a).is_some());
        assert!(calls.remove(a).is_none(), "removed once");
        let c = calls.insert(call()).unwrap();
        assert_eq!(c & 0xffff_ffff, a & 0xffff_ffff, "the slot is reused...");
        assert_ne!(c, a, "...under a new token");
        assert!(calls.get_mut(a).is_none(), "a late reply to the old call is an orphan");
        assert!(calls.get_mut(c).is_some() && calls.get_mut(b).is_some());
        assert!(calls.get_mut(u64::MAX).is_none());
    }
}
