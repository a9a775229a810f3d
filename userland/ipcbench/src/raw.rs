//! The benchmark's own `syscall` sequences for the raw cases: exactly the
//! instructions a minimal client or server needs, nothing from a library in
//! between, so the table's raw rows measure the kernel. Every register the
//! kernel may write is declared as an output.
//!
//! This is the only file of `ipcbench` with unsafe code: inline assembly
//! for `rdtsc` and `syscall`. Each function is safe to call because the only
//! memory the kernel may touch is what its signature borrows (`&[u8]` it
//! reads, `&mut [u8]` it writes, never past the slice's end), and none of
//! these calls ends the thread, unmaps memory or closes a handle.
#![allow(unsafe_code)]

use core::arch::asm;

use abi::ipc::{Lease, SendOptions};
use abi::Syscall;

/// Serialised time-stamp counter read (`lfence; rdtsc; lfence`): earlier
/// instructions finish before the read, later ones start after it.
#[inline(always)]
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: lfence and rdtsc only read the TSC; no memory is touched.
    unsafe { asm!("lfence", "rdtsc", "lfence", out("eax") lo, out("edx") hi, options(nomem, nostack)) };
    (u64::from(hi) << 32) | u64::from(lo)
}

/// True if a result register holds `-(error code)` (`-4095..=-1`; receive
/// ids of asynchronous messages have bit 63 set and are not errors).
#[inline(always)]
pub fn is_err(rax: u64) -> bool {
    (rax as i64) < 0 && (rax as i64) >= -4095
}

/// `getpid`, the null system call.
#[inline(always)]
pub fn null_syscall() -> u64 {
    let rax: u64;
    // SAFETY: getpid takes no arguments and writes only rax/rdx (and the
    // CPU's rcx/r11).
    unsafe {
        asm!("syscall", inlateout("rax") Syscall::GetPid as u64 => rax, lateout("rdx") _,
             lateout("rcx") _, lateout("r11") _, options(nostack))
    };
    rax
}

/// `yield`: gives the CPU to the next ready thread of the same priority.
#[inline(always)]
pub fn yield_now() -> u64 {
    let rax: u64;
    // SAFETY: yield takes no arguments and writes only rax/rdx (and the
    // CPU's rcx/r11).
    unsafe {
        asm!("syscall", inlateout("rax") Syscall::Yield as u64 => rax, lateout("rdx") _,
             lateout("rcx") _, lateout("r11") _, options(nostack))
    };
    rax
}

/// `send(conn, msg, reply)` with no options; returns (rax, reply length).
#[inline(always)]
pub fn send(conn: u64, msg: &[u8], reply: &mut [u8]) -> (u64, u64) {
    let (rax, rdx): (u64, u64);
    // SAFETY: the kernel reads `msg` and writes at most `reply.len()` bytes
    // into `reply`, both borrowed for the call; r8 returns a handle.
    unsafe {
        asm!("syscall",
             inlateout("rax") Syscall::Send as u64 => rax,
             in("rdi") conn, in("rsi") msg.as_ptr(), inlateout("rdx") msg.len() => rdx,
             in("r10") reply.as_mut_ptr(), inlateout("r8") reply.len() => _, in("r9") 0u64,
             lateout("rcx") _, lateout("r11") _, options(nostack))
    };
    (rax, rdx)
}

/// `reply_receive`: replies `reply_len` bytes of `buf` to `rcvid` (0 = no
/// reply) and receives the next message into `buf`. Returns (rcvid, length,
/// kind).
#[inline(always)]
pub fn reply_receive(rcvid: u64, reply_len: usize, chan: u64, buf: &mut [u8]) -> (u64, u64, u64) {
    let (rax, rdx, rdi): (u64, u64, u64);
    // SAFETY: the kernel reads the reply from `buf` and then writes the next
    // message into it (at most `buf.len()` bytes); every result register is
    // declared.
    unsafe {
        asm!("syscall",
             inlateout("rax") Syscall::ReplyReceive as u64 => rax,
             inlateout("rdi") rcvid => rdi, inlateout("rsi") abi::ipc::pack_status_len(0, reply_len as u32) => _,
             inlateout("rdx") buf.as_ptr() => rdx, in("r10") chan,
             inlateout("r8") buf.as_mut_ptr() => _, inlateout("r9") buf.len() => _,
             lateout("rcx") _, lateout("r11") _, options(nostack))
    };
    (rax, rdx, rdi)
}

/// What a receive returned: rax (receive id or error), rdx (length), rdi
/// (`abi::ipc::Kind`), rsi (sender pid / pulse code / token), r8 (pulse
/// value / async status).
#[derive(Clone, Copy, Debug)]
pub struct Received {
    pub rax: u64,
    pub len: u64,
    pub kind: u64,
    pub word: u64,
    pub value: u64,
}

