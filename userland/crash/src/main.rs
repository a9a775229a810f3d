//! `crash <mode>`: does one forbidden thing, to check that the kernel ends
//! the process (status `abi::EXIT_FAULTED`) and nothing else. Exiting
//! normally means the fault did not happen: status [`SURVIVED`].
//!
//! Modes that must fault: `kernel-read`, `kernel-write`, `noncanonical`,
//! `null`, `write-text`, `write-rodata`, `exec-stack`, `exec-heap`, `divide`,
//! `sse`, `x87`, `ud2`, `int3`, `privileged` (`hlt`), `port-io` (`in`),
//! `write-ro` (write to a page after `protect` made it read-only),
//! `unmapped-after-unmap`, `stack-overflow`, `jump-kernel`.
//!
//! Modes that end through the panic handler (status 101): `panic`, and
//! `oom` (allocating past the page limit must be a clean allocation
//! failure, which panics).
//!
//! `ports-in <port>`: enables the I/O ports of `first_handle(0)` and reads
//! `<port>`; status 0 after the read, [`USAGE`] without a port or handle.
//! Whether it must fault depends on the ports the spawner granted (ipctest's
//! `ioports_narrow`).
//!
//! Modes that must *not* fault, they check that the kernel refuses a bad
//! thread start with an error instead of starting it (status 0 = refused
//! with `BadAddress`/`BadArgument`; [`ACCEPTED`] = it was accepted and the
//! thread did not fault either): `thread-entry-kernel`,
//! `thread-entry-noncanonical`.
//!
//! Each fault is deliberate, so the unsafe blocks here have no safety
//! argument beyond "this process is meant to die here"; they are allowed
//! one by one.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

use core::arch::asm;
use core::hint::black_box;
use core::ptr;
use core::time::Duration;

use abi::{prot, Syscall};
use libipc::{println, Args, Error, Mapping};

libipc::main!(main);

/// Exit status when the forbidden action did not fault.
const SURVIVED: i32 = 42;
/// Exit status of a `thread-entry-*` mode whose bad thread was accepted and
/// then did not kill the process.
const ACCEPTED: i32 = 43;
/// Exit status for an unknown mode or a failed preparation.
const USAGE: i32 = 64;

/// The first kernel-half address.
const KERNEL_HALF: u64 = 0xffff_8000_0000_0000;
/// A non-canonical address (bit 47 clear, upper bits not all equal).
const NONCANONICAL: u64 = 0x8000_0000_0000_0000;

fn main(args: Args) -> i32 {
    let Some(mode) = args.word(0) else {
        println!("crash: usage: crash <mode>");
        return USAGE;
    };
    println!("crash: {mode}");
    match mode {
        "kernel-read" => read(KERNEL_HALF),
        "kernel-write" => write(KERNEL_HALF + 0x1000),
        "noncanonical" => read(NONCANONICAL),
        "null" => read(0),
        "write-text" => write(main as *const () as u64),
        "write-rodata" => write(MESSAGE.as_ptr() as u64),
        "exec-stack" => exec_stack(),
        "exec-heap" => exec_heap(),
        "divide" => divide(),
        "sse" => sse(),
        "x87" => x87(),
        "ud2" => ud2(),
        "int3" => int3(),
        "privileged" => privileged(),
        "port-io" => port_io(),
        "ports-in" => return ports_in(args.word(1).and_then(|w| w.parse().ok())),
        "write-ro" => write_ro(),
        "unmapped-after-unmap" => unmapped_after_unmap(),
        "stack-overflow" => {
            println!("crash: recursed {} times", recurse(0));
        }
        "jump-kernel" => jump(KERNEL_HALF + 0x10_0000),
        "panic" => panic!("crash asked to panic"),
        "oom" => oom(),
        "thread-entry-kernel" => return thread_entry(KERNEL_HALF + 0x10_0000),
        "thread-entry-noncanonical" => return thread_entry(NONCANONICAL),
        _ => {
            println!("crash: unknown mode {mode}");
            return USAGE;
        }
    }
    println!("crash: {mode}: still alive");
    SURVIVED
}

