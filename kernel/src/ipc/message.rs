//! Synchronous messages: send, receive and reply, and the hand-offs between
//! them. The states a thread goes through:
//!
//! ```text
//!  client:  Running --send--> Send(ch) --received--> Reply{server} --reply--> Ready/Running
//!                \--send, receiver waiting (fast)--> Reply{server} ----------/
//!  server:  Running --receive, nothing pending--> Receive(ch) --message--> Running
//! ```
//!
//! A send that finds a receiver waiting copies the message and switches
//! straight to it; a `reply_receive` that finds nothing pending switches
//! straight back to the client. Neither touches the run queues.

use super::copy::{self, CopyFault};
use super::{rcvid_of, ChannelId, Pending, ASYNC_RCVID};
use crate::arch::trap::TrapFrame;
use crate::process::{Handle, ProcessState};
use crate::state::Kernel;
use crate::syscall::Next;
use crate::thread::{Blocked, ProcessId, Range, State, ThreadId};
use abi::ipc::{Kind, Lease, MAX_LEASES, MAX_MESSAGE};
use abi::Error;
use kcore::paging::PageTables;

/// Everything a send carries besides the channel.
pub struct Outgoing<'a> {
    pub msg: Range,
    pub reply: Range,
    /// At most `MAX_LEASES` (the system call checked).
    pub leases: &'a [Lease],
    pub handle: Option<Handle>,
    pub timeout_ns: u64,
}

/// Who is to blame when a delivery fails.
enum DeliveryError {
    /// The sender's side is wrong: it gets the error.
    Sender(Error),
    /// The receiver's buffer is wrong: it gets the error.
    Receiver(Error),
}

/// What `receive` reports, written into the receiver's registers.
pub struct Received {
    pub rcvid: u64,
    pub len: u64,
    pub kind: Kind,
    pub word: u64,
    pub value: u64,
    pub handle: u64,
}

impl Received {
    /// Puts the result in the registers `receive` returns in (see
    /// `abi::syscall::Syscall::Receive`).
    #[inline(always)]
    pub fn write_to(&self, f: &mut TrapFrame) {
        f.rax = self.rcvid;
        f.rdx = self.len;
        f.rdi = self.kind as u64;
        f.rsi = self.word;
        f.r8 = self.value;
        f.r9 = self.handle;
    }
}

impl Kernel {
    /// The page tables of `thread`'s process. A thread in the arena always
    /// belongs to a process whose space is alive: `end_process` frees its
    /// threads (and, with its handles, any exited ones) before the space.
    pub fn tables_of(&self, thread: ThreadId) -> Option<PageTables> {
        self.threads.get(thread).map(|t| PageTables { root: t.root })
    }

    /// Writes a receive result into `thread`'s saved registers.
    pub fn set_received(&mut self, thread: ThreadId, r: &Received) {
        if let Some(t) = self.thread(thread) {
            r.write_to(&mut t.frame);
        }
    }

    /// Gives `handle` to the process of `thread`; returns the new value.
    pub fn give_handle(&mut self, thread: ThreadId, handle: Handle) -> Result<u64, Error> {
        let process = self.threads.get(thread).ok_or(Error::PeerDied)?.process;
        let p = self.processes.get_mut(process).ok_or(Error::PeerDied)?;
        let value = p.handles.insert(handle).map_err(|_| Error::LimitReached)?;
        self.retain(handle, process);
        Ok(value)
    }

