//! The `syscall` stub for the message-passing calls, and the only unsafe
//! code of `libipc::ipc`.
//!
//! Unlike the base convention `sys::syscall0..6` rely on, the IPC calls
//! return values in argument registers: `receive` and `reply_receive` in
//! `rdi`, `rsi`, `r8`, `r9` besides `rax`/`rdx`, and `send` a handle in
//! `r8` (`abi::syscall::Syscall`). So there is one stub, [`syscall`], that
//! declares every argument register as both input and output; every IPC call
//! goes through it (the cost is nil: the registers are caller-saved anyway).
//!
//! On top of it sits one safe function per call. Each is safe because the
//! only memory the kernel may touch is what its signature borrows: `&[u8]`
//! it reads, `&mut [u8]` it writes (never past the slice's length), and the
//! leases of a [`LeaseTable`], which can only be built from borrowed slices
//! (read leases from `&[u8]`, write leases from `&mut [u8]`) and lives no
//! longer than they do.
//!
//! Handle ownership lives here too: [`Handle`] closes its number on drop,
//! so it must be the number's only owner. Only this file makes one from a
//! number, and only from numbers nobody else can own: fresh ones the kernel
//! just returned (creation, `dup`, a handle received with a message or a
//! reply), the spawn-time handles claimed once each through
//! [`Handle::initial`], or through the `unsafe` [`Handle::from_raw`].
//!
//! Errors: a result in `-4095..=-1` is `-(error code)`. (Not "any negative
//! value": receive ids of asynchronous messages have bit 63 set.)
#![allow(unsafe_code)]

use core::arch::asm;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU64, Ordering};

use abi::ipc::{Kind, Lease, SendOptions, MAX_LEASES};
use abi::{Error, Syscall};

use crate::sys;
use crate::Result;

/// The registers an IPC call returns in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)] // the register names say it
pub struct Regs {
    pub rax: u64,
    pub rdx: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub r8: u64,
    pub r9: u64,
}

/// Issues `syscall` number `n` with arguments `a` (in `rdi`, `rsi`, `rdx`,
/// `r10`, `r8`, `r9`) and returns every register a call may answer in.
///
/// # Safety
/// Pointer arguments must name memory the kernel may read or write as the
/// call's contract says, and the call must not end the thread, unmap memory
/// or close a handle something else owns.
#[inline(always)]
pub unsafe fn syscall(n: Syscall, a: [u64; 6]) -> Regs {
    let [a0, a1, a2, a3, a4, a5] = a;
    let (rax, rdx, rdi, rsi, r8, r9);
    // SAFETY: `syscall` enters the kernel, which returns with rcx/r11
    // clobbered by the CPU and results in rax, rdx, rdi, rsi, r8, r9 (all
    // declared as outputs; r10 declared clobbered), every other register and
    // the stack untouched. Memory effects are this function's contract.
    unsafe {
        asm!("syscall",
             inlateout("rax") n as u64 => rax,
             inlateout("rdi") a0 => rdi,
             inlateout("rsi") a1 => rsi,
             inlateout("rdx") a2 => rdx,
             inlateout("r10") a3 => _,
             inlateout("r8") a4 => r8,
             inlateout("r9") a5 => r9,
             lateout("rcx") _, lateout("r11") _,
             options(nostack));
    }
    Regs { rax, rdx, rdi, rsi, r8, r9 }
}

/// Decodes a result register: `-4095..=-1` is an error, anything else a value.
pub fn check(rax: u64) -> Result<u64> {
    let signed = rax as i64;
    if (-4095..0).contains(&signed) {
        return Err(Error::from_raw(signed).err().unwrap_or(Error::BadSyscall));
    }
    Ok(rax)
}

/// A call whose only memory arguments are the ones its caller vouches for.
#[inline(always)]
fn call(n: Syscall, a: [u64; 6]) -> Regs {
    // SAFETY: used only below, for calls with no pointer arguments or with
    // pointers into slices the calling function borrows as the kernel needs
    // them (each call site says which); none of these calls ends the thread,
    // unmaps memory or closes a handle.
    unsafe { syscall(n, a) }
}

