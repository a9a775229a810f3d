//! The local APIC in xAPIC (MMIO) mode, and the legacy 8259 PICs it
//! replaces. Owns: enabling the LAPIC (spurious vector, software enable),
//! its LVT entries, end-of-interrupt, and the LAPIC timer (one-shot or
//! periodic, divide by 16, vector `VECTOR_TIMER`).
//!
//! xAPIC only: QEMU's TCG has no x2APIC and no TSC-deadline timer, so the
//! registers are reached through the 4 KiB MMIO page named by
//! `IA32_APIC_BASE`. The page's virtual address is kept in one atomic; every
//! register access goes through `read`/`write` below.
//!
//! Per-CPU: each CPU has its own LAPIC at the same physical address, so
//! `init` runs on the boot CPU and (later) `init_cpu` on each AP.

use super::acpi::{PlatformInfo, Polarity, Trigger, ALL_PROCESSORS};
use super::cpu::{self, outb, rdmsr, wrmsr, MSR_APIC_BASE};
use super::trap::{VECTOR_SPURIOUS, VECTOR_TIMER};
use core::sync::atomic::{AtomicU64, Ordering};

// Register offsets in the xAPIC page.
const REG_ID: u64 = 0x20;
const REG_VERSION: u64 = 0x30;
const REG_TPR: u64 = 0x80;
const REG_EOI: u64 = 0xb0;
const REG_SVR: u64 = 0xf0;
const REG_ESR: u64 = 0x280;
const REG_LVT_TIMER: u64 = 0x320;
const REG_LVT_THERMAL: u64 = 0x330;
const REG_LVT_PERF: u64 = 0x340;
const REG_LVT_LINT0: u64 = 0x350;
const REG_LVT_LINT1: u64 = 0x360;
const REG_LVT_ERROR: u64 = 0x370;
const REG_TIMER_INITIAL: u64 = 0x380;
const REG_TIMER_CURRENT: u64 = 0x390;
const REG_TIMER_DIVIDE: u64 = 0x3e0;

const SVR_ENABLE: u32 = 1 << 8;
const LVT_MASKED: u32 = 1 << 16;
const LVT_LEVEL: u32 = 1 << 15;
const LVT_ACTIVE_LOW: u32 = 1 << 13;
const LVT_DELIVERY_NMI: u32 = 0b100 << 8;
const LVT_TIMER_PERIODIC: u32 = 1 << 17;

const APIC_BASE_ENABLE: u64 = 1 << 11;
const APIC_BASE_X2APIC: u64 = 1 << 10;
const APIC_BASE_ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

/// The LAPIC timer's input is the bus/core crystal clock divided by this.
pub const TIMER_DIVIDE: u32 = 16;
/// Divide-configuration encoding of `TIMER_DIVIDE` (0b0011 = divide by 16).
const TIMER_DIVIDE_BITS: u32 = 0b0011;

/// Virtual address of the LAPIC page; 0 until `init` has mapped it.
static LAPIC_VIRT: AtomicU64 = AtomicU64::new(0);

/// Reads a LAPIC register. Only called once `LAPIC_VIRT` is set.
fn read(reg: u64) -> u32 {
    let base = LAPIC_VIRT.load(Ordering::Relaxed);
    debug_assert!(base != 0, "LAPIC used before apic::init");
    // SAFETY: `base` is the uncached mapping of this CPU's LAPIC page made in
    // `init`; `reg` is one of the aligned register offsets above, inside it.
    unsafe { core::ptr::read_volatile((base + reg) as *const u32) }
}

/// Writes a LAPIC register. Only called once `LAPIC_VIRT` is set.
fn write(reg: u64, value: u32) {
    let base = LAPIC_VIRT.load(Ordering::Relaxed);
    debug_assert!(base != 0, "LAPIC used before apic::init");
    // SAFETY: as in `read`; LAPIC registers are written with 32-bit stores.
    unsafe { core::ptr::write_volatile((base + reg) as *mut u32, value) };
}

/// Whether `init` has run (the LAPIC is mapped and enabled).
pub fn is_ready() -> bool {
    LAPIC_VIRT.load(Ordering::Relaxed) != 0
}

