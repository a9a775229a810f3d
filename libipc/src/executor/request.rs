//! Requests: what a handler task gets with its decoded request ([`Ctx`]),
//! and how the executor turns a received message into a handler task.
//!
//! Every message gets exactly one reply, whatever happens:
//! - it does not decode as the server's request type: `BadArgument` at once,
//!   no task is made (so no malformed input reaches a handler, and none can
//!   make the server panic);
//! - the handler's future returns `Ok(reply)`: the reply, encoded (too long
//!   for a message: `MessageTooLong`); `Err(e)`: the error `e`;
//! - the handler replied early with [`Ctx::reply`]: nothing more;
//! - the task is dropped unfinished (immediate shutdown): `PeerDied`, from
//!   the context's `Drop`.
//!
//! If the kernel refuses a reply because the client's reply buffer is too
//! small (`MessageTooLong`; the client would still be waiting), the client
//! is answered `MessageTooLong` instead.
#![forbid(unsafe_code)]

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::format;
use alloc::rc::Rc;
use alloc::sync::Arc;
use core::cell::{Cell, RefCell};
use core::future::Future;

use abi::ipc::MAX_MESSAGE;
use abi::Error;

use super::reactor::Reactor;
use super::task::BoxFuture;
use super::{Spawner, TaskId};
use crate::ipc::Handle;
use crate::wire::{self, Wire, Writer};
use crate::Result;

/// A message as the executor's loop hands it to the installed handler.
pub(crate) struct Incoming<'a> {
    pub(crate) rcvid: u64,
    pub(crate) pid: u64,
    pub(crate) data: &'a [u8],
    pub(crate) handle: Option<Handle>,
    pub(crate) asynchronous: bool,
}

/// Turns an incoming message into a task (name, future), or answers it at
/// once and returns `None`.
pub(crate) type Handler = Box<dyn Fn(Incoming<'_>) -> Option<(Cow<'static, str>, BoxFuture)>>;

struct State {
    rcvid: u64,
    pid: u64,
    asynchronous: bool,
    reactor: Arc<Reactor>,
    spawner: Spawner,
    handle: RefCell<Option<Handle>>,
    reply_handle: RefCell<Option<Handle>>,
    replied: Cell<bool>,
}

/// The context of one request: who sent it, what came with it, its leases,
/// and how to answer early. Cheap to clone (all clones are one context).
#[derive(Clone)]
pub struct Ctx {
    state: Rc<State>,
}

impl Ctx {
    pub(crate) fn new(incoming: &mut Incoming<'_>, reactor: &Arc<Reactor>, spawner: &Spawner) -> Ctx {
        Ctx {
            state: Rc::new(State {
                rcvid: incoming.rcvid,
                pid: incoming.pid,
                asynchronous: incoming.asynchronous,
                reactor: reactor.clone(),
                spawner: spawner.clone(),
                handle: RefCell::new(incoming.handle.take()),
                reply_handle: RefCell::new(None),
                replied: Cell::new(false),
            }),
        }
    }

    /// The sender's process id.
    pub fn pid(&self) -> u64 {
        self.state.pid
    }

    /// The receive id (for the raw `ipc` calls).
    pub fn rcvid(&self) -> u64 {
        self.state.rcvid
    }

    /// True if the request came by `send_async` (no leases, no handle; the
    /// sender is not blocked).
    pub fn is_async(&self) -> bool {
        self.state.asynchronous
    }

    /// Takes the handle the client sent with the request, if any (else it is
    /// closed when the request is done).
    pub fn take_handle(&self) -> Option<Handle> {
        self.state.handle.borrow_mut().take()
    }

    /// Gives the client a copy of `handle` with the reply (synchronous
    /// requests; it needs TRANSFER). Our copy is closed after the reply.
    pub fn attach_handle(&self, handle: Handle) {
        *self.state.reply_handle.borrow_mut() = Some(handle);
    }

    /// Copies from the client's lease `index` at `offset` into `buf`.
    pub fn read_lease(&self, index: usize, offset: usize, buf: &mut [u8]) -> Result<usize> {
        self.state.reactor.backend.lease_read(self.state.rcvid, index, offset, buf)
    }

