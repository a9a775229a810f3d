//! Message-passing system calls: decode and check the arguments, then hand
//! over to `crate::ipc`. Rights are checked here: SEND on connections,
//! RECEIVE on channels, TRANSFER on handles given away.

use super::{grant, lookup, lookup_with, Args, Next};
use crate::ipc::{message::Outgoing, Channel, ChannelId, HandleMemo};
use crate::process::{Handle, Object};
use crate::state::Kernel;
use crate::thread::Range;
use crate::usermem::UserSlice;
use abi::ipc::{rights, unpack_status_len, Lease, SendOptions, MAX_LEASES, MAX_MESSAGE};
use abi::Error;
use alloc::collections::VecDeque;

/// A user range checked to lie in user space.
fn range(addr: u64, len: u64) -> Result<Range, Error> {
    UserSlice::new(addr, len)?;
    Ok(Range { addr, len })
}

/// A message-sized user range.
fn message(addr: u64, len: u64) -> Result<Range, Error> {
    if len > MAX_MESSAGE as u64 {
        return Err(Error::MessageTooLong);
    }
    range(addr, len)
}

/// The channel behind connection handle `value` (SEND right), through the
/// thread's memo (see `HandleMemo`) when it holds.
fn connection(k: &mut Kernel, value: u64) -> Result<ChannelId, Error> {
    if let Some(ch) = k.cur().ipc.send_memo.get(value) {
        return Ok(ch);
    }
    match lookup_with(k, value, rights::SEND)? {
        Object::Connection(ch) => {
            k.cur().ipc.send_memo = HandleMemo::new(value, ch);
            Ok(ch)
        }
        _ => Err(Error::BadHandle),
    }
}

/// The channel behind channel handle `value` (RECEIVE right), likewise.
fn channel(k: &mut Kernel, value: u64) -> Result<ChannelId, Error> {
    if let Some(ch) = k.cur().ipc.recv_memo.get(value) {
        return Ok(ch);
    }
    match lookup_with(k, value, rights::RECEIVE)? {
        Object::Channel(ch) => {
            k.cur().ipc.recv_memo = HandleMemo::new(value, ch);
            Ok(ch)
        }
        _ => Err(Error::BadHandle),
    }
}

/// A handle the caller gives away with a message.
fn transferable(k: &mut Kernel, value: u64) -> Result<Option<Handle>, Error> {
    if value == 0 {
        return Ok(None);
    }
    let h = lookup(k, value)?;
    if h.rights & rights::TRANSFER == 0 {
        return Err(Error::PermissionDenied);
    }
    Ok(Some(h))
}

pub fn channel_create(k: &mut Kernel, _: &Args) -> Result<Next, Error> {
    let owner = k.cur().process;
    let id = k
        .channels
        .insert_with(|_| Channel {
            owner,
            alive: true,
            receivers: kcore::ring::Ring::new(),
            pending: VecDeque::new(),
            pulses: 0,
            refs: 0,
            receive_handles: 0,
            server: None,
        })
        .ok_or(Error::LimitReached)?;
    let all = rights::RECEIVE | rights::CONNECT | rights::DUPLICATE | rights::TRANSFER;
    match grant(k, Handle { object: Object::Channel(id), rights: all }) {
        Ok(h) => Ok(Next::Return(h, 0)),
        Err(e) => {
            k.channels.remove(id);
            Err(e)
        }
    }
}

pub fn connect(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let Object::Channel(ch) = lookup_with(k, args.a[0], rights::CONNECT)? else { return Err(Error::BadHandle) };
    let h = grant(
        k,
        Handle { object: Object::Connection(ch), rights: rights::SEND | rights::DUPLICATE | rights::TRANSFER },
    )?;
    Ok(Next::Return(h, 0))
}

