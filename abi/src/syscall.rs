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
    /// `spawn(name_ptr, name_len, args_ptr, args_len, handles_ptr,
    /// handle_count) -> process handle`, `rdx` = the child's pid: start the
    /// initrd program `name` with argument bytes `args`, giving it copies of
    /// `handle_count` handles (u64 values at `handles_ptr`, each with
    /// TRANSFER), which appear in the child's table as `first_handle(0)`,
    /// `first_handle(1)`, ...
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
    /// `channel_create() -> channel handle` (RECEIVE | CONNECT | DUPLICATE | TRANSFER).
    ChannelCreate = 17,
    /// `connect(channel) -> connection handle` (SEND | DUPLICATE | TRANSFER);
    /// needs CONNECT on the channel handle.
    Connect = 18,
    /// `send(conn, msg, msg_len, reply, reply_cap, options) -> status`:
    /// blocks until the reply. `rax` = the replier's status (>= 0) or
    /// `-error`; `rdx` = reply length; `r8` = a handle given with the reply
    /// (0 = none). `options` points to an `ipc::SendOptions` or is 0.
    Send = 19,
    /// `receive(channel, buf, buf_cap, timeout_ns) -> receive id`: blocks
    /// for the next message, pulse or asynchronous reply, in arrival order.
    /// `rax` = receive id (0 for pulses and async replies); `rdx` = length;
    /// `rdi` = `ipc::Kind`; `rsi` = sender pid / pulse code / token;
    /// `r8` = pulse value / async status; `r9` = handle received (0 = none).
    Receive = 20,
    /// `reply(rcvid, status, reply, reply_len, handle) -> 0`: `status` >= 0
    /// is returned to the sender; a negative status must be `-error`.
    Reply = 21,
    /// `reply_receive(rcvid, status_len, reply, channel, buf, buf_cap)`:
    /// `reply` then `receive` in one call (`status_len` from
    /// `ipc::pack_status_len`); rcvid 0 skips the reply. Returns as `receive`.
    ReplyReceive = 22,
    /// `pulse(conn, code, value) -> 0`: queue a notification; never blocks.
    Pulse = 23,
    /// `send_async(conn, msg, msg_len, token, reply_channel) -> 0`: queue a
    /// message; its reply arrives on `reply_channel` as `Kind::AsyncReply`.
    SendAsync = 24,
    /// `lease_read(rcvid, index, offset, buf, len) -> len`: copy from the
    /// sender's lease `index` into our memory.
    LeaseRead = 25,
    /// `lease_write(rcvid, index, offset, buf, len) -> len`: copy our
    /// memory into the sender's lease `index`.
    LeaseWrite = 26,
    /// `handle_dup(handle, rights) -> handle`: a copy with `rights` (a subset).
    HandleDup = 27,
    /// `irq_bind(irq, channel, code) -> 0`: deliver the line's interrupts
    /// as pulses (`code`, value = line) on `channel`, and unmask it.
    IrqBind = 28,
    /// `irq_ack(irq) -> 0`: the driver handled the interrupt; unmask the line.
    IrqAck = 29,
    /// `ioports_enable(ports) -> 0`: allow this process `in`/`out` on the
    /// port range the handle names.
    IoPortsEnable = 30,
    /// `dma_alloc(dma, len) -> addr`: physically contiguous zeroed memory;
    /// `rdx` = its physical address.
    DmaAlloc = 31,
    /// `set_priority(priority) -> 0`: the calling thread's base priority
    /// (0..=`MAX_USER_PRIORITY`).
    SetPriority = 32,
    /// `shutdown(status) -> never returns`: power off (under QEMU: leave
    /// through isa-debug-exit, successfully if `status` is 0). init only;
    /// anyone else gets `PermissionDenied`.
    Shutdown = 33,
    /// `ipc_tune(knob, value) -> previous value`: benchmark knobs.
    /// `IPC_KNOB_DIRECT_HANDOFF` (1 = on, the default; 0 = every IPC
    /// wake-up goes through the run queue and the scheduler).
    IpcTune = 34,
    /// `ioports_narrow(ports, first, count) -> ports handle`: a new handle
    /// to the ports `first .. first + count`, which must lie inside the
    /// range `ports` names (a handle with DUPLICATE); same rights. How init
    /// gives each driver only the ports it is meant to use.
    IoPortsNarrow = 35,
}

/// `ipc_tune` knob: whether IPC hands the CPU straight to the woken thread.
pub const IPC_KNOB_DIRECT_HANDOFF: u64 = 0;

