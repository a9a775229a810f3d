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
pub mod lease;
pub mod message;
pub mod pulse;

use crate::thread::{ProcessId, ThreadId};
use alloc::{boxed::Box, collections::VecDeque};
use kcore::arena::Id;

pub type ChannelId = Id;

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
    pub receivers: VecDeque<ThreadId>,
    pub pending: VecDeque<Pending>,
    /// Pulses in `pending` (bounded by `abi::ipc::PULSE_QUEUE`).
    pub pulses: usize,
    /// Handles (channel or connection) naming this channel.
    pub refs: u32,
    /// Of those, the channel handles (the ones that can receive).
    pub receive_handles: u32,
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

/// Receive ids name the client thread of a synchronous message
/// (`generation << 32 | index + 1`) or, with `ASYNC_RCVID` set, an
/// in-flight asynchronous message.
pub const ASYNC_RCVID: u64 = 1 << 63;

pub fn rcvid_of(thread: ThreadId) -> u64 {
    (u64::from(thread.generation) << 32) | (u64::from(thread.index) + 1)
}

pub fn thread_of(rcvid: u64) -> Option<ThreadId> {
    let index = (rcvid & 0xffff_ffff).checked_sub(1)?;
    let generation = rcvid >> 32;
    (generation <= u64::from(u32::MAX >> 1)).then_some(Id { index: index as u32, generation: generation as u32 })
}
