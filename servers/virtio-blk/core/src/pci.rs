//! PCI configuration values, decoded: the address written to port 0xCF8,
//! base address registers, and which interrupt line a device's INTx pin
//! reaches. The port accesses themselves are in the binary (`pcicfg.rs`).
//!
//! Interrupt routing is the chipset's business and is normally read from
//! ACPI's `_PRT` (AML, which nothing here interprets). QEMU's machines fix
//! it, so it is computed: on q35 (ICH9) a device in slot `s` of bus 0 with
//! pin `p` (1 = INTA) drives PIRQ E..H as `(s + p - 1) % 4`, and PIRQ E..H
//! are I/O APIC inputs 20..23 (QEMU `hw/isa/lpc_ich9.c`, `ich9_cc_init`,
//! which its ACPI `_PRT` matches). On other chipsets (i440fx) the firmware
//! routes INTx to an ISA interrupt and writes it into the Interrupt Line
//! register, which is then the line.

/// Configuration-space offsets.
pub mod reg {
    pub const VENDOR: u8 = 0x00;
    pub const DEVICE: u8 = 0x02;
    pub const COMMAND: u8 = 0x04;
    pub const HEADER_TYPE: u8 = 0x0e;
    pub const BAR0: u8 = 0x10;
    pub const INTERRUPT_LINE: u8 = 0x3c;
    pub const INTERRUPT_PIN: u8 = 0x3d;
}

/// Command register bits.
pub mod command {
    pub const IO_SPACE: u16 = 1 << 0;
    pub const BUS_MASTER: u16 = 1 << 2;
    pub const INTX_DISABLE: u16 = 1 << 10;
}

/// Intel's vendor id, and the q35 host bridge (the 82G33 MCH QEMU models).
pub const VENDOR_INTEL: u16 = 0x8086;
pub const DEVICE_Q35_HOST: u16 = 0x29c0;

/// Where a function lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    pub bus: u8,
    pub slot: u8,
    pub func: u8,
}

impl Location {
    /// The value for port 0xCF8 that selects `offset` (rounded down to a
    /// dword) of this function, or `None` for a slot or function that does
    /// not exist.
    pub fn config_address(&self, offset: u8) -> Option<u32> {
        if self.slot >= 32 || self.func >= 8 {
            return None;
        }
        Some(
            (1 << 31)
                | (u32::from(self.bus) << 16)
                | (u32::from(self.slot) << 11)
                | (u32::from(self.func) << 8)
                | u32::from(offset & 0xfc),
        )
    }
}

/// A decoded base address register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bar {
    /// I/O space at this port (0 = not assigned by the firmware).
    Io(u16),
    /// Memory space (the low 32 bits; 64-bit BARs take the next one too).
    Memory { addr: u32, wide: bool },
}

impl Bar {
    pub fn decode(raw: u32) -> Bar {
        if raw & 1 == 1 {
            // I/O BARs are at most 16 bits wide on x86.
            Bar::Io((raw & 0xffff_fffc) as u16)
        } else {
            Bar::Memory { addr: raw & 0xffff_fff0, wide: (raw >> 1) & 3 == 2 }
        }
    }
}

/// The interrupt line (GSI, as `irq_bind` numbers them) that pin `pin`
/// (1..=4 = INTA..INTD) of the function at `at` raises, given the host
/// bridge's vendor and device ids and the function's Interrupt Line
/// register. `None`: no pin, or a routing this does not know.
pub fn interrupt_line(host: (u16, u16), at: Location, pin: u8, line_register: u8) -> Option<u8> {
    if !(1..=4).contains(&pin) {
        return None;
    }
    if host == (VENDOR_INTEL, DEVICE_Q35_HOST) {
        // Slots 25..31 have chipset-programmable routing; bridges swizzle.
        if at.bus != 0 || at.slot >= 25 {
            return None;
        }
        return Some(20 + (at.slot + pin - 1) % 4);
    }
    (line_register < 16).then_some(line_register)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_addresses() {
        let at = Location { bus: 0, slot: 3, func: 0 };
        assert_eq!(at.config_address(0x10), Some(0x8000_1810));
        assert_eq!(at.config_address(0x3d), Some(0x8000_183c));
        let at = Location { bus: 255, slot: 31, func: 7 };
        assert_eq!(at.config_address(0xff), Some(0x80ff_fffc));
        assert_eq!(Location { bus: 0, slot: 32, func: 0 }.config_address(0), None);
        assert_eq!(Location { bus: 0, slot: 0, func: 8 }.config_address(0), None);
    }

    #[test]
    fn bars() {
        assert_eq!(Bar::decode(0xc041), Bar::Io(0xc040));
        assert_eq!(Bar::decode(0x1), Bar::Io(0));
        assert_eq!(Bar::decode(0xfebf_1000), Bar::Memory { addr: 0xfebf_1000, wide: false });
        assert_eq!(Bar::decode(0xfe00_000c), Bar::Memory { addr: 0xfe00_0000, wide: true });
    }

    #[test]
    fn q35_routing() {
        let q35 = (VENDOR_INTEL, DEVICE_Q35_HOST);
        let slot = |s| Location { bus: 0, slot: s, func: 0 };
        // What QEMU 7.2's q35 does with a virtio-blk in slot 3 (INTA -> PIRQH).
        assert_eq!(interrupt_line(q35, slot(3), 1, 10), Some(23));
        assert_eq!(interrupt_line(q35, slot(2), 1, 11), Some(22));
        assert_eq!(interrupt_line(q35, slot(4), 1, 11), Some(20));
        assert_eq!(interrupt_line(q35, slot(4), 2, 11), Some(21));
        assert_eq!(interrupt_line(q35, slot(1), 4, 11), Some(20));
        assert_eq!(interrupt_line(q35, slot(25), 1, 11), None);
        assert_eq!(interrupt_line(q35, Location { bus: 1, slot: 0, func: 0 }, 1, 11), None);
        assert_eq!(interrupt_line(q35, slot(3), 0, 11), None);
        assert_eq!(interrupt_line(q35, slot(3), 5, 11), None);
    }

    #[test]
    fn other_chipsets_use_the_line_register() {
        let i440fx = (VENDOR_INTEL, 0x1237);
        let at = Location { bus: 0, slot: 4, func: 0 };
        assert_eq!(interrupt_line(i440fx, at, 1, 11), Some(11));
        assert_eq!(interrupt_line(i440fx, at, 1, 0xff), None);
    }
}