    /// Moves `client`'s message into `receiver`'s receive buffer and turns
    /// the client reply-blocked. Does not change the receiver's state.
    fn deliver(&mut self, client: ThreadId, receiver: ThreadId) -> Result<(), DeliveryError> {
        let c = self.threads.get(client).ok_or(DeliveryError::Sender(Error::PeerDied))?;
        let (msg, handle, client_priority, seq) = (c.ipc.msg, c.ipc.handle, c.priority, c.ipc.seq);
        let r = self.threads.get(receiver).ok_or(DeliveryError::Receiver(Error::BadState))?;
        let (buf, server) = (r.ipc.recv_buf, r.process);
        if msg.len > buf.len {
            return Err(DeliveryError::Sender(Error::MessageTooLong));
        }
        let src = self.tables_of(client).ok_or(DeliveryError::Sender(Error::PeerDied))?;
        let dst = self.tables_of(receiver).ok_or(DeliveryError::Receiver(Error::BadState))?;
        copy::copy(src, msg.addr, dst, buf.addr, msg.len).map_err(|f| match f {
            CopyFault::Source => DeliveryError::Sender(Error::BadAddress),
            CopyFault::Destination => DeliveryError::Receiver(Error::BadAddress),
        })?;
        let handle_value = match handle {
            Some(h) => self.give_handle(receiver, h).map_err(DeliveryError::Sender)?,
            None => 0,
        };
        let Some((c, r)) = self.threads.get2_mut(client, receiver) else { return Ok(()) };
        let word = c.pid;
        Received {
            rcvid: rcvid_of(client, seq),
            len: msg.len,
            kind: Kind::Message,
            word,
            value: 0,
            handle: handle_value,
        }
        .write_to(&mut r.frame);
        c.state = State::Blocked(Blocked::Reply { server });
        c.ipc.handle = None;
        // Priority inheritance: serve the client at least at its priority.
        r.priority = r.base_priority.max(client_priority);
        Ok(())
    }

    /// The current thread sends on channel `ch` and waits for the reply.
    pub fn ipc_send(&mut self, ch: ChannelId, out: &Outgoing<'_>) -> Result<Next, Error> {
        let me = self.current.ok_or(Error::BadState)?;
        let channel = self.channels.get(ch).ok_or(Error::PeerDied)?;
        if !channel.alive {
            return Err(Error::PeerDied);
        }
        let seq = self.take_seq();
        let t = self.cur();
        t.ipc.seq = seq;
        t.ipc.msg = out.msg;
        t.ipc.reply = out.reply;
        let n = out.leases.len().min(MAX_LEASES);
        if n > 0 {
            t.ipc.leases[..n].copy_from_slice(&out.leases[..n]);
        }
        t.ipc.lease_count = n;
        t.ipc.handle = out.handle;
        if out.timeout_ns != 0 {
            let deadline = crate::arch::time::uptime_ns().saturating_add(out.timeout_ns);
            self.arm_timeout(me, deadline)?;
        }
        // Fast path: a receiver is waiting.
        while let Some(receiver) = self.channels.get_mut(ch).and_then(|c| c.receivers.pop_front()) {
            match self.deliver(me, receiver) {
                Ok(()) => {
                    // Counted as fast only if the CPU really goes straight
                    // to the receiver (the hand-off may be refused).
                    if self.switch_direct(receiver) {
                        self.ipc_counters.fast_sends += 1;
                    } else {
                        self.ipc_counters.slow_sends += 1;
                    }
                    return Ok(Next::Reschedule);
                }
                Err(DeliveryError::Sender(e)) => {
                    if let Some(c) = self.channels.get_mut(ch) {
                        let _ = c.receivers.push_front(receiver);
                    }
                    self.disarm_timeout(me);
                    self.cur().ipc.handle = None;
                    return Err(e);
                }
                Err(DeliveryError::Receiver(e)) => self.wake(receiver, e.to_raw(), 0),
            }
        }
        // Slow path: queue and let the scheduler run someone else.
        let c = self.channels.get_mut(ch).ok_or(Error::PeerDied)?;
        if c.pending.try_reserve(1).is_err() {
            self.disarm_timeout(me);
            return Err(Error::NoMemory);
        }
        c.pending.push_back(Pending::Send(me));
        let server = c.server;
        self.ipc_counters.slow_sends += 1;
        if let Some(server) = server {
            let priority = self.cur().priority;
            self.inherit_while_queued(server, priority);
        }
        self.block_current(Blocked::Send(ch));
        Ok(Next::Reschedule)
    }

    /// Priority inheritance while a message waits: whichever of the
    /// server's busy threads (ready, not receiving) gets to it next, none
    /// of them runs below the sender meanwhile.
    #[inline(never)]
    fn inherit_while_queued(&mut self, server: ProcessId, priority: u8) {
        let mut i = 0;
        while let Some(&t) = self.processes.get(server).and_then(|p| p.threads.get(i)) {
            if self.threads.get(t).is_some_and(|t| t.state == State::Ready) {
                self.raise_priority(t, priority);
            }
            i += 1;
        }
    }

