//! A fixed-capacity FIFO that never allocates: the threads waiting in
//! `receive` on a channel. The capacity bounds receivers per channel (a
//! channel's receivers are threads of one process, which has a thread limit).

/// `N` must be a power of two (indices wrap with a mask).
#[derive(Clone, Debug)]
pub struct Ring<T: Copy, const N: usize> {
    items: [T; N],
    head: usize,
    len: usize,
}

impl<T: Copy + PartialEq + Default, const N: usize> Default for Ring<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy + PartialEq + Default, const N: usize> Ring<T, N> {
    const MASK: usize = {
        assert!(N.is_power_of_two(), "Ring size must be a power of two");
        N - 1
    };

    pub fn new() -> Self {
        Ring { items: [T::default(); N], head: 0, len: 0 }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_full(&self) -> bool {
        self.len == N
    }

    /// Appends `item`; gives it back if the ring is full.
    #[inline]
    pub fn push_back(&mut self, item: T) -> Result<(), T> {
        if self.len == N {
            return Err(item);
        }
        self.items[(self.head + self.len) & Self::MASK] = item;
        self.len += 1;
        Ok(())
    }

    /// Puts `item` back at the front (undoing a `pop_front`).
    pub fn push_front(&mut self, item: T) -> Result<(), T> {
        if self.len == N {
            return Err(item);
        }
        self.head = (self.head + N - 1) & Self::MASK;
        self.items[self.head] = item;
        self.len += 1;
        Ok(())
    }

    #[inline]
    pub fn front(&self) -> Option<T> {
        if self.len == 0 {
            None
        } else {
            Some(self.items[self.head & Self::MASK])
        }
    }

    #[inline]
    pub fn pop_front(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let item = self.items[self.head & Self::MASK];
        self.head = (self.head + 1) & Self::MASK;
        self.len -= 1;
        Some(item)
    }

    /// Removes every `item` (a thread that timed out or died), keeping order.
    pub fn remove(&mut self, item: T) {
        let mut kept = Ring::<T, N>::new();
        while let Some(x) = self.pop_front() {
            if x != item {
                let _ = kept.push_back(x);
            }
        }
        *self = kept;
    }

    /// Empties the ring, oldest first.
    pub fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        core::iter::from_fn(move || self.pop_front())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_wraps_and_refuses_when_full() {
        let mut r: Ring<u32, 4> = Ring::new();
        for round in 0..5 {
            assert_eq!(r.push_back(round), Ok(()));
            assert_eq!(r.push_back(round + 100), Ok(()));
            assert_eq!(r.front(), Some(round));
            assert_eq!(r.pop_front(), Some(round));
            assert_eq!(r.pop_front(), Some(round + 100));
            assert_eq!(r.pop_front(), None);
        }
        for i in 0..4 {
            r.push_back(i).unwrap();
        }
        assert!(r.is_full());
        assert_eq!(r.push_back(9), Err(9));
    }

    #[test]
    fn push_front_and_remove() {
        let mut r: Ring<u32, 4> = Ring::new();
        r.push_back(1).unwrap();
        r.push_back(2).unwrap();
        r.push_back(3).unwrap();
        let x = r.pop_front().unwrap();
        r.push_front(x).unwrap();
        r.remove(2);
        let all: Vec<_> = r.drain().collect();
        assert_eq!(all, vec![1, 3]);
        assert!(r.is_empty());
    }
}
