//! Processes: an address space, a handle table, threads, and what the rest
//! of the system needs to know when it ends (its status, who waits for it).

pub mod address_space;
pub mod epochs;
pub mod lifecycle;
pub mod loader;

use crate::ipc::ChannelId;
use crate::thread::{ProcessId, ThreadId};
use address_space::AddressSpace;
use alloc::{string::String, vec::Vec};
use kcore::handles::HandleTable;

/// Per-process limits: what one process may hold of the kernel's resources.
pub const MAX_THREADS: usize = 32;
pub const MAX_HANDLES: usize = 256;
pub const MAX_PAGES: usize = 16 * 1024; // 64 MiB
/// Processes alive (or unreaped) at once, system-wide.
pub const MAX_PROCESSES: usize = 64;
/// Threads at once, system-wide.
pub const MAX_THREADS_TOTAL: usize = 512;
/// Default scheduling priority of a new process.
pub const DEFAULT_PRIORITY: u8 = 8;

/// What a handle names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Object {
    Process(ProcessId),
    Thread(ThreadId),
    /// A receive point (its owner receives on it).
    Channel(ChannelId),
    /// A client's link to a channel.
    Connection(ChannelId),
    /// An interrupt line (ISA IRQ 0..15, or GSI 16..23).
    Irq(u8),
    /// I/O ports `base .. base + count`.
    IoPorts {
        base: u16,
        count: u32,
    },
    /// The right to allocate DMA memory.
    Dma,
}

/// A handle-table entry: an object and what the holder may do with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handle {
    pub object: Object,
    pub rights: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessState {
    Alive,
    /// Ended with this status; kept until the last handle to it closes.
    Zombie(i64),
}

pub struct Process {
    /// A number for people (logs, `ps`); never reused while the kernel runs.
    pub pid: u64,
    pub name: String,
    /// `None` once the process has ended.
    pub space: Option<AddressSpace>,
    pub handles: HandleTable<Handle>,
    pub threads: Vec<ThreadId>,
    pub parent: Option<ProcessId>,
    pub state: ProcessState,
    /// Threads blocked in `wait` on this process.
    pub waiters: Vec<ThreadId>,
    /// Handles (in any process) naming this one.
    pub handle_refs: u32,
    /// Whether the process may start programs.
    pub may_spawn: bool,
    pub priority: u8,
    /// Asynchronous sends waiting for their replies.
    pub async_outstanding: usize,
    /// Ports this process may use (`None`: none at all).
    pub io_bitmap: Option<alloc::boxed::Box<[u8; crate::arch::gdt::IO_BITMAP_BYTES]>>,
}

impl Process {
    pub fn cr3(&self) -> u64 {
        self.space.as_ref().map_or_else(|| crate::mm::paging::kernel_tables().root, |s| s.tables.root)
    }
}
