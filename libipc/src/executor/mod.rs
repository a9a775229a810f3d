//! The per-server executor: a single-threaded async runtime whose reactor
//! is the server's own channel.
//!
//! ```text
//!            ┌──────────── run() ─────────────────────────────────────┐
//!            │ poll every ready task (each poll timed: overruns)      │
//!            │ fire due timers                                        │
//!            │ nothing ready? receive(channel, timeout = next timer)  │
//!            │   message        → new handler task (decoded request)  │
//!            │   pulse          → tasks waiting for that code         │
//!            │   async reply    → the task awaiting that token        │
//!            │   timed out      → (timers fire on the next turn)      │
//!            └────────────────────────────────────────────────────────┘
//! ```
//!
//! Tasks are pinned boxed futures with a [`TaskId`]; a wake-up pushes the
//! id onto a bounded lock-free queue ([`task`] explains why it never blocks,
//! allocates or loses a wake-up). Many requests are in progress at once:
//! each is its own task, and a task waiting for another server
//! ([`call_async`]), a timer ([`sleep`], [`timeout`]) or an interrupt
//! ([`wait_pulse`]) lets the others run. Going idle means blocking in
//! `receive`: the userspace version of blog_os's `sleep_if_idle`.
//!
//! A task that computes for too long between two awaits stalls every other
//! task of the server; the executor times every poll and reports one longer
//! than [`Config::overrun_ns`] (25 ms by default) with the task's name, in
//! the log and in [`Stats`], so a bad task is found, not guessed. The time
//! is the kernel's clock, not the thread's CPU time (the kernel does not
//! count that yet): a poll during which the thread was preempted for a
//! while can be reported too (which is why the default bound is two and a
//! half time slices), so read a single report near the bound as "maybe", a
//! repeated or large one as a bug.
//!
//! The executor reaches the kernel only through [`Backend`]: the real
//! system calls ([`KernelBackend`], built by [`Server`](crate::server::Server))
//! or the simulated kernel of the host tests ([`sim::SimKernel`]).
//!
//! Shutdown ([`ShutdownHandle::request`], or [`shutdown`] from a task):
//! - [`Shutdown::Graceful`]: new requests are answered `PeerDied`; once no
//!   request handler is left, `run` returns, dropping any background task
//!   still alive ([`Report::dropped`] counts them).
//! - [`Shutdown::Immediate`]: `run` returns after the current poll; every
//!   task is dropped and counted, and each unanswered request is answered
//!   `PeerDied`.
#![forbid(unsafe_code)]

mod backend;
mod call;
mod kernel;
mod reactor;
mod request;
pub mod sim;
mod stats;
pub mod task;
mod timer;

#[cfg(test)]
mod tests;

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::format;
use alloc::rc::{Rc, Weak};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::future::Future;
use core::task::{Context, Poll};

use abi::ipc::MAX_MESSAGE;
use abi::Error;

pub use backend::{Arrival, Backend};
pub use call::{call_async, call_async_raw, call_async_with, wait_pulse, yield_now, AsyncCall, WaitPulse, YieldNow};
pub use kernel::KernelBackend;
pub use request::Ctx;
pub use stats::{Config, Overrun, Report, Stats, Stopped, DEFAULT_MAX_TASKS, DEFAULT_OVERRUN_NS, RECENT_OVERRUNS};
pub use task::TaskId;
pub use timer::{now_ns, sleep, sleep_until, timeout, Sleep, Timeout};

use reactor::{CurrentGuard, Reactor};
use request::{Handler, Incoming};
use task::{BoxFuture, TaskKind, Tasks};

use crate::wire::Wire;
use crate::Result;

/// Pulse code the executor sends itself to interrupt a blocked `receive`
/// (see [`Backend::interrupt`]); pulses with it are ignored.
pub const WAKE_PULSE: u64 = abi::ipc::PULSE_CODE_KERNEL - 1;

/// How to shut an executor down; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// Finish the requests in progress, refuse new ones, then return.
    Graceful,
    /// Return now, dropping every task.
    Immediate,
}

/// Asks a running executor to shut down, from a task or another thread.
#[derive(Clone)]
pub struct ShutdownHandle {
    reactor: Arc<Reactor>,
}

