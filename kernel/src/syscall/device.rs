//! Device-access system calls for drivers: interrupts as pulses, I/O port
//! permissions and DMA memory. Each needs a handle that only init holds at
//! boot and hands to the drivers its manifest names.

use super::{lookup, Args, Next};
use crate::arch::gdt::IO_BITMAP_BYTES;
use crate::mm::{frames, PAGE_SIZE};
use crate::process::{Handle, Object};
use crate::state::Kernel;
use abi::ipc::rights;
use abi::Error;
use alloc::boxed::Box;

fn irq_line(k: &mut Kernel, value: u64) -> Result<u8, Error> {
    match lookup(k, value)?.object {
        Object::Irq(line) => Ok(line),
        _ => Err(Error::BadHandle),
    }
}

pub fn irq_bind(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let [irq, chan, code, ..] = args.a;
    let line = irq_line(k, irq)?;
    let ch = match super::lookup_with(k, chan, rights::RECEIVE)? {
        Object::Channel(ch) => ch,
        _ => return Err(Error::BadHandle),
    };
    k.irq_bind(line, ch, code)?;
    Ok(Next::Return(0, 0))
}

pub fn irq_ack(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let line = irq_line(k, args.a[0])?;
    k.irq_ack(line)?;
    Ok(Next::Return(0, 0))
}

pub fn ioports_enable(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let Object::IoPorts { base, count } = lookup(k, args.a[0])?.object else { return Err(Error::BadHandle) };
    let process = k.cur().process;
    let p = k.processes.get_mut(process).ok_or(Error::BadState)?;
    let bitmap = p.io_bitmap.get_or_insert_with(|| Box::new([0xff; IO_BITMAP_BYTES]));
    for port in u32::from(base)..(u32::from(base) + count).min(65536) {
        bitmap[(port / 8) as usize] &= !(1 << (port % 8));
    }
    let threads = p.threads.clone();
    for t in threads {
        if let Some(t) = k.thread(t) {
            t.io_privileged = true;
        }
    }
    // The caller returns straight to user mode: load its new bitmap now.
    k.io_bitmap_owner = None;
    k.switch_io_bitmap(process, true);
    Ok(Next::Return(0, 0))
}

pub fn ioports_narrow(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let [value, first, count, ..] = args.a;
    let h = lookup(k, value)?;
    let Object::IoPorts { base, count: have } = h.object else { return Err(Error::BadHandle) };
    if h.rights & rights::DUPLICATE == 0 {
        return Err(Error::PermissionDenied);
    }
    let (base, end) = (u64::from(base), u64::from(base) + u64::from(have));
    if count == 0 || first < base || first.checked_add(count).is_none_or(|e| e > end) {
        return Err(Error::BadArgument);
    }
    // In range of a u16 base and a count of at most 65536: checked above.
    let narrowed = Handle { object: Object::IoPorts { base: first as u16, count: count as u32 }, rights: h.rights };
    let v = super::grant(k, narrowed)?;
    Ok(Next::Return(v, 0))
}

/// Largest single DMA allocation.
const MAX_DMA: u64 = 4 * 1024 * 1024;

pub fn dma_alloc(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let [dma, len, ..] = args.a;
    let Object::Dma = lookup(k, dma)?.object else { return Err(Error::BadHandle) };
    if len == 0 || len > MAX_DMA {
        return Err(Error::BadArgument);
    }
    let pages = len.div_ceil(PAGE_SIZE) as usize;
    let process = k.cur().process;
    let space = k.processes.get_mut(process).and_then(|p| p.space.as_mut()).ok_or(Error::BadState)?;
    if space.pages + pages > space.page_limit {
        return Err(Error::LimitReached);
    }
    let phys = frames::alloc_contiguous_zeroed(pages, PAGE_SIZE).ok_or(Error::NoMemory)?;
    match space.map_frames(phys, pages) {
        Ok(addr) => Ok(Next::Return(addr, phys)),
        Err(e) => {
            for i in 0..pages as u64 {
                let _ = frames::free(phys + i * PAGE_SIZE);
            }
            Err(e)
        }
    }
}
