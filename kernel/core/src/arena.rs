//! A table of kernel objects named by (index, generation): threads and
//! processes live here. Removing an object bumps its slot's generation, so
//! an id kept past the object's death finds nothing instead of a stranger.

use alloc::vec::Vec;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id {
    pub index: u32,
    pub generation: u32,
}

struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

pub struct Arena<T> {
    slots: Vec<Slot<T>>,
    live: usize,
    limit: usize,
}

impl<T> Arena<T> {
    /// An arena that holds at most `limit` objects.
    pub const fn new(limit: usize) -> Self {
        Arena { slots: Vec::new(), live: 0, limit }
    }

    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    pub fn is_full(&self) -> bool {
        self.live >= self.limit
    }

    /// Stores the value built by `make` (which learns its own id), or
    /// returns `None` when the arena is full or memory is short.
    pub fn insert_with(&mut self, make: impl FnOnce(Id) -> T) -> Option<Id> {
        if self.is_full() {
            return None;
        }
        let index = match self.slots.iter().position(|s| s.value.is_none()) {
            Some(i) => i,
            None => {
                self.slots.try_reserve(1).ok()?;
                self.slots.push(Slot { generation: 0, value: None });
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[index];
        let id = Id { index: index as u32, generation: slot.generation };
        slot.value = Some(make(id));
        self.live += 1;
        Some(id)
    }

    #[inline(always)]
    pub fn get(&self, id: Id) -> Option<&T> {
        let slot = self.slots.get(id.index as usize)?;
        if slot.generation == id.generation {
            slot.value.as_ref()
        } else {
            None
        }
    }

    #[inline(always)]
    pub fn get_mut(&mut self, id: Id) -> Option<&mut T> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation == id.generation {
            slot.value.as_mut()
        } else {
            None
        }
    }

    /// The id of the live object in slot `index`, if any.
    #[inline(always)]
    pub fn id_at(&self, index: u32) -> Option<Id> {
        let slot = self.slots.get(index as usize)?;
        slot.value.as_ref().map(|_| Id { index, generation: slot.generation })
    }

    /// Two distinct objects at once (the IPC fast path touches a client and
    /// a server together). `None` if either is missing or they are the same.
    #[inline(always)]
    pub fn get2_mut(&mut self, a: Id, b: Id) -> Option<(&mut T, &mut T)> {
        let (ia, ib) = (a.index as usize, b.index as usize);
        if ia == ib || ia >= self.slots.len() || ib >= self.slots.len() {
            return None;
        }
        let base = self.slots.as_mut_ptr();
        // SAFETY: both indices are in bounds and distinct, so the two
        // references do not overlap; both borrow from `&mut self`.
        let (x, y) = unsafe { (&mut *base.add(ia), &mut *base.add(ib)) };
        if x.generation != a.generation || y.generation != b.generation {
            return None;
        }
        Some((x.value.as_mut()?, y.value.as_mut()?))
    }

    pub fn remove(&mut self, id: Id) -> Option<T> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation || slot.value.is_none() {
            return None;
        }
        slot.generation = slot.generation.wrapping_add(1);
        self.live -= 1;
        slot.value.take()
    }

    pub fn iter(&self) -> impl Iterator<Item = (Id, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.value.as_ref().map(|v| (Id { index: i as u32, generation: s.generation }, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_go_stale_on_removal() {
        let mut a = Arena::new(8);
        let x = a.insert_with(|id| (id, "x")).unwrap();
        assert_eq!(a.get(x).unwrap().0, x);
        assert_eq!(a.remove(x).map(|v| v.1), Some("x"));
        let y = a.insert_with(|id| (id, "y")).unwrap();
        assert_eq!(x.index, y.index);
        assert!(a.get(x).is_none());
        assert!(a.remove(x).is_none());
        assert_eq!(a.get(y).unwrap().1, "y");
    }

    #[test]
    fn two_at_once() {
        let mut a = Arena::new(8);
        let x = a.insert_with(|_| 1).unwrap();
        let y = a.insert_with(|_| 2).unwrap();
        let (p, q) = a.get2_mut(y, x).unwrap();
        assert_eq!((*p, *q), (2, 1));
        *p = 20;
        assert_eq!(a.get(y), Some(&20));
        assert!(a.get2_mut(x, x).is_none());
        a.remove(x);
        assert!(a.get2_mut(x, y).is_none());
    }

    #[test]
    fn limit_and_iteration() {
        let mut a = Arena::new(3);
        let ids: Vec<_> = (0..3).map(|i| a.insert_with(|_| i).unwrap()).collect();
        assert!(a.insert_with(|_| 9).is_none());
        a.remove(ids[1]);
        let vals: Vec<_> = a.iter().map(|(_, v)| *v).collect();
        assert_eq!(vals, vec![0, 2]);
        assert_eq!(a.len(), 2);
    }
}
