//! PCI configuration space through the legacy mechanism: the address of a
//! dword goes to port 0xCF8, the dword comes and goes through 0xCFC.
//! Enumeration is brute force over every bus and slot (functions 1..7 only
//! where function 0 says it is multi-function): a few thousand port reads,
//! done once at start.
//!
//! Nothing else in the system touches configuration space today. Once a
//! second driver does, the 0xCF8/0xCFC pair (an address latch) needs one
//! owner — a PCI server, or a kernel call — or two drivers will interleave.

use alloc::vec::Vec;

use vblk::pci::{reg, Location};

use crate::hw::Ports;

const CONFIG_ADDRESS: u16 = 0xcf8;
const CONFIG_DATA: u16 = 0xcfc;

/// A function found by [`scan`].
#[derive(Clone, Copy, Debug)]
pub struct Function {
    pub at: Location,
    pub vendor: u16,
    pub device: u16,
}

/// Configuration-space access.
pub struct Config<'a> {
    ports: &'a Ports,
}

impl<'a> Config<'a> {
    pub fn new(ports: &'a Ports) -> Config<'a> {
        Config { ports }
    }

    /// The dword containing `offset`; all ones for an absent function.
    pub fn read32(&self, at: Location, offset: u8) -> u32 {
        let Some(addr) = at.config_address(offset) else { return u32::MAX };
        self.ports.out32(CONFIG_ADDRESS, addr);
        self.ports.in32(CONFIG_DATA)
    }

    pub fn read16(&self, at: Location, offset: u8) -> u16 {
        (self.read32(at, offset) >> (u32::from(offset & 2) * 8)) as u16
    }

    pub fn read8(&self, at: Location, offset: u8) -> u8 {
        (self.read32(at, offset) >> (u32::from(offset & 3) * 8)) as u8
    }

    pub fn write16(&self, at: Location, offset: u8, value: u16) {
        let Some(addr) = at.config_address(offset) else { return };
        let shift = u32::from(offset & 2) * 8;
        self.ports.out32(CONFIG_ADDRESS, addr);
        let old = self.ports.in32(CONFIG_DATA);
        let new = (old & !(0xffff << shift)) | (u32::from(value) << shift);
        self.ports.out32(CONFIG_ADDRESS, addr);
        self.ports.out32(CONFIG_DATA, new);
    }

    /// Every function present.
    pub fn scan(&self) -> Vec<Function> {
        let mut found = Vec::new();
        for bus in 0..=255u8 {
            for slot in 0..32u8 {
                let at = Location { bus, slot, func: 0 };
                if self.read16(at, reg::VENDOR) == 0xffff {
                    continue;
                }
                let funcs = if self.read8(at, reg::HEADER_TYPE) & 0x80 != 0 { 8 } else { 1 };
                for func in 0..funcs {
                    let at = Location { bus, slot, func };
                    let id = self.read32(at, reg::VENDOR);
                    if id & 0xffff != 0xffff {
                        found.push(Function { at, vendor: id as u16, device: (id >> 16) as u16 });
                    }
                }
            }
        }
        found
    }
}
