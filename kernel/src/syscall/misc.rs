//! The remaining system calls: the debug log, time, closing handles and
//! kernel statistics.

use super::{Args, Next};
use crate::arch::{serial::SERIAL, time};
use crate::state::Kernel;
use crate::usermem::UserSlice;
use abi::syscall::{InfoKind, MemInfo};
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
    let object = p.handles.remove(args.a[0]).map_err(|_| Error::BadHandle)?;
    k.release(object);
    Ok(Next::Return(0, 0))
}

pub fn kernel_info(_: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let [kind, buf, len, ..] = args.a;
    if kind != InfoKind::Memory as u64 {
        return Err(Error::BadArgument);
    }
    if (len as usize) < MemInfo::SIZE {
        return Err(Error::MessageTooLong);
    }
    let (free, total) = crate::mm::frames::stats();
    let info = MemInfo { free_frames: free as u64, total_frames: total as u64, page_size: crate::mm::PAGE_SIZE };
    UserSlice::new(buf, MemInfo::SIZE as u64)?.write(&info.to_bytes())?;
    Ok(Next::Return(MemInfo::SIZE as u64, 0))
}
