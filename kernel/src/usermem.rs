//! Typed user memory: the only way system calls touch what userspace passed
//! them. `UserSlice::new` validates the range against the user half once;
//! the copies go through the faulting-copy routine, so an unmapped or
//! protected page becomes `BadAddress` instead of a kernel fault.

use crate::arch::usercopy;
use abi::{Error, USER_END, USER_START};

/// A range of the current process's memory, checked to lie in user space.
#[derive(Clone, Copy, Debug)]
pub struct UserSlice {
    addr: u64,
    len: usize,
}

impl UserSlice {
    /// Validates `[addr, addr + len)`: no wrap-around, inside user space.
    /// An empty range is always valid (and never touched).
    pub fn new(addr: u64, len: u64) -> Result<Self, Error> {
        if len == 0 {
            return Ok(UserSlice { addr: 0, len: 0 });
        }
        let end = addr.checked_add(len).ok_or(Error::BadAddress)?;
        if addr < USER_START || end > USER_END {
            return Err(Error::BadAddress);
        }
        Ok(UserSlice { addr, len: len as usize })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Copies the user bytes into `dst` (which must be exactly as long).
    pub fn read(&self, dst: &mut [u8]) -> Result<(), Error> {
        if dst.len() != self.len {
            return Err(Error::BadArgument);
        }
        if self.len == 0 {
            return Ok(());
        }
        // SAFETY: `dst` is a kernel buffer we own; the source range was
        // validated to lie in the user half, so it cannot alias kernel data,
        // and a fault in it is recovered by the copy routine.
        unsafe { usercopy::copy(dst.as_mut_ptr(), self.addr as *const u8, self.len) }.map_err(|_| Error::BadAddress)
    }

    /// Copies `src` to the user range (which must be exactly as long).
    pub fn write(&self, src: &[u8]) -> Result<(), Error> {
        if src.len() != self.len {
            return Err(Error::BadArgument);
        }
        if self.len == 0 {
            return Ok(());
        }
        // SAFETY: as in `read`; the destination lies in the user half.
        unsafe { usercopy::copy(self.addr as *mut u8, src.as_ptr(), self.len) }.map_err(|_| Error::BadAddress)
    }

    /// The first `n` bytes of the range.
    pub fn prefix(&self, n: usize) -> UserSlice {
        UserSlice { addr: self.addr, len: n.min(self.len) }
    }

    /// The range after the first `n` bytes.
    pub fn skip(&self, n: usize) -> UserSlice {
        let n = n.min(self.len);
        UserSlice { addr: self.addr + n as u64, len: self.len - n }
    }
}
