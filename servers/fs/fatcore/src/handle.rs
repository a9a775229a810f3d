//! The open-file table: what a [`Handle`] refers to.
//!
//! Two levels, as in Unix: a *node* per open file or directory (its
//! directory-entry location is its identity; first cluster, size, chain
//! hint), shared by every handle on it, and a *handle* per `open` (its
//! position and access mode). So two handles on one file see each other's
//! writes, and a file that is open cannot be unlinked (`Busy`) because its
//! clusters would be reused under it.
//!
//! Handles carry a generation, so a stale handle the server forgot to drop
//! gets `BadHandle` instead of reaching whatever reuses its slot.

use alloc::vec::Vec;

use crate::dir::{DirRef, EntryLoc};
use crate::file::{FileState, Hint};
use crate::{Error, Result};

/// An open file or directory, as the server keeps it in its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Handle(u64);

impl Handle {
    /// The handle as a number (for a wire protocol).
    pub fn to_raw(self) -> u64 {
        self.0
    }

    /// A handle from [`Handle::to_raw`]; an invalid one is just `BadHandle`
    /// when used.
    pub fn from_raw(raw: u64) -> Handle {
        Handle(raw)
    }

    fn new(slot: usize, gen: u32) -> Handle {
        Handle((u64::from(gen) << 32) | slot as u64)
    }

    fn slot(self) -> usize {
        (self.0 & 0xFFFF_FFFF) as usize
    }

    fn gen(self) -> u32 {
        (self.0 >> 32) as u32
    }
}

/// How to open: the usual flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// Reads are allowed.
    pub read: bool,
    /// Writes are allowed.
    pub write: bool,
    /// Every write goes to the end of the file.
    pub append: bool,
    /// Create the file if it does not exist.
    pub create: bool,
    /// Create the file; fail with `Exists` if it does exist.
    pub create_new: bool,
    /// Cut the file to length 0.
    pub truncate: bool,
}

impl OpenOptions {
    /// Read only.
    pub fn read() -> OpenOptions {
        OpenOptions { read: true, ..Default::default() }
    }

    /// Read and write an existing file.
    pub fn read_write() -> OpenOptions {
        OpenOptions { read: true, write: true, ..Default::default() }
    }

    /// Write, creating or truncating (`O_WRONLY|O_CREAT|O_TRUNC`).
    pub fn create() -> OpenOptions {
        OpenOptions { write: true, create: true, truncate: true, ..Default::default() }
    }

    /// Append, creating if needed (`O_WRONLY|O_CREAT|O_APPEND`).
    pub fn append() -> OpenOptions {
        OpenOptions { write: true, create: true, append: true, ..Default::default() }
    }

    /// Whether opening may change the disk.
    pub(crate) fn mutates(&self) -> bool {
        self.create || self.create_new || self.truncate
    }
}

/// Where to seek from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeekFrom {
    /// From the start of the file.
    Start(u64),
    /// From the end of the file.
    End(i64),
    /// From the current position.
    Current(i64),
}

/// An open file or directory.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// Its directory entry; `None` for the root directory.
    pub loc: Option<EntryLoc>,
    pub dir: Option<DirRef>,
    pub file: FileState,
    refs: u32,
}

impl Node {
    pub fn new(loc: Option<EntryLoc>, dir: Option<DirRef>, first: u32, size: u32) -> Node {
        Node { loc, dir, file: FileState { first, size, hint: Hint::default() }, refs: 0 }
    }
}

/// A handle's own state.
#[derive(Debug, Clone)]
pub(crate) struct Open {
    pub node: usize,
    pub pos: u64,
    pub read: bool,
    pub write: bool,
    pub append: bool,
}

pub(crate) struct Table {
    nodes: Vec<Option<Node>>,
    opens: Vec<(u32, Option<Open>)>,
    max_open: usize,
    count: usize,
}

impl Table {
    pub fn new(max_open: usize) -> Table {
        Table { nodes: Vec::new(), opens: Vec::new(), max_open: max_open.max(1), count: 0 }
    }

    fn node_index(&self, loc: Option<EntryLoc>) -> Option<usize> {
        self.nodes.iter().position(|n| n.as_ref().is_some_and(|n| n.loc == loc))
    }

    /// Whether the file or directory whose entry is at `loc` is open.
    pub fn is_open(&self, loc: EntryLoc) -> bool {
        self.node_index(Some(loc)).is_some()
    }