static MESSAGE: [u8; 16] = *b"read-only data!!";

fn read(addr: u64) {
    // Opaque to the optimiser, so the access is emitted as written.
    let addr = black_box(addr);
    #[allow(unsafe_code)]
    // Deliberate: this process is meant to fault here.
    let v = unsafe { ptr::read_volatile(addr as *const u64) };
    println!("crash: read {v:#x} from {addr:#x}");
}

fn write(addr: u64) {
    let addr = black_box(addr);
    #[allow(unsafe_code)]
    // Deliberate: this process is meant to fault here.
    unsafe {
        ptr::write_volatile(addr as *mut u8, 0xcc)
    };
}

/// `mov eax, 7; ret` (a `ret` alone would also do; this also shows a result).
const CODE: [u8; 6] = [0xb8, 0x07, 0x00, 0x00, 0x00, 0xc3];

fn call(addr: u64) -> u32 {
    let addr = black_box(addr);
    #[allow(unsafe_code)]
    // Deliberate: executing data (or the kernel) must fault.
    let f: extern "C" fn() -> u32 = unsafe { core::mem::transmute(addr as usize) };
    f()
}

fn exec_stack() {
    let code = black_box(CODE);
    let r = call(code.as_ptr() as u64);
    println!("crash: stack code returned {r}");
}

fn exec_heap() {
    let code = black_box(alloc_code());
    let r = call(code.as_ptr() as u64);
    println!("crash: heap code returned {r}");
}

extern crate alloc;
fn alloc_code() -> alloc::vec::Vec<u8> {
    CODE.to_vec()
}

fn jump(addr: u64) {
    let r = call(addr);
    println!("crash: kernel code returned {r}");
}

fn divide() {
    let dividend: u64 = black_box(1);
    let divisor: u64 = black_box(0);
    let quotient: u64;
    #[allow(unsafe_code)]
    // Deliberate: `div` by zero raises #DE (Rust's `/` would panic first,
    // which is why this is assembly).
    unsafe {
        asm!("div {d}", d = in(reg) divisor, inlateout("rax") dividend => quotient,
             inlateout("rdx") 0u64 => _, options(nomem, nostack));
    }
    println!("crash: 1 / 0 = {quotient}");
}

fn sse() {
    #[allow(unsafe_code)]
    // Deliberate: userland is soft-float and the kernel keeps CR0.EM set, so
    // any SSE instruction raises #UD. (No xmm operands can be declared on a
    // soft-float target; xmm0 is not used by the program.)
    unsafe {
        asm!("xorps xmm0, xmm0", options(nomem, nostack));
    }
}

fn x87() {
    #[allow(unsafe_code)]
    // Deliberate: with CR0.EM set an x87 instruction raises #NM.
    unsafe {
        asm!("fninit", options(nomem, nostack));
    }
}

fn ud2() {
    #[allow(unsafe_code)]
    // Deliberate: #UD.
    unsafe {
        asm!("ud2", options(nomem, nostack));
    }
}

fn int3() {
    #[allow(unsafe_code)]
    // Deliberate: #BP from user mode; nobody debugs this process, so it ends.
    unsafe {
        asm!("int3", options(nomem, nostack));
    }
}

fn privileged() {
    #[allow(unsafe_code)]
    // Deliberate: `hlt` at CPL 3 raises #GP.
    unsafe {
        asm!("hlt", options(nomem, nostack));
    }
}

fn port_io() {
    let v: u8;
    #[allow(unsafe_code)]
    // Deliberate: port I/O at CPL 3 with IOPL 0 and no I/O bitmap raises #GP
    // (0x3f8 is the serial port: reading it must not be allowed).
    unsafe {
        asm!("in al, dx", in("dx") 0x3f8u16, out("al") v, options(nomem, nostack));
    }
    println!("crash: port read {v:#x}");
}

