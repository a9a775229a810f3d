//! Program loading: an initrd file becomes a fresh address space holding its
//! segments and a stack with the arguments on it. The image is checked by
//! `kcore::elf::plan` first (on the host-tested path); the page budget is
//! checked before any frame is taken, so a hostile size costs nothing.

use super::address_space::{AddressSpace, STACK_SIZE, STACK_TOP};
use crate::mm::PAGE_SIZE;
use abi::{prot, Error, USER_END, USER_START};
use kcore::elf;

/// Longest argument string a program can be given.
pub const MAX_ARGS: usize = 4096;

/// A loaded program, ready for its first thread.
pub struct Loaded {
    pub space: AddressSpace,
    pub entry: u64,
    pub stack_top: u64,
    pub args_addr: u64,
}

/// Builds an address space for `image` with `args` on its stack.
pub fn load(image: &[u8], args: &[u8], page_limit: usize) -> Result<Loaded, Error> {
    if args.len() > MAX_ARGS {
        return Err(Error::BadArgument);
    }
    let plan = elf::plan(image, USER_START, USER_END).map_err(|_| Error::BadElf)?;
    let mut pages: u64 = STACK_SIZE / PAGE_SIZE;
    for s in plan.segments() {
        let start = s.vaddr & !(PAGE_SIZE - 1);
        let end = (s.vaddr + s.memsz).next_multiple_of(PAGE_SIZE);
        pages = pages.saturating_add((end - start) / PAGE_SIZE);
    }
    if pages > page_limit as u64 {
        return Err(Error::LimitReached);
    }
    let mut space = AddressSpace::new(page_limit)?;
    for s in plan.segments() {
        let start = s.vaddr & !(PAGE_SIZE - 1);
        let end = (s.vaddr + s.memsz).next_multiple_of(PAGE_SIZE);
        let mut p = prot::READ;
        if s.writable {
            p |= prot::WRITE;
        }
        if s.executable {
            p |= prot::EXEC;
        }
        space.map_zeroed(start, end - start, super::address_space::user_flags(p))?;
        let bytes = image.get(s.offset as usize..(s.offset + s.filesz) as usize).ok_or(Error::BadElf)?;
        space.write(s.vaddr, bytes)?;
    }
    let stack_base = STACK_TOP - STACK_SIZE;
    space.map_zeroed(stack_base, STACK_SIZE, super::address_space::user_flags(prot::READ | prot::WRITE))?;
    let args_addr = (STACK_TOP - args.len() as u64) & !15;
    space.write(args_addr, args)?;
    // As after a `call`: RSP + 8 is 16-byte aligned.
    let stack_top = args_addr - 8;
    Ok(Loaded { space, entry: plan.entry, stack_top, args_addr })
}
