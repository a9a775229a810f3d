//! The benchmark's own `syscall` sequences for the raw cases: exactly the
//! instructions a minimal client or server needs, nothing from a library in
//! between, so the table's raw rows measure the kernel. Every register the
//! kernel may write is declared as an output.

use core::arch::asm;

/// Serialised time-stamp counter read (`lfence; rdtsc`).
#[inline(always)]
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: lfence and rdtsc only read the TSC; no memory is touched.
    unsafe { asm!("lfence", "rdtsc", "lfence", out("eax") lo, out("edx") hi, options(nomem, nostack)) };
    (u64::from(hi) << 32) | u64::from(lo)
}

/// `getpid`, the null system call.
#[inline(always)]
pub fn null_syscall() -> u64 {
    let rax: u64;
    // SAFETY: getpid takes no arguments and writes only rax/rdx (and the
    // CPU's rcx/r11).
    unsafe {
        asm!("syscall", inlateout("rax") abi::Syscall::GetPid as u64 => rax, lateout("rdx") _,
             lateout("rcx") _, lateout("r11") _, options(nostack))
    };
    rax
}

/// `send(conn, msg, reply)` with no options; returns (rax, reply length).
#[inline(always)]
pub fn send(conn: u64, msg: &[u8], reply: &mut [u8]) -> (i64, u64) {
    let (rax, rdx): (u64, u64);
    // SAFETY: the kernel reads `msg` and writes at most `reply.len()` bytes
    // into `reply`, both borrowed for the call; r8 returns a handle.
    unsafe {
        asm!("syscall",
             inlateout("rax") abi::Syscall::Send as u64 => rax,
             in("rdi") conn, in("rsi") msg.as_ptr(), inlateout("rdx") msg.len() => rdx,
             in("r10") reply.as_mut_ptr(), inlateout("r8") reply.len() => _, in("r9") 0u64,
             lateout("rcx") _, lateout("r11") _, options(nostack))
    };
    (rax as i64, rdx)
}

/// `reply_receive`: replies `reply_len` bytes of `buf` to `rcvid` (0 = no
/// reply) and receives the next message into `buf`. Returns (rcvid, length).
#[inline(always)]
pub fn reply_receive(rcvid: u64, reply_len: usize, chan: u64, buf: &mut [u8]) -> (i64, u64) {
    let (rax, rdx): (u64, u64);
    // SAFETY: the kernel reads the reply from `buf` and then writes the next
    // message into it (at most `buf.len()` bytes); every result register is
    // declared.
    unsafe {
        asm!("syscall",
             inlateout("rax") abi::Syscall::ReplyReceive as u64 => rax,
             inlateout("rdi") rcvid => _, inlateout("rsi") abi::ipc::pack_status_len(0, reply_len as u32) => _,
             inlateout("rdx") buf.as_ptr() => rdx, in("r10") chan,
             inlateout("r8") buf.as_mut_ptr() => _, inlateout("r9") buf.len() => _,
             lateout("rcx") _, lateout("r11") _, options(nostack))
    };
    (rax as i64, rdx)
}

/// `channel_create() -> handle`.
pub fn channel_create() -> u64 {
    // SAFETY: takes no pointers; returns a handle or an error in rax.
    let (rax, _) = unsafe { libipc::sys::syscall0(abi::Syscall::ChannelCreate as u64) };
    rax
}

/// `connect(channel) -> handle`.
pub fn connect(chan: u64) -> u64 {
    // SAFETY: takes no pointers; returns a handle or an error in rax.
    let (rax, _) = unsafe { libipc::sys::syscall1(abi::Syscall::Connect as u64, chan) };
    rax
}
