//! The name service's logic as a pure table, for whoever hosts the service
//! (init, or a test program that runs its own): name → registered handle
//! and the pid that registered it. No system call happens here, so it is
//! tested on the host; [`serve`](super::serve) wraps it in a receive loop.
//!
//! Ownership: only the process that registered a name may replace or
//! remove it. When that process ends, its supervisor calls
//! [`NameTable::remove_owner`] so a restarted server can register the name
//! again (the table cannot see deaths itself).
#![forbid(unsafe_code)]

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use abi::Error;

use super::{proto, valid_name};
use crate::wire;
use crate::Result;

/// Most names the table holds.
pub const MAX_NAMES: usize = 128;

struct Entry<H> {
    handle: H,
    owner: u64,
}

/// Name → handle, with owners; `H` is the handle type (`ipc::Handle` in
/// the OS, anything in tests).
pub struct NameTable<H> {
    names: BTreeMap<String, Entry<H>>,
}

/// What to answer to one request (see [`NameTable::handle_request`]).
pub struct Answer<'a, H> {
    /// The reply bytes, or the error to answer.
    pub reply: Result<Vec<u8>>,
    /// A handle to give the client a copy of with the reply.
    pub handle: Option<&'a H>,
    /// A handle the table let go of (replaced or unregistered): close it.
    pub released: Option<H>,
}

impl<H> Default for NameTable<H> {
    fn default() -> Self {
        NameTable { names: BTreeMap::new() }
    }
}