    /// The current thread receives on `ch` into `buf`: takes the oldest
    /// pending item, or blocks until one arrives (or `timeout_ns` passes).
    pub fn ipc_receive(&mut self, ch: ChannelId, buf: Range, timeout_ns: u64) -> Result<Next, Error> {
        let me = self.current.ok_or(Error::BadState)?;
        self.cur().ipc.recv_buf = buf;
        if self.take_pending(me, ch)? {
            return Ok(Next::Continue);
        }
        let c = self.channels.get_mut(ch).ok_or(Error::BadHandle)?;
        c.receivers.push_back(me).map_err(|_| Error::LimitReached)?;
        if timeout_ns != 0 {
            let deadline = crate::arch::time::uptime_ns().saturating_add(timeout_ns);
            if let Err(e) = self.arm_timeout(me, deadline) {
                self.ipc_forget(me, ch);
                return Err(e);
            }
        }
        self.block_current(Blocked::Receive(ch));
        Ok(Next::Reschedule)
    }

    /// Hands `receiver` the oldest deliverable item pending on `ch`.
    /// Returns false if there was none.
    pub fn take_pending(&mut self, receiver: ThreadId, ch: ChannelId) -> Result<bool, Error> {
        loop {
            let c = self.channels.get_mut(ch).ok_or(Error::BadHandle)?;
            let Some(item) = c.pending.pop_front() else { return Ok(false) };
            match item {
                Pending::Send(client) => {
                    if self.threads.get(client).map(|t| t.state) != Some(State::Blocked(Blocked::Send(ch))) {
                        continue; // stale: the sender timed out or died
                    }
                    match self.deliver(client, receiver) {
                        Ok(()) => return Ok(true),
                        Err(DeliveryError::Sender(e)) => self.wake(client, e.to_raw(), 0),
                        Err(DeliveryError::Receiver(e)) => {
                            if let Some(c) = self.channels.get_mut(ch) {
                                c.pending.push_front(Pending::Send(client));
                            }
                            return Err(e);
                        }
                    }
                }
                Pending::Pulse { code, value } => {
                    c.pulses -= 1;
                    self.set_received(
                        receiver,
                        &Received { rcvid: 0, len: 0, kind: Kind::Pulse, word: code, value, handle: 0 },
                    );
                    return Ok(true);
                }
                Pending::Async(m) => {
                    if self.deliver_async(&m, receiver)? {
                        return Ok(true);
                    }
                }
                Pending::AsyncReply(r) => {
                    self.deliver_async_reply(&r, receiver)?;
                    return Ok(true);
                }
            }
        }
    }

    /// Removes `thread` from channel `ch`'s queues (it timed out or died).
    pub fn ipc_forget(&mut self, thread: ThreadId, ch: ChannelId) {
        if let Some(c) = self.channels.get_mut(ch) {
            c.receivers.remove(thread);
            c.pending.retain(|p| !matches!(p, Pending::Send(t) if *t == thread));
        }
    }

    /// The client a receive id names, if it is still waiting for a reply
    /// from the current process.
    fn reply_target(&mut self, rcvid: u64) -> Result<ThreadId, Error> {
        let client = self.client_of(rcvid).ok_or(Error::PeerDied)?;
        let me = self.cur().process;
        match self.threads.get(client).map(|t| t.state) {
            Some(State::Blocked(Blocked::Reply { server })) if server == me => Ok(client),
            // The client died, timed out or was never ours.
            _ => Err(Error::PeerDied),
        }
    }

