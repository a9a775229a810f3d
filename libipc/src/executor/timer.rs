//! Time inside an executor: [`sleep`], [`sleep_until`], [`timeout`] and
//! [`now_ns`]. A sleeping task costs a `BTreeMap` entry; the executor blocks
//! in `receive` with a timeout that ends at the earliest deadline, then
//! wakes every task whose deadline passed.
//!
//! These futures must be polled by a running executor (they find it through
//! `reactor::current`); polled anywhere else they panic, which is a bug in
//! the program, not something its input can cause.
#![forbid(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use abi::Error;

use super::reactor::{self, Reactor, TimerKey};
use crate::Result;

const OUTSIDE: &str = "libipc: an executor future was polled outside Executor::run";

/// The executor's clock (nanoseconds; the kernel's `time` in QEMU, the fake
/// clock in host tests). Panics outside a running executor.
pub fn now_ns() -> u64 {
    reactor::current().expect(OUTSIDE).now()
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Completes `d` after it is first polled.
pub fn sleep(d: Duration) -> Sleep {
    Sleep { wait: Wait::For(ns(d)), key: None, reactor: None }
}

/// Completes once the executor's clock reads `deadline_ns` or later.
pub fn sleep_until(deadline_ns: u64) -> Sleep {
    Sleep { wait: Wait::Until(deadline_ns), key: None, reactor: None }
}

#[derive(Debug, Clone, Copy)]
enum Wait {
    For(u64),
    Until(u64),
    Done,
}

/// The future of [`sleep`] and [`sleep_until`].
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    wait: Wait,
    key: Option<TimerKey>,
    reactor: Option<Arc<Reactor>>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if let Wait::Done = this.wait {
            return Poll::Ready(());
        }
        let reactor = this.reactor.get_or_insert_with(|| reactor::current().expect(OUTSIDE)).clone();
        if let Some(key) = this.key {
            // Registered: the executor removes the entry when it fires.
            if reactor.timer_pending(key, cx.waker()) {
                return Poll::Pending;
            }
            this.key = None;
            this.wait = Wait::Done;
            return Poll::Ready(());
        }
        let now = reactor.now();
        let deadline = match this.wait {
            Wait::For(d) => now.saturating_add(d),
            Wait::Until(t) => t,
            Wait::Done => now,
        };
        if deadline <= now {
            this.wait = Wait::Done;
            return Poll::Ready(());
        }
        this.wait = Wait::Until(deadline);
        this.key = Some(reactor.add_timer(deadline, cx.waker().clone()));
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let (Some(key), Some(r)) = (self.key, &self.reactor) {
            r.remove_timer(key);
        }
    }
}

/// Runs `fut` for at most `d`: `Ok(output)`, or `Err(TimedOut)` (and `fut`
/// is dropped, which cancels what it waited for: an unanswered
/// [`call_async`](super::call_async)'s late reply is then discarded).
pub fn timeout<F: Future>(d: Duration, fut: F) -> Timeout<F> {
    Timeout { fut: Box::pin(fut), sleep: sleep(d) }
}

/// The future of [`timeout`].
#[must_use = "futures do nothing unless awaited"]
pub struct Timeout<F: Future> {
    fut: Pin<Box<F>>,
    sleep: Sleep,
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(v) = self.fut.as_mut().poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match Pin::new(&mut self.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Error::TimedOut)),
            Poll::Pending => Poll::Pending,
        }
    }
}
