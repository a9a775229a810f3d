//! mk-boot: a direct-boot loader. QEMU starts it as a Multiboot 1 kernel
//! (`-kernel boot.elf -initrd "kernel.elf ARGS,initrd.tar"`); it loads the
//! first module as a Limine-protocol kernel (base revision 3), answers the
//! kernel's requests as Limine would, and jumps to it.
//!
//! This file owns the boot sequence and error reporting; each step lives in
//! its own module. See `README.md` for the memory layout and conventions.
#![no_std]
#![no_main]

mod acpi;
mod cpu;
mod entry;
mod error;
mod frames;
mod handoff;
mod kernel_elf;
mod memmap;
mod multiboot;
mod paging;
mod phys;
mod requests;
mod responses;
mod rtc;
mod serial;
mod smbios;

use core::convert::Infallible;

use cpu::Features;
use error::{bail, Error, Result};
use frames::{FrameAllocator, Use};
use kernel_elf::Kernel;
use multiboot::{BootInfo, Module, MAX_MODULES};
use paging::{PageTables, SIZE_1G, WRITABLE};
use phys::{align_down, align_up, IDENTITY_LIMIT, PAGE_SIZE};
use requests::id;
use responses::FileInfo;

/// Where the higher-half direct map starts (4-level paging, no KASLR).
pub const HHDM_OFFSET: u64 = 0xffff_8000_0000_0000;
/// The HHDM may not reach the kernel's part of the address space.
const HHDM_MAX_SIZE: u64 = 0x4000_0000_0000;

/// Called by the entry stub in 64-bit mode with the Multiboot registers.
#[no_mangle]
pub extern "C" fn boot_main(magic: u32, info: u32) -> ! {
    serial::init();
    log!("mk-boot {}", env!("CARGO_PKG_VERSION"));
    match run(magic, info) {
        Ok(never) => match never {},
        Err(e) => fatal(e),
    }
}

/// Reports `e` on COM1 and stops (exiting QEMU with a failure status).
fn fatal(e: Error) -> ! {
    log!("error: {e}");
    cpu::exit_failure()
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    log!("error: panic: {info}");
    cpu::exit_failure()
}

fn run(magic: u32, info: u32) -> Result<Infallible> {
    let features = Features::detect();
    let boot = multiboot::parse(magic, info)?;
    for e in boot.e820() {
        log!("e820 {:#012x}-{:#012x} type {}", e.base, e.end(), e.kind);
    }
    let mut modules = boot.modules();
    let Some(kernel_module) = modules.next() else {
        bail!("no kernel module");
    };

    let mut frames = FrameAllocator::new(boot.e820(), occupied_end(&boot))?;
    // Only the addresses of these linker symbols are taken.
    let loader_start = (&raw const entry::__load_addr) as u64;
    let loader_end = (&raw const entry::__bss_end) as u64;
    frames.record(loader_start, loader_end, Use::Reclaimable)?;
    // Limine keeps the executable file in bootloader-reclaimable memory.
    let kernel_file = file_info(&mut frames, kernel_module, Use::Reclaimable)?;

    let kernel = kernel_elf::load(phys::bytes(kernel_file.phys, kernel_file.size)?, &mut frames)?;
    log!(
        "kernel {:#x}-{:#x} at physical {:#x}, entry {:#x}",
        kernel.virt_base,
        kernel.virt_end,
        kernel.phys_base,
        kernel.entry
    );

    let requests = requests::scan(&kernel)?;
    let base_revision = requests::negotiate_base_revision(&requests)?;
    log!("{} requests, base revision {}", requests.all().len(), base_revision);
    responses::check_paging_mode(&requests)?;
    let entry = responses::entry_point(&requests, &kernel)?;
    let stack_size = responses::stack_size(&requests)?;

    let hhdm_top = hhdm_top(&boot, features)?;
    let tables = build_page_tables(&mut frames, &kernel, hhdm_top, features)?;
    log!("HHDM maps {:#x} bytes at {:#x}", hhdm_top, HHDM_OFFSET);

    let mut module_files: [FileInfo; MAX_MODULES] = core::array::from_fn(|_| FileInfo::default());
    let mut module_count = 0;
    for (slot, m) in module_files.iter_mut().zip(modules) {
        *slot = file_info(&mut frames, m, Use::KernelAndModules)?;
        module_count += 1;
    }

    let rsdp = acpi::find_rsdp();
    let boot_time = match requests.find(id::DATE_AT_BOOT) {
        Some(_) => rtc::unix_time(),
        None => None,
    };
    let facts = responses::Facts {
        hhdm: HHDM_OFFSET,
        base_revision,
        kernel: &kernel,
        kernel_file,
        modules: &module_files[..module_count],
        rsdp,
        smbios: smbios::find(),
        boot_time,
    };
    responses::answer(&requests, &facts, &mut frames)?;

    let stack_pages = stack_size.div_ceil(PAGE_SIZE);
    let stack_base = frames.alloc_pages(stack_pages, Use::Reclaimable)?;
    // The top u64 of the zeroed stack is the pushed return address 0.
    let rsp = stack_base + stack_pages * PAGE_SIZE - 8;

    // Last: no allocations may follow the memory map.
    answer_memory_map(&requests, &boot, &mut frames)?;

    match rsdp.map(acpi::mask_ioapics) {
        Some(Ok(n)) => log!("RSDP at {:#x}, masked {n} I/O APIC(s)", rsdp.unwrap_or(0)),
        Some(Err(e)) => log!("warning: could not mask I/O APICs: {e}"),
        None => log!("warning: no ACPI RSDP found"),
    }

    log!("entering kernel at {entry:#x}, stack {stack_size:#x} bytes");
    handoff::enter(&handoff::Handoff { pml4: tables.pml4, entry, rsp: rsp + HHDM_OFFSET, hhdm: HHDM_OFFSET }, features)
}

