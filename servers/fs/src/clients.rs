//! The per-client open-file table: which process opened which file.
//!
//! fatcore has its own table of open files (positions, shared nodes); this
//! one sits in front of it and answers "may this process use this
//! handle?". The numbers clients see are never reused: the server's pid in
//! the top half (a restarted server has a new pid, so a handle from before
//! a crash is `BadHandle`, not someone else's file) and a counter in the
//! bottom half. A handle works only for the process that opened it.
//!
//! Each process may hold [`PER_CLIENT`] files. When a process ends its
//! files must be closed (an open file cannot be removed, and the table is
//! bounded): the server sweeps the table against the kernel's process list
//! ([`Clients::orphans`]) when a reply finds the client gone, when a limit
//! or a `Busy` error might be a dead client's doing, and periodically.

use alloc::collections::{btree_map, BTreeMap};
use alloc::vec::Vec;

use fs_proto::FsError;

/// Files one process may have open at once.
pub const PER_CLIENT: usize = 32;

/// One open file: its owner and fatcore's handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry<H> {
    pid: u64,
    inner: H,
}

/// The table; `H` is fatcore's handle type (anything `Copy` in tests).
#[derive(Debug)]
pub struct Clients<H> {
    files: BTreeMap<u64, Entry<H>>,
    /// The top half of every number issued.
    salt: u64,
    /// The bottom half of the next number.
    next: u32,
}

impl<H: Copy> Clients<H> {
    /// An empty table whose numbers carry `salt` (the server's pid).
    pub fn new(salt: u64) -> Clients<H> {
        Clients { files: BTreeMap::new(), salt: salt << 32, next: 1 }
    }

    /// Files `pid` has open.
    pub fn count(&self, pid: u64) -> usize {
        self.files.values().filter(|e| e.pid == pid).count()
    }

    /// Files open in all.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True if no file is open.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// True if `pid` may open another file.
    pub fn has_room(&self, pid: u64) -> bool {
        self.count(pid) < PER_CLIENT
    }

    /// Records that `pid` opened `inner`; returns the number to give it.
    /// `TooManyOpen` if `pid` holds [`PER_CLIENT`] files already.
    pub fn insert(&mut self, pid: u64, inner: H) -> Result<u64, FsError> {
        if !self.has_room(pid) {
            return Err(FsError::TooManyOpen);
        }
        // The counter wraps after 2^32 opens; skip numbers still in use.
        loop {
            let id = self.salt | u64::from(self.next);
            self.next = self.next.wrapping_add(1).max(1);
            if let btree_map::Entry::Vacant(slot) = self.files.entry(id) {
                slot.insert(Entry { pid, inner });
                return Ok(id);
            }
        }
    }

    /// fatcore's handle for `pid`'s file `id`; `BadHandle` if there is no
    /// such file or it belongs to another process.
    pub fn get(&self, pid: u64, id: u64) -> Result<H, FsError> {
        match self.files.get(&id) {
            Some(e) if e.pid == pid => Ok(e.inner),
            _ => Err(FsError::BadHandle),
        }
    }

    /// Forgets `pid`'s file `id` (errors as [`get`](Self::get)) and
    /// returns fatcore's handle, for the caller to close.
    pub fn remove(&mut self, pid: u64, id: u64) -> Result<H, FsError> {
        let inner = self.get(pid, id)?;
        self.files.remove(&id);
        Ok(inner)
    }

    /// Forgets every file of `pid`; returns fatcore's handles.
    pub fn remove_pid(&mut self, pid: u64) -> Vec<H> {
        let mut gone = Vec::new();
        self.files.retain(|_, e| {
            if e.pid == pid {
                gone.push(e.inner);
            }
            e.pid != pid
        });
        gone
    }

    /// The processes holding files that are not in `alive`.
    pub fn orphans(&self, alive: &[u64]) -> Vec<u64> {
        let mut pids: Vec<u64> = self.files.values().map(|e| e.pid).filter(|p| !alive.contains(p)).collect();
        pids.sort_unstable();
        pids.dedup();
        pids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_belong_to_their_process() {
        let mut t = Clients::new(7);
        let a = t.insert(1, 'a').unwrap();
        let b = t.insert(2, 'b').unwrap();
        assert_ne!(a, b);
        assert_eq!(a >> 32, 7, "the server's pid is in every number");
        assert_eq!(t.get(1, a), Ok('a'));
        assert_eq!(t.get(2, a), Err(FsError::BadHandle));
        assert_eq!(t.remove(2, a), Err(FsError::BadHandle));
        assert_eq!(t.get(1, 12345), Err(FsError::BadHandle));
        assert_eq!(t.remove(1, a), Ok('a'));
        assert_eq!(t.get(1, a), Err(FsError::BadHandle), "closed");
        let c = t.insert(1, 'c').unwrap();
        assert_ne!(a, c, "numbers are not reused");
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn a_restarted_server_refuses_old_numbers() {
        let mut old = Clients::new(5);
        let id = old.insert(1, ()).unwrap();
        let mut new = Clients::new(9);
        let fresh = new.insert(1, ()).unwrap();
        assert_ne!(id, fresh);
        assert_eq!(new.get(1, id), Err(FsError::BadHandle));
    }

    #[test]
    fn each_client_has_a_quota() {
        let mut t = Clients::new(1);
        for i in 0..PER_CLIENT {
            t.insert(3, i).unwrap();
        }
        assert_eq!(t.insert(3, 99), Err(FsError::TooManyOpen));
        assert!(t.insert(4, 99).is_ok(), "other clients are not affected");
    }

    #[test]
    fn dead_clients_are_found_and_cleared() {
        let mut t = Clients::new(1);
        for (pid, h) in [(10, 1), (11, 2), (10, 3), (12, 4)] {
            t.insert(pid, h).unwrap();
        }
        assert_eq!(t.orphans(&[11]), [10, 12]);
        let mut gone = t.remove_pid(10);
        gone.sort_unstable();
        assert_eq!(gone, [1, 3]);
        assert_eq!(t.orphans(&[11]), [12]);
        assert_eq!(t.count(10), 0);
        assert!(t.remove_pid(10).is_empty());
    }

    #[test]
    fn the_counter_skips_numbers_in_use() {
        let mut t = Clients::new(0);
        let first = t.insert(1, ()).unwrap();
        t.next = u32::MAX;
        let last = t.insert(1, ()).unwrap();
        assert_eq!(last, u64::from(u32::MAX));
        // Wrapped: 0 is skipped (never issued) and 1 is still open.
        let next = t.insert(1, ()).unwrap();
        assert_eq!(first, 1);
        assert_eq!(next, 2);
    }
}
