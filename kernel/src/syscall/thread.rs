//! Thread system calls: create, exit, join, yield, sleep.

use super::{grant, has_handle_room, lookup, Args, Next};
use crate::arch::{time, user};
use crate::process::{Handle, Object};
use crate::state::Kernel;
use crate::thread::{Blocked, State};
use abi::ipc::rights;
use abi::{Error, USER_END, USER_START};

pub fn create(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let [entry, stack_top, arg, ..] = args.a;
    let in_user = |a: u64| (USER_START..USER_END).contains(&a);
    if !in_user(entry) || !in_user(stack_top.wrapping_sub(1)) {
        return Err(Error::BadAddress);
    }
    if !has_handle_room(k) {
        return Err(Error::LimitReached);
    }
    let process = k.cur().process;
    let frame = user::initial_frame(entry, stack_top, arg, 0, 0);
    let id = k.create_thread(process, frame)?;
    let handle =
        grant(k, Handle { object: Object::Thread(id), rights: rights::CONTROL }).expect("handle room was checked");
    Ok(Next::Return(handle, 0))
}

pub fn exit(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    k.exit_current_thread(args.a[0] as i64);
    Ok(Next::Reschedule)
}

pub fn join(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let Object::Thread(target) = lookup(k, args.a[0])?.object else { return Err(Error::BadHandle) };
    let me = k.current.ok_or(Error::BadState)?;
    if target == me {
        return Err(Error::BadState);
    }
    let t = k.thread(target).ok_or(Error::BadHandle)?;
    if let State::Exited(code) = t.state {
        return Ok(Next::Return(0, code as u64));
    }
    t.joiners.try_reserve(1).map_err(|_| Error::NoMemory)?;
    t.joiners.push(me);
    k.block_current(Blocked::Join(target));
    Ok(Next::Reschedule)
}

pub fn yield_now(k: &mut Kernel, _: &Args) -> Result<Next, Error> {
    k.need_resched = true;
    Ok(Next::Return(0, 0))
}

pub fn sleep(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let ns = args.a[0];
    if ns == 0 {
        return yield_now(k, args);
    }
    let until = time::uptime_ns().saturating_add(ns);
    let me = k.current.ok_or(Error::BadState)?;
    k.arm_timeout(me, until)?;
    k.cur().set_return(0, 0);
    k.block_current(Blocked::Sleep);
    Ok(Next::Reschedule)
}

pub fn set_priority(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let p = args.a[0];
    if p > abi::syscall::MAX_USER_PRIORITY {
        return Err(Error::BadArgument);
    }
    let t = k.cur();
    let boosted = t.priority > t.base_priority;
    t.base_priority = p as u8;
    if !boosted {
        t.priority = p as u8;
    }
    // A lower priority may let someone else run now.
    k.need_resched = true;
    Ok(Next::Return(0, 0))
}