/// Builds the memory map and answers the memory map request, if any.
fn answer_memory_map(requests: &requests::Requests, boot: &BootInfo, frames: &mut FrameAllocator) -> Result<()> {
    let request = requests.find(id::MEMORY_MAP);
    let storage = match request {
        Some(_) => Some(memmap::Storage::allocate(frames)?),
        None => None,
    };
    let map = memmap::build(boot.e820(), frames.regions())?;
    for e in map.entries() {
        log!("memmap {:#012x}-{:#012x} {}", e.base, e.base + e.length, memmap::kind_name(e.kind));
    }
    if let (Some(req), Some(storage)) = (request, storage) {
        req.respond(storage.fill(map.entries(), HHDM_OFFSET)? + HHDM_OFFSET)?;
    }
    Ok(())
}

/// First address above everything QEMU placed in memory that must survive:
/// the loader image, the Multiboot structures and all modules.
fn occupied_end(boot: &BootInfo) -> u64 {
    let loader_end = (&raw const entry::__bss_end) as u64;
    boot.modules().map(|m| m.end).fold(loader_end.max(boot.structures_end), u64::max)
}

/// The Limine file for Multiboot module `m`: its pages are recorded with
/// `usage`, or, if QEMU did not page-align it, it is first copied to a
/// page-aligned allocation (Limine files always start on a page).
fn file_info(frames: &mut FrameAllocator, m: &Module, usage: Use) -> Result<FileInfo<'static>> {
    let size = m.end - m.start;
    let phys = if m.start.is_multiple_of(PAGE_SIZE) {
        let Some(end) = align_up(m.end, PAGE_SIZE) else {
            bail!("module reaches the top of memory", m.start);
        };
        if size > 0 {
            frames.record(m.start, end, usage)?;
        }
        m.start
    } else {
        let copy = frames.alloc_pages(size.div_ceil(PAGE_SIZE).max(1), usage)?;
        phys::copy_to(copy, m.data()?)?;
        copy
    };
    log!("file {} ({size:#x} bytes) at {phys:#x}", core::str::from_utf8(m.path()).unwrap_or("?"));
    Ok(FileInfo { phys, size, path: m.path(), string: m.args() })
}

/// End of the HHDM: all memory up to 4 GiB, and above that up to the end of
/// the highest e820 entry that is not reserved or bad, rounded up to 1 GiB.
fn hhdm_top(boot: &BootInfo, features: Features) -> Result<u64> {
    let top = boot
        .e820()
        .iter()
        .filter(|e| matches!(e.kind, 1 | 3 | 4))
        .map(|e| align_up(e.end(), SIZE_1G).unwrap_or(u64::MAX))
        .fold(IDENTITY_LIMIT, u64::max);
    if top > HHDM_MAX_SIZE || top > 1u64 << features.phys_bits.min(63) {
        bail!("too much physical memory for the HHDM", top);
    }
    Ok(top)
}

/// The kernel's page tables: HHDM, identity map of the low 4 GiB, and the
/// kernel segments.
fn build_page_tables(
    frames: &mut FrameAllocator,
    kernel: &Kernel,
    hhdm_top: u64,
    features: Features,
) -> Result<PageTables> {
    let mut tables = PageTables::new(frames)?;
    // Both are read/write/execute, as PROTOCOL.md specifies for the HHDM.
    tables.map_large(frames, HHDM_OFFSET, 0, hhdm_top, WRITABLE, features.huge_1g)?;
    tables.map_large(frames, 0, 0, IDENTITY_LIMIT, WRITABLE, features.huge_1g)?;
    for seg in kernel.segments() {
        let flags = paging::segment_flags(seg.writable, seg.executable, features.nx);
        let mut page = align_down(seg.vaddr, PAGE_SIZE);
        while page < seg.end() {
            tables.map_4k(frames, page, kernel.phys_of(page), flags)?;
            page += PAGE_SIZE;
        }
    }
    Ok(tables)
}
