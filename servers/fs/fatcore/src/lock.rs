//! An async reader-writer lock for one thread: how operations share the
//! volume. Reads (read, readdir, stat, open) share it and may interleave
//! while they wait for the disk; anything that changes the disk (write,
//! create, unlink, rename, truncate, sync) holds it alone.
//!
//! Fair: waiters are served in arrival order, consecutive readers together,
//! so a stream of readers cannot starve a writer. A waiter that is dropped
//! leaves the queue (and gives back a grant it had not yet collected), so
//! cancelling an operation never wedges the lock.

use alloc::collections::VecDeque;
use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

struct Waiter {
    id: u64,
    write: bool,
    granted: bool,
    waker: Option<Waker>,
}

struct State {
    readers: u32,
    writer: bool,
    queue: VecDeque<Waiter>,
    next_id: u64,
}

impl State {
    fn compatible(&self, write: bool) -> bool {
        if write {
            !self.writer && self.readers == 0
        } else {
            !self.writer
        }
    }

    fn take(&mut self, write: bool) {
        if write {
            self.writer = true;
        } else {
            self.readers += 1;
        }
    }

    fn release(&mut self, write: bool) {
        if write {
            self.writer = false;
        } else {
            self.readers = self.readers.saturating_sub(1);
        }
        self.dispatch();
    }

    /// Grants the lock to waiters at the head of the queue while they fit.
    fn dispatch(&mut self) {
        let mut i = 0;
        while i < self.queue.len() {
            let (granted, write) = match self.queue.get(i) {
                Some(w) => (w.granted, w.write),
                None => break,
            };
            if !granted {
                if !self.compatible(write) {
                    break;
                }
                self.take(write);
                if let Some(w) = self.queue.get_mut(i) {
                    w.granted = true;
                    if let Some(waker) = w.waker.take() {
                        waker.wake();
                    }
                }
            }
            i += 1;
        }
    }
}

/// The lock. Not `Sync`: one executor thread owns it.
pub(crate) struct RwLock {
    state: RefCell<State>,
}

impl RwLock {
    pub fn new() -> RwLock {
        RwLock { state: RefCell::new(State { readers: 0, writer: false, queue: VecDeque::new(), next_id: 0 }) }
    }

    /// Shared access.
    pub fn read(&self) -> Acquire<'_> {
        Acquire { lock: self, write: false, id: None, done: false }
    }

    /// Exclusive access.
    pub fn write(&self) -> Acquire<'_> {
        Acquire { lock: self, write: true, id: None, done: false }
    }
}

/// Held access; released on drop.
pub(crate) struct Guard<'a> {
    lock: &'a RwLock,
    write: bool,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        self.lock.state.borrow_mut().release(self.write);
    }
}

/// The future of [`RwLock::read`] / [`RwLock::write`].
pub(crate) struct Acquire<'a> {
    lock: &'a RwLock,
    write: bool,
    id: Option<u64>,
    done: bool,
}

impl<'a> Future for Acquire<'a> {
    type Output = Guard<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Guard<'a>> {
        let lock = self.lock;
        let write = self.write;
        let mut s = lock.state.borrow_mut();
        match self.id {
            None => {
                if s.queue.is_empty() && s.compatible(write) {
                    s.take(write);
                    self.done = true;
                    return Poll::Ready(Guard { lock, write });
                }
                let id = s.next_id;
                s.next_id += 1;
                s.queue.push_back(Waiter { id, write, granted: false, waker: Some(cx.waker().clone()) });
                self.id = Some(id);
                Poll::Pending
            }
            Some(id) => {
                let Some(pos) = s.queue.iter().position(|w| w.id == id) else {
                    // Unreachable: only this future removes its entry.
                    return Poll::Pending;
                };
                if s.queue.get(pos).is_some_and(|w| w.granted) {
                    s.queue.remove(pos);
                    self.done = true;
                    return Poll::Ready(Guard { lock, write });
                }
                if let Some(w) = s.queue.get_mut(pos) {
                    w.waker = Some(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let Some(id) = self.id else { return };
        let mut s = self.lock.state.borrow_mut();
        if let Some(pos) = s.queue.iter().position(|w| w.id == id) {
            let granted = s.queue.get(pos).is_some_and(|w| w.granted);
            s.queue.remove(pos);
            if granted {
                s.release(self.write);
            } else {
                s.dispatch();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::join_all;
    use alloc::boxed::Box;
    use alloc::vec;
    use alloc::vec::Vec;
    use core::cell::RefCell;

    /// Yields once, so other tasks run.
    async fn yield_now() {
        let mut yielded = false;
        core::future::poll_fn(|cx| {
            if yielded {
                Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
        .await
    }

    #[test]
    fn readers_share_writers_exclude_fifo() {
        let lock = RwLock::new();
        let log = RefCell::new(Vec::new());
        let task = |name: &'static str, write: bool| {
            let lock = &lock;
            let log = &log;
            Box::pin(async move {
                let _g = if write { lock.write().await } else { lock.read().await };
                log.borrow_mut().push((name, "in"));
                yield_now().await;
                yield_now().await;
                log.borrow_mut().push((name, "out"));
            }) as Pin<Box<dyn Future<Output = ()>>>
        };
        join_all(vec![task("r1", false), task("r2", false), task("w", true), task("r3", false)]);
        let log = log.into_inner();
        let pos = |e| log.iter().position(|x| *x == e).unwrap();
        assert!(pos(("r2", "in")) < pos(("r1", "out")), "readers overlap: {log:?}");
        assert!(pos(("w", "in")) > pos(("r2", "out")) && pos(("w", "in")) > pos(("r1", "out")));
        assert!(pos(("r3", "in")) > pos(("w", "out")), "r3 queued behind the writer: {log:?}");
    }

    #[test]
    fn cancelled_waiter_does_not_wedge() {
        let lock = RwLock::new();
        let held = crate::testutil::block_on(lock.write());
        {
            let mut waiting = Box::pin(lock.write());
            let waker = Waker::noop();
            let mut cx = Context::from_waker(waker);
            assert!(waiting.as_mut().poll(&mut cx).is_pending());
            drop(held); // grants `waiting`, which is then dropped uncollected
        }
        let _again = crate::testutil::block_on(lock.write());
    }
}