/// Remaps the 8259 PICs to vectors 0x20..0x2f (away from the exception
/// vectors, in case one fires spuriously) and masks every line. The
/// I/O APIC delivers ISA interrupts instead.
pub fn disable_legacy_pic() {
    const PIC1_CMD: u16 = 0x20;
    const PIC1_DATA: u16 = 0x21;
    const PIC2_CMD: u16 = 0xa0;
    const PIC2_DATA: u16 = 0xa1;
    // A write to the unused port 0x80 gives an old PIC time to settle.
    let settle = || {
        // SAFETY: port 0x80 is the POST diagnostic port; writes are ignored.
        unsafe { outb(0x80, 0) }
    };
    // SAFETY: the PICs belong to the kernel; this is the standard ICW1..ICW4
    // initialisation sequence followed by masking all lines, so the PICs end
    // up unable to raise interrupts.
    unsafe {
        outb(PIC1_CMD, 0x11); // ICW1: init, ICW4 follows
        settle();
        outb(PIC2_CMD, 0x11);
        settle();
        outb(PIC1_DATA, 0x20); // ICW2: vector base 0x20
        settle();
        outb(PIC2_DATA, 0x28); // ICW2: vector base 0x28
        settle();
        outb(PIC1_DATA, 0x04); // ICW3: slave on IRQ2
        settle();
        outb(PIC2_DATA, 0x02); // ICW3: cascade identity 2
        settle();
        outb(PIC1_DATA, 0x01); // ICW4: 8086 mode
        settle();
        outb(PIC2_DATA, 0x01);
        settle();
        outb(PIC1_DATA, 0xff); // mask everything
        outb(PIC2_DATA, 0xff);
    }
}

/// Enables the boot CPU's local APIC in xAPIC mode, after masking the
/// legacy PICs.
///
/// Preconditions: interrupts disabled; `mm` ready (`map_mmio` works).
pub fn init(info: &PlatformInfo) -> Result<(), &'static str> {
    let (_, _, _, edx) = cpu::cpuid(1, 0);
    if edx & (1 << 9) == 0 {
        return Err("apic: this CPU has no local APIC");
    }
    // Masked whether or not the MADT declares them (PCAT_COMPAT): writes to
    // absent PICs are ignored, and some firmware clears the flag while the
    // chips remain.
    disable_legacy_pic();

    // SAFETY: IA32_APIC_BASE exists on every CPU with a local APIC (checked
    // above).
    let mut base_msr = unsafe { rdmsr(MSR_APIC_BASE) };
    if base_msr & APIC_BASE_X2APIC != 0 {
        // x2APIC -> xAPIC must pass through the disabled state (SDM 10.12.5).
        crate::kwarn!("apic: firmware left x2APIC mode on; switching to xAPIC");
        // SAFETY: disabling then re-enabling the APIC with interrupts off is
        // the architectural way back to xAPIC mode; no interrupt is lost that
        // the kernel was waiting for, as none is set up yet.
        unsafe {
            wrmsr(MSR_APIC_BASE, base_msr & !(APIC_BASE_X2APIC | APIC_BASE_ENABLE));
            wrmsr(MSR_APIC_BASE, (base_msr & !APIC_BASE_X2APIC) | APIC_BASE_ENABLE);
        }
        // SAFETY: as above.
        base_msr = unsafe { rdmsr(MSR_APIC_BASE) };
    } else if base_msr & APIC_BASE_ENABLE == 0 {
        // SAFETY: setting the global enable bit only turns the LAPIC on at the
        // address it already decodes.
        unsafe { wrmsr(MSR_APIC_BASE, base_msr | APIC_BASE_ENABLE) };
    }
    let phys = base_msr & APIC_BASE_ADDR_MASK;
    if phys != info.lapic_phys {
        crate::kwarn!(
            "apic: MADT says the LAPIC is at {:#x}, IA32_APIC_BASE says {phys:#x}; using the latter",
            info.lapic_phys
        );
    }
    let virt = crate::mm::map_mmio(phys, 0x1000);
    LAPIC_VIRT.store(virt, Ordering::Relaxed);

    init_cpu(info);
    let version = read(REG_VERSION);
    crate::kinfo!(
        "apic: local APIC id {} at {phys:#x}, version {:#x}, {} LVT entries, BSP {}",
        id(),
        version & 0xff,
        ((version >> 16) & 0xff) + 1,
        base_msr & (1 << 8) != 0,
    );
    Ok(())
}