// ---------------------------------------------------------------------------
// Handles

/// A handle this program owns; closed when dropped.
#[derive(Debug, PartialEq, Eq)]
pub struct Handle(u64);

/// Spawn-time handles already claimed through [`Handle::initial`].
static CLAIMED: AtomicU64 = AtomicU64::new(0);

impl Handle {
    /// Takes ownership of a number the kernel just returned (0: none).
    ///
    /// Not `(value != 0).then_some(Handle(value))`: that builds the handle
    /// first and drops it when `value` is 0, closing handle 0 — a wasted
    /// system call after every send and receive that came without one.
    fn fresh(value: u64) -> Option<Handle> {
        if value == 0 {
            None
        } else {
            Some(Handle(value))
        }
    }

    /// The `n`th handle the spawner gave this process
    /// (`abi::syscall::first_handle(n)`), once: a second claim of the same
    /// `n` is `None`. Whether the handle exists shows when it is used.
    pub fn initial(n: u64) -> Option<Handle> {
        if n >= 64 {
            return None;
        }
        let bit = 1u64 << n;
        if CLAIMED.fetch_or(bit, Ordering::AcqRel) & bit != 0 {
            return None;
        }
        Some(Handle(abi::syscall::first_handle(n)))
    }

    /// Takes ownership of handle number `value`.
    ///
    /// # Safety
    /// Nothing else owns `value` (no other `Handle`, `sys::OwnedHandle`,
    /// `Process` or thread `JoinHandle`), since dropping the result closes
    /// it and the kernel may then reuse the number for another object.
    pub unsafe fn from_raw(value: u64) -> Handle {
        Handle(value)
    }

    /// The number, for calls that take it. It stays owned by `self`.
    pub fn raw(&self) -> u64 {
        self.0
    }

    /// Gives up ownership without closing; see [`Handle::from_raw`].
    pub fn into_raw(self) -> u64 {
        let v = self.0;
        core::mem::forget(self);
        v
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: `self` is the number's only owner (module invariant), so
        // nothing uses it after this. An error means it was already gone.
        let _ = unsafe { sys::handle_close(self.0) };
    }
}

// ---------------------------------------------------------------------------
// Leases

/// Up to `MAX_LEASES` ranges of the caller's memory lent with one send, each
/// borrowed for `'a` (shared for read leases, exclusive for write leases).
#[derive(Debug, Default)]
pub struct LeaseTable<'a> {
    leases: [Lease; MAX_LEASES],
    count: usize,
    _borrows: PhantomData<&'a mut [u8]>,
}

impl<'a> LeaseTable<'a> {
    /// No leases.
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, addr: *const u8, len: usize, rights: u64) -> Result<()> {
        let slot = self.leases.get_mut(self.count).ok_or(Error::BadArgument)?;
        *slot = Lease { addr: addr as u64, len: len as u64, rights };
        self.count += 1;
        Ok(())
    }

    /// Lends `buf` for the server to read. `BadArgument` past `MAX_LEASES`.
    pub fn read(&mut self, buf: &'a [u8]) -> Result<()> {
        self.push(buf.as_ptr(), buf.len(), abi::ipc::lease::READ)
    }

    /// Lends `buf` for the server to write.
    pub fn write(&mut self, buf: &'a mut [u8]) -> Result<()> {
        self.push(buf.as_mut_ptr(), buf.len(), abi::ipc::lease::WRITE)
    }

    /// Lends `buf` for the server to read and write.
    pub fn read_write(&mut self, buf: &'a mut [u8]) -> Result<()> {
        self.push(buf.as_mut_ptr(), buf.len(), abi::ipc::lease::READ | abi::ipc::lease::WRITE)
    }

    /// How many leases there are.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True without leases.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

// ---------------------------------------------------------------------------
// The calls

/// `channel_create() -> channel handle`.
pub fn channel_create() -> Result<Handle> {
    let r = call(Syscall::ChannelCreate, [0; 6]);
    check(r.rax).and_then(|v| Handle::fresh(v).ok_or(Error::BadState))
}

