//! System calls: the entry from the assembly stub, decoding the registers
//! once into `Args`, and dispatch to one handler per call. Every handler has
//! the same shape, `fn(&mut Kernel, &Args) -> Result<Next, Error>`; the
//! dispatcher alone writes results back to the caller. See `abi::syscall`
//! for each call's contract.

mod device;
mod ipc;
mod memory;
mod misc;
mod process;
mod thread;

use crate::arch::trap::TrapFrame;
use crate::process::{Handle, Object};
use crate::sched;
use crate::state::{self, Kernel};
use abi::{Error, Syscall};

/// A system call's number and arguments, as the caller passed them.
pub struct Args {
    pub number: u64,
    pub a: [u64; 6],
}

impl Args {
    fn from_frame(f: &TrapFrame) -> Self {
        Args { number: f.rax, a: [f.rdi, f.rsi, f.rdx, f.r10, f.r8, f.r9] }
    }
}

/// What a handler did with its caller.
pub enum Next {
    /// Return `rax` (and `rdx`) to the caller.
    Return(u64, u64),
    /// The handler already wrote every result register; carry on.
    Continue,
    /// The caller blocked, yielded its slice or ended; whoever wakes it sets
    /// its return values.
    Reschedule,
}

/// Called by the syscall stub with the caller's saved registers.
pub extern "C" fn syscall_from_user(frame: *const TrapFrame) -> ! {
    // SAFETY: the stub passes the frame it just filled inside the current
    // thread's control block; a plain read through the raw pointer.
    let number = unsafe { (*frame).rax };
    let mut k = state::lock();
    k.stats.syscalls += 1;
    let fast = match number {
        n if n == Syscall::Send as u64 => crate::ipc::fastpath::send(&mut k, frame),
        n if n == Syscall::ReplyReceive as u64 => crate::ipc::fastpath::reply_receive(&mut k, frame),
        _ => None,
    };
    if let Some(next) = fast {
        sched::switch_fast(k, next);
    }
    // SAFETY: as above; the arguments are copied out before any handler can
    // borrow the thread (and so the frame) mutably.
    let args = Args::from_frame(unsafe { &*frame });
    let result = dispatch(&mut k, &args);
    // The caller may have ended (it killed its own process, say): then
    // someone else runs.
    let caller = match result {
        Ok(Next::Reschedule) => None,
        _ => k.current.and_then(|id| k.threads.get_mut(id)),
    };
    let Some(t) = caller else { sched::resume(k) };
    match result {
        Ok(Next::Return(rax, rdx)) => {
            t.frame.rax = rax;
            t.frame.rdx = rdx;
        }
        Err(e) => t.frame.rax = e.to_raw() as u64,
        Ok(Next::Continue | Next::Reschedule) => {}
    }
    // The caller carries on: same thread, same address space, and the TSS
    // and per-CPU block already point at its frame.
    let frame = &t.frame as *const TrapFrame;
    if k.need_resched {
        sched::resume(k);
    }
    drop(k);
    // SAFETY: `frame` is the live current thread's saved frame, which stays
    // put until it next enters the kernel; nothing on this stack needs
    // dropping.
    unsafe { crate::arch::user::return_to_user(frame) }
}

fn dispatch(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let call = Syscall::from_raw(args.number).ok_or(Error::BadSyscall)?;
    match call {
        Syscall::DebugWrite => misc::debug_write(k, args),
        Syscall::Exit => process::exit(k, args),
        Syscall::Spawn => process::spawn(k, args),
        Syscall::Wait => process::wait(k, args),
        Syscall::Kill => process::kill(k, args),
        Syscall::ThreadCreate => thread::create(k, args),
        Syscall::ThreadExit => thread::exit(k, args),
        Syscall::ThreadJoin => thread::join(k, args),
        Syscall::Yield => thread::yield_now(k, args),
        Syscall::Sleep => thread::sleep(k, args),
        Syscall::Map => memory::map(k, args),
        Syscall::Unmap => memory::unmap(k, args),
        Syscall::Protect => memory::protect(k, args),
        Syscall::Time => misc::time(k, args),
        Syscall::GetPid => process::getpid(k, args),
        Syscall::HandleClose => misc::handle_close(k, args),
        Syscall::KernelInfo => misc::kernel_info(k, args),
        Syscall::ChannelCreate => ipc::channel_create(k, args),
        Syscall::Connect => ipc::connect(k, args),
        Syscall::Send => ipc::send(k, args),
        Syscall::Receive => ipc::receive(k, args),
        Syscall::Reply => ipc::reply(k, args),
        Syscall::ReplyReceive => ipc::reply_receive(k, args),
        Syscall::Pulse => ipc::pulse(k, args),
        Syscall::SendAsync => ipc::send_async(k, args),
        Syscall::LeaseRead => ipc::lease_read(k, args),
        Syscall::LeaseWrite => ipc::lease_write(k, args),
        Syscall::HandleDup => misc::handle_dup(k, args),
        Syscall::IrqBind => device::irq_bind(k, args),
        Syscall::IrqAck => device::irq_ack(k, args),
        Syscall::IoPortsEnable => device::ioports_enable(k, args),
        Syscall::DmaAlloc => device::dma_alloc(k, args),
        Syscall::SetPriority => thread::set_priority(k, args),
        Syscall::Shutdown => process::shutdown(k, args),
        Syscall::IpcTune => ipc::tune(k, args),
        Syscall::IoPortsNarrow => device::ioports_narrow(k, args),
    }
}

/// The entry the current process's handle `value` names.
pub fn lookup(k: &mut Kernel, value: u64) -> Result<Handle, Error> {
    let process = k.cur().process;
    let p = k.processes.get(process).ok_or(Error::BadState)?;
    p.handles.get(value).copied().map_err(|_| Error::BadHandle)
}

/// Like `lookup`, but also demands `rights`.
pub fn lookup_with(k: &mut Kernel, value: u64, rights: u64) -> Result<Object, Error> {
    let h = lookup(k, value)?;
    if h.rights & rights != rights {
        return Err(Error::PermissionDenied);
    }
    Ok(h.object)
}

/// Gives the current process a handle, counting the reference.
pub fn grant(k: &mut Kernel, handle: Handle) -> Result<u64, Error> {
    let process = k.cur().process;
    let p = k.processes.get_mut(process).ok_or(Error::BadState)?;
    let h = p.handles.insert(handle).map_err(|_| Error::LimitReached)?;
    k.retain(handle, process);
    Ok(h)
}

/// Whether the current process can take one more handle.
pub fn has_handle_room(k: &mut Kernel) -> bool {
    let process = k.cur().process;
    k.processes.get(process).is_some_and(|p| p.handles.len() < crate::process::MAX_HANDLES)
}
