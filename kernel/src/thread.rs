//! Threads: a saved register frame, a scheduling priority and a state. A
//! thread that is not running is nothing but this record: blocked threads
//! sit on no queue the scheduler scans.

use crate::arch::trap::TrapFrame;
use crate::ipc::{copy::PageCache, ChannelId, HandleMemo};
use crate::process::Handle;
use abi::ipc::{Lease, MAX_LEASES};
use alloc::vec::Vec;
use kcore::arena::Id;

pub type ThreadId = Id;
pub type ProcessId = Id;

/// Why a blocked thread waits, and so who may wake it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocked {
    /// Until its deadline (in the sleepers list) passes.
    Sleep,
    /// Until this process ends.
    Wait(ProcessId),
    /// Until this thread exits.
    Join(ThreadId),
    /// Queued on a channel until a receiver takes the message.
    Send(ChannelId),
    /// Message taken by a thread of `server`; until it replies.
    Reply { server: ProcessId },
    /// In `receive` on a channel, until something arrives.
    Receive(ChannelId),
    /// The reply is in its registers; it only waits to be scheduled.
    Replied,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// On the CPU.
    Running,
    /// On a run queue.
    Ready,
    Blocked(Blocked),
    /// Ended with this code; kept until its last handle closes.
    Exited(i64),
}

pub struct Thread {
    /// User registers while the thread is not running in user mode. Stays
    /// at a fixed address (the thread is boxed): TSS.RSP0 points past it.
    pub frame: TrapFrame,
    pub process: ProcessId,
    /// Its process's page-table root (CR3), cached for the switch path.
    pub root: u64,
    /// Its process's pid, cached for IPC reports.
    pub pid: u64,
    /// Whether its process has an I/O permission bitmap (a driver).
    pub io_privileged: bool,
    pub priority: u8,
    pub state: State,
    /// Handles naming this thread (it is freed once it exited and this is 0).
    pub handle_refs: u32,
    /// Threads blocked joining this one.
    pub joiners: Vec<ThreadId>,
    /// Timer ticks left in the current time slice.
    pub slice_left: u32,
    /// The priority it runs at without inherited boosts.
    pub base_priority: u8,
    /// Whether a deadline for this thread sits in the sleepers list.
    pub timeout_armed: bool,
    /// What a message exchange needs to remember while the thread waits.
    pub ipc: IpcState,
}

/// A user range (address, length), validated to lie in user space.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Range {
    pub addr: u64,
    pub len: u64,
}

/// The thread's side of a message exchange.
#[derive(Clone, Copy, Debug, Default)]
pub struct IpcState {
    /// The outgoing message (while send-blocked).
    pub msg: Range,
    /// Where the reply goes (while send- or reply-blocked).
    pub reply: Range,
    /// Memory lent to the server until the reply.
    pub leases: [Lease; MAX_LEASES],
    pub lease_count: usize,
    /// A handle travelling with the message.
    pub handle: Option<Handle>,
    /// Where a received message goes (while receive-blocked).
    pub recv_buf: Range,
    /// Sequence number of the current send (part of its receive id).
    pub seq: u32,
    /// The page of `recv_buf` and of `reply` the fast path last copied to.
    pub recv_page: PageCache,
    pub reply_page: PageCache,
    /// The connection it last sent on and the channel it last received on
    /// through the fast path.
    pub send_memo: HandleMemo,
    pub recv_memo: HandleMemo,
}

impl Thread {
    /// Sets the values the thread sees returned from its system call.
    pub fn set_return(&mut self, rax: i64, rdx: u64) {
        self.frame.rax = rax as u64;
        self.frame.rdx = rdx;
    }
}
