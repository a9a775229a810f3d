//! The remaining system calls: the debug log, time, closing handles and
//! kernel statistics.

use super::{Args, Next};
use crate::arch::{serial::SERIAL, time};
use crate::process::ProcessState;
use crate::state::Kernel;
use crate::usermem::UserSlice;
use abi::ipc::IpcStats;
use abi::syscall::{InfoKind, MemInfo, ProcessInfo};
use abi::Error;

/// Longest single debug write.
const MAX_DEBUG_WRITE: u64 = 64 * 1024;

pub fn debug_write(_: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let [ptr, len, ..] = args.a;
    if len > MAX_DEBUG_WRITE {
        return Err(Error::BadArgument);
    }
    let mut rest = UserSlice::new(ptr, len)?;
    let mut chunk = [0u8; 256];
    while rest.len() > 0 {
        let part = rest.prefix(chunk.len());
        let buf = &mut chunk[..part.len()];
        part.read(buf)?;
        SERIAL.lock().write_bytes(buf);
        rest = rest.skip(part.len());
    }
    Ok(Next::Return(len, 0))
}

pub fn time(_: &mut Kernel, _: &Args) -> Result<Next, Error> {
    Ok(Next::Return(time::uptime_ns(), 0))
}

pub fn handle_close(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let process = k.cur().process;
    let p = k.processes.get_mut(process).ok_or(Error::BadState)?;
    let handle = p.handles.remove(args.a[0]).map_err(|_| Error::BadHandle)?;
    crate::process::epochs::HANDLES.bump();
    k.release(handle.object);
    Ok(Next::Return(0, 0))
}

pub fn handle_dup(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let [value, rights, ..] = args.a;
    let h = super::lookup(k, value)?;
    if h.rights & abi::ipc::rights::DUPLICATE == 0 || rights & !h.rights != 0 {
        return Err(Error::PermissionDenied);
    }
    let copy = super::grant(k, crate::process::Handle { object: h.object, rights })?;
    Ok(Next::Return(copy, 0))
}

pub fn kernel_info(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let [kind, buf, len, ..] = args.a;
    let out = UserSlice::new(buf, len)?;
    match kind {
        k_ if k_ == InfoKind::Memory as u64 => {
            let (free, total) = crate::mm::frames::stats();
            let info =
                MemInfo { free_frames: free as u64, total_frames: total as u64, page_size: crate::mm::PAGE_SIZE };
            write_prefix(out, &info.to_bytes())
        }
        k_ if k_ == InfoKind::Ipc as u64 => {
            let c = k.ipc_counters;
            let stats = IpcStats {
                fast_sends: c.fast_sends,
                fast_replies: c.fast_replies,
                slow_sends: c.slow_sends,
                scheduler_invocations: k.stats.scheduler_invocations,
                context_switches: k.stats.context_switches,
                syscalls: k.stats.syscalls,
                pulses: c.pulses,
                async_sends: c.async_sends,
            };
            let mut bytes = [0u8; IpcStats::SIZE];
            for (chunk, w) in bytes.chunks_exact_mut(8).zip(stats.to_words()) {
                chunk.copy_from_slice(&w.to_le_bytes());
            }
            write_prefix(out, &bytes)
        }
        k_ if k_ == InfoKind::Clock as u64 => write_prefix(out, &time::ns_per_tsc_fp().to_le_bytes()),
        k_ if k_ == InfoKind::Processes as u64 => {
            let mut written = 0usize;
            for (_, p) in k.processes.iter() {
                if written + ProcessInfo::SIZE > out.len() {
                    break;
                }
                let mut name = [0u8; 32];
                let n = p.name.len().min(32);
                name[..n].copy_from_slice(&p.name.as_bytes()[..n]);
                let (ended, status) = match p.state {
                    ProcessState::Alive => (false, 0),
                    ProcessState::Zombie(s) => (true, s),
                };
                let info = ProcessInfo {
                    pid: p.pid,
                    parent: p.parent.and_then(|q| k.processes.get(q)).map_or(0, |q| q.pid),
                    threads: p.threads.len() as u64,
                    pages: p.space.as_ref().map_or(0, |s| s.pages as u64),
                    ended,
                    status,
                    name,
                };
                out.skip(written).prefix(ProcessInfo::SIZE).write(&info.to_bytes())?;
                written += ProcessInfo::SIZE;
            }
            Ok(Next::Return(written as u64, 0))
        }
        _ => Err(Error::BadArgument),
    }
}

/// Writes `bytes` to the start of `out`, which must be long enough.
fn write_prefix(out: UserSlice, bytes: &[u8]) -> Result<Next, Error> {
    if out.len() < bytes.len() {
        return Err(Error::MessageTooLong);
    }
    out.prefix(bytes.len()).write(bytes)?;
    Ok(Next::Return(bytes.len() as u64, 0))
}
