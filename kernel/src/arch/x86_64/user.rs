//! Crossing into and out of user mode. Every thread's user registers live
//! in its `TrapFrame` inside the thread control block: the syscall stub
//! pushes them there, and the TSS points RSP0 just past it so interrupts
//! and exceptions from user mode push there too. The kernel then runs on
//! the per-CPU stack, and leaves by `enter_user`, which pops some thread's
//! frame and `iretq`s. The kernel never sleeps on a stack: a blocked thread
//! is only its saved frame.

use super::cpu::{self, rdmsr, wrmsr};
use super::gdt::{self, KERNEL_CODE, USER_DATA};
use super::percpu::{self, OFFSET_CONTEXT_TOP, OFFSET_KERNEL_STACK, OFFSET_USER_RSP};
use super::trap::TrapFrame;
use core::arch::global_asm;
use core::mem::size_of;

/// Marks a frame saved by the syscall stub (not a CPU vector).
pub const SYSCALL_VECTOR: u64 = 0x100;

global_asm!(
    r#"
.section .text.user, "ax"
.global syscall_entry
syscall_entry:
    swapgs
    mov gs:[{user_rsp}], rsp
    mov rsp, gs:[{context_top}]
    push {user_ss}
    push qword ptr gs:[{user_rsp}]
    push r11
    push {user_cs}
    push rcx
    push 0
    push {syscall_vector}
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    mov rdi, rsp
    mov rsp, gs:[{kernel_stack}]
    xor ebp, ebp
    call {dispatch}
    ud2

// enter_user(frame: rdi) -> !: restore a thread's registers and return to it.
.global enter_user_asm
enter_user_asm:
    mov rsp, rdi
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16
    swapgs
    iretq
"#,
    user_rsp = const OFFSET_USER_RSP,
    context_top = const OFFSET_CONTEXT_TOP,
    kernel_stack = const OFFSET_KERNEL_STACK,
    user_ss = const USER_DATA as u64,
    user_cs = const gdt::USER_CODE as u64,
    syscall_vector = const SYSCALL_VECTOR,
    dispatch = sym crate::syscall::syscall_from_user,
);

extern "C" {
    fn syscall_entry();
    fn enter_user_asm(frame: *const TrapFrame) -> !;
}

/// RFLAGS bits cleared on `syscall`: IF (the kernel runs with interrupts
/// off), DF, TF, AC (so user-set AC cannot disable SMAP in the kernel), NT.
const SYSCALL_FLAG_MASK: u64 = (1 << 9) | (1 << 10) | (1 << 8) | (1 << 18) | (1 << 14);

/// Enables `syscall`/`sysret` and points them at the entry stub.
///
/// # Safety
/// Call once per CPU after `gdt::init` and `percpu::init`.
pub unsafe fn init() {
    // SAFETY: these MSRs exist on every x86_64 CPU; the values match the GDT.
    unsafe {
        wrmsr(cpu::MSR_EFER, rdmsr(cpu::MSR_EFER) | cpu::EFER_SCE);
        let star = (u64::from(USER_DATA & !3) - 8) << 48 | u64::from(KERNEL_CODE) << 32;
        wrmsr(cpu::MSR_STAR, star);
        wrmsr(cpu::MSR_LSTAR, syscall_entry as *const () as u64);
        wrmsr(cpu::MSR_FMASK, SYSCALL_FLAG_MASK);
    }
}

/// A fresh frame for a thread that starts at `entry` in user mode.
pub fn initial_frame(entry: u64, stack_top: u64, arg0: u64, arg1: u64, arg2: u64) -> TrapFrame {
    TrapFrame {
        rip: entry,
        cs: u64::from(gdt::USER_CODE),
        rflags: 1 << 9 | 1 << 1, // IF, and the always-one bit
        rsp: stack_top,
        ss: u64::from(USER_DATA),
        rdi: arg0,
        rsi: arg1,
        rdx: arg2,
        ..TrapFrame::default()
    }
}

/// Returns to the thread that just entered the kernel, whose address space
/// and kernel-entry pointers are already in place.
///
/// # Safety
/// `frame` must be the current thread's saved frame (see `enter_user`).
#[inline]
pub unsafe fn return_to_user(frame: *const TrapFrame) -> ! {
    // SAFETY: see the function's contract.
    unsafe { enter_user_asm(frame) }
}

/// Switches to address space `cr3` (if it differs) and returns to user mode
/// with `frame`'s registers. Later traps from user mode save into `frame`.
///
/// # Safety
/// `frame` must be the saved frame inside a live thread control block that
/// stays put until the thread next enters the kernel, with user-mode
/// segment selectors (the kernel built it); `cr3` must be that thread's
/// address space, sharing the kernel half. Nothing may be left on the
/// kernel stack that needs dropping: this never returns.
#[inline(always)]
pub unsafe fn enter_user(frame: *const TrapFrame, cr3: u64) -> ! {
    let top = frame as u64 + size_of::<TrapFrame>() as u64;
    // SAFETY: see the function's contract; interrupts are off in the kernel.
    unsafe {
        gdt::set_kernel_stack(top);
        percpu::set_context_top(top);
        if cpu::read_cr3() != cr3 {
            cpu::write_cr3(cr3);
        }
        enter_user_asm(frame)
    }
}
