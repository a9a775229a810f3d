//! System calls: the entry from the assembly stub, decoding the registers
//! once into `Args`, and dispatch to one handler per call. Every handler has
//! the same shape, `fn(&mut Kernel, &Args) -> Result<Next, Error>`; the
//! dispatcher alone writes results back to the caller. See `abi::syscall`
//! for each call's contract.

mod memory;
mod misc;
mod process;
mod thread;

use crate::arch::trap::TrapFrame;
use crate::process::Object;
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
    /// The caller blocked, yielded its slice or ended; whoever wakes it sets
    /// its return values.
    Reschedule,
}

/// Called by the syscall stub with the caller's saved registers.
pub extern "C" fn syscall_from_user(frame: *const TrapFrame) -> ! {
    // SAFETY: the stub passes the frame it just filled inside the current
    // thread's control block; it is only read here, before the lock is taken.
    let args = Args::from_frame(unsafe { &*frame });
    let mut k = state::lock();
    k.stats.syscalls += 1;
    match dispatch(&mut k, &args) {
        Ok(Next::Return(rax, rdx)) => {
            let t = k.cur();
            t.frame.rax = rax;
            t.frame.rdx = rdx;
        }
        Err(e) => k.cur().frame.rax = e.to_raw() as u64,
        Ok(Next::Reschedule) => {}
    }
    sched::resume(k)
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
    }
}

/// The object the current process's handle `value` names.
pub fn lookup(k: &mut Kernel, value: u64) -> Result<Object, Error> {
    let process = k.cur().process;
    let p = k.processes.get(process).ok_or(Error::BadState)?;
    p.handles.get(value).copied().map_err(|_| Error::BadHandle)
}

/// Gives the current process a handle to `object`, counting the reference.
pub fn grant(k: &mut Kernel, object: Object) -> Result<u64, Error> {
    let process = k.cur().process;
    let p = k.processes.get_mut(process).ok_or(Error::BadState)?;
    let h = p.handles.insert(object).map_err(|_| Error::LimitReached)?;
    match object {
        Object::Process(id) => {
            if let Some(p) = k.processes.get_mut(id) {
                p.handle_refs += 1;
            }
        }
        Object::Thread(id) => {
            if let Some(t) = k.thread(id) {
                t.handle_refs += 1;
            }
        }
    }
    Ok(h)
}

/// Whether the current process can take one more handle.
pub fn has_handle_room(k: &mut Kernel) -> bool {
    let process = k.cur().process;
    k.processes.get(process).is_some_and(|p| p.handles.len() < crate::process::MAX_HANDLES)
}
