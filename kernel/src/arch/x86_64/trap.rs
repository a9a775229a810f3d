//! Interrupt and exception entry: the IDT, 256 assembly stubs that build a
//! `TrapFrame` on the kernel stack, and `trap_dispatch`, which routes each
//! vector to the code that owns it. A fault in the kernel is reported with
//! every register and stops the machine; a fault in user mode goes to the
//! process layer, which ends the faulting process.

use super::{apic, cpu, gdt, time};
use core::arch::global_asm;
use core::mem::size_of;
use core::ptr::addr_of;

/// Vector of the LAPIC timer.
pub const VECTOR_TIMER: u8 = 0x20;
/// First vector used for I/O APIC lines (vector = base + GSI).
pub const VECTOR_IRQ_BASE: u8 = 0x30;
/// Number of I/O APIC lines given vectors.
pub const IRQ_LINES: u8 = 24;
/// The LAPIC's spurious-interrupt vector.
pub const VECTOR_SPURIOUS: u8 = 0xff;

/// Registers as the entry stubs leave them on the stack. Aligned to 16 so
/// that its end is too: the CPU aligns RSP0 down to 16 bytes before pushing
/// a user-mode trap frame, and the frame must land exactly here.
#[repr(C, align(16))]
#[derive(Clone, Copy, Debug, Default)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    // Pushed by the CPU.
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

const _: () = assert!(size_of::<TrapFrame>().is_multiple_of(16));

// Each stub is 16 bytes: push a zero error code where the CPU pushes none,
// push the vector, jump to the common path. The common path saves the
// general registers, swaps GS when coming from user mode, and calls
// `trap_dispatch` with a pointer to the frame.
global_asm!(
    r#"
.section .text.trap_stubs, "ax"
.balign 16
.global trap_stubs
trap_stubs:
.set vector, 0
.rept 256
    .balign 16
    .if (vector == 8) || ((vector >= 10) && (vector <= 14)) || (vector == 17) || (vector == 21) || (vector == 29) || (vector == 30)
    .else
        push 0
    .endif
    push vector
    jmp trap_common
    .set vector, vector + 1
.endr

trap_common:
    cld
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
    test byte ptr [rsp + 18*8], 3
    jz 1f
    // From user mode: the frame sits in the thread's control block (TSS
    // RSP0 points there). Run the kernel on the per-CPU stack; the kernel
    // leaves through `enter_user`, never back through here.
    swapgs
    mov rdi, rsp
    mov rsp, gs:[{kernel_stack}]
    xor ebp, ebp
    call {from_user}
    ud2
1:
    mov rdi, rsp
    call {dispatch}
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
    iretq
"#,
    dispatch = sym trap_dispatch,
    from_user = sym crate::sched::trap_from_user,
    kernel_stack = const super::percpu::OFFSET_KERNEL_STACK,
);

extern "C" {
    static trap_stubs: u8;
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    flags: u8,
    offset_mid: u16,
    offset_high: u32,
    _reserved: u32,
}

static mut IDT: [Gate; 256] =
    [Gate { offset_low: 0, selector: 0, ist: 0, flags: 0, offset_mid: 0, offset_high: 0, _reserved: 0 }; 256];

#[repr(C, packed)]
struct IdtPointer {
    limit: u16,
    base: u64,
}

/// Fills and loads the IDT.
///
/// # Safety
/// Call once per CPU after `gdt::init`, with interrupts disabled.
pub unsafe fn init() {
    let base = addr_of!(trap_stubs) as u64;
    // SAFETY: single-threaded early boot; nothing else uses the IDT yet.
    unsafe {
        let gates = (&raw mut IDT).cast::<Gate>();
        for vector in 0..256 {
            let handler = base + 16 * vector as u64;
            let ist = match vector {
                8 => gdt::IST_DOUBLE_FAULT,
                2 => gdt::IST_NMI,
                18 => gdt::IST_MACHINE_CHECK,
                _ => 0,
            };
            // Interrupt gate (interrupts off on entry); DPL 3 only for int3 so
            // a user breakpoint is a fault report rather than a #GP.
            let dpl = if vector == 3 { 3 } else { 0 };
            gates.add(vector).write(Gate {
                offset_low: handler as u16,
                selector: gdt::KERNEL_CODE,
                ist,
                flags: 0x8e | (dpl << 5),
                offset_mid: (handler >> 16) as u16,
                offset_high: (handler >> 32) as u32,
                _reserved: 0,
            });
        }
        let ptr = IdtPointer { limit: (size_of::<[Gate; 256]>() - 1) as u16, base: addr_of!(IDT) as u64 };
        core::arch::asm!("lidt [{}]", in(reg) &ptr, options(readonly, nostack, preserves_flags));
    }
}