    /// Copies `data` into the client's lease `index` at `offset`.
    pub fn write_lease(&self, index: usize, offset: usize, data: &[u8]) -> Result<usize> {
        self.state.reactor.backend.lease_write(self.state.rcvid, index, offset, data)
    }

    /// Spawns another task on this executor.
    pub fn spawn(&self, name: impl Into<Cow<'static, str>>, fut: impl Future<Output = ()> + 'static) -> Result<TaskId> {
        self.state.spawner.spawn(name, fut)
    }

    /// The spawner of this executor.
    pub fn spawner(&self) -> &Spawner {
        &self.state.spawner
    }

    /// True once the request was answered.
    pub fn replied(&self) -> bool {
        self.state.replied.get()
    }

    /// Answers now with `value` (the handler may go on working; what it
    /// returns later is then ignored). `BadState` if already answered.
    pub fn reply<T: Wire>(&self, value: &T) -> Result<()> {
        let mut w = Writer::new();
        value.encode(&mut w);
        self.answer(Ok(w.as_slice()))
    }

    /// Answers now with an error.
    pub fn reply_error(&self, error: Error) -> Result<()> {
        self.answer(Err(error))
    }

    /// Answers with the handler's result unless answered already.
    pub(crate) fn finish<T: Wire>(&self, result: Result<T>) {
        if !self.replied() {
            let _ = match result {
                Ok(v) => self.reply(&v),
                Err(e) => self.reply_error(e),
            };
        }
    }

    fn answer(&self, result: Result<&[u8]>) -> Result<()> {
        if self.state.replied.replace(true) {
            return Err(Error::BadState);
        }
        let s = &self.state;
        let (status, data) = match result {
            Ok(d) if d.len() > MAX_MESSAGE => {
                s.reactor.backend.log(&format!("{}: reply of {} bytes is too long", s.reactor.config.name, d.len()));
                (Error::MessageTooLong.to_raw(), &[][..])
            }
            Ok(d) => (0, d),
            Err(e) => (e.to_raw(), &[][..]),
        };
        let handle = s.reply_handle.borrow_mut().take();
        let r = s.reactor.backend.reply(s.rcvid, status, data, handle.as_ref().map(Handle::raw));
        let r = match r {
            // The client still waits (its buffer is too small): tell it.
            Err(Error::MessageTooLong) => {
                let _ = s.reactor.backend.reply(s.rcvid, Error::MessageTooLong.to_raw(), &[], None);
                Err(Error::MessageTooLong)
            }
            r => r,
        };
        if r.is_err() {
            s.reactor.stats(|st| st.reply_errors += 1);
        }
        r
    }
}

impl Drop for State {
    fn drop(&mut self) {
        if !self.replied.get() {
            let _ = self.reactor.backend.reply(self.rcvid, Error::PeerDied.to_raw(), &[], None);
        }
    }
}

/// Builds the handler the executor calls for each message: decode as `Req`
/// (or answer `BadArgument`), run `handler`, answer with its result.
pub(crate) fn handler<Req, Rep, F, Fut>(reactor: Arc<Reactor>, spawner: Spawner, handler: F) -> Handler
where
    Req: Wire + 'static,
    Rep: Wire + 'static,
    F: Fn(Req, Ctx) -> Fut + 'static,
    Fut: Future<Output = Result<Rep>> + 'static,
{
    Box::new(move |mut incoming: Incoming<'_>| {
        let ctx = Ctx::new(&mut incoming, &reactor, &spawner);
        let req = match wire::from_bytes::<Req>(incoming.data) {
            Ok(req) => req,
            Err(_) => {
                reactor.stats(|s| s.malformed += 1);
                let _ = ctx.reply_error(Error::BadArgument);
                return None;
            }
        };
        let name = req.describe();
        let fut = handler(req, ctx.clone());
        let task: BoxFuture = Box::pin(async move {
            let result = fut.await;
            ctx.finish(result);
        });
        Some((Cow::Borrowed(name), task))
    })
}
