//! Process system calls: spawn, wait, kill, exit, getpid.

use super::{grant, has_handle_room, lookup, lookup_with, Args, Next};
use crate::process::{loader::MAX_ARGS, Handle, Object, ProcessState};
use crate::state::Kernel;
use crate::thread::Blocked;
use crate::usermem::UserSlice;
use abi::ipc::rights;
use abi::Error;
use alloc::vec::Vec;

/// Longest program name.
const MAX_NAME: usize = 64;
/// Most handles a parent gives a child at spawn.
const MAX_SPAWN_HANDLES: usize = 16;

pub fn spawn(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let [name_ptr, name_len, args_ptr, args_len, handles_ptr, handle_count] = args.a;
    let parent = k.cur().process;
    if !k.processes.get(parent).is_some_and(|p| p.may_spawn) {
        return Err(Error::PermissionDenied);
    }
    if name_len == 0 || name_len as usize > MAX_NAME || args_len as usize > MAX_ARGS {
        return Err(Error::BadArgument);
    }
    let mut name = [0u8; MAX_NAME];
    let name = &mut name[..name_len as usize];
    UserSlice::new(name_ptr, name_len)?.read(name)?;
    let name = core::str::from_utf8(name).map_err(|_| Error::BadArgument)?;
    let user_args = UserSlice::new(args_ptr, args_len)?;
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(user_args.len()).map_err(|_| Error::NoMemory)?;
    bytes.resize(user_args.len(), 0);
    user_args.read(&mut bytes)?;
    if handle_count as usize > MAX_SPAWN_HANDLES {
        return Err(Error::BadArgument);
    }
    let mut given = [Handle { object: Object::Dma, rights: 0 }; MAX_SPAWN_HANDLES];
    let mut raw = [0u8; MAX_SPAWN_HANDLES * 8];
    let raw = &mut raw[..handle_count as usize * 8];
    UserSlice::new(handles_ptr, handle_count * 8)?.read(raw)?;
    for (slot, chunk) in given.iter_mut().zip(raw.chunks_exact(8)) {
        let value = u64::from_le_bytes(chunk.try_into().map_err(|_| Error::BadArgument)?);
        let h = lookup(k, value)?;
        if h.rights & rights::TRANSFER == 0 {
            return Err(Error::PermissionDenied);
        }
        *slot = h;
    }
    if !has_handle_room(k) {
        return Err(Error::LimitReached);
    }
    let child = k.spawn(Some(parent), name, &bytes, &given[..handle_count as usize])?;
    let handle = grant(k, Handle { object: Object::Process(child), rights: rights::CONTROL | rights::DUPLICATE })
        .expect("handle room was checked");
    let pid = k.processes.get(child).map_or(0, |p| p.pid);
    Ok(Next::Return(handle, pid))
}

pub fn wait(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let Object::Process(target) = lookup_with(k, args.a[0], rights::CONTROL)? else { return Err(Error::BadHandle) };
    let me = k.current.ok_or(Error::BadState)?;
    let p = k.processes.get_mut(target).ok_or(Error::BadHandle)?;
    match p.state {
        ProcessState::Zombie(status) => Ok(Next::Return(0, status as u64)),
        ProcessState::Alive => {
            p.waiters.try_reserve(1).map_err(|_| Error::NoMemory)?;
            p.waiters.push(me);
            k.block_current(Blocked::Wait(target));
            Ok(Next::Reschedule)
        }
    }
}

pub fn kill(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let Object::Process(target) = lookup_with(k, args.a[0], rights::CONTROL)? else { return Err(Error::BadHandle) };
    k.end_process(target, abi::EXIT_KILLED);
    Ok(Next::Return(0, 0))
}

pub fn exit(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let process = k.cur().process;
    k.end_process(process, args.a[0] as i64);
    Ok(Next::Reschedule)
}

pub fn getpid(k: &mut Kernel, _: &Args) -> Result<Next, Error> {
    Ok(Next::Return(k.cur().pid, 0))
}

pub fn shutdown(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let me = k.cur().process;
    if k.init != Some(me) {
        return Err(Error::PermissionDenied);
    }
    let status = args.a[0] as i64;
    crate::kprintln!("kernel: shutdown requested by init (status {status})");
    let code = if status == 0 { crate::arch::qemu::ExitCode::Success } else { crate::arch::qemu::ExitCode::Failure };
    crate::arch::qemu::exit(code)
}