/// Highest priority a thread may ask for.
pub const MAX_USER_PRIORITY: u64 = 24;

/// Number of system calls.
pub const SYSCALL_COUNT: u64 = 36;

impl Syscall {
    /// Decodes the number in `rax`.
    pub fn from_raw(n: u64) -> Option<Syscall> {
        use Syscall::*;
        const ALL: [Syscall; SYSCALL_COUNT as usize] = [
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
            ChannelCreate,
            Connect,
            Send,
            Receive,
            Reply,
            ReplyReceive,
            Pulse,
            SendAsync,
            LeaseRead,
            LeaseWrite,
            HandleDup,
            IrqBind,
            IrqAck,
            IoPortsEnable,
            DmaAlloc,
            SetPriority,
            Shutdown,
            IpcTune,
            IoPortsNarrow,
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
    /// `ipc::IpcStats`: the IPC and scheduler counters.
    Ipc = 1,
    /// A list of `ProcessInfo` records, one per process.
    Processes = 2,
    /// One little-endian u64: the clock's scale, nanoseconds per TSC tick
    /// in 32.32 fixed point. The kernel's `time` is `(rdtsc × scale) >> 32`
    /// (the TSC counts from reset), so a program can read the same clock
    /// with `rdtsc` alone. It never changes after boot.
    Clock = 3,
}

/// Handle value of the `n`th handle given to a new process at spawn.
pub const fn first_handle(n: u64) -> u64 {
    (1 << 16) | (n + 1)
}

/// What init finds in its handle table at start (in this order).
pub mod init_handles {
    use super::first_handle;
    /// Every I/O port (hand out subsets made with `ioports_narrow`).
    pub const IOPORTS: u64 = first_handle(0);
    /// The right to allocate DMA memory.
    pub const DMA: u64 = first_handle(1);
    /// Interrupt line `n` (0..24) is `first_handle(2 + n)`.
    pub const fn irq(line: u64) -> u64 {
        first_handle(2 + line)
    }
}

/// One process in `kernel_info(InfoKind::Processes)`: little-endian u64s
/// pid, parent pid (0 = none), threads, pages, state (0 alive, 1 ended),
/// exit status, then 32 bytes of NUL-padded name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcessInfo {
    pub pid: u64,
    pub parent: u64,
    pub threads: u64,
    pub pages: u64,
    pub ended: bool,
    pub status: i64,
    pub name: [u8; 32],
}

impl ProcessInfo {
    pub const SIZE: usize = 6 * 8 + 32;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0; Self::SIZE];
        let words = [self.pid, self.parent, self.threads, self.pages, self.ended as u64, self.status as u64];
        for (i, w) in words.iter().enumerate() {
            b[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
        }
        b[48..].copy_from_slice(&self.name);
        b
    }

    pub fn from_bytes(b: &[u8; Self::SIZE]) -> Self {
        let word = |i: usize| {
            let mut w = [0; 8];
            w.copy_from_slice(&b[i * 8..i * 8 + 8]);
            u64::from_le_bytes(w)
        };
        let mut name = [0; 32];
        name.copy_from_slice(&b[48..]);
        ProcessInfo {
            pid: word(0),
            parent: word(1),
            threads: word(2),
            pages: word(3),
            ended: word(4) != 0,
            status: word(5) as i64,
            name,
        }
    }

    /// The name without its padding.
    pub fn name(&self) -> &str {
        let end = self.name.iter().position(|&b| b == 0).unwrap_or(self.name.len());
        core::str::from_utf8(&self.name[..end]).unwrap_or("?")
    }
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
    fn process_info_round_trip() {
        let mut p = ProcessInfo { pid: 3, parent: 1, threads: 2, pages: 40, ended: true, status: -1001, name: [0; 32] };
        p.name[..4].copy_from_slice(b"init");
        let q = ProcessInfo::from_bytes(&p.to_bytes());
        assert_eq!(q, p);
        assert_eq!(q.name(), "init");
    }

    #[test]
    fn mem_info_round_trip() {
        let m = MemInfo { free_frames: 1, total_frames: u64::MAX, page_size: 4096 };
        assert_eq!(MemInfo::from_bytes(&m.to_bytes()), m);
    }

    #[test]
    fn numbers_decode_to_themselves() {
        for n in 0..SYSCALL_COUNT {
            assert_eq!(Syscall::from_raw(n).map(|s| s as u64), Some(n));
        }
        assert_eq!(Syscall::from_raw(SYSCALL_COUNT), None);
        assert_eq!(Syscall::from_raw(u64::MAX), None);
    }
}
