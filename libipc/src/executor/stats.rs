//! What an executor is configured with ([`Config`]), what it counts
//! ([`Stats`]) and what [`run`](super::Executor::run) reports when it
//! returns ([`Report`]).
#![forbid(unsafe_code)]

use alloc::borrow::Cow;
use alloc::vec::Vec;

/// How long a poll may take before it is reported, by default: 25 ms,
/// two and a half of the kernel's 10 ms time slices, so that a poll that
/// was merely preempted once (or, under QEMU, delayed by the host) is not
/// reported (the executor measures the kernel's clock, not the thread's
/// CPU time, which the kernel does not count yet).
pub const DEFAULT_OVERRUN_NS: u64 = 25_000_000;
/// How many recent overruns [`Stats::recent_overruns`] keeps.
pub const RECENT_OVERRUNS: usize = 8;
/// Most live tasks (request handlers included), by default.
pub const DEFAULT_MAX_TASKS: usize = 256;

/// Executor settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// The name overrun reports start with (the server's name).
    pub name: Cow<'static, str>,
    /// Most live tasks. A request arriving when this many tasks live is
    /// answered `QueueFull`; [`spawn`](super::Spawner::spawn) fails with
    /// `LimitReached`. Also the ready queue's capacity.
    pub max_tasks: usize,
    /// A poll taking longer than this (nanoseconds between the executor's
    /// clock readings before and after it; the reading before is the one
    /// after the previous poll of the same turn, so the executor's own
    /// bookkeeping in between counts too) is an overrun: logged and counted.
    pub overrun_ns: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config { name: Cow::Borrowed("executor"), max_tasks: DEFAULT_MAX_TASKS, overrun_ns: DEFAULT_OVERRUN_NS }
    }
}

/// One poll that took longer than [`Config::overrun_ns`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overrun {
    /// The task's name.
    pub task: Cow<'static, str>,
    /// How long its poll took.
    pub ns: u64,
}

/// Counters of one executor, from [`Executor::stats`](super::Executor::stats).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Tasks spawned (request handlers included).
    pub spawned: u64,
    /// Tasks that ran to completion.
    pub finished: u64,
    /// Tasks alive now.
    pub live: usize,
    /// Most tasks alive at once.
    pub peak_live: usize,
    /// Polls of any task.
    pub polls: u64,
    /// Messages received (synchronous and asynchronous).
    pub requests: u64,
    /// Messages that did not decode as the server's request type (answered
    /// `BadArgument`).
    pub malformed: u64,
    /// Messages refused because of the task limit (`QueueFull`) or a
    /// shutdown in progress (`PeerDied`), or with no handler (`BadState`).
    pub refused: u64,
    /// Replies the kernel refused (the client died or timed out).
    pub reply_errors: u64,
    /// Pulses received.
    pub pulses: u64,
    /// Pulses dropped: nobody ever waited for their code, or too many of
    /// one code waited unclaimed.
    pub pulses_dropped: u64,
    /// Asynchronous sends made by `call_async`.
    pub async_calls: u64,
    /// Asynchronous replies received.
    pub async_replies: u64,
    /// Asynchronous replies nobody waited for any more (the call was
    /// dropped, e.g. by a timeout).
    pub orphan_replies: u64,
    /// Times `send_async` said `QueueFull` and a call waited for a slot.
    pub async_queue_full: u64,
    /// Timers that fired.
    pub timers_fired: u64,
    /// Polls longer than the bound.
    pub overruns: u64,
    /// The most recent overrun.
    pub last_overrun: Option<Overrun>,
    /// The last [`RECENT_OVERRUNS`] overruns, oldest first.
    pub recent_overruns: Vec<Overrun>,
    /// The longest poll so far.
    pub longest_poll_ns: u64,
    /// Times the ready queue overflowed (handled by a scan; nothing lost).
    pub queue_overflows: u64,
}

/// Why [`run`](super::Executor::run) returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// A shutdown was requested and carried out.
    Shutdown(super::Shutdown),
    /// No task was left and no request handler was installed: nothing
    /// could ever happen again.
    Idle,
    /// The future given to [`block_on`](super::Executor::block_on) finished.
    Done,
}

/// What [`run`](super::Executor::run) returns.
#[derive(Clone, Debug)]
pub struct Report {
    /// Why it returned.
    pub stopped: Stopped,
    /// Tasks dropped unfinished by the shutdown (their requests were
    /// answered `PeerDied`).
    pub dropped: usize,
    /// The counters at that moment.
    pub stats: Stats,
}
