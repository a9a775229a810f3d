//! The microkernel's entry point and boot sequence: take over from the boot
//! loader (Limine or `boot/`), bring up memory, traps, interrupt controllers
//! and time, then run the in-kernel tests or start the system.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

extern crate alloc;

#[macro_use]
mod log;
mod arch;
mod boot;
mod fault;
mod ipc;
mod ktest;
mod mm;
mod process;
mod sched;
mod state;
mod syscall;
mod thread;
mod usermem;

use arch::{acpi, apic, cpu, features, gdt, ioapic, percpu, qemu, time, trap, user};

/// Kernel entry, called from `arch::entry` on the kernel's own boot stack.
#[no_mangle]
extern "C" fn kmain() -> ! {
    arch::serial::SERIAL.lock().init();
    kprintln!();
    kinfo!("microkernel {} starting", env!("CARGO_PKG_VERSION"));
    if !boot::BASE_REVISION.is_supported() {
        kerror!("boot loader does not support Limine base revision 3");
        qemu::exit(qemu::ExitCode::Failure);
    }
    let hhdm = boot::HHDM.get_response().map(|r| r.offset()).unwrap_or_else(|| fatal("no HHDM response"));
    mm::set_hhdm_offset(hhdm);
    kinfo!("HHDM at {hhdm:#x}");

    // SAFETY: early boot, one CPU, interrupts disabled (Limine entry state).
    unsafe {
        gdt::init();
        trap::init();
    }

    let memmap = boot::MEMORY_MAP.get_response().unwrap_or_else(|| fatal("no memory map"));
    let exec = boot::EXECUTABLE_ADDRESS.get_response().unwrap_or_else(|| fatal("no executable address"));
    mm::frames::init(memmap.entries());
    // SAFETY: frames are ready, interrupts are off, the loader's HHDM is live
    // and the addresses come from the loader.
    unsafe { mm::paging::init(memmap.entries(), exec.virtual_base(), exec.physical_base()) };
    mm::heap::init();
    report_memory(memmap.entries());

    // SAFETY: the kernel's own tables are live; boot is still single-threaded.
    let enabled = unsafe { features::init() };
    kinfo!(
        "cpu: NX {} SMEP {} SMAP {} UMIP {}; user code is soft-float (FPU traps)",
        enabled.nx,
        enabled.smep,
        enabled.smap,
        enabled.umip
    );
    // SAFETY: once, at boot, after the GDT.
    unsafe {
        percpu::init();
        user::init();
    }

    let rsdp = boot::RSDP.get_response().map(|r| r.address() as u64).unwrap_or_else(|| fatal("no RSDP"));
    let platform = acpi::parse(rsdp).unwrap_or_else(|e| fatal(e));
    acpi::report(&platform);
    apic::init(&platform).unwrap_or_else(|e| fatal(e));
    ioapic::init(&platform).unwrap_or_else(|e| fatal(e));
    time::init().unwrap_or_else(|e| fatal(e));

    let cmdline = boot::CMDLINE.get_response().map(|r| r.cmdline().to_bytes()).unwrap_or(b"");
    let cmdline = core::str::from_utf8(cmdline).unwrap_or("");
    let test_mode = cmdline.split(' ').any(|w| w == "test");
    if test_mode && !ktest::run_all() {
        qemu::exit(qemu::ExitCode::Failure);
    }

    let initrd = find_initrd();
    let reclaimed = mm::frames::reclaim_boot_memory();
    kinfo!("reclaimed {} KiB of boot loader memory", reclaimed * 4);
    let mut k = state::lock();
    k.initrd = initrd;
    k.test_mode = test_mode;
    match k.spawn(None, "init", cmdline.as_bytes(), &init_handles()) {
        Ok(init) => {
            k.init = Some(init);
            if let Some(p) = k.processes.get_mut(init) {
                p.priority = process::DEFAULT_PRIORITY + 4;
            }
        }
        Err(e) => {
            kerror!("cannot start init: {e}");
            if test_mode {
                qemu::exit(qemu::ExitCode::Failure);
            }
        }
    }
    kinfo!("boot complete in {} ms; entering userspace", time::uptime_ns() / 1_000_000);
    sched::resume(k)
}

/// What init holds from the start (`abi::syscall::init_handles`): every I/O
/// port, the DMA right and every interrupt line, to hand to drivers.
fn init_handles() -> [process::Handle; 2 + ipc::pulse::IRQ_LINES] {
    use abi::ipc::rights::{DUPLICATE, TRANSFER};
    use process::{Handle, Object};
    let mut handles = [Handle { object: Object::Dma, rights: DUPLICATE | TRANSFER }; 2 + ipc::pulse::IRQ_LINES];
    handles[0].object = Object::IoPorts { base: 0, count: 65536 };
    for (line, h) in handles[2..].iter_mut().enumerate() {
        h.object = Object::Irq(line as u8);
    }
    handles
}

/// The initrd module: the one whose path ends in `initrd.tar`, else the first.
fn find_initrd() -> &'static [u8] {
    let Some(modules) = boot::MODULES.get_response() else {
        kwarn!("no modules: the initrd is missing");
        return &[];
    };
    let files = modules.modules();
    let file = files.iter().find(|f| f.path().to_bytes().ends_with(b"initrd.tar")).or_else(|| files.first());
    match file {
        Some(f) => {
            kinfo!("initrd: {} ({} KiB)", f.path().to_str().unwrap_or("?"), f.size() / 1024);
            // SAFETY: the loader placed the module in EXECUTABLE_AND_MODULES
            // memory, which the kernel never hands out, mapped by the HHDM.
            unsafe { core::slice::from_raw_parts(f.addr(), f.size() as usize) }
        }
        None => &[],
    }
}

/// Logs the memory map summary.
fn report_memory(entries: &[&limine::memory_map::Entry]) {
    use limine::memory_map::EntryType;
    let mut usable = 0;
    for e in entries {
        if e.entry_type == EntryType::USABLE {
            usable += e.length;
        }
    }
    let (free, total) = mm::frames::stats();
    kinfo!(
        "memory map: {} entries, {} MiB usable; frames: {} free of {} ({} MiB free)",
        entries.len(),
        usable >> 20,
        free,
        total,
        (free as u64 * mm::PAGE_SIZE) >> 20
    );
}

/// Reports an unrecoverable boot error and stops.
fn fatal(what: &str) -> ! {
    kerror!("fatal: {what}");
    qemu::exit(qemu::ExitCode::Failure)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    cpu::disable_interrupts();
    // SAFETY: we are stopping; if the serial lock is held by the code that
    // panicked, take it anyway rather than deadlock.
    unsafe { arch::serial::SERIAL.force_unlock() };
    kprintln!("KERNEL PANIC: {info}");
    qemu::exit(qemu::ExitCode::Failure)
}
