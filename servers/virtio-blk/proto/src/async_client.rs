//! A client for tasks of an executor (`libipc::executor`), such as the fs
//! server's: every request is an asynchronous send with its data inline
//! (`send_async` carries no leases), so a task waiting for the disk lets
//! the server's other tasks run, and many requests are in flight at once.
//!
//! A transfer longer than one inline request ([`MAX_INLINE_READ`] /
//! [`MAX_INLINE_WRITE`] sectors) is cut into pieces that are all sent
//! before the first reply is awaited; the driver serves them in parallel.
//! The kernel bounds one process's unanswered asynchronous sends
//! (`MAX_ASYNC_OUTSTANDING`); past that the executor holds the next send
//! back until a reply frees a place, so long transfers throttle, not fail.

use alloc::vec::Vec;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use abi::Error;
use libipc::executor::{call_async_raw, AsyncCall};
use libipc::ipc::Connection;

use crate::wire::{BlkError, Info, Op, Request, MAX_INLINE_READ, MAX_INLINE_WRITE, SECTOR_SIZE};

/// A connection to a block driver, for async code.
#[derive(Debug)]
pub struct AsyncClient {
    conn: Connection,
}

impl AsyncClient {
    /// Talks to the driver through `conn`.
    pub fn new(conn: Connection) -> AsyncClient {
        AsyncClient { conn }
    }

    /// The connection.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The device's size and properties.
    pub async fn info(&self) -> Result<Info, BlkError> {
        let (status, data) = self.call(Request::new(Op::Info).encode().to_vec()).await?;
        BlkError::from_status(status)?;
        Ok(Info::decode(&data)?)
    }

    /// Reads `buf.len() / 512` sectors from `sector` into `buf` (a
    /// multiple of 512 bytes).
    pub async fn read(&self, sector: u64, buf: &mut [u8]) -> Result<(), BlkError> {
        let calls = pieces(sector, buf.len(), MAX_INLINE_READ)?
            .map(|(s, n)| self.call(Request::io(Op::Read, s, n).inline().encode().to_vec()))
            .collect();
        let replies = JoinAll::new(calls).await;
        let chunk = MAX_INLINE_READ as usize * SECTOR_SIZE;
        // Every piece is checked (and its data placed) before the first
        // error is reported, so a failure says which kind it was.
        let mut first_error = None;
        for (dest, reply) in buf.chunks_mut(chunk).zip(replies) {
            let placed = reply.map_err(BlkError::Ipc).and_then(|(status, data)| {
                BlkError::from_status(status)?;
                if data.len() != dest.len() {
                    return Err(BlkError::Ipc(Error::BadState));
                }
                dest.copy_from_slice(&data);
                Ok(())
            });
            if let (Err(e), None) = (placed, first_error) {
                first_error = Some(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Writes `buf` (a multiple of 512 bytes) at `sector`.
    pub async fn write(&self, sector: u64, buf: &[u8]) -> Result<(), BlkError> {
        let chunk = MAX_INLINE_WRITE as usize * SECTOR_SIZE;
        let calls = pieces(sector, buf.len(), MAX_INLINE_WRITE)?
            .zip(buf.chunks(chunk))
            .map(|((s, n), data)| {
                let mut msg = Request::io(Op::Write, s, n).inline().encode().to_vec();
                msg.extend_from_slice(data);
                self.call(msg)
            })
            .collect();
        let mut first_error = None;
        for reply in JoinAll::new(calls).await {
            let done = reply.map_err(BlkError::Ipc).and_then(|(status, _)| BlkError::from_status(status));
            if let (Err(e), None) = (done, first_error) {
                first_error = Some(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Makes every write that completed so far durable.
    pub async fn flush(&self) -> Result<(), BlkError> {
        let (status, _) = self.call(Request::new(Op::Flush).encode().to_vec()).await?;
        BlkError::from_status(status)
    }

    fn call(&self, msg: Vec<u8>) -> AsyncCall {
        call_async_raw(self.conn.handle().raw(), msg)
    }
}

/// The (sector, count) pieces of at most `max` sectors covering `len`
/// bytes from `sector`.
fn pieces(sector: u64, len: usize, max: u32) -> Result<impl Iterator<Item = (u64, u32)>, BlkError> {
    if !len.is_multiple_of(SECTOR_SIZE) {
        return Err(BlkError::Ipc(Error::BadArgument));
    }
    let total = (len / SECTOR_SIZE) as u64;
    let max = u64::from(max);
    Ok((0..total.div_ceil(max)).map(move |i| {
        let first = i * max;
        (sector.wrapping_add(first), (total - first).min(max) as u32)
    }))
}

/// What one call resolves to: the reply status and bytes.
type CallResult = libipc::Result<(i64, Vec<u8>)>;

/// Awaits every call; resolves to their results in order. (Each call
/// sends on its first poll, so all are in flight before any is awaited.)
struct JoinAll {
    calls: Vec<Option<AsyncCall>>,
    results: Vec<Option<CallResult>>,
}

impl JoinAll {
    fn new(calls: Vec<AsyncCall>) -> JoinAll {
        let results = calls.iter().map(|_| None).collect();
        JoinAll { calls: calls.into_iter().map(Some).collect(), results }
    }
}

impl Future for JoinAll {
    type Output = Vec<CallResult>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        for (slot, result) in this.calls.iter_mut().zip(this.results.iter_mut()) {
            if let Some(call) = slot {
                if let Poll::Ready(r) = Pin::new(call).poll(cx) {
                    *result = Some(r);
                    *slot = None;
                }
            }
        }
        if this.calls.iter().any(Option::is_some) {
            return Poll::Pending;
        }
        Poll::Ready(this.results.iter_mut().map(|r| r.take().unwrap_or(Err(Error::BadState))).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn pieces_cover_the_buffer() {
        let p: Vec<_> = pieces(10, 20 * 512, 8).unwrap().collect();
        assert_eq!(p, vec![(10, 8), (18, 8), (26, 4)]);
        let p: Vec<_> = pieces(0, 7 * 512, 7).unwrap().collect();
        assert_eq!(p, vec![(0, 7)]);
        assert_eq!(pieces(0, 0, 7).unwrap().count(), 0);
        assert!(pieces(0, 100, 7).is_err());
    }
}
