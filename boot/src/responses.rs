//! Answering the kernel's Limine requests. Each response is a `repr(C)`
//! copy of the layout in the `limine` crate 0.5 (`response.rs`, `file.rs`)
//! and PROTOCOL.md, placed in bootloader-reclaimable memory; every pointer
//! in it is an HHDM address. Requests this loader does not know keep their
//! null response.

use crate::error::{bail, Result};
use crate::frames::FrameAllocator;
use crate::kernel_elf::Kernel;
use crate::requests::{id, Requests};
use crate::{log, phys};

/// Name and version in the bootloader info response.
const NAME: &[u8] = b"mk-boot";
const VERSION: &[u8] = env!("CARGO_PKG_VERSION").as_bytes();

/// Stack size when the kernel does not ask for more (protocol minimum).
pub const DEFAULT_STACK_SIZE: u64 = 64 * 1024;
/// Largest stack the loader agrees to allocate.
const MAX_STACK_SIZE: u64 = 64 * 1024 * 1024;

#[repr(C)]
struct BootloaderInfo {
    revision: u64,
    name: u64,
    version: u64,
}

/// Responses made of a revision and one value (firmware type, HHDM offset,
/// paging mode, RSDP address, boot date, cmdline pointer, file pointer).
#[repr(C)]
struct OneValue {
    revision: u64,
    value: u64,
}

/// Responses with no fields but the revision (stack size, entry point).
#[repr(C)]
struct Empty {
    revision: u64,
}

#[repr(C)]
struct ExecutableAddress {
    revision: u64,
    physical_base: u64,
    virtual_base: u64,
}

#[repr(C)]
struct Smbios {
    revision: u64,
    entry_32: u64,
    entry_64: u64,
}

#[repr(C)]
struct ModuleList {
    revision: u64,
    module_count: u64,
    modules: u64,
}

/// `struct limine_file` (the crate's `file::File`).
#[repr(C)]
#[derive(Default)]
struct File {
    revision: u64,
    address: u64,
    size: u64,
    path: u64,
    string: u64,
    media_type: u32,
    unused: u32,
    tftp_ip: u32,
    tftp_port: u32,
    partition_index: u32,
    mbr_disk_id: u32,
    gpt_disk_uuid: [u8; 16],
    gpt_part_uuid: [u8; 16],
    part_uuid: [u8; 16],
}

const _: () = assert!(size_of::<File>() == 112);
const _: () = assert!(size_of::<BootloaderInfo>() == 24 && size_of::<ModuleList>() == 24);

/// A file handed to the kernel: where it is and what to call it.
#[derive(Default)]
pub struct FileInfo<'a> {
    pub phys: u64,
    pub size: u64,
    pub path: &'a [u8],
    pub string: &'a [u8],
}

/// Everything the responses are built from.
pub struct Facts<'a> {
    pub hhdm: u64,
    pub base_revision: u64,
    pub kernel: &'a Kernel,
    pub kernel_file: FileInfo<'a>,
    pub modules: &'a [FileInfo<'a>],
    pub rsdp: Option<u64>,
    /// SMBIOS 32-bit and 64-bit entry points (physical).
    pub smbios: (Option<u64>, Option<u64>),
    pub boot_time: Option<i64>,
}

/// Firmware type value for x86 BIOS.
const FIRMWARE_X86_BIOS: u64 = 0;
/// Paging mode value for 4-level paging.
const PAGING_4_LEVEL: u64 = 0;

/// The stack size the kernel asked for, within sane bounds.
pub fn stack_size(requests: &Requests) -> Result<u64> {
    let Some(req) = requests.find(id::STACK_SIZE) else {
        return Ok(DEFAULT_STACK_SIZE);
    };
    let Some(asked) = req.field(48)? else {
        bail!("kernel: stack size request truncated");
    };
    if asked > MAX_STACK_SIZE {
        bail!("kernel: requested stack too large", asked);
    }
    Ok(asked.max(DEFAULT_STACK_SIZE))
}

/// Refuses a paging mode request this loader cannot honour (5-level only).
pub fn check_paging_mode(requests: &Requests) -> Result<()> {
    let Some(req) = requests.find(id::PAGING_MODE) else {
        return Ok(());
    };
    if req.revision()? >= 1 {
        if let Some(min_mode) = req.field(64)? {
            if min_mode > PAGING_4_LEVEL {
                bail!("kernel requires 5-level paging, which this loader does not provide");
            }
        }
    }
    Ok(())
}

/// The entry point: the ELF entry, or the one from an entry point request.
pub fn entry_point(requests: &Requests, kernel: &Kernel) -> Result<u64> {
    let Some(req) = requests.find(id::ENTRY_POINT) else {
        return Ok(kernel.entry);
    };
    let Some(entry) = req.field(48)? else {
        bail!("kernel: entry point request truncated");
    };
    if !kernel.is_executable(entry) {
        bail!("kernel: requested entry point not in an executable segment", entry);
    }
    Ok(entry)
}