fn ports_in(port: Option<u16>) -> i32 {
    let (Some(port), Some(ports)) = (port, libipc::ipc::Handle::initial(0)) else { return USAGE };
    if let Err(e) = libipc::ipc::ioports_enable(&ports) {
        println!("crash: ioports_enable: {e}");
        return USAGE;
    }
    let v: u8;
    #[allow(unsafe_code)]
    // Deliberate: a port outside the granted range raises #GP; inside it,
    // the spawner picked a port whose read has no side effects.
    unsafe {
        asm!("in al, dx", in("dx") port, out("al") v, options(nomem, nostack));
    }
    println!("crash: port {port:#x} read {v:#x}");
    0
}

fn write_ro() {
    let mut page = match Mapping::new(4096, prot::READ | prot::WRITE) {
        Ok(page) => page,
        Err(e) => {
            println!("crash: map failed: {e}");
            libipc::exit(USAGE.into());
        }
    };
    if let Some(bytes) = page.as_mut_slice() {
        bytes[0] = 1;
    }
    if let Err(e) = page.protect(prot::READ) {
        println!("crash: protect failed: {e}");
        libipc::exit(USAGE.into());
    }
    let seen = page.as_slice().map(|b| b[0]);
    println!("crash: page reads {seen:?} after protect");
    write(page.addr() as u64);
}

fn unmapped_after_unmap() {
    let page = match Mapping::new(4096, prot::READ | prot::WRITE) {
        Ok(page) => page,
        Err(e) => {
            println!("crash: map failed: {e}");
            libipc::exit(USAGE.into());
        }
    };
    let addr = page.addr() as u64;
    if let Err(e) = page.unmap() {
        println!("crash: unmap failed: {e}");
        libipc::exit(USAGE.into());
    }
    read(addr);
}

/// Allocates and touches 1 MiB blocks until the heap cannot grow.
fn oom() {
    let mut blocks = alloc::vec::Vec::new();
    loop {
        let block = alloc::vec![1u8; 1 << 20];
        blocks.push(block);
        if blocks.len() % 16 == 0 {
            println!("crash: {} MiB allocated", blocks.len());
        }
    }
}

/// Recurses with a 1 KiB frame until the stack runs out.
fn recurse(depth: u64) -> u64 {
    let frame = black_box([depth as u8; 1024]);
    if black_box(depth) == u64::MAX {
        return frame[0] as u64;
    }
    1 + recurse(depth + 1) + black_box(frame[1]) as u64
}

extern "C" fn never_runs(_: u64) -> ! {
    libipc::thread::exit(0)
}

fn thread_entry(entry: u64) -> i32 {
    let _ = never_runs as *const ();
    let stack = match Mapping::new(16 * 1024, prot::READ | prot::WRITE) {
        Ok(stack) => stack,
        Err(e) => {
            println!("crash: map failed: {e}");
            return USAGE;
        }
    };
    let top = stack.addr() as u64 + stack.len() as u64 - 8;
    #[allow(unsafe_code)]
    // SAFETY: the stack is mapped and kept (leaked below if the thread
    // starts); the entry is bad on purpose, and if the kernel starts it
    // anyway the thread can only fault, which ends this process.
    let raw = unsafe { libipc::sys::raw_syscall(Syscall::ThreadCreate as u64, [entry, top, 0, 0, 0, 0]) };
    core::mem::forget(stack);
    match Error::from_raw(raw) {
        Err(Error::BadAddress | Error::BadArgument) => {
            println!("crash: thread entry {entry:#x} refused ({})", Error::from_raw(raw).unwrap_err());
            0
        }
        Err(e) => {
            println!("crash: thread entry {entry:#x} refused with unexpected error {e}");
            USAGE
        }
        Ok(handle) => {
            println!("crash: thread entry {entry:#x} accepted (handle {handle})");
            libipc::sleep(Duration::from_millis(100));
            ACCEPTED
        }
    }
}