impl<H> NameTable<H> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `handle` under `name` for process `owner`. Returns the
    /// handle it replaces (same owner registering again).
    pub fn register(&mut self, name: &str, handle: H, owner: u64) -> Result<Option<H>> {
        if !valid_name(name) {
            return Err(Error::BadArgument);
        }
        let full = self.names.len() >= MAX_NAMES;
        match self.names.get_mut(name) {
            Some(e) if e.owner != owner => Err(Error::PermissionDenied),
            Some(e) => Ok(Some(core::mem::replace(&mut e.handle, handle))),
            None if full => Err(Error::LimitReached),
            None => {
                self.names.insert(String::from(name), Entry { handle, owner });
                Ok(None)
            }
        }
    }

    /// The handle registered under `name`.
    pub fn lookup(&self, name: &str) -> Result<&H> {
        if !valid_name(name) {
            return Err(Error::BadArgument);
        }
        self.names.get(name).map(|e| &e.handle).ok_or(Error::NotFound)
    }

    /// Removes `name`, if `owner` registered it; returns its handle.
    pub fn unregister(&mut self, name: &str, owner: u64) -> Result<H> {
        match self.names.get(name) {
            None => Err(Error::NotFound),
            Some(e) if e.owner != owner => Err(Error::PermissionDenied),
            Some(_) => self.names.remove(name).map(|e| e.handle).ok_or(Error::NotFound),
        }
    }

    /// Removes every name `owner` registered (it ended); returns them with
    /// their handles.
    pub fn remove_owner(&mut self, owner: u64) -> Vec<(String, H)> {
        let gone: Vec<String> = self.names.iter().filter(|(_, e)| e.owner == owner).map(|(n, _)| n.clone()).collect();
        gone.into_iter().filter_map(|n| self.names.remove(&n).map(|e| (n, e.handle))).collect()
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.names.keys().cloned().collect()
    }

    /// Carries out one request of the name protocol: `msg` from process
    /// `pid`, with `handle` if one came with it. Malformed requests are
    /// `BadArgument`; nothing here panics on what a client sends.
    pub fn handle_request(&mut self, msg: &[u8], pid: u64, handle: Option<H>) -> Answer<'_, H> {
        let (reply, released) = match wire::from_bytes::<proto::Request>(msg) {
            Err(e) => (Err(e), handle),
            Ok(proto::Request::Register { name }) => match handle {
                None => (Err(Error::BadArgument), None),
                Some(h) => match self.register(&name, h, pid) {
                    Ok(old) => (Ok(proto::Reply::Register(())), old),
                    // The refused handle was dropped (closed) by `register`.
                    Err(e) => (Err(e), None),
                },
            },
            Ok(proto::Request::Lookup { name }) => {
                return match self.lookup(&name) {
                    Ok(h) => {
                        Answer { reply: Ok(wire::to_vec(&proto::Reply::Lookup(()))), handle: Some(h), released: handle }
                    }
                    Err(e) => Answer { reply: Err(e), handle: None, released: handle },
                };
            }
            Ok(proto::Request::Unregister { name }) => match self.unregister(&name, pid) {
                Ok(h) => (Ok(proto::Reply::Unregister(())), Some(h)),
                Err(e) => (Err(e), None),
            },
            Ok(proto::Request::List {}) => (Ok(proto::Reply::List(self.names())), handle),
        };
        Answer { reply: reply.map(|r| wire::to_vec(&r)), handle: None, released }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn reg(name: &str) -> Vec<u8> {
        proto::encode::register(name)
    }

    #[test]
    fn register_lookup_unregister() {
        let mut t: NameTable<u64> = NameTable::new();
        let a = t.handle_request(&reg("fs"), 10, Some(100));
        assert_eq!((a.reply.is_ok(), a.released), (true, None));
        let a = t.handle_request(&proto::encode::lookup("fs"), 11, None);
        assert_eq!(a.handle, Some(&100));
        assert_eq!(proto::result::lookup(&a.reply.unwrap()), Ok(()));
        // Another process cannot take the name.
        let a = t.handle_request(&reg("fs"), 11, Some(200));
        assert_eq!(a.reply, Err(Error::PermissionDenied));
        // The owner may re-register; the old handle is released.
        let a = t.handle_request(&reg("fs"), 10, Some(101));
        assert_eq!(a.released, Some(100));
        let a = t.handle_request(&proto::encode::list(), 1, None);
        assert_eq!(proto::result::list(&a.reply.unwrap()), Ok(vec![String::from("fs")]));
        assert_eq!(t.handle_request(&proto::encode::unregister("fs"), 11, None).reply, Err(Error::PermissionDenied));
        assert_eq!(t.handle_request(&proto::encode::unregister("fs"), 10, None).released, Some(101));
        assert_eq!(t.handle_request(&proto::encode::lookup("fs"), 11, None).reply, Err(Error::NotFound));
    }

    #[test]
    fn bad_requests_are_errors() {
        let mut t: NameTable<u64> = NameTable::new();
        assert_eq!(t.handle_request(&reg("fs"), 1, None).reply, Err(Error::BadArgument), "no handle sent");
        for bad in ["", "has space", "x/y", &"n".repeat(33)] {
            let a = t.handle_request(&reg(bad), 1, Some(5));
            assert_eq!(a.reply, Err(Error::BadArgument), "{bad:?}");
        }
        let a = t.handle_request(b"garbage", 1, Some(9));
        assert_eq!((a.reply, a.released), (Err(Error::BadArgument), Some(9)), "a stray handle is released");
        for n in 0..MAX_NAMES {
            assert!(t.register(&alloc::format!("n{n}"), n as u64, 1).is_ok());
        }
        assert_eq!(t.register("one-more", 0, 1), Err(Error::LimitReached));
    }

    #[test]
    fn an_owner_dying_frees_its_names() {
        let mut t: NameTable<u64> = NameTable::new();
        t.register("a", 1, 7).unwrap();
        t.register("b", 2, 8).unwrap();
        t.register("c", 3, 7).unwrap();
        let gone = t.remove_owner(7);
        assert_eq!(gone, vec![(String::from("a"), 1), (String::from("c"), 3)]);
        assert_eq!(t.names(), vec![String::from("b")]);
        assert!(t.register("a", 9, 9).is_ok());
    }
}
