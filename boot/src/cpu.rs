//! Thin wrappers around the privileged x86 instructions the loader uses:
//! port I/O, CPUID feature probing, MSRs, and stopping the machine.

use core::arch::asm;

/// Port of QEMU's `isa-debug-exit` device: writing `v` exits with `(v << 1) | 1`.
const DEBUG_EXIT_PORT: u16 = 0xf4;
/// Value written to [`DEBUG_EXIT_PORT`] when the loader gives up.
pub const EXIT_FAILURE: u32 = 0x11;

pub const IA32_EFER: u32 = 0xC000_0080;
pub const IA32_PAT: u32 = 0x277;

/// Writes a byte to an I/O port.
pub fn outb(port: u16, value: u8) {
    // SAFETY: port I/O has no memory effects; the loader owns the machine
    // and only touches ports of devices it drives (UART, PIC, RTC, exit).
    unsafe { asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags)) };
}

/// Reads a byte from an I/O port.
pub fn inb(port: u16) -> u8 {
    let value: u8;
    // SAFETY: as for `outb`; reads have no memory effects.
    unsafe { asm!("in al, dx", in("dx") port, out("al") value, options(nomem, nostack, preserves_flags)) };
    value
}

/// Writes a doubleword to an I/O port.
fn outl(port: u16, value: u32) {
    // SAFETY: as for `outb`.
    unsafe { asm!("out dx, eax", in("dx") port, in("eax") value, options(nomem, nostack, preserves_flags)) };
}

/// Executes CPUID for `leaf` (sub-leaf 0); returns (eax, ebx, ecx, edx).
pub fn cpuid(leaf: u32) -> (u32, u32, u32, u32) {
    let r = core::arch::x86_64::__cpuid_count(leaf, 0);
    (r.eax, r.ebx, r.ecx, r.edx)
}

/// Reads a model-specific register.
pub fn rdmsr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: only called for architectural MSRs (EFER, PAT) whose presence
    // is implied by long mode or checked with CPUID first.
    unsafe { asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags)) };
    (u64::from(hi) << 32) | u64::from(lo)
}

/// Writes a model-specific register.
///
/// # Safety
/// The MSR must exist and the value must keep the machine in a state the
/// running code can execute in.
pub unsafe fn wrmsr(msr: u32, value: u64) {
    // SAFETY: delegated to the caller.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") value as u32, in("edx") (value >> 32) as u32,
             options(nostack, preserves_flags));
    }
}

/// Reads CR0.
pub fn read_cr0() -> u64 {
    let value: u64;
    // SAFETY: reading CR0 has no side effects.
    unsafe { asm!("mov {}, cr0", out(reg) value, options(nomem, nostack, preserves_flags)) };
    value
}

/// CPU features that change what the loader builds.
#[derive(Clone, Copy)]
pub struct Features {
    /// EFER.NXE usable (CPUID 0x80000001 EDX bit 20); already enabled by the entry stub.
    pub nx: bool,
    /// 1 GiB pages (CPUID 0x80000001 EDX bit 26).
    pub huge_1g: bool,
    /// Page attribute table (CPUID 1 EDX bit 16).
    pub pat: bool,
    /// Physical address width (CPUID 0x80000008 EAX[7:0], 36 if absent).
    pub phys_bits: u32,
}

impl Features {
    pub fn detect() -> Self {
        let (_, _, _, edx1) = cpuid(1);
        let (max_ext, _, _, _) = cpuid(0x8000_0000);
        let (_, _, _, edx_ext) = cpuid(0x8000_0001);
        let phys_bits = if max_ext >= 0x8000_0008 { cpuid(0x8000_0008).0 & 0xff } else { 36 };
        Features {
            nx: edx_ext & (1 << 20) != 0,
            huge_1g: edx_ext & (1 << 26) != 0,
            pat: edx1 & (1 << 16) != 0,
            phys_bits,
        }
    }
}

/// Exits QEMU with a failure status, or halts forever on other machines.
pub fn exit_failure() -> ! {
    outl(DEBUG_EXIT_PORT, EXIT_FAILURE);
    halt_forever()
}

/// Disables interrupts and halts forever.
pub fn halt_forever() -> ! {
    loop {
        // SAFETY: cli; hlt only stops this CPU, which has nothing left to do.
        unsafe { asm!("cli", "hlt", options(nomem, nostack)) };
    }
}
