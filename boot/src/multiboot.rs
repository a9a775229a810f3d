//! Reading what QEMU's Multiboot 1 loader hands over: the magic, the info
//! structure, its e820 memory map (flag bit 6) and its modules (flag bit 3).
//! Everything is copied into fixed-size tables or validated slices before use.

use crate::error::{bail, Result};
use crate::phys;

/// EAX value at entry from a Multiboot 1 loader.
pub const BOOTLOADER_MAGIC: u32 = 0x2BAD_B002;

const FLAG_MODS: u32 = 1 << 3;
const FLAG_MMAP: u32 = 1 << 6;

/// Most e820 entries accepted.
pub const MAX_E820: usize = 128;
/// Most modules accepted (the kernel plus Limine modules).
pub const MAX_MODULES: usize = 32;
/// Longest module string accepted, without its NUL.
const MAX_STRING: u64 = 4096;

/// Size of the Multiboot 1 info structure, up to its framebuffer fields.
const INFO_SIZE: u64 = 116;

/// e820 type of usable RAM.
pub const E820_USABLE: u32 = 1;

#[derive(Clone, Copy, Default)]
pub struct E820Entry {
    pub base: u64,
    pub len: u64,
    pub kind: u32,
}

impl E820Entry {
    /// End of the entry, saturated at 2^64 - 1.
    pub fn end(&self) -> u64 {
        self.base.saturating_add(self.len)
    }
}

#[derive(Clone, Copy)]
pub struct Module {
    /// Physical address of the first byte.
    pub start: u64,
    /// Physical address one past the last byte.
    pub end: u64,
    /// The module's string as given to QEMU (`path args...`), without NUL.
    pub string: &'static [u8],
}

impl Module {
    /// The module contents.
    pub fn data(&self) -> Result<&'static [u8]> {
        phys::bytes(self.start, self.end - self.start)
    }

    /// First word of the string (the path QEMU was given).
    pub fn path(&self) -> &'static [u8] {
        split_first_word(self.string).0
    }

    /// Everything after the first word and one space (may be empty).
    pub fn args(&self) -> &'static [u8] {
        split_first_word(self.string).1
    }
}

fn split_first_word(s: &'static [u8]) -> (&'static [u8], &'static [u8]) {
    match s.iter().position(|&b| b == b' ') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, &[]),
    }
}

/// What the loader learned from the Multiboot info.
pub struct BootInfo {
    pub e820: [E820Entry; MAX_E820],
    pub e820_len: usize,
    pub modules: [Option<Module>; MAX_MODULES],
    pub module_count: usize,
    /// Highest end address of any Multiboot structure (info, map, module
    /// table, strings), so the allocator can stay clear of them.
    pub structures_end: u64,
}

impl BootInfo {
    pub fn e820(&self) -> &[E820Entry] {
        &self.e820[..self.e820_len]
    }

    pub fn modules(&self) -> impl Iterator<Item = &Module> {
        self.modules[..self.module_count].iter().flatten()
    }
}

/// Validates the magic and parses the info structure at `info`.
pub fn parse(magic: u32, info: u32) -> Result<BootInfo> {
    if magic != BOOTLOADER_MAGIC {
        bail!("not started by a Multiboot 1 loader: bad magic", magic);
    }
    let info = u64::from(info);
    let flags: u32 = phys::read(info)?;
    if flags & FLAG_MMAP == 0 {
        bail!("Multiboot info has no memory map (flags)", flags);
    }
    if flags & FLAG_MODS == 0 {
        bail!("Multiboot info has no modules (flags); pass -initrd", flags);
    }
    let mut boot = BootInfo {
        e820: [E820Entry::default(); MAX_E820],
        e820_len: 0,
        modules: [None; MAX_MODULES],
        module_count: 0,
        structures_end: info + INFO_SIZE,
    };
    parse_mmap(&mut boot, info)?;
    parse_modules(&mut boot, info)?;
    Ok(boot)
}

fn parse_mmap(boot: &mut BootInfo, info: u64) -> Result<()> {
    let length = u64::from(phys::read::<u32>(info + 44)?);
    let addr = u64::from(phys::read::<u32>(info + 48)?);
    phys::check(addr, length)?;
    boot.structures_end = boot.structures_end.max(addr + length);
    let mut at = addr;
    while at + 4 <= addr + length {
        let size = u64::from(phys::read::<u32>(at)?);
        if size < 20 || at + 4 + size > addr + length {
            bail!("malformed Multiboot memory map entry", at);
        }
        if boot.e820_len == MAX_E820 {
            bail!("too many e820 entries", MAX_E820);
        }
        let entry = E820Entry { base: phys::read(at + 4)?, len: phys::read(at + 12)?, kind: phys::read(at + 20)? };
        if entry.len != 0 {
            boot.e820[boot.e820_len] = entry;
            boot.e820_len += 1;
        }
        at += 4 + size;
    }
    if boot.e820_len == 0 {
        bail!("empty e820 memory map");
    }
    Ok(())
}

fn parse_modules(boot: &mut BootInfo, info: u64) -> Result<()> {
    let count = phys::read::<u32>(info + 20)?;
    let table = u64::from(phys::read::<u32>(info + 24)?);
    if count == 0 {
        bail!("no modules: pass -initrd \"kernel.elf ARGS,...\"");
    }
    if count as usize > MAX_MODULES {
        bail!("too many modules", count);
    }
    phys::check(table, u64::from(count) * 16)?;
    boot.structures_end = boot.structures_end.max(table + u64::from(count) * 16);
    for i in 0..count as usize {
        let entry = table + i as u64 * 16;
        let start = u64::from(phys::read::<u32>(entry)?);
        let end = u64::from(phys::read::<u32>(entry + 4)?);
        let string_addr = u64::from(phys::read::<u32>(entry + 8)?);
        if end < start {
            bail!("module ends before it starts", i);
        }
        phys::check(start, (end - start).max(1))?;
        let string = if string_addr == 0 {
            &[][..]
        } else {
            let s = c_string(string_addr)?;
            boot.structures_end = boot.structures_end.max(string_addr + s.len() as u64 + 1);
            s
        };
        boot.modules[i] = Some(Module { start, end, string });
        boot.module_count = i + 1;
    }
    Ok(())
}

/// The NUL-terminated string at `addr`, without its NUL.
fn c_string(addr: u64) -> Result<&'static [u8]> {
    let max = MAX_STRING.min(phys::IDENTITY_LIMIT.saturating_sub(addr));
    let window = phys::bytes(addr, max)?;
    match window.iter().position(|&b| b == 0) {
        Some(len) => Ok(&window[..len]),
        None => bail!("module string not NUL-terminated within 4 KiB", addr),
    }
}