/// Names of the architectural exceptions, for reports.
pub fn exception_name(vector: u64) -> &'static str {
    const NAMES: [&str; 32] = [
        "divide error",
        "debug",
        "NMI",
        "breakpoint",
        "overflow",
        "bound range",
        "invalid opcode",
        "device not available",
        "double fault",
        "coprocessor overrun",
        "invalid TSS",
        "segment not present",
        "stack fault",
        "general protection",
        "page fault",
        "reserved",
        "x87 error",
        "alignment check",
        "machine check",
        "SIMD error",
        "virtualization",
        "control protection",
        "reserved",
        "reserved",
        "reserved",
        "reserved",
        "reserved",
        "reserved",
        "hypervisor injection",
        "VMM communication",
        "security",
        "reserved",
    ];
    NAMES.get(vector as usize).copied().unwrap_or("interrupt")
}

/// What a trap turned out to be, once the hardware side is handled.
pub enum TrapKind {
    /// A CPU exception (vector 0..31).
    Exception,
    /// The scheduler's timer fired.
    Timer,
    /// A device interrupt on this line (ISA IRQ or GSI number).
    Irq(u8),
    /// Nothing for the scheduler to do (spurious, unexpected).
    Other,
}

/// Acknowledges and classifies an interrupt or exception: the part of trap
/// handling common to kernel and user mode.
pub fn classify(frame: &TrapFrame) -> TrapKind {
    match frame.vector {
        0..=31 => TrapKind::Exception,
        v if v == u64::from(VECTOR_TIMER) => {
            apic::eoi();
            time::on_timer_tick();
            TrapKind::Timer
        }
        v if v == u64::from(VECTOR_SPURIOUS) => TrapKind::Other,
        v if (u64::from(VECTOR_IRQ_BASE)..u64::from(VECTOR_IRQ_BASE + IRQ_LINES)).contains(&v) => {
            apic::eoi();
            TrapKind::Irq((v - u64::from(VECTOR_IRQ_BASE)) as u8)
        }
        v => {
            crate::kwarn!("unexpected interrupt vector {v:#x}");
            apic::eoi();
            TrapKind::Other
        }
    }
}

/// Traps taken in kernel mode (the idle loop, or a kernel bug), interrupts
/// disabled. Returns to the interrupted kernel code.
extern "C" fn trap_dispatch(frame: &mut TrapFrame) {
    match classify(frame) {
        TrapKind::Exception => crate::fault::handle_exception(frame),
        TrapKind::Timer => crate::sched::timer_tick_in_kernel(),
        TrapKind::Irq(line) => crate::sched::irq_in_kernel(line),
        TrapKind::Other => {}
    }
}

/// Prints a full register dump of `frame`.
pub fn dump(frame: &TrapFrame) {
    crate::kprintln!(
        "  vector {} ({}) error {:#x}\n  rip {:#018x} cs {:#x} rflags {:#x} rsp {:#018x} ss {:#x} cr2 {:#018x}\n  \
         rax {:#018x} rbx {:#018x} rcx {:#018x} rdx {:#018x}\n  rsi {:#018x} rdi {:#018x} rbp {:#018x} r8  {:#018x}\n  \
         r9  {:#018x} r10 {:#018x} r11 {:#018x} r12 {:#018x}\n  r13 {:#018x} r14 {:#018x} r15 {:#018x}",
        frame.vector,
        exception_name(frame.vector),
        frame.error_code,
        frame.rip,
        frame.cs,
        frame.rflags,
        frame.rsp,
        frame.ss,
        cpu::read_cr2(),
        frame.rax,
        frame.rbx,
        frame.rcx,
        frame.rdx,
        frame.rsi,
        frame.rdi,
        frame.rbp,
        frame.r8,
        frame.r9,
        frame.r10,
        frame.r11,
        frame.r12,
        frame.r13,
        frame.r14,
        frame.r15
    );
}
