//! The jump to the kernel, leaving the machine in the state the Limine
//! protocol promises on x86_64: long mode on the kernel's page tables, the
//! boot GDT (HHDM address) with CS = 0x28 and DS/ES/FS/GS/SS = 0x30,
//! IF = DF = 0, CR0.PG|PE|WP, CR4.PAE, EFER.LME (+NXE if available), the
//! protocol's PAT, the legacy PICs masked, RSP at the top of the kernel
//! stack with a 0 return address pushed, and every other GPR zero.
//!
//! The sequence runs from the loader's own code, which both the entry
//! stub's tables and the kernel's tables identity-map.

use core::arch::asm;

use crate::cpu::{self, Features, IA32_EFER, IA32_PAT};
use crate::entry::{boot_gdt, GDT_ENTRIES, KERNEL_CS, KERNEL_DS};

/// PAT0 WB, PAT1 WT, PAT2 UC-, PAT3 UC, PAT4 WP, PAT5 WC (PAT6/7: UC).
const LIMINE_PAT: u64 = 0x0000_0105_0007_0406;

const CR0_PE: u64 = 1 << 0;
const CR0_WP: u64 = 1 << 16;
const CR0_NW: u64 = 1 << 29;
const CR0_CD: u64 = 1 << 30;
const CR0_PG: u64 = 1 << 31;
const CR4_PAE: u64 = 1 << 5;
const EFER_LME: u64 = 1 << 8;
const EFER_NXE: u64 = 1 << 11;

/// Operand of `lgdt`.
#[repr(C, packed)]
struct Gdtr {
    limit: u16,
    base: u64,
}

/// Where and how to enter the kernel.
pub struct Handoff {
    /// Physical address of the kernel's PML4.
    pub pml4: u64,
    /// Kernel entry point (virtual).
    pub entry: u64,
    /// Initial RSP (HHDM address); the u64 there is already 0.
    pub rsp: u64,
    /// HHDM offset, for the GDT's address.
    pub hhdm: u64,
}

/// Masks both legacy 8259 PICs.
fn mask_pics() {
    cpu::outb(0x21, 0xff);
    cpu::outb(0xa1, 0xff);
}

/// Enters the kernel. Never returns.
pub fn enter(h: &Handoff, features: Features) -> ! {
    mask_pics();
    let gdtr = Gdtr { limit: (GDT_ENTRIES * 8 - 1) as u16, base: (&raw const boot_gdt) as u64 + h.hhdm };
    let mut efer = cpu::rdmsr(IA32_EFER) | EFER_LME;
    if features.nx {
        efer |= EFER_NXE;
    }
    let cr0 = (cpu::read_cr0() | CR0_PG | CR0_PE | CR0_WP) & !(CR0_CD | CR0_NW);
    // SAFETY: this is the point of no return. PAT exists (checked) and the
    // new value only changes entries 1-7, which no loader mapping uses; EFER
    // keeps LME and only gains NXE when CPUID reports NX. The kernel's page
    // tables identity-map the low 4 GiB (this code, this stack and `gdtr`)
    // and map the HHDM (the GDT at its HHDM address), so execution continues
    // after the CR3 load; PAE/LME/PG stay on, so long mode is kept
    // throughout. The selectors are those of `boot_gdt`. Interrupts are off.
    unsafe {
        if features.pat {
            cpu::wrmsr(IA32_PAT, LIMINE_PAT);
        }
        cpu::wrmsr(IA32_EFER, efer);
        asm!(
            "cli",
            "cld",
            "mov cr0, r8",
            "mov cr4, r9",
            "mov cr3, rdi",
            "lgdt [rsi]",
            // Reload CS and the data segments from the new GDTR.
            "push {cs}",
            "lea rax, [rip + 2f]",
            "push rax",
            "retfq",
            "2:",
            "mov eax, {ds}",
            "mov ds, eax",
            "mov es, eax",
            "mov fs, eax",
            "mov gs, eax",
            "mov ss, eax",
            // iretq frame: SS, RSP, RFLAGS (IF = DF = 0), CS, RIP.
            "push {ds}",
            "push rdx",
            "push 0x2",
            "push {cs}",
            "push rcx",
            "xor eax, eax",
            "xor ebx, ebx",
            "xor ecx, ecx",
            "xor edx, edx",
            "xor esi, esi",
            "xor edi, edi",
            "xor ebp, ebp",
            "xor r8d, r8d",
            "xor r9d, r9d",
            "xor r10d, r10d",
            "xor r11d, r11d",
            "xor r12d, r12d",
            "xor r13d, r13d",
            "xor r14d, r14d",
            "xor r15d, r15d",
            "iretq",
            cs = const KERNEL_CS,
            ds = const KERNEL_DS,
            in("rdi") h.pml4,
            in("rsi") &raw const gdtr,
            in("rdx") h.rsp,
            in("rcx") h.entry,
            in("r8") cr0,
            in("r9") CR4_PAE,
            options(noreturn),
        );
    }
}