/// Builds and attaches every supported response except the memory map.
pub fn answer(requests: &Requests, facts: &Facts, frames: &mut FrameAllocator) -> Result<()> {
    let mut r = Responder { facts, frames };
    for req in requests.all() {
        let response = match req.id {
            id::BOOTLOADER_INFO => {
                let name = r.string(NAME)?;
                let version = r.string(VERSION)?;
                r.place(BootloaderInfo { revision: 0, name, version })?
            }
            id::FIRMWARE_TYPE => r.one(FIRMWARE_X86_BIOS)?,
            id::HHDM => r.one(facts.hhdm)?,
            id::PAGING_MODE => r.one(PAGING_4_LEVEL)?,
            id::STACK_SIZE | id::ENTRY_POINT => r.place(Empty { revision: 0 })?,
            id::EXECUTABLE_ADDRESS => r.place(ExecutableAddress {
                revision: 0,
                physical_base: facts.kernel.phys_base,
                virtual_base: facts.kernel.virt_base,
            })?,
            id::EXECUTABLE_CMDLINE => {
                let cmdline = r.string(facts.kernel_file.string)?;
                r.one(cmdline)?
            }
            id::EXECUTABLE_FILE => {
                let file = r.file(&facts.kernel_file)?;
                r.one(file)?
            }
            id::MODULE if facts.modules.is_empty() => continue,
            id::MODULE => r.modules()?,
            id::RSDP => match facts.rsdp {
                // Base revision 3 reports the RSDP physical; 1 and 2 in the HHDM.
                Some(rsdp) if facts.base_revision == 3 => r.one(rsdp)?,
                Some(rsdp) => r.one(rsdp + facts.hhdm)?,
                None => continue,
            },
            id::SMBIOS => match facts.smbios {
                (None, None) => continue,
                (entry_32, entry_64) => {
                    // Physical under base revision 3, HHDM under 1 and 2.
                    let offset = if facts.base_revision == 3 { 0 } else { facts.hhdm };
                    let report = |e: Option<u64>| e.map_or(0, |a| a + offset);
                    r.place(Smbios { revision: 0, entry_32: report(entry_32), entry_64: report(entry_64) })?
                }
            },
            id::DATE_AT_BOOT => match facts.boot_time {
                Some(t) => r.one(t as u64)?,
                None => continue,
            },
            // The memory map is answered last, once all memory is allocated.
            id::MEMORY_MAP => continue,
            [a, _] => {
                log!("request {a:#018x} not supported, left unanswered");
                continue;
            }
        };
        req.respond(response)?;
    }
    Ok(())
}

struct Responder<'a, 'f, 'g> {
    facts: &'a Facts<'a>,
    frames: &'f mut FrameAllocator<'g>,
}

impl Responder<'_, '_, '_> {
    /// Copies `value` into reclaimable memory; returns its HHDM address.
    fn place<T>(&mut self, value: T) -> Result<u64> {
        let addr = self.frames.alloc_bytes(size_of::<T>() as u64, align_of::<T>() as u64)?;
        phys::write(addr, value)?;
        Ok(addr + self.facts.hhdm)
    }

    fn one(&mut self, value: u64) -> Result<u64> {
        self.place(OneValue { revision: 0, value })
    }

    /// A NUL-terminated copy of `s`; returns its HHDM address.
    fn string(&mut self, s: &[u8]) -> Result<u64> {
        Ok(self.frames.alloc_c_string(s)? + self.facts.hhdm)
    }

    /// A file path as Limine reports it: absolute. The path QEMU was given
    /// is kept, with a `/` put in front if it does not start with one
    /// (`build/initrd.tar` becomes `/build/initrd.tar`).
    fn path(&mut self, p: &[u8]) -> Result<u64> {
        if p.first() == Some(&b'/') {
            return self.string(p);
        }
        let addr = self.frames.alloc_bytes(p.len() as u64 + 2, 1)?;
        phys::write(addr, b'/')?;
        phys::copy_to(addr + 1, p)?;
        Ok(addr + self.facts.hhdm)
    }

    fn file_struct(&mut self, f: &FileInfo) -> Result<File> {
        Ok(File {
            address: f.phys + self.facts.hhdm,
            size: f.size,
            path: self.path(f.path)?,
            string: self.string(f.string)?,
            ..File::default()
        })
    }

    fn file(&mut self, f: &FileInfo) -> Result<u64> {
        let file = self.file_struct(f)?;
        self.place(file)
    }

    fn modules(&mut self) -> Result<u64> {
        let modules = self.facts.modules;
        let count = modules.len() as u64;
        let files = self.frames.alloc_bytes(count * size_of::<File>() as u64, 8)?;
        let pointers = self.frames.alloc_bytes(count * 8, 8)?;
        for (i, m) in modules.iter().enumerate() {
            let at = files + (i * size_of::<File>()) as u64;
            let file = self.file_struct(m)?;
            phys::write(at, file)?;
            phys::write(pointers + i as u64 * 8, at + self.facts.hhdm)?;
        }
        self.place(ModuleList { revision: 0, module_count: count, modules: pointers + self.facts.hhdm })
    }
}
