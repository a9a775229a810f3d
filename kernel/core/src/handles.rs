//! A process's handle table: small integers that name kernel objects for
//! one process only. A handle value carries the slot index and the slot's
//! generation, so a closed-and-reused slot does not answer to an old value,
//! and a guessed number finds at most the guesser's own objects.

use alloc::vec::Vec;

/// A handle value as userspace sees it: `generation << 16 | (index + 1)`.
/// Zero is never a valid handle.
pub type HandleValue = u64;

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum HandleError {
    /// No live handle has that value.
    Invalid,
    /// The table is at its limit.
    Full,
}

struct Slot<T> {
    generation: u16,
    entry: Option<T>,
}

pub struct HandleTable<T> {
    slots: Vec<Slot<T>>,
    limit: usize,
    live: usize,
}

impl<T> HandleTable<T> {
    /// A table that holds at most `limit` handles (at most 65535).
    pub const fn new(limit: usize) -> Self {
        HandleTable { slots: Vec::new(), limit, live: 0 }
    }

    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    fn encode(index: usize, generation: u16) -> HandleValue {
        (u64::from(generation) << 16) | (index as u64 + 1)
    }

    fn decode(&self, value: HandleValue) -> Option<usize> {
        let index = (value & 0xffff).checked_sub(1)? as usize;
        let generation = (value >> 16) as u16;
        let slot = self.slots.get(index)?;
        (value >> 32 == 0 && slot.generation == generation && slot.entry.is_some()).then_some(index)
    }

    /// Stores `entry` and returns its handle.
    pub fn insert(&mut self, entry: T) -> Result<HandleValue, HandleError> {
        if self.live >= self.limit {
            return Err(HandleError::Full);
        }
        let index = match self.slots.iter().position(|s| s.entry.is_none()) {
            Some(i) => i,
            None => {
                self.slots.try_reserve(1).map_err(|_| HandleError::Full)?;
                self.slots.push(Slot { generation: 1, entry: None });
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[index];
        slot.entry = Some(entry);
        self.live += 1;
        Ok(Self::encode(index, slot.generation))
    }

    pub fn get(&self, value: HandleValue) -> Result<&T, HandleError> {
        let i = self.decode(value).ok_or(HandleError::Invalid)?;
        self.slots[i].entry.as_ref().ok_or(HandleError::Invalid)
    }

    pub fn get_mut(&mut self, value: HandleValue) -> Result<&mut T, HandleError> {
        let i = self.decode(value).ok_or(HandleError::Invalid)?;
        self.slots[i].entry.as_mut().ok_or(HandleError::Invalid)
    }

    /// Removes the handle and returns what it held; the slot's generation
    /// moves on so the old value stays dead.
    pub fn remove(&mut self, value: HandleValue) -> Result<T, HandleError> {
        let i = self.decode(value).ok_or(HandleError::Invalid)?;
        let slot = &mut self.slots[i];
        slot.generation = slot.generation.wrapping_add(1).max(1);
        self.live -= 1;
        slot.entry.take().ok_or(HandleError::Invalid)
    }

    /// Empties the table, handing every entry to `f` (process teardown).
    pub fn drain(&mut self, mut f: impl FnMut(T)) {
        for slot in &mut self.slots {
            if let Some(e) = slot.entry.take() {
                slot.generation = slot.generation.wrapping_add(1).max(1);
                f(e);
            }
        }
        self.live = 0;
    }

    /// Every live handle with its entry.
    pub fn iter(&self) -> impl Iterator<Item = (HandleValue, &T)> {
        self.slots.iter().enumerate().filter_map(|(i, s)| s.entry.as_ref().map(|e| (Self::encode(i, s.generation), e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_get_remove() {
        let mut t = HandleTable::new(4);
        let a = t.insert("a").unwrap();
        let b = t.insert("b").unwrap();
        assert_ne!(a, b);
        assert_ne!(a, 0);
        assert_eq!(t.get(a), Ok(&"a"));
        assert_eq!(t.remove(a), Ok("a"));
        assert_eq!(t.get(a), Err(HandleError::Invalid));
        assert_eq!(t.remove(a), Err(HandleError::Invalid));
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn reused_slot_rejects_stale_value() {
        let mut t = HandleTable::new(4);
        let a = t.insert(1).unwrap();
        t.remove(a).unwrap();
        let b = t.insert(2).unwrap();
        assert_eq!(a & 0xffff, b & 0xffff, "slot reused");
        assert_eq!(t.get(a), Err(HandleError::Invalid));
        assert_eq!(t.get(b), Ok(&2));
    }

    #[test]
    fn forged_values_are_refused() {
        let mut t = HandleTable::new(4);
        let a = t.insert(1).unwrap();
        for v in [0, 1, 0xffff, a + 1, a | (1 << 40), u64::MAX, a ^ (1 << 16)] {
            if v != a {
                assert_eq!(t.get(v), Err(HandleError::Invalid), "{v:#x}");
            }
        }
    }

    #[test]
    fn limit_is_enforced() {
        let mut t = HandleTable::new(2);
        t.insert(1).unwrap();
        let b = t.insert(2).unwrap();
        assert_eq!(t.insert(3), Err(HandleError::Full));
        t.remove(b).unwrap();
        assert!(t.insert(3).is_ok());
    }

    #[test]
    fn drain_hands_out_everything() {
        let mut t = HandleTable::new(8);
        let hs: Vec<_> = (0..5).map(|i| t.insert(i).unwrap()).collect();
        let mut got = Vec::new();
        t.drain(|e| got.push(e));
        got.sort();
        assert_eq!(got, vec![0, 1, 2, 3, 4]);
        assert!(t.is_empty());
        assert!(hs.iter().all(|&h| t.get(h).is_err()));
    }
}
