//! Tasks and their wakers, blog_os style: a task is a pinned, boxed future
//! with a [`TaskId`]; waking it pushes the id onto a bounded lock-free
//! ready queue (`crossbeam_queue::ArrayQueue`).
//!
//! Each task's [`Waker`] is made once, when the task is spawned, and cached
//! with it, so polling never allocates a waker. The wake path never blocks
//! and never allocates: it sets the task's `queued` flag and, if the flag
//! was clear, pushes the id. So a task is in the queue at most once, and
//! the queue (as long as the task limit) only fills up with stale ids of
//! finished tasks in rare interleavings: if a push fails anyway, the waker
//! raises the queue's `overflow` flag instead, and the executor then scans
//! every task's `queued` flag. Either way no wake-up is lost.
//!
//! Ids carry a generation, so a wake-up for a finished task whose slot was
//! reused (a stale id) is recognised and ignored.
#![forbid(unsafe_code)]

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::task::Wake;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::Waker;

use crossbeam_queue::ArrayQueue;

/// Names a task of one executor: a slot and that slot's generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(u64);

impl TaskId {
    fn new(slot: u32, generation: u32) -> TaskId {
        TaskId((u64::from(generation) << 32) | u64::from(slot))
    }

    fn slot(self) -> usize {
        (self.0 & 0xffff_ffff) as usize
    }

    fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }
}

/// The ids of tasks to poll.
#[derive(Debug)]
pub(crate) struct ReadyQueue {
    queue: ArrayQueue<TaskId>,
    /// A push failed: scan every task's `queued` flag.
    overflow: AtomicBool,
}

impl ReadyQueue {
    pub(crate) fn new(capacity: usize) -> ReadyQueue {
        ReadyQueue { queue: ArrayQueue::new(capacity.max(1)), overflow: AtomicBool::new(false) }
    }

    pub(crate) fn pop(&self) -> Option<TaskId> {
        self.queue.pop()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty() && !self.overflow.load(Ordering::Acquire)
    }

    /// Clears and returns the overflow flag.
    pub(crate) fn take_overflow(&self) -> bool {
        self.overflow.swap(false, Ordering::AcqRel)
    }
}

/// What a task's waker points to.
#[derive(Debug)]
pub(crate) struct TaskWaker {
    id: TaskId,
    /// Set by a wake-up, cleared just before the task is polled.
    queued: AtomicBool,
    /// Set when the task finished or was dropped: wake-ups are ignored.
    dead: AtomicBool,
    ready: Arc<ReadyQueue>,
}

impl TaskWaker {
    fn wake_task(&self) {
        if self.dead.load(Ordering::Acquire) || self.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        if self.ready.queue.push(self.id).is_err() {
            self.ready.overflow.store(true, Ordering::Release);
        }
    }
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_task();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wake_task();
    }
}

/// Whether a task answers a request (graceful shutdown waits for those).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TaskKind {
    Background,
    Request,
}

/// The future type every task is stored as.
pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = ()>>>;

/// A spawned task.
pub(crate) struct Task {
    pub(crate) name: Cow<'static, str>,
    /// `None` while the task is being polled (taken out so the polled future
    /// may spawn tasks into the same table).
    pub(crate) future: Option<BoxFuture>,
    pub(crate) waker: Waker,
    flag: Arc<TaskWaker>,
    pub(crate) kind: TaskKind,
}

impl Task {
    /// Clears the `queued` flag before a poll: a wake-up during the poll
    /// queues the task again. Returns whether it was set.
    pub(crate) fn begin_poll(&self) -> bool {
        self.flag.queued.swap(false, Ordering::AcqRel)
    }

    /// Whether a wake-up is pending (for the overflow scan).
    pub(crate) fn is_queued(&self) -> bool {
        self.flag.queued.load(Ordering::Acquire)
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        self.flag.dead.store(true, Ordering::Release);
    }
}

struct Slot {
    generation: u32,
    task: Option<Task>,
}

/// The task table: slots reused through a free list, ids with generations.
#[derive(Default)]
pub(crate) struct Tasks {
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: usize,
    requests: usize,
}

impl Tasks {
    /// Live tasks.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Live request tasks.
    pub(crate) fn requests(&self) -> usize {
        self.requests
    }

