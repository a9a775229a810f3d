//! The driver's only unsafe code: I/O port instructions and the DMA memory
//! the kernel mapped for it. Everything else in the driver is safe Rust on
//! top of [`Ports`] and [`DmaMem`].
//!
//! Both belong in libipc eventually (it has `raw::inb`/`outb` already, but
//! not the 16- and 32-bit forms virtio and PCI need, nor a safe owner for a
//! DMA region's bytes); until then they live here, in one small file.
#![allow(unsafe_code)]

use libipc::ipc::{self, DmaRegion, Handle};
use libipc::Result;
use x86_64::structures::port::{PortRead, PortWrite};

use vblk::dma::Dma;

/// Proof that this process may use I/O ports: made only after
/// `ioports_enable` succeeded, so its accessors never fault.
///
/// The accessors are safe functions because a port access touches no memory
/// of this program by itself. What a *device* does in response — DMA into
/// memory — is the driver's to keep within memory it owns (the
/// [`DmaMem`] regions), which is the invariant the rest of the driver keeps.
pub struct Ports(());

impl Ports {
    /// Enables every port the handle names for this process.
    pub fn enable(handle: &Handle) -> Result<Ports> {
        ipc::ioports_enable(handle)?;
        Ok(Ports(()))
    }

    pub fn in8(&self, port: u16) -> u8 {
        // SAFETY: ports are enabled (this value exists); `in` touches no
        // memory (see the type's documentation for device effects).
        unsafe { u8::read_from_port(port) }
    }

    pub fn in16(&self, port: u16) -> u16 {
        // SAFETY: as in `in8`.
        unsafe { u16::read_from_port(port) }
    }

    pub fn in32(&self, port: u16) -> u32 {
        // SAFETY: as in `in8`.
        unsafe { u32::read_from_port(port) }
    }

    pub fn out8(&self, port: u16, value: u8) {
        // SAFETY: as in `in8`; the device effects of the write are the
        // driver's invariant (DMA only into `DmaMem` it owns).
        unsafe { u8::write_to_port(port, value) }
    }

    pub fn out16(&self, port: u16, value: u16) {
        // SAFETY: as in `out8`.
        unsafe { u16::write_to_port(port, value) }
    }

    pub fn out32(&self, port: u16, value: u32) {
        // SAFETY: as in `out8`.
        unsafe { u32::write_to_port(port, value) }
    }
}

/// Physically contiguous memory from `dma_alloc`, owned by this value.
pub struct DmaMem {
    region: DmaRegion,
}

impl DmaMem {
    /// Allocates `len` zeroed bytes with the DMA right `dma`.
    pub fn alloc(dma: &Handle, len: usize) -> Result<DmaMem> {
        let region = ipc::dma_alloc(dma, len)?;
        Ok(DmaMem { region })
    }
}

impl Dma for DmaMem {
    fn phys(&self) -> u64 {
        self.region.phys
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `dma_alloc` mapped `len` bytes at `addr` readable and
        // writable for the life of the process (nothing unmaps them), and
        // this value is the region's only owner (it is made only from a
        // fresh allocation), so no `&mut` to the bytes exists while `&self`
        // is borrowed. The device writes parts of the region on its own:
        // the virtqueue code reads those only after the used-ring index
        // publishes them, with fences, as with any DMA.
        unsafe { core::slice::from_raw_parts(self.region.addr as *const u8, self.region.len) }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`; `&mut self` makes this the only reference.
        unsafe { core::slice::from_raw_parts_mut(self.region.addr as *mut u8, self.region.len) }
    }
}
