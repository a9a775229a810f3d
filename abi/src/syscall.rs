//! System call numbers and register conventions.
//!
//! Entry: `syscall` with the number in `rax` and arguments in `rdi`, `rsi`,
//! `rdx`, `r10`, `r8`, `r9` (in that order). Exit: `rax` holds the result
//! (non-negative) or `-(error code)`; calls that return two values put the
//! second in `rdx`. The call clobbers `rcx` and `r11` (the CPU uses them)
//! and preserves every other register except `rax` and `rdx`.

/// Every system call. The discriminant is the number passed in `rax`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Syscall {
    /// `debug_write(ptr, len) -> len`: write bytes to the kernel log.
    DebugWrite = 0,
    /// `exit(status) -> !`: end the calling process.
    Exit = 1,
    /// `spawn(name_ptr, name_len, args_ptr, args_len) -> process handle`:
    /// start the initrd program `name` with argument bytes `args`.
    Spawn = 2,
    /// `wait(process) -> (0, status)`: block until the process ends; the
    /// exit status is in `rdx` (`EXIT_KILLED`, `EXIT_FAULTED` or the code).
    Wait = 3,
    /// `kill(process) -> 0`: end a process the caller holds a handle to.
    Kill = 4,
    /// `thread_create(entry, stack_top, arg) -> thread handle`: the new
    /// thread starts at `entry` with `rdi = arg` and `rsp = stack_top`.
    ThreadCreate = 5,
    /// `thread_exit(code) -> !`: end the calling thread (the last thread's
    /// exit ends the process with `code`).
    ThreadExit = 6,
    /// `thread_join(thread) -> (0, code)`: wait for a thread of the same
    /// process to exit; its code is in `rdx`.
    ThreadJoin = 7,
    /// `yield() -> 0`: give up the rest of the time slice.
    Yield = 8,
    /// `sleep(ns) -> 0`: block for at least `ns` nanoseconds.
    Sleep = 9,
    /// `map(len, prot) -> addr`: map `len` bytes (rounded up to pages) of
    /// zeroed memory with `prot` (`prot::READ | WRITE`; `EXEC` without `WRITE`).
    Map = 10,
    /// `unmap(addr, len) -> 0`: unmap pages previously returned by `map`.
    Unmap = 11,
    /// `protect(addr, len, prot) -> 0`: change the protection of mapped pages.
    Protect = 12,
    /// `time() -> ns`: nanoseconds since boot.
    Time = 13,
    /// `getpid() -> pid`: the caller's process id.
    GetPid = 14,
    /// `handle_close(handle) -> 0`: drop a handle.
    HandleClose = 15,
    /// `kernel_info(kind, buf, len) -> bytes written`: statistics for tools
    /// (`ps`, `mem`, the IPC counters); `kind` is an `InfoKind`.
    KernelInfo = 16,
}

impl Syscall {
    /// Decodes the number in `rax`.
    pub fn from_raw(n: u64) -> Option<Syscall> {
        use Syscall::*;
        const ALL: [Syscall; 17] = [
            DebugWrite,
            Exit,
            Spawn,
            Wait,
            Kill,
            ThreadCreate,
            ThreadExit,
            ThreadJoin,
            Yield,
            Sleep,
            Map,
            Unmap,
            Protect,
            Time,
            GetPid,
            HandleClose,
            KernelInfo,
        ];
        ALL.get(n as usize).copied()
    }
}

/// What `kernel_info` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum InfoKind {
    /// `MemInfo`: frames free and total.
    Memory = 0,
}

/// `kernel_info(InfoKind::Memory)` fills this.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct MemInfo {
    pub free_frames: u64,
    pub total_frames: u64,
    pub page_size: u64,
}

impl MemInfo {
    pub const SIZE: usize = 24;

    /// The wire form `kernel_info` writes: three little-endian u64s.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0; Self::SIZE];
        b[0..8].copy_from_slice(&self.free_frames.to_le_bytes());
        b[8..16].copy_from_slice(&self.total_frames.to_le_bytes());
        b[16..24].copy_from_slice(&self.page_size.to_le_bytes());
        b
    }

    pub fn from_bytes(b: &[u8; Self::SIZE]) -> Self {
        let word = |i: usize| {
            let mut w = [0; 8];
            w.copy_from_slice(&b[i * 8..i * 8 + 8]);
            u64::from_le_bytes(w)
        };
        MemInfo { free_frames: word(0), total_frames: word(1), page_size: word(2) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_info_round_trip() {
        let m = MemInfo { free_frames: 1, total_frames: u64::MAX, page_size: 4096 };
        assert_eq!(MemInfo::from_bytes(&m.to_bytes()), m);
    }

    #[test]
    fn numbers_decode_to_themselves() {
        for n in 0..17 {
            assert_eq!(Syscall::from_raw(n).map(|s| s as u64), Some(n));
        }
        assert_eq!(Syscall::from_raw(17), None);
        assert_eq!(Syscall::from_raw(u64::MAX), None);
    }
}
