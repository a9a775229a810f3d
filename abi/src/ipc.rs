//! Message passing: rights, the layouts userspace hands the kernel with a
//! send, and what `receive` reports. Register conventions per call are in
//! `syscall.rs`; semantics in `docs/ipc.md`.

/// Largest message (request or reply) the kernel copies.
pub const MAX_MESSAGE: usize = 4096;
/// Most leases one send may carry.
pub const MAX_LEASES: usize = 4;
/// Pulses a channel queues before `pulse` reports `QueueFull`.
pub const PULSE_QUEUE: usize = 64;
/// Asynchronous sends one process may have outstanding (sent, not yet
/// replied to) before `send_async` reports `QueueFull`.
pub const MAX_ASYNC_OUTSTANDING: usize = 16;

/// Rights a handle carries. A duplicate may only drop rights.
pub mod rights {
    /// Send messages and pulses (connections).
    pub const SEND: u64 = 1 << 0;
    /// Receive on the channel (channel handles).
    pub const RECEIVE: u64 = 1 << 1;
    /// Make new connections to the channel.
    pub const CONNECT: u64 = 1 << 2;
    /// Make duplicates of this handle.
    pub const DUPLICATE: u64 = 1 << 3;
    /// Give copies of this handle to other processes in messages.
    pub const TRANSFER: u64 = 1 << 4;
    /// Wait for / kill the process (process handles).
    pub const CONTROL: u64 = 1 << 5;
    /// Everything.
    pub const ALL: u64 = (1 << 6) - 1;
}

/// What a lease lets the server do with the client's memory.
pub mod lease {
    pub const READ: u64 = 1 << 0;
    pub const WRITE: u64 = 1 << 1;
}

/// One range of the sender's memory lent to the server until the reply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Lease {
    pub addr: u64,
    pub len: u64,
    /// `lease::READ` and/or `lease::WRITE`.
    pub rights: u64,
}

/// Optional extras of a `send`, passed by pointer (0 = none of them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct SendOptions {
    /// Address of `lease_count` `Lease`s.
    pub leases: u64,
    pub lease_count: u64,
    /// A handle (with the TRANSFER right) to give the server; 0 = none.
    pub handle: u64,
    /// Give up after this many nanoseconds (waiting to be received and for
    /// the reply together); 0 = wait forever.
    pub timeout_ns: u64,
}

/// What `receive` returned (in `rdi`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Kind {
    /// A message; reply to its receive id. `rsi` = sender pid.
    Message = 0,
    /// A pulse; `rsi` = code, `r8` = value. Nothing to reply.
    Pulse = 1,
    /// An asynchronous message; reply to its receive id like any other.
    /// `rsi` = sender pid.
    AsyncMessage = 2,
    /// The reply to one of our asynchronous sends: `rsi` = its token,
    /// `r8` = the status (or `-error`), the data in the buffer.
    AsyncReply = 3,
}

impl Kind {
    pub fn from_raw(v: u64) -> Option<Kind> {
        [Kind::Message, Kind::Pulse, Kind::AsyncMessage, Kind::AsyncReply].get(v as usize).copied()
    }
}

/// Pulse codes at or above this are the kernel's (interrupts).
pub const PULSE_CODE_KERNEL: u64 = 1 << 32;
/// The pulse code of an interrupt: `PULSE_CODE_IRQ`; the value is the line.
pub const PULSE_CODE_IRQ: u64 = PULSE_CODE_KERNEL;

/// Packs a reply's status and length for `reply_receive`.
pub const fn pack_status_len(status: i32, len: u32) -> u64 {
    ((status as u32 as u64) << 32) | len as u64
}

/// Unpacks what `pack_status_len` made.
pub const fn unpack_status_len(v: u64) -> (i32, u32) {
    ((v >> 32) as u32 as i32, v as u32)
}

/// Kernel IPC counters (`kernel_info(InfoKind::Ipc)`), little-endian u64s
/// in this order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IpcStats {
    /// Sends that found the receiver waiting and switched straight to it.
    pub fast_sends: u64,
    /// Replies that switched straight back to the waiting client.
    pub fast_replies: u64,
    /// Sends that had to queue (receiver busy) or go through the scheduler.
    pub slow_sends: u64,
    /// Times the scheduler chose among runnable threads.
    pub scheduler_invocations: u64,
    /// Times the CPU moved from one thread to another.
    pub context_switches: u64,
    pub syscalls: u64,
    pub pulses: u64,
    pub async_sends: u64,
}

impl IpcStats {
    pub const WORDS: usize = 8;
    pub const SIZE: usize = Self::WORDS * 8;

    pub fn to_words(&self) -> [u64; Self::WORDS] {
        [
            self.fast_sends,
            self.fast_replies,
            self.slow_sends,
            self.scheduler_invocations,
            self.context_switches,
            self.syscalls,
            self.pulses,
            self.async_sends,
        ]
    }

    pub fn from_words(w: [u64; Self::WORDS]) -> Self {
        IpcStats {
            fast_sends: w[0],
            fast_replies: w[1],
            slow_sends: w[2],
            scheduler_invocations: w[3],
            context_switches: w[4],
            syscalls: w[5],
            pulses: w[6],
            async_sends: w[7],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_len_packing() {
        for (s, l) in [(0, 0), (-8, 4096), (i32::MAX, u32::MAX), (i32::MIN, 1)] {
            assert_eq!(unpack_status_len(pack_status_len(s, l)), (s, l));
        }
    }

    #[test]
    fn layouts_are_stable() {
        assert_eq!(core::mem::size_of::<Lease>(), 24);
        assert_eq!(core::mem::size_of::<SendOptions>(), 32);
        let s = IpcStats { fast_sends: 1, context_switches: 5, async_sends: 8, ..Default::default() };
        assert_eq!(IpcStats::from_words(s.to_words()), s);
    }
}
