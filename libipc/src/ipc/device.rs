//! What drivers need from the kernel besides messages: interrupts delivered
//! as pulses ([`Irq`]), I/O port access and DMA memory. Each needs a handle
//! that only init holds at boot (`abi::syscall::init_handles`) and passes on.
//! The port instructions themselves are `raw::inb` / `raw::outb`.
#![forbid(unsafe_code)]

use super::channel::Channel;
use super::raw::{self, Handle};
use crate::Result;

/// An interrupt line this process holds.
#[derive(Debug)]
pub struct Irq {
    handle: Handle,
}

impl Irq {
    /// Wraps a handle naming an interrupt line.
    pub fn from_handle(handle: Handle) -> Irq {
        Irq { handle }
    }

    /// The handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Delivers the line's interrupts as pulses on `channel` (which needs
    /// RECEIVE) with `code` and the line number as value, and unmasks it.
    /// The line is masked again each time it fires until [`ack`](Self::ack).
    ///
    /// Errors: `BadHandle` (not an interrupt line or not a channel),
    /// `PermissionDenied`, `BadArgument` (the line cannot be routed).
    pub fn bind(&self, channel: &Channel, code: u64) -> Result<()> {
        raw::irq_bind(self.handle.raw(), channel.handle().raw(), code)
    }

    /// The interrupt was handled: unmask the line. `BadState` if unbound.
    pub fn ack(&self) -> Result<()> {
        raw::irq_ack(self.handle.raw())
    }
}

/// Lets this process use the I/O ports the handle names (`in`/`out`).
pub fn ioports_enable(ports: &Handle) -> Result<()> {
    raw::ioports_enable(ports.raw())
}

/// A handle to the ports `first ..= last` only, made from `ports` (which
/// must name all of them and allow DUPLICATE): what a driver should get.
///
/// Errors: `BadArgument` (not inside `ports`, or `last < first`),
/// `BadHandle`, `PermissionDenied`, `LimitReached`.
pub fn ioports_narrow(ports: &Handle, first: u16, last: u16) -> Result<Handle> {
    if last < first {
        return Err(crate::Error::BadArgument);
    }
    raw::ioports_narrow(ports.raw(), first, u32::from(last - first) + 1)
}

/// Physically contiguous memory for a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaRegion {
    /// Where it is mapped in this process.
    pub addr: u64,
    /// Its physical address, for the device.
    pub phys: u64,
    /// Its length in bytes (as asked; whole pages are mapped).
    pub len: usize,
}

/// Allocates `len` bytes (at most 4 MiB) of zeroed, physically contiguous
/// memory with the DMA right `dma`. The pages stay mapped for the life of
/// the process.
pub fn dma_alloc(dma: &Handle, len: usize) -> Result<DmaRegion> {
    let (addr, phys) = raw::dma_alloc(dma.raw(), len)?;
    Ok(DmaRegion { addr, phys, len })
}