/// Programs this CPU's LAPIC: everything masked except the NMI pin the MADT
/// names, task priority 0, error status cleared, software-enabled with the
/// spurious vector. Preconditions: interrupts disabled, `LAPIC_VIRT` set.
pub fn init_cpu(info: &PlatformInfo) {
    let max_lvt = (read(REG_VERSION) >> 16) & 0xff;
    write(REG_LVT_TIMER, LVT_MASKED | u32::from(VECTOR_TIMER));
    write(REG_TIMER_INITIAL, 0);
    if max_lvt >= 4 {
        write(REG_LVT_PERF, LVT_MASKED);
    }
    if max_lvt >= 5 {
        write(REG_LVT_THERMAL, LVT_MASKED);
    }
    // LINT0 carries the 8259's ExtINT in virtual-wire mode; the PICs are
    // masked and the I/O APIC is used instead.
    write(REG_LVT_LINT0, LVT_MASKED);
    write(REG_LVT_LINT1, LVT_MASKED);
    let my_id = id();
    let my_uid = info.cpus().iter().find(|c| c.apic_id == my_id).map(|c| c.acpi_uid);
    for nmi in info.lapic_nmis() {
        if nmi.acpi_uid != ALL_PROCESSORS && Some(nmi.acpi_uid) != my_uid {
            continue;
        }
        let mut lvt = LVT_DELIVERY_NMI;
        if nmi.polarity == Polarity::ActiveLow {
            lvt |= LVT_ACTIVE_LOW;
        }
        if nmi.trigger == Trigger::Level {
            lvt |= LVT_LEVEL;
        }
        match nmi.lint {
            0 => write(REG_LVT_LINT0, lvt),
            1 => write(REG_LVT_LINT1, lvt),
            other => crate::kwarn!("apic: MADT NMI entry names LINT{other}; ignored"),
        }
    }
    // The error interrupt is not routed (no handler owns a vector for it);
    // errors stay readable in the ESR.
    write(REG_LVT_ERROR, LVT_MASKED);
    // The ESR is cleared by a write followed by a read.
    write(REG_ESR, 0);
    let _ = read(REG_ESR);
    write(REG_TPR, 0);
    write(REG_SVR, SVR_ENABLE | u32::from(VECTOR_SPURIOUS));
    // Retire anything left in service from before.
    eoi();
}

/// Signals end of interrupt to this CPU's LAPIC. Harmless before `init`.
#[inline]
pub fn eoi() {
    if is_ready() {
        write(REG_EOI, 0);
    }
}

/// This CPU's local APIC id (from CPUID before `init`).
pub fn id() -> u32 {
    if is_ready() {
        read(REG_ID) >> 24
    } else {
        cpu::cpuid(1, 0).1 >> 24
    }
}

/// Starts the timer in one-shot mode: one interrupt at `VECTOR_TIMER` after
/// `count` timer ticks (input clock / `TIMER_DIVIDE`). `count == 0` stops it.
#[allow(dead_code)] // for a tickless scheduler; only the periodic tick is used today
pub fn timer_oneshot(count: u32) {
    write(REG_TIMER_DIVIDE, TIMER_DIVIDE_BITS);
    write(REG_LVT_TIMER, u32::from(VECTOR_TIMER));
    write(REG_TIMER_INITIAL, count);
}

/// Starts the timer in periodic mode: an interrupt at `VECTOR_TIMER` every
/// `count` timer ticks. `count == 0` stops it.
pub fn timer_periodic(count: u32) {
    write(REG_TIMER_DIVIDE, TIMER_DIVIDE_BITS);
    write(REG_LVT_TIMER, LVT_TIMER_PERIODIC | u32::from(VECTOR_TIMER));
    write(REG_TIMER_INITIAL, count);
}

/// Stops the timer and masks its interrupt.
pub fn timer_stop() {
    write(REG_LVT_TIMER, LVT_MASKED | u32::from(VECTOR_TIMER));
    write(REG_TIMER_INITIAL, 0);
}

/// Starts the timer counting down from `u32::MAX` with its interrupt masked,
/// for calibration: read the elapsed ticks with `timer_current`.
pub fn timer_free_run() {
    write(REG_TIMER_DIVIDE, TIMER_DIVIDE_BITS);
    write(REG_LVT_TIMER, LVT_MASKED | u32::from(VECTOR_TIMER));
    write(REG_TIMER_INITIAL, u32::MAX);
}

/// The timer's current count (it counts down to 0).
pub fn timer_current() -> u32 {
    read(REG_TIMER_CURRENT)
}
