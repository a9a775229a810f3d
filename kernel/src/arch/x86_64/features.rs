//! CPU protection features the kernel turns on at boot: SMEP (the kernel
//! never executes user pages), SMAP (the kernel touches user pages only
//! inside the copy routine), UMIP, write protection, NX; and the FPU policy.
//!
//! FPU policy: userland is built soft-float (`x86_64-unknown-none`), so no
//! thread has FPU/SSE state to save. CR0.EM is set and CR4.OSFXSR cleared:
//! any x87 or SSE instruction traps (#NM or #UD) and ends the process that
//! tried it. Context switches save integer registers only.

use super::cpu::{self, cpuid};
use core::sync::atomic::{AtomicBool, Ordering};

/// Whether SMAP is on (the copy routine then brackets its access with stac/clac).
#[no_mangle]
pub static SMAP_ENABLED: AtomicBool = AtomicBool::new(false);

/// What `init` enabled, for the boot log.
pub struct Enabled {
    pub smep: bool,
    pub smap: bool,
    pub umip: bool,
    pub nx: bool,
}

/// Turns on every protection the CPU offers.
///
/// # Safety
/// Call once at boot after the kernel's page tables are live (no kernel
/// code may run from user pages or touch them outside the copy routine).
pub unsafe fn init() -> Enabled {
    let (_, ebx7, ecx7, _) = cpuid(7, 0);
    let (_, _, _, edx_ext) = cpuid(0x8000_0001, 0);
    let smep = ebx7 & (1 << 7) != 0;
    let smap = ebx7 & (1 << 20) != 0;
    let umip = ecx7 & (1 << 2) != 0;
    let nx = edx_ext & (1 << 20) != 0;
    let mut cr4 = cpu::read_cr4() & !cpu::CR4_OSFXSR;
    if smep {
        cr4 |= cpu::CR4_SMEP;
    }
    if smap {
        cr4 |= cpu::CR4_SMAP;
    }
    if umip {
        cr4 |= cpu::CR4_UMIP;
    }
    // SAFETY: the caller guarantees the kernel is ready for each feature;
    // EM/!MP make every FPU instruction trap, which the kernel never uses
    // (it is built soft-float too).
    unsafe {
        if nx {
            cpu::wrmsr(cpu::MSR_EFER, cpu::rdmsr(cpu::MSR_EFER) | cpu::EFER_NXE);
        }
        cpu::write_cr0((cpu::read_cr0() | cpu::CR0_EM | cpu::CR0_WP) & !(cpu::CR0_MP | cpu::CR0_TS));
        cpu::write_cr4(cr4);
    }
    SMAP_ENABLED.store(smap, Ordering::Relaxed);
    Enabled { smep, smap, umip, nx }
}
