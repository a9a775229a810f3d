//! Memory system calls: map, unmap, protect (anonymous memory).

use super::{Args, Next};
use crate::process::address_space::AddressSpace;
use crate::state::Kernel;
use abi::Error;

fn space(k: &mut Kernel) -> Result<&mut AddressSpace, Error> {
    let process = k.cur().process;
    k.processes.get_mut(process).and_then(|p| p.space.as_mut()).ok_or(Error::BadState)
}

pub fn map(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    let addr = space(k)?.map_anywhere(args.a[0], args.a[1])?;
    Ok(Next::Return(addr, 0))
}

pub fn unmap(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    space(k)?.unmap(args.a[0], args.a[1])?;
    Ok(Next::Return(0, 0))
}

pub fn protect(k: &mut Kernel, args: &Args) -> Result<Next, Error> {
    space(k)?.protect(args.a[0], args.a[1], args.a[2])?;
    Ok(Next::Return(0, 0))
}