pub fn send(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let [conn, msg_ptr, msg_len, reply_ptr, reply_cap, options] = args.a;
    let ch = connection(k, conn)?;
    let msg = message(msg_ptr, msg_len)?;
    let reply = range(reply_ptr, reply_cap.min(MAX_MESSAGE as u64))?;
    let mut out = Outgoing { msg, reply, leases: &[], handle: None, timeout_ns: 0 };
    // Filled (and zeroed) only when options are given: most sends carry none.
    let mut leases: [Lease; MAX_LEASES];
    if options != 0 {
        leases = [Lease::default(); MAX_LEASES];
        let mut raw = [0u8; core::mem::size_of::<SendOptions>()];
        UserSlice::new(options, raw.len() as u64)?.read(&mut raw)?;
        let word = |i: usize| u64::from_le_bytes(raw[i * 8..i * 8 + 8].try_into().unwrap_or_default());
        let (lease_table, count, handle, timeout) = (word(0), word(1), word(2), word(3));
        if count as usize > MAX_LEASES {
            return Err(Error::BadArgument);
        }
        let mut lraw = [0u8; MAX_LEASES * 24];
        let lraw = &mut lraw[..count as usize * 24];
        UserSlice::new(lease_table, count * 24)?.read(lraw)?;
        for (slot, chunk) in leases.iter_mut().zip(lraw.chunks_exact(24)) {
            let w = |i: usize| u64::from_le_bytes(chunk[i * 8..i * 8 + 8].try_into().unwrap_or_default());
            let l = Lease { addr: w(0), len: w(1), rights: w(2) };
            if l.rights & !(abi::ipc::lease::READ | abi::ipc::lease::WRITE) != 0 {
                return Err(Error::BadArgument);
            }
            UserSlice::new(l.addr, l.len)?;
            *slot = l;
        }
        out.leases = &leases[..count as usize];
        out.handle = transferable(k, handle)?;
        out.timeout_ns = timeout;
    }
    k.ipc_send(ch, &out)
}

pub fn receive(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let [chan, buf, cap, timeout, ..] = args.a;
    let ch = channel(k, chan)?;
    let buf = range(buf, cap.min(MAX_MESSAGE as u64))?;
    k.ipc_receive(ch, buf, timeout)
}

pub fn reply(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let [rcvid, status, ptr, len, handle, ..] = args.a;
    let msg = message(ptr, len)?;
    let handle = transferable(k, handle)?;
    k.ipc_reply_only(rcvid, status as i64, msg, handle)
}

pub fn reply_receive(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let [rcvid, status_len, ptr, chan, buf, cap] = args.a;
    let (status, len) = unpack_status_len(status_len);
    let msg = message(ptr, u64::from(len))?;
    let ch = channel(k, chan)?;
    let buf = range(buf, cap.min(MAX_MESSAGE as u64))?;
    k.ipc_reply_receive(rcvid, i64::from(status), msg, ch, buf)
}

pub fn pulse(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let [conn, code, value, ..] = args.a;
    if code >= abi::ipc::PULSE_CODE_KERNEL {
        return Err(Error::BadArgument);
    }
    let ch = connection(k, conn)?;
    k.ipc_pulse(ch, code, value)?;
    Ok(Next::Return(0, 0))
}

pub fn send_async(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let [conn, ptr, len, token, reply_chan, ..] = args.a;
    let ch = connection(k, conn)?;
    let reply_ch = channel(k, reply_chan)?;
    let msg = message(ptr, len)?;
    k.ipc_send_async(ch, msg, token, reply_ch)?;
    Ok(Next::Return(0, 0))
}

fn lease(k: &mut Kernel, args: &Args, write: bool) -> Result<Next, Error> {
    let [rcvid, index, offset, buf, len, ..] = args.a;
    let buf = range(buf, len)?;
    let n = k.lease_copy(rcvid, index, offset, buf, write)?;
    Ok(Next::Return(n, 0))
}

pub fn lease_read(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    lease(k, args, false)
}

pub fn lease_write(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    lease(k, args, true)
}

pub fn tune(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let [knob, value, ..] = args.a;
    match knob {
        abi::syscall::IPC_KNOB_DIRECT_HANDOFF => {
            let previous = k.direct_handoff;
            k.direct_handoff = value != 0;
            Ok(Next::Return(previous as u64, 0))
        }
        _ => Err(Error::BadArgument),
    }
}
