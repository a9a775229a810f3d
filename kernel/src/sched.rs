//! Scheduling: priority round-robin over the run queues, time slices from
//! the LAPIC timer, sleepers woken by deadline, the idle loop, and the two
//! ways into the kernel from user mode that are not system calls (traps).
//! Every path out of the kernel ends in `resume`, which picks the thread to
//! run and enters it.

use crate::arch::{cpu, time, trap, trap::TrapFrame, user};
use crate::state::{self, Guard, Kernel};
use crate::thread::{Blocked, State, ThreadId};

/// Timer ticks in one time slice.
pub const SLICE_TICKS: u32 = 2;

impl Kernel {
    /// Puts a runnable thread on its run queue.
    pub fn make_ready(&mut self, id: ThreadId) {
        let Some(t) = self.thread(id) else { return };
        t.state = State::Ready;
        let p = t.priority;
        self.runq.push(p, id);
        let current_priority = self.current.and_then(|c| self.threads.get(c)).map(|t| t.priority);
        if current_priority.is_none_or(|cp| p > cp) {
            self.need_resched = true;
        }
    }

    /// Lifts a ready thread to at least `priority` (inheritance), moving it
    /// to that run queue. It drops back when it replies or takes its next
    /// message (which sets its priority from that sender).
    pub fn raise_priority(&mut self, id: ThreadId, priority: u8) {
        let Some(t) = self.thread(id) else { return };
        if t.priority >= priority || t.state != State::Ready {
            return;
        }
        t.priority = priority;
        self.runq.remove(id);
        self.make_ready(id);
    }

    /// Ends a thread's wait with the given return values.
    pub fn wake(&mut self, id: ThreadId, rax: i64, rdx: u64) {
        let Some(t) = self.thread(id) else { return };
        if !matches!(t.state, State::Blocked(_)) {
            return;
        }
        t.set_return(rax, rdx);
        self.disarm_timeout(id);
        self.make_ready(id);
    }

    /// Blocks the current thread; it runs again only when woken.
    pub fn block_current(&mut self, why: Blocked) {
        self.cur().state = State::Blocked(why);
    }

    /// Wakes `id` with `TimedOut` (or 0 for a sleep) at `deadline` ns of
    /// uptime unless something else wakes it first.
    pub fn arm_timeout(&mut self, id: ThreadId, deadline: u64) -> Result<(), abi::Error> {
        self.sleepers.try_reserve(1).map_err(|_| abi::Error::NoMemory)?;
        let at = self.sleepers.partition_point(|&(d, _)| d <= deadline);
        self.sleepers.insert(at, (deadline, id));
        if let Some(t) = self.thread(id) {
            t.timeout_armed = true;
        }
        Ok(())
    }

    pub fn disarm_timeout(&mut self, id: ThreadId) {
        if let Some(t) = self.thread(id) {
            if t.timeout_armed {
                t.timeout_armed = false;
                self.sleepers.retain(|&(_, s)| s != id);
            }
        }
    }

    /// A deadline passed: end the wait it guarded.
    fn timeout_expired(&mut self, id: ThreadId) {
        let Some(t) = self.thread(id) else { return };
        t.timeout_armed = false;
        let State::Blocked(why) = t.state else { return };
        match why {
            Blocked::Sleep => self.wake(id, 0, 0),
            Blocked::Send(ch) | Blocked::Receive(ch) => {
                self.ipc_forget(id, ch);
                self.wake(id, abi::Error::TimedOut.to_raw(), 0);
            }
            Blocked::Reply { .. } => self.wake(id, abi::Error::TimedOut.to_raw(), 0),
            Blocked::Wait(_) | Blocked::Join(_) | Blocked::Replied => {}
        }
    }

    /// Accounts one timer tick: ends due waits, ages the time slice.
    pub fn tick(&mut self) {
        let now = time::uptime_ns();
        while let Some(&(deadline, id)) = self.sleepers.first() {
            if deadline > now {
                break;
            }
            self.sleepers.remove(0);
            self.timeout_expired(id);
        }
        if let Some(id) = self.current {
            let waiting = self.runq.highest();
            if let Some(t) = self.thread(id) {
                t.slice_left = t.slice_left.saturating_sub(1);
                // Round-robin only among equals or betters: with nobody
                // else ready there is nothing to schedule.
                if t.slice_left == 0 && waiting.is_some_and(|p| p >= t.priority) {
                    self.need_resched = true;
                }
            }
        }
    }

    /// Makes the TSS's I/O permissions those of `process`, which is about
    /// to run (`io_privileged`: it has a bitmap): nothing to do unless a
    /// driver is involved, which is all the common case costs.
    #[inline(always)]
    pub fn switch_io_bitmap(&mut self, process: crate::thread::ProcessId, io_privileged: bool) {
        if io_privileged || self.io_bitmap_on {
            self.load_io_bitmap(process);
        }
    }