impl ShutdownHandle {
    /// Requests the shutdown and interrupts a blocked `receive`.
    pub fn request(&self, mode: Shutdown) {
        self.reactor.request_shutdown(mode);
        let _ = self.reactor.backend.interrupt();
    }
}

/// Requests a shutdown of the executor running the calling task (no effect
/// outside one).
pub fn shutdown(mode: Shutdown) {
    if let Some(r) = reactor::current() {
        r.request_shutdown(mode);
    }
}

/// State only the executor's own thread touches.
struct Local {
    tasks: RefCell<Tasks>,
    handler: RefCell<Option<Handler>>,
}

/// Spawns tasks onto an executor, from inside its tasks or before `run`.
#[derive(Clone)]
pub struct Spawner {
    local: Weak<Local>,
    reactor: Arc<Reactor>,
}

impl Spawner {
    /// Adds a task named `name` (for reports) that runs `fut`.
    ///
    /// Errors: `LimitReached` at [`Config::max_tasks`] live tasks;
    /// `BadState` if the executor is gone.
    pub fn spawn(&self, name: impl Into<Cow<'static, str>>, fut: impl Future<Output = ()> + 'static) -> Result<TaskId> {
        let local = self.local.upgrade().ok_or(Error::BadState)?;
        spawn_into(&local, &self.reactor, name.into(), Box::pin(fut), TaskKind::Background)
    }
}

fn spawn_into(
    local: &Local,
    reactor: &Arc<Reactor>,
    name: Cow<'static, str>,
    fut: BoxFuture,
    kind: TaskKind,
) -> Result<TaskId> {
    let mut tasks = local.tasks.try_borrow_mut().map_err(|_| Error::BadState)?;
    if tasks.len() >= reactor.config.max_tasks {
        return Err(Error::LimitReached);
    }
    let id = tasks.insert(name, fut, kind, &reactor.ready);
    let live = tasks.len();
    reactor.stats(|s| {
        s.spawned += 1;
        s.live = live;
        s.peak_live = s.peak_live.max(live);
    });
    Ok(id)
}

/// A single-threaded executor; see the module documentation.
pub struct Executor {
    reactor: Arc<Reactor>,
    local: Rc<Local>,
    buf: Vec<u8>,
}

impl Executor {
    /// An executor over `backend` with the default [`Config`].
    pub fn new(backend: impl Backend + 'static) -> Executor {
        Executor::with_config(backend, Config::default())
    }

    /// An executor over `backend` with `config`.
    pub fn with_config(backend: impl Backend + 'static, config: Config) -> Executor {
        Executor {
            reactor: Arc::new(Reactor::new(Box::new(backend), config)),
            local: Rc::new(Local { tasks: RefCell::new(Tasks::default()), handler: RefCell::new(None) }),
            buf: vec![0; MAX_MESSAGE],
        }
    }

    /// Handles every message on the channel with `handler`: each request is
    /// decoded as `Req` (malformed ones are answered `BadArgument`), handed
    /// to `handler` with its [`Ctx`], and the future's `Ok(reply)` or
    /// `Err(error)` is the answer. Each request runs as its own task, named
    /// by [`Wire::describe`].
    pub fn serve<Req, Rep, F, Fut>(self, handler: F) -> Executor
    where
        Req: Wire + 'static,
        Rep: Wire + 'static,
        F: Fn(Req, Ctx) -> Fut + 'static,
        Fut: Future<Output = Result<Rep>> + 'static,
    {
        let h = request::handler(self.reactor.clone(), self.spawner(), handler);
        *self.local.handler.borrow_mut() = Some(h);
        self
    }

    /// Adds a task (see [`Spawner::spawn`]).
    pub fn spawn(&self, name: impl Into<Cow<'static, str>>, fut: impl Future<Output = ()> + 'static) -> Result<TaskId> {
        self.spawner().spawn(name, fut)
    }

    /// A spawner for this executor, to keep in tasks.
    pub fn spawner(&self) -> Spawner {
        Spawner { local: Rc::downgrade(&self.local), reactor: self.reactor.clone() }
    }

