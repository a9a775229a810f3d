//! Locks for userland threads. Threads of a process share one CPU with
//! everything else and can be preempted while holding a lock, so a waiter
//! that spins would burn its whole time slice while the holder cannot run;
//! these locks give the CPU away instead ([`YieldRelax`]). Built on `spin`'s
//! lock types with a relax strategy, so there is no unsafe code here.
#![forbid(unsafe_code)]

use crate::sys;

/// `spin`'s contention strategy for userland: yield the time slice.
pub struct YieldRelax;

impl spin::RelaxStrategy for YieldRelax {
    fn relax() {
        sys::yield_now();
    }
}

/// A mutual-exclusion lock whose waiters yield.
pub type Mutex<T> = spin::mutex::Mutex<T, YieldRelax>;
/// Its guard.
pub type MutexGuard<'a, T> = spin::mutex::MutexGuard<'a, T>;
