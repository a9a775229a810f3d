//! Threads: a saved register frame, a scheduling priority and a state. A
//! thread that is not running is nothing but this record: blocked threads
//! sit on no queue the scheduler scans.

use crate::arch::trap::TrapFrame;
use alloc::vec::Vec;
use kcore::arena::Id;

pub type ThreadId = Id;
pub type ProcessId = Id;

/// Why a blocked thread waits, and so who may wake it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocked {
    /// Until the uptime reaches this many nanoseconds.
    Sleep { until: u64 },
    /// Until this process ends.
    Wait(ProcessId),
    /// Until this thread exits.
    Join(ThreadId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// On the CPU.
    Running,
    /// On a run queue.
    Ready,
    Blocked(Blocked),
    /// Ended with this code; kept until its last handle closes.
    Exited(i64),
}

pub struct Thread {
    /// User registers while the thread is not running in user mode. Stays
    /// at a fixed address (the thread is boxed): TSS.RSP0 points past it.
    pub frame: TrapFrame,
    pub id: ThreadId,
    pub process: ProcessId,
    pub priority: u8,
    pub state: State,
    /// Handles naming this thread (it is freed once it exited and this is 0).
    pub handle_refs: u32,
    /// Threads blocked joining this one.
    pub joiners: Vec<ThreadId>,
    /// Timer ticks left in the current time slice.
    pub slice_left: u32,
}

impl Thread {
    /// Sets the values the thread sees returned from its system call.
    pub fn set_return(&mut self, rax: i64, rdx: u64) {
        self.frame.rax = rax as u64;
        self.frame.rdx = rdx;
    }
}
