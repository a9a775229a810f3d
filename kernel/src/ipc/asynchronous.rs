//! Asynchronous sends, for senders that must not block (a server whose
//! executor runs other tasks). The message is copied into the kernel and
//! queued on the channel in arrival order with everything else; the server
//! receives and replies to it like any message, and the reply is queued on
//! the channel the sender named, tagged with the sender's token. Bounded by
//! `MAX_ASYNC_OUTSTANDING` per sending process: past that, `QueueFull`.
//!
//! Deaths: if the server dies first, the sender gets an `AsyncReply` with
//! status `-PeerDied`; if the sender dies first, its message is still
//! delivered and served, and the reply is dropped (nobody can receive it).

use super::copy;
use super::message::Received;
use super::{ChannelId, Pending, ASYNC_RCVID, SEQ_MASK};
use crate::state::Kernel;
use crate::thread::{ProcessId, Range, ThreadId};
use abi::ipc::{Kind, MAX_ASYNC_OUTSTANDING, MAX_MESSAGE};
use abi::Error;
use alloc::boxed::Box;
use kcore::arena::Id;

pub struct AsyncMessage {
    pub sender: ProcessId,
    pub sender_pid: u64,
    pub token: u64,
    pub reply_channel: ChannelId,
    pub data: Box<[u8]>,
}

pub struct AsyncReply {
    pub token: u64,
    pub status: i64,
    pub data: Box<[u8]>,
}

/// An asynchronous message a server received and has not answered yet.
pub struct InFlight {
    pub server: ProcessId,
    pub sender: ProcessId,
    pub token: u64,
    pub reply_channel: ChannelId,
}

/// A zeroed kernel buffer for a message copy; `NoMemory` rather than a
/// panic if the heap is short.
fn zeroed_buffer(len: usize) -> Result<Box<[u8]>, Error> {
    let mut v = alloc::vec::Vec::new();
    v.try_reserve_exact(len).map_err(|_| Error::NoMemory)?;
    v.resize(len, 0);
    Ok(v.into_boxed_slice())
}

fn async_rcvid(id: Id) -> u64 {
    ASYNC_RCVID | (u64::from(id.generation & SEQ_MASK) << 32) | (u64::from(id.index) + 1)
}

impl Kernel {
    /// The current process posts `msg` to `ch`; the reply will come to `reply_ch`.
    pub fn ipc_send_async(&mut self, ch: ChannelId, msg: Range, token: u64, reply_ch: ChannelId) -> Result<(), Error> {
        if msg.len > MAX_MESSAGE as u64 {
            return Err(Error::MessageTooLong);
        }
        let me = self.current.ok_or(Error::BadState)?;
        let process = self.cur().process;
        let p = self.processes.get(process).ok_or(Error::BadState)?;
        if p.async_outstanding >= MAX_ASYNC_OUTSTANDING {
            return Err(Error::QueueFull);
        }
        let sender_pid = p.pid;
        if !self.channels.get(ch).is_some_and(|c| c.alive) {
            return Err(Error::PeerDied);
        }
        let mut data = zeroed_buffer(msg.len as usize)?;
        let tables = self.tables_of(me).ok_or(Error::BadState)?;
        copy::copy_in(tables, msg.addr, &mut data).map_err(|_| Error::BadAddress)?;
        let m = Box::new(AsyncMessage { sender: process, sender_pid, token, reply_channel: reply_ch, data });
        self.post(ch, Pending::Async(m))?;
        if let Some(p) = self.processes.get_mut(process) {
            p.async_outstanding += 1;
        }
        self.ipc_counters.async_sends += 1;
        Ok(())
    }

    /// Queues `item` on `ch`, or hands it at once to a waiting receiver.
    pub fn post(&mut self, ch: ChannelId, item: Pending) -> Result<(), Error> {
        let c = self.channels.get_mut(ch).ok_or(Error::PeerDied)?;
        if !c.alive {
            return Err(Error::PeerDied);
        }
        if let Pending::Pulse { .. } = item {
            if c.pulses >= abi::ipc::PULSE_QUEUE {
                return Err(Error::QueueFull);
            }
            c.pulses += 1;
        }
        c.pending.try_reserve(1).map_err(|_| Error::NoMemory)?;
        c.pending.push_back(item);
        // A receiver waits only when nothing was pending, so this item is
        // the one it gets.
        while let Some(receiver) = self.channels.get_mut(ch).and_then(|c| c.receivers.pop_front()) {
            match self.take_pending(receiver, ch) {
                Ok(true) => {
                    self.disarm_timeout(receiver);
                    if let Some(t) = self.thread(receiver) {
                        t.state = crate::thread::State::Blocked(crate::thread::Blocked::Replied);
                    }
                    self.make_ready(receiver);
                    break;
                }
                Ok(false) => {
                    if let Some(c) = self.channels.get_mut(ch) {
                        let _ = c.receivers.push_front(receiver);
                    }
                    break;
                }
                Err(e) => self.wake(receiver, e.to_raw(), 0),
            }
        }
        Ok(())
    }