/// `receive(chan, buf, 0)`: blocks for the next item.
#[inline(always)]
pub fn receive(chan: u64, buf: &mut [u8]) -> Received {
    let (rax, rdx, rdi, rsi, r8): (u64, u64, u64, u64, u64);
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`; every
    // register it answers in is declared.
    unsafe {
        asm!("syscall",
             inlateout("rax") Syscall::Receive as u64 => rax,
             inlateout("rdi") chan => rdi, inlateout("rsi") buf.as_mut_ptr() => rsi,
             inlateout("rdx") buf.len() => rdx, inlateout("r10") 0u64 => _,
             lateout("r8") r8, lateout("r9") _,
             lateout("rcx") _, lateout("r11") _, options(nostack))
    };
    Received { rax, len: rdx, kind: rdi, word: rsi, value: r8 }
}

/// `pulse(conn, code, value)`; returns rax.
#[inline(always)]
pub fn pulse(conn: u64, code: u64, value: u64) -> u64 {
    let rax: u64;
    // SAFETY: no memory arguments.
    unsafe {
        asm!("syscall", inlateout("rax") Syscall::Pulse as u64 => rax,
             in("rdi") conn, in("rsi") code, inlateout("rdx") value => _,
             lateout("rcx") _, lateout("r11") _, options(nostack))
    };
    rax
}

/// `send_async(conn, msg, token, reply_chan)`; returns rax.
#[inline(always)]
pub fn send_async(conn: u64, msg: &[u8], token: u64, reply_chan: u64) -> u64 {
    let rax: u64;
    // SAFETY: the kernel copies `msg` (borrowed for the call) at once.
    unsafe {
        asm!("syscall", inlateout("rax") Syscall::SendAsync as u64 => rax,
             in("rdi") conn, in("rsi") msg.as_ptr(), inlateout("rdx") msg.len() => _,
             in("r10") token, in("r8") reply_chan,
             lateout("rcx") _, lateout("r11") _, options(nostack))
    };
    rax
}

/// `send(conn, msg, reply)` with one lease over `lease` (rights
/// `abi::ipc::lease::*`); returns (rax, reply length). The server may read
/// or write the lease while we are blocked, hence the exclusive borrow.
#[inline(always)]
pub fn send_leased(conn: u64, msg: &[u8], lease: &mut [u8], rights: u64, reply: &mut [u8]) -> (u64, u64) {
    let table = [Lease { addr: lease.as_mut_ptr() as u64, len: lease.len() as u64, rights }];
    let options = SendOptions { leases: table.as_ptr() as u64, lease_count: 1, handle: 0, timeout_ns: 0 };
    let (rax, rdx): (u64, u64);
    // SAFETY: the kernel reads `msg`, `options` and `table` (alive for the
    // call), reads/writes `lease` within its length while we are blocked,
    // and writes at most `reply.len()` bytes into `reply`.
    unsafe {
        asm!("syscall",
             inlateout("rax") Syscall::Send as u64 => rax,
             in("rdi") conn, in("rsi") msg.as_ptr(), inlateout("rdx") msg.len() => rdx,
             in("r10") reply.as_mut_ptr(), inlateout("r8") reply.len() => _,
             in("r9") &options as *const SendOptions,
             lateout("rcx") _, lateout("r11") _, options(nostack))
    };
    (rax, rdx)
}

/// `lease_read(rcvid, 0, 0, buf)`: copies the client's lease 0 into `buf`.
#[inline(always)]
pub fn lease_read(rcvid: u64, buf: &mut [u8]) -> u64 {
    let rax: u64;
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    unsafe {
        asm!("syscall", inlateout("rax") Syscall::LeaseRead as u64 => rax,
             in("rdi") rcvid, in("rsi") 0u64, inlateout("rdx") 0u64 => _,
             in("r10") buf.as_mut_ptr(), in("r8") buf.len(),
             lateout("rcx") _, lateout("r11") _, options(nostack))
    };
    rax
}

/// `lease_write(rcvid, 0, 0, buf)`: copies `buf` into the client's lease 0.
#[inline(always)]
pub fn lease_write(rcvid: u64, buf: &[u8]) -> u64 {
    let rax: u64;
    // SAFETY: the kernel only reads `buf`.
    unsafe {
        asm!("syscall", inlateout("rax") Syscall::LeaseWrite as u64 => rax,
             in("rdi") rcvid, in("rsi") 0u64, inlateout("rdx") 0u64 => _,
             in("r10") buf.as_ptr(), in("r8") buf.len(),
             lateout("rcx") _, lateout("r11") _, options(nostack))
    };
    rax
}

/// `ipc_tune(knob, value) -> previous value` (or an error in rax).
pub fn ipc_tune(knob: u64, value: u64) -> u64 {
    // SAFETY: no memory arguments; the knob only changes how the kernel
    // schedules IPC wake-ups.
    let (rax, _) = unsafe { libipc::sys::syscall2(Syscall::IpcTune as u64, knob, value) };
    rax
}
