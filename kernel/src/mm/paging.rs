//! The kernel's page tables. At boot the kernel replaces the loader's
//! tables with its own: an HHDM over RAM (2 MiB pages where possible), the
//! kernel image with W^X per section, and every kernel-half PML4 slot
//! populated so that address spaces created later share the kernel half by
//! copying 256 entries. Device memory is mapped uncached on demand.

use super::{frames, phys_to_virt, PAGE_SIZE};
use crate::arch::cpu;
use kcore::paging::{flags, MapError, PageMemory, PageTables};
use limine::memory_map::EntryType;
use spin::Mutex;

/// Page tables reached through the HHDM, new tables from the frame allocator.
pub struct HhdmMemory;

impl PageMemory for HhdmMemory {
    fn table(&mut self, phys: u64) -> &mut [u64; 512] {
        // SAFETY: `phys` is a page-table frame of a live address space (the
        // walker only follows present entries the kernel wrote), and the
        // HHDM maps it; page-table updates are serialised by the owner's lock.
        unsafe { &mut *(phys_to_virt(phys) as *mut [u64; 512]) }
    }

    fn alloc_table(&mut self) -> Option<u64> {
        frames::alloc_zeroed()
    }
}

/// The kernel's tables (the template every address space's upper half copies).
static KERNEL: Mutex<Option<PageTables>> = Mutex::new(None);

const KERNEL_HALF_FLAGS: u64 = flags::PRESENT | flags::WRITABLE;
const HUGE: u64 = 2 * 1024 * 1024;

extern "C" {
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
    static __data_start: u8;
    static __data_end: u8;
}

fn symbol(s: &u8) -> u64 {
    s as *const u8 as u64
}

/// Whether memory of this type is RAM the HHDM should cover.
fn is_ram(kind: EntryType) -> bool {
    [
        EntryType::USABLE,
        EntryType::BOOTLOADER_RECLAIMABLE,
        EntryType::EXECUTABLE_AND_MODULES,
        EntryType::ACPI_RECLAIMABLE,
        EntryType::ACPI_NVS,
    ]
    .contains(&kind)
}

/// Builds the kernel's tables and switches to them.
///
/// # Safety
/// Call once, after `frames::init`, with interrupts disabled, while the
/// loader's HHDM is still active. `virtual_base`/`physical_base` must be the
/// kernel image's load addresses.
pub unsafe fn init(entries: &[&limine::memory_map::Entry], virtual_base: u64, physical_base: u64) {
    let mut mem = HhdmMemory;
    let root = frames::alloc_zeroed().expect("no frame for the kernel PML4");
    let tables = PageTables { root };
    for slot in 256..512 {
        let pdpt = frames::alloc_zeroed().expect("no frame for a kernel PDPT");
        mem.table(root)[slot] = pdpt | KERNEL_HALF_FLAGS;
    }

    let hhdm = super::hhdm_offset();
    let data = flags::WRITABLE | flags::NO_EXECUTE | flags::GLOBAL;
    for e in entries.iter().filter(|e| is_ram(e.entry_type)) {
        let mut addr = e.base & !(PAGE_SIZE - 1);
        let end = (e.base + e.length).next_multiple_of(PAGE_SIZE);
        while addr < end {
            let result = if addr.is_multiple_of(HUGE) && addr + HUGE <= end {
                let r = tables.map_2m(&mut mem, hhdm + addr, addr, data);
                addr += HUGE;
                r
            } else {
                let r = tables.map(&mut mem, hhdm + addr, addr, data);
                addr += PAGE_SIZE;
                r
            };
            match result {
                Ok(()) | Err(MapError::AlreadyMapped) | Err(MapError::HugePage) => {}
                Err(e) => panic!("cannot build the HHDM: {e:?}"),
            }
        }
    }

    // SAFETY: the linker script defines these symbols around the sections.
    let sections = unsafe {
        [
            (symbol(&__text_start), symbol(&__text_end), flags::GLOBAL),
            (symbol(&__rodata_start), symbol(&__rodata_end), flags::GLOBAL | flags::NO_EXECUTE),
            (symbol(&__data_start), symbol(&__data_end), data),
        ]
    };
    for (start, end, f) in sections {
        let mut v = start & !(PAGE_SIZE - 1);
        while v < end {
            tables.map(&mut mem, v, v - virtual_base + physical_base, f).expect("cannot map the kernel image");
            v += PAGE_SIZE;
        }
    }

    // SAFETY: the new tables map the kernel image, its stacks (.bss) and the
    // HHDM exactly as before, so execution continues seamlessly. WP makes
    // read-only kernel pages read-only for the kernel too; PGE keeps global
    // kernel entries across CR3 switches.
    unsafe {
        cpu::write_cr0(cpu::read_cr0() | cpu::CR0_WP);
        cpu::write_cr4(cpu::read_cr4() | cpu::CR4_PGE);
        cpu::write_cr3(root);
    }
    *KERNEL.lock() = Some(tables);
}

/// The kernel's page tables.
pub fn kernel_tables() -> PageTables {
    KERNEL.lock().expect("kernel page tables used before mm::paging::init")
}

/// Maps `[phys, phys + len)` of device memory uncached at its HHDM address
/// and returns that address. Pages already mapped there are left as they are.
pub fn map_mmio(phys: u64, len: u64) -> u64 {
    let tables = kernel_tables();
    let start = phys & !(PAGE_SIZE - 1);
    let end = (phys + len).next_multiple_of(PAGE_SIZE);
    let f = flags::WRITABLE | flags::NO_EXECUTE | flags::NO_CACHE | flags::WRITE_THROUGH | flags::GLOBAL;
    let mut p = start;
    while p < end {
        let virt = phys_to_virt(p);
        match tables.map(&mut HhdmMemory, virt, p, f) {
            Ok(()) => cpu::invlpg(virt),
            Err(MapError::AlreadyMapped) | Err(MapError::HugePage) => {}
            Err(e) => panic!("cannot map MMIO at {p:#x}: {e:?}"),
        }
        p += PAGE_SIZE;
    }
    phys_to_virt(phys)
}
