//! What happens when the CPU raises an exception. In kernel mode: a fault
//! inside a user-memory copy is turned into an error for the copy's caller
//! (the copy routine's fixup); a breakpoint is logged and execution goes on;
//! anything else is a kernel bug, reported with every register, and the
//! machine stops. In user mode the faulting process is ended and the
//! system goes on.

use crate::arch::{cpu, qemu, trap, trap::TrapFrame, usercopy};
use crate::state::Kernel;
use core::sync::atomic::{AtomicU64, Ordering};

/// Breakpoints taken in kernel mode (the in-kernel tests count them).
pub static KERNEL_BREAKPOINTS: AtomicU64 = AtomicU64::new(0);
/// Faults inside user-memory copies that were turned into errors.
pub static USERCOPY_FAULTS: AtomicU64 = AtomicU64::new(0);

const PAGE_FAULT: u64 = 14;
const GENERAL_PROTECTION: u64 = 13;
const BREAKPOINT: u64 = 3;

/// Vectors delivered on IST stacks: their frame is not in a thread, and
/// each means the machine itself is in trouble.
const MACHINE_FAULTS: [u64; 3] = [2, 8, 18];

/// An exception in user mode: the current process is ended with
/// `EXIT_FAULTED`, and the report names it, the thread, RIP and the address.
pub fn user_fault(k: &mut Kernel, frame: &TrapFrame) {
    if MACHINE_FAULTS.contains(&frame.vector) {
        kernel_fault(frame);
    }
    let Some(tid) = k.current else { kernel_fault(frame) };
    let process = k.cur().process;
    let (pid, name) = k.processes.get(process).map_or((0, "?".into()), |p| (p.pid, p.name.clone()));
    let addr = if frame.vector == PAGE_FAULT { cpu::read_cr2() } else { 0 };
    crate::kwarn!(
        "process {pid} ({name}) thread {} killed: {} (error {:#x}) at rip {:#x}, address {:#x}",
        tid.index,
        trap::exception_name(frame.vector),
        frame.error_code,
        frame.rip,
        addr
    );
    k.end_process(process, abi::EXIT_FAULTED);
}

/// A fault the kernel cannot blame on a process: report and stop.
fn kernel_fault(frame: &TrapFrame) -> ! {
    cpu::disable_interrupts();
    crate::kprintln!("KERNEL PANIC: unhandled {} in kernel mode", trap::exception_name(frame.vector));
    trap::dump(frame);
    qemu::exit(qemu::ExitCode::Failure)
}

/// An exception in kernel mode.
pub fn handle_exception(frame: &mut TrapFrame) {
    let vector = frame.vector;
    match vector {
        BREAKPOINT => {
            KERNEL_BREAKPOINTS.fetch_add(1, Ordering::Relaxed);
            crate::kdebug!("kernel breakpoint at {:#x}", frame.rip);
        }
        PAGE_FAULT | GENERAL_PROTECTION if usercopy::fixup(frame) => {
            USERCOPY_FAULTS.fetch_add(1, Ordering::Relaxed);
        }
        _ => kernel_fault(frame),
    }
}
