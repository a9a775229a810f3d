//! Per-CPU data reached through GS while in the kernel: the kernel stack
//! every entry runs on, and where the syscall stub saves the current
//! thread's registers. One CPU today; the layout is what the entry
//! assembly indexes, so the offsets below are part of it.

use super::cpu::{wrmsr, MSR_GS_BASE, MSR_KERNEL_GS_BASE};

/// Kernel stack shared by all entries on this CPU (the kernel never blocks
/// on it: each entry starts at the top and ends by returning to a thread).
const KERNEL_STACK_SIZE: usize = 64 * 1024;

#[repr(C, align(16))]
struct KernelStack([u8; KERNEL_STACK_SIZE]);

static mut KERNEL_STACK: KernelStack = KernelStack([0; KERNEL_STACK_SIZE]);

/// Offsets used by the entry assembly.
pub const OFFSET_KERNEL_STACK: usize = 0;
pub const OFFSET_CONTEXT_TOP: usize = 8;
pub const OFFSET_USER_RSP: usize = 16;

#[repr(C)]
pub struct PerCpu {
    /// Top of the kernel stack.
    pub kernel_stack: u64,
    /// One past the end of the current thread's saved-register area: the
    /// syscall stub pushes the user registers down from here.
    pub context_top: u64,
    /// Scratch for the user RSP during syscall entry.
    pub user_rsp: u64,
}

static mut PERCPU: PerCpu = PerCpu { kernel_stack: 0, context_top: 0, user_rsp: 0 };

/// Sets up this CPU's block and points GS at it (KERNEL_GS_BASE too, so
/// the `swapgs` on every user entry/exit keeps the kernel's value in place).
///
/// # Safety
/// Call once per CPU during boot, interrupts disabled.
pub unsafe fn init() {
    // SAFETY: boot is single-threaded; the statics are only touched here and
    // by the entry assembly afterwards.
    unsafe {
        let top = (&raw mut KERNEL_STACK) as u64 + KERNEL_STACK_SIZE as u64;
        PERCPU.kernel_stack = top;
        let base = (&raw mut PERCPU) as u64;
        wrmsr(MSR_GS_BASE, base);
        wrmsr(MSR_KERNEL_GS_BASE, 0);
    }
}

/// Records where the next syscall from user mode saves its registers.
/// Interrupts must be disabled (they always are in the kernel).
#[inline]
pub fn set_context_top(top: u64) {
    // SAFETY: only this CPU uses its block, and with interrupts off nothing
    // else runs on it meanwhile.
    unsafe { PERCPU.context_top = top };
}