    /// Hands an asynchronous message to `receiver`. False if it could not
    /// be delivered (too long for the buffer: its sender is told instead).
    pub fn deliver_async(&mut self, m: &AsyncMessage, receiver: ThreadId) -> Result<bool, Error> {
        let r = self.threads.get(receiver).ok_or(Error::BadState)?;
        let (buf, server) = (r.ipc.recv_buf, r.process);
        if m.data.len() as u64 > buf.len {
            self.finish_async(m.sender, m.reply_channel, m.token, Error::MessageTooLong.to_raw(), &[]);
            return Ok(false);
        }
        let tables = self.tables_of(receiver).ok_or(Error::BadState)?;
        copy::copy_out(&m.data, tables, buf.addr).map_err(|_| Error::BadAddress)?;
        let id = self
            .async_inflight
            .insert_with(|_| InFlight { server, sender: m.sender, token: m.token, reply_channel: m.reply_channel })
            .ok_or(Error::NoMemory)?;
        self.set_received(
            receiver,
            &Received {
                rcvid: async_rcvid(id),
                len: m.data.len() as u64,
                kind: Kind::AsyncMessage,
                word: m.sender_pid,
                value: 0,
                handle: 0,
            },
        );
        Ok(true)
    }

    /// Hands the reply to one of `receiver`'s asynchronous sends to it.
    pub fn deliver_async_reply(&mut self, r: &AsyncReply, receiver: ThreadId) -> Result<(), Error> {
        let buf = self.threads.get(receiver).ok_or(Error::BadState)?.ipc.recv_buf;
        let (status, data): (i64, &[u8]) =
            if r.data.len() as u64 > buf.len { (Error::MessageTooLong.to_raw(), &[]) } else { (r.status, &r.data) };
        let tables = self.tables_of(receiver).ok_or(Error::BadState)?;
        copy::copy_out(data, tables, buf.addr).map_err(|_| Error::BadAddress)?;
        self.set_received(
            receiver,
            &Received {
                rcvid: 0,
                len: data.len() as u64,
                kind: Kind::AsyncReply,
                word: r.token,
                value: status as u64,
                handle: 0,
            },
        );
        Ok(())
    }

    /// The current process answers an asynchronous message.
    pub fn reply_async(&mut self, rcvid: u64, status: i64, msg: Range) -> Result<(), Error> {
        let index = (rcvid & 0xffff_ffff).checked_sub(1).ok_or(Error::BadArgument)? as u32;
        let generation = ((rcvid & !ASYNC_RCVID) >> 32) as u32;
        let id = self
            .async_inflight
            .id_at(index)
            .filter(|id| id.generation & SEQ_MASK == generation)
            .ok_or(Error::PeerDied)?;
        let me = self.cur().process;
        match self.async_inflight.get(id) {
            Some(f) if f.server == me => {}
            _ => return Err(Error::PeerDied),
        }
        let mut data = zeroed_buffer(msg.len as usize)?;
        let thread = self.current.ok_or(Error::BadState)?;
        let tables = self.tables_of(thread).ok_or(Error::BadState)?;
        copy::copy_in(tables, msg.addr, &mut data).map_err(|_| Error::BadAddress)?;
        let f = self.async_inflight.remove(id).ok_or(Error::PeerDied)?;
        self.finish_async(f.sender, f.reply_channel, f.token, status, &data);
        Ok(())
    }

    /// Delivers the outcome of an asynchronous send to its sender's reply
    /// channel (dropped if the sender is gone) and releases its slot.
    pub fn finish_async(&mut self, sender: ProcessId, reply_ch: ChannelId, token: u64, status: i64, data: &[u8]) {
        let Some(p) = self.processes.get_mut(sender) else { return };
        p.async_outstanding = p.async_outstanding.saturating_sub(1);
        if !self.process_alive(sender) {
            return;
        }
        let Ok(mut copy) = zeroed_buffer(data.len()) else {
            // No room for the reply's data: tell the sender so, without it.
            let reply = Box::new(AsyncReply { token, status: Error::NoMemory.to_raw(), data: Box::new([]) });
            let _ = self.post(reply_ch, Pending::AsyncReply(reply));
            return;
        };
        copy.copy_from_slice(data);
        let reply = Box::new(AsyncReply { token, status, data: copy });
        // The slot was reserved at send time, so only a dead channel refuses.
        let _ = self.post(reply_ch, Pending::AsyncReply(reply));
    }

    /// A server process ended: every asynchronous message it held unanswered
    /// gets `PeerDied` back.
    pub fn fail_inflight_of(&mut self, server: ProcessId) {
        let dead: alloc::vec::Vec<Id> =
            self.async_inflight.iter().filter(|(_, f)| f.server == server).map(|(id, _)| id).collect();
        for id in dead {
            if let Some(f) = self.async_inflight.remove(id) {
                self.finish_async(f.sender, f.reply_channel, f.token, Error::PeerDied.to_raw(), &[]);
            }
        }
    }
}