/// `connect(channel) -> connection handle`.
pub fn connect(channel: u64) -> Result<Handle> {
    let r = call(Syscall::Connect, [channel, 0, 0, 0, 0, 0]);
    check(r.rax).and_then(|v| Handle::fresh(v).ok_or(Error::BadState))
}

/// `handle_dup(handle, rights) -> handle`.
pub fn handle_dup(handle: u64, rights: u64) -> Result<Handle> {
    let r = call(Syscall::HandleDup, [handle, rights, 0, 0, 0, 0]);
    check(r.rax).and_then(|v| Handle::fresh(v).ok_or(Error::BadState))
}

/// What a successful `send` returned.
#[derive(Debug)]
pub struct SendResult {
    /// The replier's status (>= 0).
    pub status: i64,
    /// Bytes of reply in the reply buffer.
    pub len: usize,
    /// A handle given with the reply.
    pub handle: Option<Handle>,
}

/// `send(conn, msg, reply, options)`: blocks until the reply.
pub fn send(
    conn: u64,
    msg: &[u8],
    reply: &mut [u8],
    leases: &LeaseTable<'_>,
    handle: u64,
    timeout_ns: u64,
) -> Result<SendResult> {
    let options =
        SendOptions { leases: leases.leases.as_ptr() as u64, lease_count: leases.count as u64, handle, timeout_ns };
    let plain = leases.count == 0 && handle == 0 && timeout_ns == 0;
    let options_ptr = if plain { 0 } else { &options as *const SendOptions as u64 };
    // The kernel reads `msg`, `options` and the lease table, writes at most
    // `reply.len()` bytes into `reply`, and reads/writes the leases (borrowed
    // by `leases` for at least this call) while we are blocked.
    let r = call(
        Syscall::Send,
        [conn, msg.as_ptr() as u64, msg.len() as u64, reply.as_mut_ptr() as u64, reply.len() as u64, options_ptr],
    );
    let status = check(r.rax)?;
    Ok(SendResult { status: status as i64, len: (r.rdx as usize).min(reply.len()), handle: Handle::fresh(r.r8) })
}

/// `send(conn, msg, reply)` with no leases, handle or timeout, the reply
/// received into `reply`, which need not be initialised (so a caller can
/// offer `MAX_MESSAGE` bytes of stack without filling them first). Returns
/// the replier's status (>= 0) and the reply: the first bytes of `reply`,
/// as many as the kernel wrote. A handle given with the reply is closed.
pub fn send_uninit<'r>(conn: u64, msg: &[u8], reply: &'r mut [MaybeUninit<u8>]) -> Result<(i64, &'r [u8])> {
    // The kernel reads `msg` and writes at most `reply.len()` bytes at the
    // start of `reply`; writing any bytes into `MaybeUninit<u8>`s is sound.
    let r = call(
        Syscall::Send,
        [conn, msg.as_ptr() as u64, msg.len() as u64, reply.as_mut_ptr() as u64, reply.len() as u64, 0],
    );
    let status = check(r.rax)?;
    drop(Handle::fresh(r.r8));
    let len = (r.rdx as usize).min(reply.len());
    // SAFETY: after a successful send, `rdx` is the length of the reply the
    // kernel copied to the start of `reply` (`abi::syscall::Syscall::Send`),
    // so its first `len` bytes (`len` bounded by the slice) are initialised
    // `u8`s; the result borrows `reply`, so nothing writes them meanwhile.
    let data = unsafe { core::slice::from_raw_parts(reply.as_ptr().cast::<u8>(), len) };
    Ok((status as i64, data))
}

/// What `receive` or `reply_receive` delivered.
#[derive(Debug)]
pub struct RawReceived {
    /// Receive id (0 for pulses and asynchronous replies).
    pub rcvid: u64,
    /// Bytes delivered into the buffer.
    pub len: usize,
    /// What arrived.
    pub kind: Kind,
    /// Sender pid, pulse code or token.
    pub word: u64,
    /// Pulse value or asynchronous status.
    pub value: u64,
    /// A handle that came with a message.
    pub handle: Option<Handle>,
}

