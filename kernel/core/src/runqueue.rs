//! Priority round-robin run queues: one FIFO per priority and a bitmap of
//! the non-empty ones, so picking the next thread is a bit scan. Only
//! runnable threads that are not running sit here; blocked threads cost the
//! scheduler nothing. One instance per CPU (one CPU today).

use alloc::collections::VecDeque;

/// Number of priority levels; higher numbers run first.
pub const PRIORITIES: usize = 32;

pub struct RunQueues<T> {
    queues: [VecDeque<T>; PRIORITIES],
    nonempty: u32,
}

impl<T: Copy + PartialEq> Default for RunQueues<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy + PartialEq> RunQueues<T> {
    pub const fn new() -> Self {
        RunQueues { queues: [const { VecDeque::new() }; PRIORITIES], nonempty: 0 }
    }

    /// Makes room for `n` more entries at `priority` so that `push` will not
    /// allocate (call when a thread is created, not on the hot path).
    pub fn reserve(&mut self, priority: u8, n: usize) -> Result<(), alloc::collections::TryReserveError> {
        let p = (priority as usize).min(PRIORITIES - 1);
        self.queues[p].try_reserve(n)
    }

    /// Appends `id` at the back of its priority's queue.
    pub fn push(&mut self, priority: u8, id: T) {
        let p = (priority as usize).min(PRIORITIES - 1);
        self.queues[p].push_back(id);
        self.nonempty |= 1 << p;
    }

    /// Highest priority with a waiting thread.
    pub fn highest(&self) -> Option<u8> {
        (self.nonempty != 0).then(|| 31 - self.nonempty.leading_zeros() as u8)
    }

    /// Takes the front thread of the highest non-empty priority.
    pub fn pop(&mut self) -> Option<(u8, T)> {
        let p = self.highest()?;
        let q = &mut self.queues[p as usize];
        let id = q.pop_front()?;
        if q.is_empty() {
            self.nonempty &= !(1 << p);
        }
        Some((p, id))
    }

    /// Removes `id` wherever it waits (a killed thread). Returns whether it was found.
    pub fn remove(&mut self, id: T) -> bool {
        for p in 0..PRIORITIES {
            let q = &mut self.queues[p];
            if let Some(i) = q.iter().position(|&x| x == id) {
                q.remove(i);
                if q.is_empty() {
                    self.nonempty &= !(1 << p);
                }
                return true;
            }
        }
        false
    }

    pub fn len(&self) -> usize {
        self.queues.iter().map(|q| q.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.nonempty == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highest_priority_first_then_fifo() {
        let mut rq = RunQueues::new();
        rq.push(3, 'a');
        rq.push(7, 'b');
        rq.push(3, 'c');
        rq.push(7, 'd');
        assert_eq!(rq.highest(), Some(7));
        let order: Vec<_> = core::iter::from_fn(|| rq.pop()).collect();
        assert_eq!(order, vec![(7, 'b'), (7, 'd'), (3, 'a'), (3, 'c')]);
        assert!(rq.is_empty());
        assert_eq!(rq.pop(), None);
    }

    #[test]
    fn round_robin_by_requeueing() {
        let mut rq = RunQueues::new();
        for t in 0..3 {
            rq.push(5, t);
        }
        let mut seen = vec![];
        for _ in 0..6 {
            let (p, t) = rq.pop().unwrap();
            seen.push(t);
            rq.push(p, t);
        }
        assert_eq!(seen, vec![0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn remove_clears_bitmap() {
        let mut rq = RunQueues::new();
        rq.push(9, 1);
        rq.push(2, 2);
        assert!(rq.remove(1));
        assert!(!rq.remove(1));
        assert_eq!(rq.highest(), Some(2));
        assert_eq!(rq.len(), 1);
    }

    #[test]
    fn out_of_range_priority_is_clamped() {
        let mut rq = RunQueues::new();
        rq.push(200, 1);
        assert_eq!(rq.pop(), Some((31, 1)));
    }
}
