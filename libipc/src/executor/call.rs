//! Waiting on the channel from inside a task: [`call_async`] (a request to
//! another server whose reply comes back on our own channel, so other tasks
//! run meanwhile), [`wait_pulse`] (interrupts and other notifications) and
//! [`yield_now`].
//!
//! `call_async` sends with `send_async` and a fresh token, registers the
//! task's waker under that token, and completes when the executor's loop
//! receives the `AsyncReply` with it. The kernel lets a process have
//! `MAX_ASYNC_OUTSTANDING` asynchronous sends unanswered; past that the send
//! says `QueueFull`, and the call waits until one of this executor's
//! outstanding calls is answered, then tries again (so that limit throttles,
//! it does not fail). Dropping the future forgets the token; a reply that
//! comes later is counted as an orphan and dropped.
#![forbid(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use abi::ipc::MAX_MESSAGE;
use abi::Error;

use super::reactor::{self, Reactor};
use crate::ipc::Connection;
use crate::wire::{self, Wire, Writer};
use crate::Result;

/// Sends `req` to the server behind `conn` and awaits its typed reply,
/// without blocking the executor. A reply that does not decode as `R` is
/// `Err(BadArgument)`; an error the server answered is that error.
pub async fn call_async<Q: Wire, R: Wire>(conn: &Connection, req: &Q) -> Result<R> {
    let mut w = Writer::new();
    req.encode(&mut w);
    call_async_with(conn.handle().raw(), w.as_slice(), wire::from_bytes).await
}

/// [`call_async`] with bytes: sends `msg` on connection number `conn` and
/// resolves to the server's status (>= 0) and reply bytes, or the error it
/// answered (or `send_async`'s own: `PeerDied`, `MessageTooLong`, ...).
/// Outside a running executor it fails with `BadState`.
pub fn call_async_raw(conn: u64, msg: Vec<u8>) -> AsyncCall {
    AsyncCall { conn, msg, pending: Pending::default() }
}

/// Sends `msg` on connection number `conn` and resolves to what `decode`
/// makes of the reply bytes (an error the server answered is that error,
/// and `decode` is not called); what the typed clients of
/// [`protocol!`](crate::protocol!) are built on. Nothing is allocated for
/// the message, and the reply's buffer goes back to the executor for the
/// next reply.
pub async fn call_async_with<R>(conn: u64, msg: &[u8], decode: impl FnOnce(&[u8]) -> Result<R>) -> Result<R> {
    let (reply, reactor) = BorrowedCall { conn, msg, pending: Pending::default() }.await?;
    let result = decode(&reply);
    reactor.recycle_reply(reply);
    result
}

/// The future of [`call_async_raw`].
#[must_use = "futures do nothing unless awaited"]
pub struct AsyncCall {
    conn: u64,
    msg: Vec<u8>,
    pending: Pending,
}

impl Future for AsyncCall {
    type Output = Result<(i64, Vec<u8>)>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.pending.poll(this.conn, &this.msg, cx).map(|r| r.map(|(status, data, _)| (status, data)))
    }
}

/// The future inside [`call_async_with`]: resolves to the reply and the
/// reactor to give its buffer back to.
struct BorrowedCall<'a> {
    conn: u64,
    msg: &'a [u8],
    pending: Pending,
}

impl Future for BorrowedCall<'_> {
    type Output = Result<(Vec<u8>, Arc<Reactor>)>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.pending.poll(this.conn, this.msg, cx).map(|r| r.map(|(_, data, reactor)| (data, reactor)))
    }
}

/// What a call resolves to: the server's status (>= 0), the reply bytes and
/// the reactor that received them.
type Answered = (i64, Vec<u8>, Arc<Reactor>);

/// An asynchronous call's progress: the reactor, once found, and the token
/// of the send in flight (forgotten if dropped before the reply).
#[derive(Default)]
struct Pending {
    token: Option<u64>,
    reactor: Option<Arc<Reactor>>,
}

impl Pending {
    /// Sends `msg` on `conn` at the first poll, then waits for the reply.
    fn poll(&mut self, conn: u64, msg: &[u8], cx: &mut Context<'_>) -> Poll<Result<Answered>> {
        let reactor = match &self.reactor {
            Some(r) => r.clone(),
            None => match reactor::current() {
                Some(r) => self.reactor.insert(r).clone(),
                None => return Poll::Ready(Err(Error::BadState)),
            },
        };
        if let Some(token) = self.token {
            return match reactor.poll_call(token, cx.waker()) {
                None => Poll::Pending,
                Some((status, data)) => {
                    self.token = None;
                    Poll::Ready(match status {
                        s if s < 0 => Err(Error::from_raw(s).err().unwrap_or(Error::BadSyscall)),
                        s => Ok((s, data, reactor)),
                    })
                }
            };
        }
        if msg.len() > MAX_MESSAGE {
            return Poll::Ready(Err(Error::MessageTooLong));
        }
        // Register first, then send: the reply can only be received by the
        // executor's loop after this poll returns, and it finds the token.
        let token = match reactor.register_call(cx.waker()) {
            Ok(token) => token,
            Err(e) => return Poll::Ready(Err(e)),
        };
        match reactor.backend.send_async(conn, msg, token) {
            Ok(()) => {
                reactor.stats(|s| s.async_calls += 1);
                self.token = Some(token);
                Poll::Pending
            }
            Err(Error::QueueFull) => {
                reactor.cancel_call(token);
                reactor.wait_for_slot(cx.waker());
                Poll::Pending
            }
            Err(e) => {
                reactor.cancel_call(token);
                Poll::Ready(Err(e))
            }
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let (Some(token), Some(r)) = (self.token, &self.reactor) {
            r.cancel_call(token);
        }
    }
}

/// Waits for a pulse with `code` and resolves to its value. Interrupts bound
/// with `Irq::bind(chan, code)` arrive this way.
///
/// Pulses of a code are kept (up to `abi::ipc::PULSE_QUEUE`, oldest dropped
/// first) from the first time a task waits for that code, so none is lost
/// between two waits; pulses of a code nobody ever waited for are dropped
/// and counted (`Stats::pulses_dropped`). Fails with `BadState` outside a
/// running executor.
pub fn wait_pulse(code: u64) -> WaitPulse {
    WaitPulse { code }
}

/// The future of [`wait_pulse`].
#[must_use = "futures do nothing unless awaited"]
pub struct WaitPulse {
    code: u64,
}

impl Future for WaitPulse {
    type Output = Result<u64>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(reactor) = reactor::current() else { return Poll::Ready(Err(Error::BadState)) };
        match reactor.poll_pulse(self.code, cx.waker()) {
            Some(v) => Poll::Ready(Ok(v)),
            None => Poll::Pending,
        }
    }
}

/// Lets every other ready task run once before this one continues.
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future of [`yield_now`].
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