    /// Opens `node` (or shares the node already open at its location).
    pub fn open(&mut self, node: Node, read: bool, write: bool, append: bool) -> Result<Handle> {
        if self.count >= self.max_open {
            return Err(Error::TooManyOpen);
        }
        let n = match self.node_index(node.loc) {
            Some(i) => i,
            None => match self.nodes.iter().position(Option::is_none) {
                Some(i) => {
                    self.nodes[i] = Some(node);
                    i
                }
                None => {
                    self.nodes.push(Some(node));
                    self.nodes.len() - 1
                }
            },
        };
        if let Some(Some(node)) = self.nodes.get_mut(n) {
            node.refs += 1;
        }
        let open = Open { node: n, pos: 0, read, write, append };
        let slot = match self.opens.iter().position(|(_, o)| o.is_none()) {
            Some(i) => i,
            None => {
                self.opens.push((0, None));
                self.opens.len() - 1
            }
        };
        let entry = &mut self.opens[slot];
        entry.0 = entry.0.wrapping_add(1);
        entry.1 = Some(open);
        self.count += 1;
        Ok(Handle::new(slot, entry.0))
    }

    pub fn close(&mut self, h: Handle) -> Result<()> {
        let open = match self.opens.get_mut(h.slot()) {
            Some((gen, o)) if *gen == h.gen() => o.take().ok_or(Error::BadHandle)?,
            _ => return Err(Error::BadHandle),
        };
        self.count -= 1;
        if let Some(slot) = self.nodes.get_mut(open.node) {
            if let Some(node) = slot {
                node.refs -= 1;
                if node.refs == 0 {
                    *slot = None;
                }
            }
        }
        Ok(())
    }

    pub fn get(&self, h: Handle) -> Result<(&Open, &Node)> {
        let open = match self.opens.get(h.slot()) {
            Some((gen, Some(o))) if *gen == h.gen() => o,
            _ => return Err(Error::BadHandle),
        };
        let node = self.nodes.get(open.node).and_then(Option::as_ref).ok_or(Error::BadHandle)?;
        Ok((open, node))
    }

    pub fn get_mut(&mut self, h: Handle) -> Result<&mut Open> {
        match self.opens.get_mut(h.slot()) {
            Some((gen, Some(o))) if *gen == h.gen() => Ok(o),
            _ => Err(Error::BadHandle),
        }
    }

    /// The node a handle refers to.
    pub fn node_mut(&mut self, h: Handle) -> Result<&mut Node> {
        let i = self.get(h)?.0.node;
        self.nodes.get_mut(i).and_then(Option::as_mut).ok_or(Error::BadHandle)
    }

    /// The node of the file whose entry is at `loc`, if open.
    pub fn node_at(&mut self, loc: EntryLoc) -> Option<&mut Node> {
        let i = self.node_index(Some(loc))?;
        self.nodes.get_mut(i)?.as_mut()
    }

    /// A renamed entry moved from `from` to `to`.
    pub fn relocate(&mut self, from: EntryLoc, to: EntryLoc) {
        if let Some(n) = self.node_at(from) {
            n.loc = Some(to);
        }
    }

    /// Number of open handles.
    pub fn len(&self) -> usize {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(i: u32) -> EntryLoc {
        EntryLoc { lba: 1, offset: 0, index: i }
    }

    #[test]
    fn nodes_are_shared_and_handles_go_stale() {
        let mut t = Table::new(3);
        let a = t.open(Node::new(Some(loc(1)), None, 5, 10), true, false, false).unwrap();
        let b = t.open(Node::new(Some(loc(1)), None, 5, 10), true, true, false).unwrap();
        assert_eq!(t.get(a).unwrap().0.node, t.get(b).unwrap().0.node);
        assert!(t.is_open(loc(1)));
        t.close(a).unwrap();
        assert_eq!(t.close(a), Err(Error::BadHandle));
        let c = t.open(Node::new(Some(loc(2)), None, 0, 0), true, false, false).unwrap();
        assert_ne!(a, c, "reused slot, new generation");
        assert!(t.get(a).is_err());
        t.open(Node::new(None, Some(DirRef::Root), 0, 0), true, false, false).unwrap();
        assert_eq!(t.open(Node::new(None, None, 0, 0), true, false, false), Err(Error::TooManyOpen));
        t.close(b).unwrap();
        assert!(!t.is_open(loc(1)));
        t.relocate(loc(2), loc(3));
        assert!(t.is_open(loc(3)));
        assert_eq!(t.len(), 2);
    }
}