    /// Loads `process`'s I/O bitmap into the TSS, or switches it off.
    pub fn load_io_bitmap(&mut self, process: crate::thread::ProcessId) {
        let wants = self.processes.get(process).and_then(|p| p.io_bitmap.as_deref());
        match wants {
            None if self.io_bitmap_on => {
                crate::arch::gdt::enable_io_bitmap(false);
                self.io_bitmap_on = false;
            }
            None => {}
            Some(bitmap) => {
                if self.io_bitmap_owner != Some(process) {
                    crate::arch::gdt::load_io_bitmap(bitmap);
                    self.io_bitmap_owner = Some(process);
                }
                if !self.io_bitmap_on {
                    crate::arch::gdt::enable_io_bitmap(true);
                    self.io_bitmap_on = true;
                }
            }
        }
    }

    /// Hands the CPU straight to `next` (just unblocked by IPC), without the
    /// run queue — unless a more important thread is ready, in which case
    /// `next` queues like anyone else. The caller has already taken the
    /// current thread off the CPU. Returns whether the hand-off happened.
    pub fn switch_direct(&mut self, next: ThreadId) -> bool {
        let ready = self.runq.highest();
        let handoff = self.direct_handoff;
        let Some(t) = self.thread(next) else { return false };
        if !handoff || ready.is_some_and(|p| p > t.priority) {
            self.disarm_timeout(next);
            self.make_ready(next);
            self.need_resched = true;
            return false;
        }
        t.state = State::Running;
        t.slice_left = SLICE_TICKS;
        self.current = Some(next);
        self.disarm_timeout(next);
        true
    }

    /// Chooses the thread to run next, or `None` to idle.
    fn pick(&mut self) -> Option<ThreadId> {
        if let Some(id) = self.current {
            let still_running = self.thread(id).is_some_and(|t| t.state == State::Running);
            if still_running && !self.need_resched {
                return Some(id);
            }
            if still_running {
                // Preempted or yielded: to the back of its queue.
                self.make_ready(id);
            }
        }
        self.need_resched = false;
        self.stats.scheduler_invocations += 1;
        let (_, next) = self.runq.pop()?;
        let t = self.thread(next)?;
        t.state = State::Running;
        t.slice_left = SLICE_TICKS;
        self.current = Some(next);
        Some(next)
    }
}

/// Leaves the kernel into the thread the IPC fast path made current.
#[inline(always)]
pub fn switch_fast(mut k: Guard, next: crate::ipc::fastpath::Switch) -> ! {
    k.stats.context_switches += 1;
    k.last_ran = k.current;
    // `switch_io_bitmap`'s test, made before the lookup of the process so
    // that the fast path need not carry it.
    if next.io_privileged || k.io_bitmap_on {
        if let Some(p) = k.current.and_then(|t| k.threads.get(t)).map(|t| t.process) {
            k.load_io_bitmap(p);
        }
    }
    drop(k);
    // SAFETY: the fast path took `frame` from the live thread it made
    // current, whose process owns `root`; the lock is released.
    unsafe { user::enter_user(next.frame, next.root) }
}

/// Leaves the kernel into `next`, which the caller made current and Running.
pub fn switch_to(mut k: Guard, next: ThreadId) -> ! {
    if k.last_ran != Some(next) {
        k.stats.context_switches += 1;
        k.last_ran = Some(next);
    }
    let t = k.threads.get(next).expect("switching to a dead thread");
    let (frame, process, cr3, io_privileged) = (&t.frame as *const TrapFrame, t.process, t.root, t.io_privileged);
    k.switch_io_bitmap(process, io_privileged);
    drop(k);
    // SAFETY: `frame` is inside a boxed, live thread whose process owns
    // `cr3`; the lock is released and nothing on the kernel stack needs
    // dropping.
    unsafe { user::enter_user(frame, cr3) }
}

/// Leaves the kernel: runs the chosen thread, idling until there is one.
pub fn resume(mut k: Guard) -> ! {
    loop {
        if let Some(id) = k.pick() {
            switch_to(k, id);
        }
        k.current = None;
        drop(k);
        // Nothing to run: wait for an interrupt (it may wake someone).
        cpu::enable_and_halt();
        cpu::disable_interrupts();
        k = state::lock();
    }
}

/// A trap from user mode: the frame is already saved in the current thread.
pub extern "C" fn trap_from_user(frame: *mut TrapFrame) -> ! {
    // SAFETY: the entry stub passes the frame it just filled, inside the
    // current thread's control block. It is copied: ending a faulting
    // process frees the block while the report still needs the registers.
    let frame = unsafe { frame.read() };
    let kind = trap::classify(&frame);
    let mut k = state::lock();
    match kind {
        trap::TrapKind::Exception => crate::fault::user_fault(&mut k, &frame),
        trap::TrapKind::Timer => k.tick(),
        trap::TrapKind::Irq(line) => k.irq_fired(line),
        trap::TrapKind::Other => {}
    }
    resume(k)
}

/// The timer fired while the kernel idled (or ran boot-time tests).
pub fn timer_tick_in_kernel() {
    let mut k = state::lock();
    k.tick();
}

/// A device interrupt arrived while the kernel idled.
pub fn irq_in_kernel(line: u8) {
    let mut k = state::lock();
    k.irq_fired(line);
}