fn decode_received(r: Regs, cap: usize) -> Result<RawReceived> {
    let rcvid = check(r.rax)?;
    // Take the handle first so it is closed, not leaked, if the rest is odd.
    let handle = Handle::fresh(r.r9);
    let kind = Kind::from_raw(r.rdi).ok_or(Error::BadState)?;
    Ok(RawReceived { rcvid, len: (r.rdx as usize).min(cap), kind, word: r.rsi, value: r.r8, handle })
}

/// `receive(channel, buf, timeout_ns)`; 0 = no timeout.
pub fn receive(channel: u64, buf: &mut [u8], timeout_ns: u64) -> Result<RawReceived> {
    // The kernel writes at most `buf.len()` bytes into `buf`.
    let r = call(Syscall::Receive, [channel, buf.as_mut_ptr() as u64, buf.len() as u64, timeout_ns, 0, 0]);
    decode_received(r, buf.len())
}

/// `reply_receive(rcvid, status, reply, channel, buf)`; rcvid 0 skips the reply.
pub fn reply_receive(rcvid: u64, status: i32, reply: &[u8], channel: u64, buf: &mut [u8]) -> Result<RawReceived> {
    let len = u32::try_from(reply.len()).map_err(|_| Error::MessageTooLong)?;
    let status_len = abi::ipc::pack_status_len(status, len);
    // The kernel reads `reply` and writes at most `buf.len()` bytes to `buf`.
    let r = call(
        Syscall::ReplyReceive,
        [rcvid, status_len, reply.as_ptr() as u64, channel, buf.as_mut_ptr() as u64, buf.len() as u64],
    );
    decode_received(r, buf.len())
}

/// `reply(rcvid, status, msg, handle)`; handle 0 = none.
pub fn reply(rcvid: u64, status: i64, msg: &[u8], handle: u64) -> Result<()> {
    // The kernel only reads `msg`.
    let r = call(Syscall::Reply, [rcvid, status as u64, msg.as_ptr() as u64, msg.len() as u64, handle, 0]);
    check(r.rax).map(drop)
}

/// `pulse(conn, code, value)`.
pub fn pulse(conn: u64, code: u64, value: u64) -> Result<()> {
    check(call(Syscall::Pulse, [conn, code, value, 0, 0, 0]).rax).map(drop)
}

/// `send_async(conn, msg, token, reply_channel)`.
pub fn send_async(conn: u64, msg: &[u8], token: u64, reply_channel: u64) -> Result<()> {
    // The kernel only reads `msg` (it copies it at once).
    let r = call(Syscall::SendAsync, [conn, msg.as_ptr() as u64, msg.len() as u64, token, reply_channel, 0]);
    check(r.rax).map(drop)
}

/// `lease_read(rcvid, index, offset, buf) -> bytes copied`.
pub fn lease_read(rcvid: u64, index: u64, offset: u64, buf: &mut [u8]) -> Result<usize> {
    // The kernel writes at most `buf.len()` bytes into `buf`.
    let r = call(Syscall::LeaseRead, [rcvid, index, offset, buf.as_mut_ptr() as u64, buf.len() as u64, 0]);
    check(r.rax).map(|n| (n as usize).min(buf.len()))
}

/// `lease_write(rcvid, index, offset, buf) -> bytes copied`.
pub fn lease_write(rcvid: u64, index: u64, offset: u64, buf: &[u8]) -> Result<usize> {
    // The kernel only reads `buf`.
    let r = call(Syscall::LeaseWrite, [rcvid, index, offset, buf.as_ptr() as u64, buf.len() as u64, 0]);
    check(r.rax).map(|n| (n as usize).min(buf.len()))
}

/// `irq_bind(irq, channel, code)`.
pub fn irq_bind(irq: u64, channel: u64, code: u64) -> Result<()> {
    check(call(Syscall::IrqBind, [irq, channel, code, 0, 0, 0]).rax).map(drop)
}