    /// Adds a task and queues it for its first poll.
    pub(crate) fn insert(
        &mut self,
        name: Cow<'static, str>,
        future: BoxFuture,
        kind: TaskKind,
        ready: &Arc<ReadyQueue>,
    ) -> TaskId {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(Slot { generation: 0, task: None });
                (self.slots.len() - 1) as u32
            }
        };
        let entry = &mut self.slots[slot as usize];
        entry.generation = entry.generation.wrapping_add(1);
        let id = TaskId::new(slot, entry.generation);
        let flag = Arc::new(TaskWaker {
            id,
            queued: AtomicBool::new(false),
            dead: AtomicBool::new(false),
            ready: ready.clone(),
        });
        let waker = Waker::from(flag.clone());
        entry.task = Some(Task { name, future: Some(future), waker, flag, kind });
        self.live += 1;
        if kind == TaskKind::Request {
            self.requests += 1;
        }
        if let Some(t) = &entry.task {
            t.waker.wake_by_ref();
        }
        id
    }

    /// The live task `id` names (`None` for a stale id).
    pub(crate) fn get_mut(&mut self, id: TaskId) -> Option<&mut Task> {
        let slot = self.slots.get_mut(id.slot())?;
        if slot.generation != id.generation() {
            return None;
        }
        slot.task.as_mut()
    }

    /// Removes task `id`; its waker goes dead.
    pub(crate) fn remove(&mut self, id: TaskId) -> Option<Task> {
        let slot = self.slots.get_mut(id.slot())?;
        if slot.generation != id.generation() {
            return None;
        }
        let task = slot.task.take()?;
        self.free.push(id.slot() as u32);
        self.live -= 1;
        if task.kind == TaskKind::Request {
            self.requests -= 1;
        }
        Some(task)
    }

    /// Ids of tasks with a pending wake-up (after a queue overflow).
    pub(crate) fn queued_ids(&self) -> Vec<TaskId> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let t = s.task.as_ref()?;
                t.is_queued().then(|| TaskId::new(i as u32, s.generation))
            })
            .collect()
    }

    /// Removes every task (shutdown); returns how many there were.
    pub(crate) fn clear(&mut self) -> usize {
        let n = self.live;
        let mut dropped = Vec::new();
        for (i, s) in self.slots.iter_mut().enumerate() {
            if let Some(t) = s.task.take() {
                self.free.push(i as u32);
                dropped.push(t);
            }
        }
        self.live = 0;
        self.requests = 0;
        // Dropped after the table is consistent: a task's drop may reply to
        // its request (through the backend), which never re-enters here.
        drop(dropped);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noop() -> BoxFuture {
        Box::pin(async {})
    }

    #[test]
    fn wake_queues_once_and_stale_ids_are_ignored() {
        let ready = Arc::new(ReadyQueue::new(4));
        let mut tasks = Tasks::default();
        let a = tasks.insert("a".into(), noop(), TaskKind::Background, &ready);
        assert_eq!(ready.pop(), Some(a));
        assert!(ready.pop().is_none());
        let waker = tasks.get_mut(a).map(|t| t.waker.clone()).unwrap();
        tasks.get_mut(a).unwrap().begin_poll();
        waker.wake_by_ref();
        waker.wake_by_ref();
        assert_eq!(ready.pop(), Some(a));
        assert!(ready.pop().is_none(), "a second wake before the poll must not queue twice");
        tasks.remove(a);
        waker.wake_by_ref();
        assert!(ready.pop().is_none(), "a dead task's waker does nothing");
        let b = tasks.insert("b".into(), noop(), TaskKind::Request, &ready);
        assert_ne!(a, b);
        assert!(tasks.get_mut(a).is_none(), "the old id is stale");
        assert_eq!(tasks.requests(), 1);
    }

    #[test]
    fn overflow_is_flagged_not_lost() {
        let ready = Arc::new(ReadyQueue::new(1));
        let mut tasks = Tasks::default();
        let a = tasks.insert("a".into(), noop(), TaskKind::Background, &ready);
        let b = tasks.insert("b".into(), noop(), TaskKind::Background, &ready);
        assert_eq!(ready.pop(), Some(a));
        assert!(ready.take_overflow());
        assert_eq!(tasks.queued_ids(), [a, b].to_vec());
    }
}
