//! Message passing, QNX style: channels that servers receive on, connections
//! that clients send through, synchronous send/receive/reply, pulses,
//! asynchronous sends and leases. Synchronous IPC queues *threads*, not
//! messages: a blocked sender is its saved registers and a note of where its
//! message lies, so there is nothing to size and nothing to drop. Pulses and
//! asynchronous messages are the only queued data, and both are bounded.
//!
//! When a receiver is already waiting, a send copies the message and hands
//! the CPU straight to it; a reply to a waiting client hands it straight
//! back (`docs/ipc.md` draws this). The run queues are not touched on that
//! path, and the counters in `Stats` prove it.

pub mod asynchronous;
pub mod copy;
pub mod fastpath;
pub mod lease;
pub mod message;
pub mod pulse;

use crate::process::epochs;
use crate::thread::{ProcessId, ThreadId};
use alloc::{boxed::Box, collections::VecDeque};
use kcore::arena::Id;
use kcore::ring::Ring;

/// Threads that can wait in `receive` on one channel at once.
pub const MAX_RECEIVERS: usize = crate::process::MAX_THREADS;

pub type ChannelId = Id;

/// A handle resolved for a thread — a connection it sends on or a channel
/// it receives on, its kind and right already checked — kept while no
/// handle has been removed from any table (`epochs::HANDLES`): handle
/// entries never change in place, so until a removal the value still names
/// the same channel with the same rights. Used by the fast path and by the
/// general path's lookups (`syscall/ipc.rs`).
#[derive(Clone, Copy, Debug, Default)]
pub struct HandleMemo {
    value: u64,
    channel: ChannelId,
    epoch: u64,
}

impl HandleMemo {
    /// The channel behind handle `value`, if this is its memo and still true.
    #[inline(always)]
    pub fn get(&self, value: u64) -> Option<ChannelId> {
        (self.value == value && self.epoch == epochs::HANDLES.get()).then_some(self.channel)
    }

    /// Remembers that `value` names `channel` (with the right checked).
    #[inline(always)]
    pub fn new(value: u64, channel: ChannelId) -> Self {
        HandleMemo { value, channel, epoch: epochs::HANDLES.get() }
    }
}

/// Something waiting on a channel to be received, in arrival order.
pub enum Pending {
    /// A thread blocked in `send` (its message is still in its memory).
    Send(ThreadId),
    Pulse {
        code: u64,
        value: u64,
    },
    /// An asynchronous message, copied into the kernel when sent.
    Async(Box<asynchronous::AsyncMessage>),
    /// The reply to one of the owner's asynchronous sends.
    AsyncReply(Box<asynchronous::AsyncReply>),
}

pub struct Channel {
    pub owner: ProcessId,
    /// False once the owner ended: sends fail with `PeerDied`.
    pub alive: bool,
    /// Threads blocked in `receive`, first come first served.
    pub receivers: Ring<ThreadId, MAX_RECEIVERS>,
    pub pending: VecDeque<Pending>,
    /// Pulses in `pending` (bounded by `abi::ipc::PULSE_QUEUE`).
    pub pulses: usize,
    /// Handles (channel or connection) naming this channel.
    pub refs: u32,
    /// Of those, the channel handles (the ones that can receive).
    pub receive_handles: u32,
    /// The process most recently given a handle that can receive on it
    /// (its creator, then whoever it is passed to): the serving process,
    /// whose busy threads inherit the priority of a sender that has to queue.
    pub server: Option<ProcessId>,
}

/// IPC counters, exported through `kernel_info(InfoKind::Ipc)`.
#[derive(Clone, Copy, Default, Debug)]
pub struct IpcCounters {
    pub fast_sends: u64,
    pub fast_replies: u64,
    pub slow_sends: u64,
    pub pulses: u64,
    pub async_sends: u64,
}

/// Receive ids name one send: the client thread's slot and the send's
/// sequence number (`seq << 32 | index + 1`, `seq` < 2^30, unique across
/// the system until it wraps). A reply to a send that timed out therefore
/// finds nothing, even if the same thread has sent again since. With
/// `ASYNC_RCVID` set, the id names an in-flight asynchronous message. Bits
/// 62 and 63 of a synchronous id are clear, so every id is positive.
pub const ASYNC_RCVID: u64 = 1 << 62;
/// Sequence numbers wrap at this mask.
pub const SEQ_MASK: u32 = (1 << 30) - 1;

pub fn rcvid_of(thread: ThreadId, seq: u32) -> u64 {
    (u64::from(seq & SEQ_MASK) << 32) | (u64::from(thread.index) + 1)
}

/// The slot index and sequence number a synchronous receive id carries.
pub fn rcvid_parts(rcvid: u64) -> Option<(u32, u32)> {
    if rcvid & (ASYNC_RCVID | 1 << 63) != 0 {
        return None;
    }
    let index = (rcvid & 0xffff_ffff).checked_sub(1)? as u32;
    Some((index, (rcvid >> 32) as u32))
}

impl crate::state::Kernel {
    /// A fresh sequence number for a send.
    #[inline]
    pub fn take_seq(&mut self) -> u32 {
        let seq = self.next_seq;
        self.next_seq = (seq + 1) & SEQ_MASK;
        seq
    }

    /// The client thread a synchronous receive id names, if that very send
    /// is still the thread's current one.
    #[inline]
    pub fn client_of(&self, rcvid: u64) -> Option<ThreadId> {
        let (index, seq) = rcvid_parts(rcvid)?;
        let id = self.threads.id_at(index)?;
        (self.threads.get(id)?.ipc.seq == seq).then_some(id)
    }
}
