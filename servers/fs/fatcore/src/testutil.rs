//! A tiny executor for the tests (no tokio): `block_on` for one future and
//! `join_all` for several that share one thread. The waker only records that
//! it was called; a future that returns `Pending` without anyone having
//! woken it would never run again on a real executor, so that is reported
//! as a lost wake-up (a test failure) instead of being polled again.
//!
//! Shared by the unit tests and, through `#[path]`, the integration tests.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Runs `fut` to completion on this thread.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        flag.0.store(false, Ordering::SeqCst);
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        assert!(flag.0.load(Ordering::SeqCst), "lost wake-up: future pending and nobody woke it");
    }
}

/// Runs all futures to completion, interleaved on this thread, each with
/// its own waker; returns their outputs in order.
pub fn join_all<'a, T>(futs: Vec<Pin<Box<dyn Future<Output = T> + 'a>>>) -> Vec<T> {
    let mut futs: Vec<Option<Pin<Box<dyn Future<Output = T> + 'a>>>> = futs.into_iter().map(Some).collect();
    let flags: Vec<Arc<Flag>> = futs.iter().map(|_| Arc::new(Flag(AtomicBool::new(true)))).collect();
    let mut out: Vec<Option<T>> = futs.iter().map(|_| None).collect();
    loop {
        let mut progressed = false;
        for (i, slot) in futs.iter_mut().enumerate() {
            let Some(f) = slot else { continue };
            if !flags[i].0.swap(false, Ordering::SeqCst) {
                continue;
            }
            progressed = true;
            let waker = Waker::from(flags[i].clone());
            let mut cx = Context::from_waker(&waker);
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                out[i] = Some(v);
                *slot = None;
            }
        }
        if futs.iter().all(Option::is_none) {
            return out.into_iter().map(|v| v.expect("finished")).collect();
        }
        assert!(progressed, "deadlock or lost wake-up: every task pending, none woken");
    }
}
