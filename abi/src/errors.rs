//! Error codes. A failed call returns `-(code)` in `rax`; `Error::from_raw`
//! and `Error::to_raw` convert. Codes never change meaning once assigned.

/// Why a system call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i64)]
pub enum Error {
    /// No system call has that number.
    BadSyscall = 1,
    /// An argument is out of range or inconsistent (sizes, flags, alignment).
    BadArgument = 2,
    /// A pointer names memory the caller cannot access as needed.
    BadAddress = 3,
    /// The handle does not exist, was closed, or names the wrong kind of object.
    BadHandle = 4,
    /// The kernel or the machine is out of memory.
    NoMemory = 5,
    /// A per-process limit (threads, pages, handles, children) was reached.
    LimitReached = 6,
    /// No such program, name or object.
    NotFound = 7,
    /// The other side of the conversation exited or was killed.
    PeerDied = 8,
    /// The deadline passed first.
    TimedOut = 9,
    /// The message does not fit the receiver's buffer or the kernel's limit.
    MessageTooLong = 10,
    /// The operation would block and the caller asked not to.
    WouldBlock = 11,
    /// The handle lacks the right, or the caller lacks the privilege.
    PermissionDenied = 12,
    /// A bounded queue (pulses, asynchronous sends) is full.
    QueueFull = 13,
    /// The program image is malformed or hostile.
    BadElf = 14,
    /// The object is in a state that does not allow this (e.g. joining oneself).
    BadState = 15,
}

const ALL: [Error; 15] = [
    Error::BadSyscall,
    Error::BadArgument,
    Error::BadAddress,
    Error::BadHandle,
    Error::NoMemory,
    Error::LimitReached,
    Error::NotFound,
    Error::PeerDied,
    Error::TimedOut,
    Error::MessageTooLong,
    Error::WouldBlock,
    Error::PermissionDenied,
    Error::QueueFull,
    Error::BadElf,
    Error::BadState,
];

impl Error {
    /// The value returned in `rax` for this error.
    pub const fn to_raw(self) -> i64 {
        -(self as i64)
    }

    /// Decodes a raw `rax` value: `Ok(value)` for non-negative results.
    pub fn from_raw(raw: i64) -> Result<u64, Error> {
        if raw >= 0 {
            return Ok(raw as u64);
        }
        Err(ALL.iter().copied().find(|e| e.to_raw() == raw).unwrap_or(Error::BadSyscall))
    }

    /// A short description for messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            Error::BadSyscall => "bad system call",
            Error::BadArgument => "bad argument",
            Error::BadAddress => "bad address",
            Error::BadHandle => "bad handle",
            Error::NoMemory => "out of memory",
            Error::LimitReached => "limit reached",
            Error::NotFound => "not found",
            Error::PeerDied => "peer died",
            Error::TimedOut => "timed out",
            Error::MessageTooLong => "message too long",
            Error::WouldBlock => "would block",
            Error::PermissionDenied => "permission denied",
            Error::QueueFull => "queue full",
            Error::BadElf => "bad program image",
            Error::BadState => "bad state",
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_round_trip() {
        for e in ALL {
            assert_eq!(Error::from_raw(e.to_raw()), Err(e));
            assert!(e.to_raw() < 0);
        }
        assert_eq!(Error::from_raw(42), Ok(42));
        assert_eq!(Error::from_raw(0), Ok(0));
    }

    #[test]
    fn codes_are_distinct() {
        for (i, a) in ALL.iter().enumerate() {
            for b in &ALL[i + 1..] {
                assert_ne!(*a as i64, *b as i64);
            }
        }
    }
}