    /// A handle that shuts this executor down.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle { reactor: self.reactor.clone() }
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.reactor.stats(|s| s.clone())
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.reactor.config
    }

    /// Runs until shut down, or until no task is left and no handler is
    /// installed. `Err` only for a `receive` error other than `TimedOut`
    /// (the channel is gone: `PeerDied`/`BadHandle`), or `BadState` if
    /// another executor is running.
    pub fn run(&mut self) -> Result<Report> {
        self.run_until(&|| false)
    }

    /// Runs `fut` as a task (with every other task and request) until it
    /// finishes, and returns its output. `BadState` if the executor stopped
    /// first (shut down, or idle: `fut` waits for something that cannot come).
    pub fn block_on<T: 'static>(&mut self, fut: impl Future<Output = T> + 'static) -> Result<T> {
        let out = Rc::new(RefCell::new(None));
        let slot = out.clone();
        self.spawn("main", async move {
            let v = fut.await;
            *slot.borrow_mut() = Some(v);
        })?;
        self.run_until(&|| out.borrow().is_some())?;
        let v = out.borrow_mut().take();
        v.ok_or(Error::BadState)
    }

    fn report(&self, stopped: Stopped, dropped: usize) -> Report {
        Report { stopped, dropped, stats: self.stats() }
    }

    /// Drops every task; returns how many.
    fn drop_tasks(&self) -> usize {
        let n = self.local.tasks.borrow_mut().clear();
        self.reactor.stats(|s| s.live = 0);
        n
    }

    fn run_until(&mut self, done: &dyn Fn() -> bool) -> Result<Report> {
        let _current = CurrentGuard::install(&self.reactor)?;
        // The clock's last reading, while it is recent: taken since the last
        // `receive` (which may block for any time).
        let mut clock = None;
        loop {
            clock = self.poll_ready(clock);
            if done() {
                return Ok(self.report(Stopped::Done, 0));
            }
            match self.reactor.shutdown_requested() {
                Some(Shutdown::Immediate) => {
                    return Ok(self.report(Stopped::Shutdown(Shutdown::Immediate), self.drop_tasks()));
                }
                Some(Shutdown::Graceful) if self.local.tasks.borrow().requests() == 0 => {
                    return Ok(self.report(Stopped::Shutdown(Shutdown::Graceful), self.drop_tasks()));
                }
                _ => {}
            }
            // Timers, if any: the last reading serves (it is no older than
            // this turn's bookkeeping), else the clock is read.
            let mut timeout = None;
            if let Some(deadline) = self.reactor.next_deadline() {
                let now = *clock.get_or_insert_with(|| self.reactor.now());
                if self.reactor.fire_timers(now) > 0 {
                    continue;
                }
                timeout = Some(deadline.saturating_sub(now).max(1));
            }
            if !self.reactor.ready.is_empty() {
                continue;
            }
            if self.local.tasks.borrow().len() == 0 && self.local.handler.borrow().is_none() {
                return Ok(self.report(Stopped::Idle, 0));
            }
            clock = None;
            match self.reactor.backend.receive(&mut self.buf, timeout) {
                Ok(arrival) => self.dispatch(arrival),
                Err(Error::TimedOut) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Polls tasks until none is ready (or an immediate shutdown), given
    /// the clock's last reading if it is recent; returns the last reading.
    ///
    /// The clock is read after each poll, and before the first unless a
    /// recent reading was given: a poll is timed from the previous reading,
    /// so the executor's own bookkeeping between two polls counts towards
    /// the second.
    fn poll_ready(&mut self, mut clock: Option<u64>) -> Option<u64> {
        let mut rescan: Vec<TaskId> = Vec::new();
        loop {
            let id = match rescan.pop().or_else(|| self.reactor.ready.pop()) {
                Some(id) => id,
                None if self.reactor.ready.take_overflow() => {
                    self.reactor.stats(|s| s.queue_overflows += 1);
                    rescan = self.local.tasks.borrow().queued_ids();
                    continue;
                }
                None => return clock,
            };
            let start = clock.unwrap_or_else(|| self.reactor.now());
            clock = Some(self.poll_task(id, start));
            if self.reactor.shutdown_requested() == Some(Shutdown::Immediate) {
                return clock;
            }
        }
    }

    /// Polls task `id` once if it is still due, timing the poll (and, if
    /// the task finished, the drop of its future) from `start`. Returns the
    /// clock's reading after it, or `start` if there was nothing to poll.
    fn poll_task(&mut self, id: TaskId, start: u64) -> u64 {
        let (mut fut, waker) = {
            let mut tasks = self.local.tasks.borrow_mut();
            let Some(task) = tasks.get_mut(id) else { return start };
            if !task.begin_poll() {
                return start; // already polled since this wake-up (overflow scan)
            }
            let Some(fut) = task.future.take() else { return start };
            (fut, task.waker.clone())
        };
        let result = fut.as_mut().poll(&mut Context::from_waker(&waker));
        let finished = match result {
            Poll::Ready(()) => {
                let task = self.local.tasks.borrow_mut().remove(id);
                let live = self.local.tasks.borrow().len();
                self.reactor.stats(|s| {
                    s.finished += 1;
                    s.live = live;
                });
                // Dropped outside the table's borrow (drops may reply).
                drop(fut);
                task
            }
            Poll::Pending => {
                if let Some(task) = self.local.tasks.borrow_mut().get_mut(id) {
                    task.future = Some(fut);
                }
                None
            }
        };
        let end = self.reactor.now();
        self.account(id, finished.as_ref(), end.saturating_sub(start));
        end
    }

    /// Counts a poll of task `id` (`finished`: its entry, removed, if it
    /// finished) that took `took` ns; reports it if it overran.
    fn account(&self, id: TaskId, finished: Option<&task::Task>, took: u64) {
        let overran = took > self.reactor.config.overrun_ns;
        let name = match (overran, finished) {
            (false, _) => Cow::Borrowed(""),
            (true, Some(t)) => t.name.clone(),
            (true, None) => {
                self.local.tasks.borrow_mut().get_mut(id).map(|t| t.name.clone()).unwrap_or(Cow::Borrowed("?"))
            }
        };
        self.reactor.stats(|s| {
            s.polls += 1;
            s.longest_poll_ns = s.longest_poll_ns.max(took);
            if overran {
                s.overruns += 1;
                let overrun = Overrun { task: name.clone(), ns: took };
                if s.recent_overruns.len() >= RECENT_OVERRUNS {
                    s.recent_overruns.remove(0);
                }
                s.recent_overruns.push(overrun.clone());
                s.last_overrun = Some(overrun);
            }
        });
        if overran {
            let c = &self.reactor.config;
            self.reactor.backend.log(&format!(
                "{}: overrun: task '{}' took {} us in one poll (bound {} us)",
                c.name,
                name,
                took / 1000,
                c.overrun_ns / 1000
            ));
        }
    }

    /// Turns one arrival into wake-ups or a new task.
    fn dispatch(&mut self, arrival: Arrival) {
        match arrival {
            Arrival::Message { rcvid, pid, len, handle, asynchronous } => {
                self.reactor.stats(|s| s.requests += 1);
                let refuse = if self.reactor.shutdown_requested().is_some() {
                    Some(Error::PeerDied)
                } else if self.local.tasks.borrow().len() >= self.reactor.config.max_tasks {
                    Some(Error::QueueFull)
                } else if self.local.handler.borrow().is_none() {
                    Some(Error::BadState)
                } else {
                    None
                };
                if let Some(e) = refuse {
                    self.reactor.stats(|s| s.refused += 1);
                    let _ = self.reactor.backend.reply(rcvid, e.to_raw(), &[], None);
                    return;
                }
                let data = self.buf.get(..len).unwrap_or(&[]);
                let incoming = Incoming { rcvid, pid, data, handle, asynchronous };
                let made = self.local.handler.borrow().as_ref().and_then(|h| h(incoming));
                if let Some((name, fut)) = made {
                    // Cannot fail: the limit was checked above and nothing
                    // spawned since (a handler only builds its future).
                    let _ = spawn_into(&self.local, &self.reactor, name, fut, TaskKind::Request);
                }
            }
            Arrival::Pulse { code, value } => {
                if code != WAKE_PULSE {
                    self.reactor.deliver_pulse(code, value);
                }
            }
            Arrival::AsyncReply { token, status, len } => {
                self.reactor.deliver_reply(token, status, self.buf.get(..len).unwrap_or(&[]));
            }
        }
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        // Tasks may hold `Ctx`s and spawners; dropping them here answers
        // their requests and breaks any reference cycle through the table.
        self.local.handler.borrow_mut().take();
        self.drop_tasks();
    }
}
