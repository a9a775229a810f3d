//! What the kernel tells about itself (the IPC counters, the process list)
//! and the scheduling priority of the calling thread.
#![forbid(unsafe_code)]

use alloc::vec::Vec;

use abi::ipc::IpcStats;
use abi::syscall::{InfoKind, ProcessInfo, MAX_USER_PRIORITY};
use abi::Error;

use super::raw;
use crate::{sys, Result};

/// The kernel's IPC and scheduler counters (`kernel_info(InfoKind::Ipc)`).
pub fn ipc_stats() -> Result<IpcStats> {
    let mut buf = [0u8; IpcStats::SIZE];
    let n = sys::kernel_info(InfoKind::Ipc as u64, &mut buf)?;
    if n < IpcStats::SIZE {
        return Err(Error::BadState);
    }
    let mut words = [0u64; IpcStats::WORDS];
    for (w, chunk) in words.iter_mut().zip(buf.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        *w = u64::from_le_bytes(b);
    }
    Ok(IpcStats::from_words(words))
}

/// Most records [`processes`] asks for (the list is retried with a bigger
/// buffer while it comes back full, up to this).
const MAX_RECORDS: usize = 1024;

/// Every process the kernel knows (alive, or ended and not yet reaped).
pub fn processes() -> Result<Vec<ProcessInfo>> {
    let mut records = 32;
    loop {
        let mut buf = Vec::new();
        buf.try_reserve_exact(records * ProcessInfo::SIZE).map_err(|_| Error::NoMemory)?;
        buf.resize(records * ProcessInfo::SIZE, 0u8);
        let n = sys::kernel_info(InfoKind::Processes as u64, &mut buf)?.min(buf.len());
        if n == buf.len() && records < MAX_RECORDS {
            records *= 2;
            continue;
        }
        let list = buf[..n]
            .chunks_exact(ProcessInfo::SIZE)
            .filter_map(|c| <&[u8; ProcessInfo::SIZE]>::try_from(c).ok())
            .map(ProcessInfo::from_bytes)
            .collect();
        return Ok(list);
    }
}

/// Sets the calling thread's base priority (0..=`MAX_USER_PRIORITY`; new
/// processes start at 8). While serving a more important client through a
/// message a thread runs at the client's priority.
pub fn set_priority(priority: u8) -> Result<()> {
    if u64::from(priority) > MAX_USER_PRIORITY {
        return Err(Error::BadArgument);
    }
    raw::set_priority(u64::from(priority))
}
