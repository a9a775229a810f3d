//! The IPC fast path, after seL4's `fastpath.c`: `send` to a channel whose
//! receiver is already waiting, and `reply_receive` to a client that is
//! waiting when nothing else is pending. Each function is a list of guards —
//! any unusual condition returns `None` and the general path in `message.rs`
//! handles the call from scratch, having seen nothing changed (the guards
//! may refresh a thread's memos, which are caches and true either way) —
//! then a marked point of no return after which the hand-off cannot fail.
//! No allocation, no run-queue operation, no scheduler, and each object is
//! looked up once; handles and the destination page usually not at all
//! (`HandleMemo`, `copy::PageCache`; `docs/ipc.md`).

use super::message::Received;
use super::{copy, rcvid_of, HandleMemo};
use crate::arch::trap::TrapFrame;
use crate::process::Object;
use crate::state::Kernel;
use crate::thread::{Blocked, Range, State};
use abi::ipc::{rights, unpack_status_len, Kind, MAX_MESSAGE};
use abi::{USER_END, USER_START};

const MAX: u64 = MAX_MESSAGE as u64;

/// Where the CPU goes next: the new current thread's frame and address space.
pub struct Switch {
    pub frame: *const TrapFrame,
    pub root: u64,
    /// Whether its process may use I/O ports (the TSS bitmap must follow).
    pub io_privileged: bool,
}

/// `[addr, addr + len)` lies in user space (an empty range always does:
/// empty slices carry dangling pointers), for `len <= MAX`: an address below
/// `USER_START` wraps to a huge offset, so one compare covers both ends.
#[inline(always)]
fn user_range(addr: u64, len: u64) -> bool {
    debug_assert!(len <= MAX);
    len == 0 || addr.wrapping_sub(USER_START) <= USER_END - USER_START - len
}

/// `send(conn, msg, len, reply, cap, 0)` straight to a waiting receiver.
#[inline(always)]
pub fn send(k: &mut Kernel, frame: *const TrapFrame) -> Option<Switch> {
    // SAFETY: `frame` is the caller's saved frame (see `syscall_from_user`);
    // the registers are read by value here, before anything borrows the
    // thread that holds it.
    let [conn, msg_ptr, msg_len, reply_ptr, reply_cap, options] =
        unsafe { [(*frame).rdi, (*frame).rsi, (*frame).rdx, (*frame).r10, (*frame).r8, (*frame).r9] };
    let reply_cap = reply_cap.min(MAX);
    if options != 0
        || msg_len > MAX
        || !k.direct_handoff
        || !user_range(msg_ptr, msg_len)
        || !user_range(reply_ptr, reply_cap)
    {
        return None;
    }
    let me = k.current?;
    let t = &mut **k.threads.get_mut(me)?;
    let ch = match t.ipc.send_memo.get(conn) {
        Some(ch) => ch,
        None => {
            let h = *k.processes.get(t.process)?.handles.get(conn).ok()?;
            let Object::Connection(ch) = h.object else { return None };
            if h.rights & rights::SEND == 0 {
                return None;
            }
            t.ipc.send_memo = HandleMemo::new(conn, ch);
            ch
        }
    };
    let channel = k.channels.get_mut(ch)?;
    if !channel.alive {
        return None;
    }
    let receiver = channel.receivers.front()?;
    let ready = k.runq.highest();
    let (c, r) = k.threads.get2_mut(me, receiver)?;
    let (c, r) = (&mut **c, &mut **r);
    let buf = r.ipc.recv_buf;
    if buf.len < msg_len || r.timeout_armed || ready.is_some_and(|p| p > r.priority.max(c.priority)) {
        return None;
    }
    if msg_len > 0 {
        copy::copy_from_current(msg_ptr, r.root, buf.addr, msg_len, &mut r.ipc.recv_page).ok()?;
    }

    // Point of no return.
    let seq = k.next_seq;
    c.ipc.seq = seq;
    c.state = State::Blocked(Blocked::Reply { server: r.process });
    c.ipc.reply = Range { addr: reply_ptr, len: reply_cap };
    c.ipc.lease_count = 0;
    c.ipc.handle = None;
    Received { rcvid: rcvid_of(me, seq), len: msg_len, kind: Kind::Message, word: c.pid, value: 0, handle: 0 }
        .write_to(&mut r.frame);
    r.priority = r.base_priority.max(c.priority);
    r.state = State::Running;
    r.slice_left = crate::sched::SLICE_TICKS;
    let next = Switch { frame: &r.frame, root: r.root, io_privileged: r.io_privileged };
    k.next_seq = (seq + 1) & super::SEQ_MASK;
    channel.receivers.pop_front();
    k.current = Some(receiver);
    k.ipc_counters.fast_sends += 1;
    Some(next)
}

