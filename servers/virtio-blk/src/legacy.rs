//! The legacy virtio-PCI transport (virtio 1.1 §4.1.4.8): the device's
//! registers in I/O space at BAR 0. It is what QEMU's transitional
//! virtio-blk (1af4:1001) offers next to the modern interface, and the only
//! one this driver can use: the modern one lives in memory BARs, which the
//! kernel cannot map for a process yet.
//!
//! Layout without MSI-X (which the driver never enables): 32-bit device
//! and driver feature words, the queue's page number, queue size / select /
//! notify, the status byte, the ISR byte (reading it acknowledges the
//! interrupt), then the device-specific configuration at 0x14.

use crate::hw::Ports;

const DEVICE_FEATURES: u16 = 0x00;
const DRIVER_FEATURES: u16 = 0x04;
const QUEUE_PFN: u16 = 0x08;
const QUEUE_SIZE: u16 = 0x0c;
const QUEUE_SELECT: u16 = 0x0e;
const QUEUE_NOTIFY: u16 = 0x10;
const STATUS: u16 = 0x12;
const ISR: u16 = 0x13;
const CONFIG: u16 = 0x14;

/// Device status bits.
pub mod status {
    pub const ACKNOWLEDGE: u8 = 1;
    pub const DRIVER: u8 = 2;
    pub const DRIVER_OK: u8 = 4;
    pub const FAILED: u8 = 128;
}

/// The page size the legacy queue address is counted in.
pub const QUEUE_PAGE: u64 = 4096;

/// A legacy virtio device at I/O base `base`.
pub struct Legacy<'a> {
    ports: &'a Ports,
    base: u16,
}

impl<'a> Legacy<'a> {
    pub fn new(ports: &'a Ports, base: u16) -> Legacy<'a> {
        Legacy { ports, base }
    }

    /// Resets the device (status 0): it forgets features and queues.
    pub fn reset(&self) {
        self.ports.out8(self.base + STATUS, 0);
    }

    /// Adds `bits` to the device status.
    pub fn add_status(&self, bits: u8) {
        let s = self.ports.in8(self.base + STATUS);
        self.ports.out8(self.base + STATUS, s | bits);
    }

    pub fn device_features(&self) -> u32 {
        self.ports.in32(self.base + DEVICE_FEATURES)
    }

    pub fn set_driver_features(&self, features: u32) {
        self.ports.out32(self.base + DRIVER_FEATURES, features);
    }

    /// Selects queue `q` and returns its size (0 = no such queue).
    pub fn queue_size(&self, q: u16) -> u16 {
        self.ports.out16(self.base + QUEUE_SELECT, q);
        self.ports.in16(self.base + QUEUE_SIZE)
    }

    /// Tells the device where queue `q` lives (`phys`, 4096-aligned, below
    /// 16 TiB: the register holds a 32-bit page number); false if it cannot.
    pub fn set_queue(&self, q: u16, phys: u64) -> bool {
        let Ok(pfn) = u32::try_from(phys / QUEUE_PAGE) else { return false };
        if !phys.is_multiple_of(QUEUE_PAGE) {
            return false;
        }
        self.ports.out16(self.base + QUEUE_SELECT, q);
        self.ports.out32(self.base + QUEUE_PFN, pfn);
        true
    }

    /// Rings queue `q`'s doorbell.
    pub fn notify(&self, q: u16) {
        self.ports.out16(self.base + QUEUE_NOTIFY, q);
    }

    /// Reads (and so clears) the interrupt status: bit 0 = a queue was
    /// used, bit 1 = the configuration changed.
    pub fn isr(&self) -> u8 {
        self.ports.in8(self.base + ISR)
    }

    /// The device-specific configuration dword at `offset`.
    pub fn config32(&self, offset: u16) -> u32 {
        self.ports.in32(self.base + CONFIG + offset)
    }

    /// The device-specific configuration qword at `offset`, read twice-
    /// consistent (legacy devices have no generation counter).
    pub fn config64(&self, offset: u16) -> u64 {
        loop {
            let lo = self.config32(offset);
            let hi = self.config32(offset + 4);
            if self.config32(offset) == lo {
                return u64::from(lo) | (u64::from(hi) << 32);
            }
        }
    }
}
