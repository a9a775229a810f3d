//! The kernel's state — threads, processes, run queues, sleepers — and the
//! one lock that guards it. The kernel runs with interrupts disabled (entry
//! masks IF), on one CPU, and never waits while holding the lock: every
//! entry takes it, does its work, drops it and returns to some thread. A
//! second acquisition can only mean a kernel bug, so `lock` refuses it
//! loudly instead of spinning forever.

use crate::ipc::{asynchronous::InFlight, pulse::IrqBinding, Channel, IpcCounters};
use crate::process::Process;
use crate::thread::{Thread, ThreadId};
use alloc::{boxed::Box, vec::Vec};
use kcore::arena::Arena;
use kcore::runqueue::RunQueues;
use spin::{Mutex, MutexGuard};

/// Counters the kernel keeps about itself (read by `kernel_info`).
#[derive(Clone, Copy, Default, Debug)]
pub struct Stats {
    pub syscalls: u64,
    /// Times the scheduler chose among runnable threads.
    pub scheduler_invocations: u64,
    /// Times the CPU moved from one thread to another.
    pub context_switches: u64,
}

pub struct Kernel {
    pub threads: Arena<Box<Thread>>,
    pub processes: Arena<Process>,
    pub runq: RunQueues<ThreadId>,
    /// Blocked sleepers as (deadline in ns, thread), soonest first.
    pub sleepers: Vec<(u64, ThreadId)>,
    /// The thread on the CPU (or the one that entered the kernel).
    pub current: Option<ThreadId>,
    /// The thread that last ran in user mode (to count real switches).
    pub last_ran: Option<ThreadId>,
    /// Set when the current thread should give way at the next exit.
    pub need_resched: bool,
    pub next_pid: u64,
    /// The boot archive holding every program.
    pub initrd: &'static [u8],
    /// `test` on the command line: init's exit ends the QEMU run.
    pub test_mode: bool,
    pub init: Option<kcore::arena::Id>,
    pub stats: Stats,
    pub channels: Arena<Channel>,
    pub ipc_counters: IpcCounters,
    /// Asynchronous messages received and not yet answered.
    pub async_inflight: Arena<InFlight>,
    /// Interrupt lines bound to channels.
    pub irqs: [Option<IrqBinding>; crate::ipc::pulse::IRQ_LINES],
    /// The next send's sequence number (see `ipc::rcvid_of`).
    pub next_seq: u32,
    /// The process whose I/O bitmap the TSS holds (it applies only while
    /// that process runs).
    pub io_bitmap_owner: Option<kcore::arena::Id>,
    /// Whether the TSS's bitmap is switched on.
    pub io_bitmap_on: bool,
    /// Benchmark knob: when false, IPC never hands the CPU over directly
    /// (every wake-up goes through the run queue), to show what the direct
    /// hand-off saves.
    pub direct_handoff: bool,
}

/// Channels at once, system-wide.
pub const MAX_CHANNELS: usize = 1024;
/// Unanswered asynchronous messages, system-wide.
pub const MAX_INFLIGHT: usize = 4096;

impl Kernel {
    const fn new() -> Self {
        Kernel {
            threads: Arena::new(crate::process::MAX_THREADS_TOTAL),
            processes: Arena::new(crate::process::MAX_PROCESSES),
            runq: RunQueues::new(),
            sleepers: Vec::new(),
            current: None,
            last_ran: None,
            need_resched: false,
            next_pid: 1,
            initrd: &[],
            test_mode: false,
            init: None,
            stats: Stats { syscalls: 0, scheduler_invocations: 0, context_switches: 0 },
            channels: Arena::new(MAX_CHANNELS),
            ipc_counters: IpcCounters { fast_sends: 0, fast_replies: 0, slow_sends: 0, pulses: 0, async_sends: 0 },
            async_inflight: Arena::new(MAX_INFLIGHT),
            irqs: [None; crate::ipc::pulse::IRQ_LINES],
            io_bitmap_owner: None,
            io_bitmap_on: false,
            next_seq: 1,
            direct_handoff: true,
        }
    }

    pub fn thread(&mut self, id: ThreadId) -> Option<&mut Thread> {
        self.threads.get_mut(id).map(|b| &mut **b)
    }

    /// The current thread. Only called on paths entered from a thread.
    #[inline]
    pub fn cur(&mut self) -> &mut Thread {
        let id = self.current.expect("no current thread");
        self.thread(id).expect("current thread vanished")
    }
}

static KERNEL: Mutex<Kernel> = Mutex::new(Kernel::new());

pub type Guard = MutexGuard<'static, Kernel>;

/// Takes the kernel lock. Interrupts must be disabled.
pub fn lock() -> Guard {
    match KERNEL.try_lock() {
        Some(g) => g,
        None => panic!("kernel state re-entered (lock already held)"),
    }
}
