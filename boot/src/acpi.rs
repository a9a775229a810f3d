//! The bits of ACPI the loader needs: finding the RSDP the way BIOS
//! loaders do (EBDA, then 0xE0000-0xFFFFF), and walking RSDT/XSDT -> MADT to
//! mask every I/O APIC input, as the Limine protocol promises at entry.

use crate::error::{bail, Result};
use crate::phys;

/// Physical address of a valid RSDP, if the firmware published one.
pub fn find_rsdp() -> Option<u64> {
    let ebda = u64::from(phys::read::<u16>(0x40e).ok()?) << 4;
    let in_ebda = if (0x8_0000..0xa_0000).contains(&ebda) { scan(ebda, 1024) } else { None };
    in_ebda.or_else(|| scan(0xe_0000, 0x2_0000))
}

fn scan(start: u64, len: u64) -> Option<u64> {
    (start..start + len).step_by(16).find(|&addr| is_rsdp(addr).unwrap_or(false))
}

fn is_rsdp(addr: u64) -> Result<bool> {
    let head = phys::bytes(addr, 20)?;
    if &head[..8] != b"RSD PTR " || checksum(head) != 0 {
        return Ok(false);
    }
    if head[15] >= 2 {
        let len = u64::from(phys::read::<u32>(addr + 20)?);
        if !(36..=4096).contains(&len) || checksum(phys::bytes(addr, len)?) != 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |sum, &b| sum.wrapping_add(b))
}

/// A validated system description table: (address, length).
fn table(addr: u64) -> Result<(u64, u64)> {
    let len = u64::from(phys::read::<u32>(addr + 4)?);
    if len < 36 || checksum(phys::bytes(addr, len)?) != 0 {
        bail!("ACPI: bad table checksum or length at", addr);
    }
    Ok((addr, len))
}

/// Finds the MADT through the XSDT (ACPI 2+) or the RSDT.
fn find_madt(rsdp: u64) -> Result<Option<(u64, u64)>> {
    let revision: u8 = phys::read(rsdp + 15)?;
    let xsdt: u64 = if revision >= 2 { phys::read(rsdp + 24)? } else { 0 };
    let (root, entry_size) = if xsdt != 0 { (xsdt, 8u64) } else { (u64::from(phys::read::<u32>(rsdp + 16)?), 4u64) };
    let (root, len) = table(root)?;
    let mut at = root + 36;
    while at + entry_size <= root + len {
        let addr = if entry_size == 8 { phys::read::<u64>(at)? } else { u64::from(phys::read::<u32>(at)?) };
        if phys::bytes(addr, 4)? == b"APIC" {
            return table(addr).map(Some);
        }
        at += entry_size;
    }
    Ok(None)
}

/// Masks all fixed and lowest-priority inputs of every I/O APIC listed in
/// the MADT. Returns how many I/O APICs were found.
pub fn mask_ioapics(rsdp: u64) -> Result<usize> {
    let Some((madt, len)) = find_madt(rsdp)? else {
        return Ok(0);
    };
    let mut count = 0;
    let mut at = madt + 44;
    while at + 2 <= madt + len {
        let kind: u8 = phys::read(at)?;
        let entry_len = u64::from(phys::read::<u8>(at + 1)?);
        if entry_len < 2 || at + entry_len > madt + len {
            bail!("ACPI: malformed MADT entry at", at);
        }
        if kind == 1 && entry_len >= 12 {
            mask_ioapic(u64::from(phys::read::<u32>(at + 4)?))?;
            count += 1;
        }
        at += entry_len;
    }
    Ok(count)
}

fn mask_ioapic(base: u64) -> Result<()> {
    let read = |reg: u32| -> Result<u32> {
        phys::mmio_write32(base, reg)?;
        phys::mmio_read32(base + 0x10)
    };
    let write = |reg: u32, value: u32| -> Result<()> {
        phys::mmio_write32(base, reg)?;
        phys::mmio_write32(base + 0x10, value)
    };
    let max_entry = (read(1)? >> 16) & 0xff;
    for i in 0..=max_entry {
        let low = read(0x10 + 2 * i)?;
        let delivery_mode = (low >> 8) & 0x7;
        if delivery_mode <= 1 {
            write(0x10 + 2 * i, low | (1 << 16))?;
        }
    }
    Ok(())
}