    /// The current thread replies `status` and `msg` to `rcvid`. Returns the
    /// client, now runnable but not yet queued, so the caller can decide
    /// between a direct switch and the run queue.
    pub fn ipc_reply(
        &mut self,
        rcvid: u64,
        status: i64,
        msg: Range,
        handle: Option<Handle>,
    ) -> Result<Option<ThreadId>, Error> {
        if status < 0 && Error::from_raw(status) == Err(Error::BadSyscall) && status != Error::BadSyscall.to_raw() {
            return Err(Error::BadArgument);
        }
        if msg.len > MAX_MESSAGE as u64 {
            return Err(Error::MessageTooLong);
        }
        if rcvid & ASYNC_RCVID != 0 {
            self.reply_async(rcvid, status, msg)?;
            return Ok(None);
        }
        let client = self.reply_target(rcvid)?;
        let me = self.current.ok_or(Error::BadState)?;
        let reply = self.threads.get(client).ok_or(Error::PeerDied)?.ipc.reply;
        if msg.len > reply.len {
            return Err(Error::MessageTooLong);
        }
        let src = self.tables_of(me).ok_or(Error::BadState)?;
        let dst = self.tables_of(client).ok_or(Error::PeerDied)?;
        let mut client_error = None;
        if status >= 0 {
            if let Err(f) = copy::copy(src, msg.addr, dst, reply.addr, msg.len) {
                match f {
                    CopyFault::Source => return Err(Error::BadAddress),
                    CopyFault::Destination => client_error = Some(Error::BadAddress),
                }
            }
        }
        let mut handle_value = 0;
        if let (Some(h), None, true) = (handle, client_error, status >= 0) {
            match self.give_handle(client, h) {
                Ok(v) => handle_value = v,
                Err(e) => client_error = Some(e),
            }
        }
        let t = self.thread(client).ok_or(Error::PeerDied)?;
        match client_error {
            Some(e) => t.set_return(e.to_raw(), 0),
            None if status < 0 => t.set_return(status, 0),
            None => t.set_return(status, msg.len),
        }
        t.frame.r8 = handle_value;
        t.ipc.lease_count = 0;
        t.state = State::Blocked(Blocked::Replied);
        self.disarm_timeout(client);
        // The server drops back to its own priority.
        let s = self.cur();
        s.priority = s.base_priority;
        Ok(Some(client))
    }

    /// `reply` alone: the client becomes ready; the server keeps the CPU
    /// unless the client is more important.
    pub fn ipc_reply_only(
        &mut self,
        rcvid: u64,
        status: i64,
        msg: Range,
        handle: Option<Handle>,
    ) -> Result<Next, Error> {
        if let Some(client) = self.ipc_reply(rcvid, status, msg, handle)? {
            self.make_ready(client);
        }
        Ok(Next::Return(0, 0))
    }

    /// `reply_receive`: reply, then receive. With nothing pending, the server
    /// blocks and the CPU goes straight back to the client.
    pub fn ipc_reply_receive(
        &mut self,
        rcvid: u64,
        status: i64,
        msg: Range,
        ch: ChannelId,
        buf: Range,
    ) -> Result<Next, Error> {
        let client = if rcvid != 0 { self.ipc_reply(rcvid, status, msg, None)? } else { None };
        let me = self.current.ok_or(Error::BadState)?;
        self.cur().ipc.recv_buf = buf;
        let pending = self.take_pending(me, ch);
        let Some(client) = client else {
            return match pending? {
                true => Ok(Next::Continue),
                false => self.block_receiving(me, ch),
            };
        };
        // The client's reply is settled: it runs again one way or another.
        match pending {
            Ok(true) => {
                self.make_ready(client);
                Ok(Next::Continue)
            }
            Ok(false) => {
                if let Err(e) = self.block_receiving(me, ch) {
                    self.make_ready(client);
                    return Err(e);
                }
                if self.switch_direct(client) {
                    self.ipc_counters.fast_replies += 1;
                }
                Ok(Next::Reschedule)
            }
            Err(e) => {
                self.make_ready(client);
                Err(e)
            }
        }
    }

    fn block_receiving(&mut self, me: ThreadId, ch: ChannelId) -> Result<Next, Error> {
        let c = self.channels.get_mut(ch).ok_or(Error::BadHandle)?;
        c.receivers.push_back(me).map_err(|_| Error::LimitReached)?;
        self.block_current(Blocked::Receive(ch));
        Ok(Next::Reschedule)
    }

    /// Whether `process` may still be served (used by channel teardown).
    pub fn process_alive(&self, process: crate::thread::ProcessId) -> bool {
        self.processes.get(process).is_some_and(|p| p.state == ProcessState::Alive)
    }
}