/// `reply_receive(rcvid, status/len, reply, chan, buf, cap)` when the client
/// waits and nothing is pending: the server blocks and the client runs.
#[inline(always)]
pub fn reply_receive(k: &mut Kernel, frame: *const TrapFrame) -> Option<Switch> {
    // SAFETY: as in `send`.
    let [rcvid, status_len, reply_ptr, chan, buf_ptr, buf_cap] =
        unsafe { [(*frame).rdi, (*frame).rsi, (*frame).rdx, (*frame).r10, (*frame).r8, (*frame).r9] };
    let (status, len) = unpack_status_len(status_len);
    let (len, buf_cap) = (u64::from(len), buf_cap.min(MAX));
    if status < 0 || len > MAX || !k.direct_handoff || !user_range(reply_ptr, len) || !user_range(buf_ptr, buf_cap) {
        return None;
    }
    let (index, seq) = super::rcvid_parts(rcvid)?;
    let client = k.threads.id_at(index)?;
    let me = k.current?;
    let t = &mut **k.threads.get_mut(me)?;
    let process = t.process;
    let ch = match t.ipc.recv_memo.get(chan) {
        Some(ch) => ch,
        None => {
            let h = *k.processes.get(process)?.handles.get(chan).ok()?;
            let Object::Channel(ch) = h.object else { return None };
            if h.rights & rights::RECEIVE == 0 {
                return None;
            }
            t.ipc.recv_memo = HandleMemo::new(chan, ch);
            ch
        }
    };
    let channel = k.channels.get_mut(ch)?;
    if !channel.alive || !channel.pending.is_empty() || channel.receivers.is_full() {
        return None;
    }
    let ready = k.runq.highest();
    let (s, c) = k.threads.get2_mut(me, client)?;
    let (s, c) = (&mut **s, &mut **c);
    // The receive id names this very send (`client_of`), still waiting for us.
    if c.ipc.seq != seq
        || !matches!(c.state, State::Blocked(Blocked::Reply { server }) if server == process)
        || c.timeout_armed
        || len > c.ipc.reply.len
        || ready.is_some_and(|p| p > c.priority)
    {
        return None;
    }
    if len > 0 {
        copy::copy_from_current(reply_ptr, c.root, c.ipc.reply.addr, len, &mut c.ipc.reply_page).ok()?;
    }

    // Point of no return.
    s.state = State::Blocked(Blocked::Receive(ch));
    s.ipc.recv_buf = Range { addr: buf_ptr, len: buf_cap };
    s.priority = s.base_priority;
    c.frame.rax = status as u64;
    c.frame.rdx = len;
    c.frame.r8 = 0;
    c.ipc.lease_count = 0;
    c.state = State::Running;
    c.slice_left = crate::sched::SLICE_TICKS;
    let next = Switch { frame: &c.frame, root: c.root, io_privileged: c.io_privileged };
    let _ = channel.receivers.push_back(me);
    k.current = Some(client);
    k.ipc_counters.fast_replies += 1;
    Some(next)
}