/// `irq_ack(irq)`.
pub fn irq_ack(irq: u64) -> Result<()> {
    check(call(Syscall::IrqAck, [irq, 0, 0, 0, 0, 0]).rax).map(drop)
}

/// `ioports_enable(ports)`. Enabling ports is safe in itself; using them is
/// what [`inb`]/[`outb`] make `unsafe`.
pub fn ioports_enable(ports: u64) -> Result<()> {
    check(call(Syscall::IoPortsEnable, [ports, 0, 0, 0, 0, 0]).rax).map(drop)
}

/// `ioports_narrow(ports, first, count) -> ports handle`.
pub fn ioports_narrow(ports: u64, first: u16, count: u32) -> Result<Handle> {
    let r = call(Syscall::IoPortsNarrow, [ports, u64::from(first), u64::from(count), 0, 0, 0]);
    check(r.rax).and_then(|v| Handle::fresh(v).ok_or(Error::BadState))
}

/// `dma_alloc(dma, len) -> (address, physical address)`: fresh zeroed pages
/// that no existing memory of the program overlaps.
pub fn dma_alloc(dma: u64, len: usize) -> Result<(u64, u64)> {
    let r = call(Syscall::DmaAlloc, [dma, len as u64, 0, 0, 0, 0]);
    check(r.rax).map(|addr| (addr, r.rdx))
}

/// `set_priority(priority)` of the calling thread.
pub fn set_priority(priority: u64) -> Result<()> {
    check(call(Syscall::SetPriority, [priority, 0, 0, 0, 0, 0]).rax).map(drop)
}

// ---------------------------------------------------------------------------
// Port I/O, for drivers holding an I/O port handle (after `ioports_enable`;
// without it the instruction faults and the process ends).

/// Reads a byte from an I/O port.
///
/// # Safety
/// Reading the port must not make the device do anything that breaks the
/// program's memory safety (reads with side effects on DMA-capable devices).
#[inline(always)]
pub unsafe fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: `in` touches no memory; the device-side effects are the
    // caller's contract. Without the port enabled the CPU faults instead.
    unsafe { asm!("in al, dx", out("al") v, in("dx") port, options(nomem, nostack, preserves_flags)) };
    v
}

/// Writes a byte to an I/O port.
///
/// # Safety
/// The write must not make the device write memory the program uses (DMA)
/// or otherwise break the program's memory safety.
#[inline(always)]
pub unsafe fn outb(port: u16, value: u8) {
    // SAFETY: `out` touches no memory; the device-side effects are the
    // caller's contract.
    unsafe { asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags)) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_the_small_negatives() {
        assert_eq!(check(0), Ok(0));
        assert_eq!(check(Error::PeerDied.to_raw() as u64), Err(Error::PeerDied));
        assert_eq!(check(-4095i64 as u64), Err(Error::BadSyscall));
        // An asynchronous receive id has bit 63 set: a value, not an error.
        let async_rcvid = (1u64 << 63) | (3 << 32) | 7;
        assert_eq!(check(async_rcvid), Ok(async_rcvid));
        assert_eq!(check(-4096i64 as u64), Ok(-4096i64 as u64));
    }

    #[test]
    fn lease_table_holds_max_leases() {
        let a = [1u8; 8];
        let mut b = [2u8; 16];
        let mut t = LeaseTable::new();
        for _ in 0..MAX_LEASES - 1 {
            assert_eq!(t.read(&a), Ok(()));
        }
        assert_eq!(t.read_write(&mut b), Ok(()));
        assert_eq!(t.read(&a), Err(Error::BadArgument));
        assert_eq!(t.len(), MAX_LEASES);
        let last = t.leases[MAX_LEASES - 1];
        assert_eq!((last.len, last.rights), (16, abi::ipc::lease::READ | abi::ipc::lease::WRITE));
    }

    #[test]
    fn initial_handles_are_claimed_once() {
        let h = Handle::initial(5).map(Handle::into_raw);
        assert_eq!(h, Some(abi::syscall::first_handle(5)));
        assert!(Handle::initial(5).is_none());
        assert!(Handle::initial(64).is_none());
    }
}
