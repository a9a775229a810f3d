//! [`FsError`]: what an fs call can fail with. Filesystem errors travel as
//! the status code at the start of an [`Answer`](crate::Answer) (a positive
//! code, [`FsError::status`]); a failure of the message exchange itself
//! (`PeerDied` when the server died, a malformed request refused with an
//! error reply) is [`FsError::Ipc`].

use core::fmt;

use abi::Error;

/// Why an fs call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsError {
    /// No such file or directory (or a path component is missing).
    NotFound,
    /// The name is taken.
    Exists,
    /// `rmdir` on a directory that has entries.
    NotEmpty,
    /// A path component, or the object of a directory operation, is a file.
    NotADirectory,
    /// A file operation on a directory.
    IsADirectory,
    /// The disk is full (or a FAT12/16 root directory is).
    NoSpace,
    /// A name is empty, too long or has characters FAT does not allow.
    InvalidName,
    /// A malformed request or a bad argument (a seek before the start,
    /// renaming a directory into itself, removing the root, ...).
    InvalidArgument,
    /// The file or directory is open, so it cannot be removed or replaced.
    Busy,
    /// The file handle is not open (closed, someone else's, or from before
    /// the server restarted).
    BadHandle,
    /// Too many open files (this client's share, or the server's table).
    TooManyOpen,
    /// Writing through a handle opened read-only, or reading through a
    /// write-only one.
    PermissionDenied,
    /// The file would grow past FAT's limit of 4 GiB - 1.
    FileTooLarge,
    /// The disk holds a filesystem the server cannot use.
    Unsupported,
    /// The disk failed (after the server's retries).
    Io,
    /// The on-disk structures are inconsistent.
    Corrupt,
    /// The server is shutting down and takes no more changes.
    ShuttingDown,
    /// The exchange with the server failed: `PeerDied` (the server died
    /// during or before the call; the next call looks it up again),
    /// `NotFound` (no server registered as "fs"), ...
    Ipc(Error),
}

/// The filesystem errors and their status codes, in code order (1, 2, ...).
const CODES: [FsError; 17] = [
    FsError::NotFound,
    FsError::Exists,
    FsError::NotEmpty,
    FsError::NotADirectory,
    FsError::IsADirectory,
    FsError::NoSpace,
    FsError::InvalidName,
    FsError::InvalidArgument,
    FsError::Busy,
    FsError::BadHandle,
    FsError::TooManyOpen,
    FsError::PermissionDenied,
    FsError::FileTooLarge,
    FsError::Unsupported,
    FsError::Io,
    FsError::Corrupt,
    FsError::ShuttingDown,
];

impl FsError {
    /// The status code that carries this error (> 0); `None` for `Ipc`,
    /// which is not sent as a status.
    pub fn status(self) -> Option<i64> {
        CODES.iter().position(|&e| e == self).map(|i| i as i64 + 1)
    }

    /// Decodes a status code: 0 is success, a known code its error, an
    /// unknown positive code `Io` (a newer server's error), a negative one
    /// the IPC error it names.
    pub fn from_status(status: i64) -> Result<(), FsError> {
        match status {
            0 => Ok(()),
            s if s < 0 => Err(FsError::Ipc(Error::from_raw(s).err().unwrap_or(Error::BadState))),
            s => Err(usize::try_from(s - 1).ok().and_then(|i| CODES.get(i)).copied().unwrap_or(FsError::Io)),
        }
    }

    /// A short description for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            FsError::NotFound => "no such file or directory",
            FsError::Exists => "file exists",
            FsError::NotEmpty => "directory not empty",
            FsError::NotADirectory => "not a directory",
            FsError::IsADirectory => "is a directory",
            FsError::NoSpace => "no space left on disk",
            FsError::InvalidName => "invalid file name",
            FsError::InvalidArgument => "invalid argument",
            FsError::Busy => "file is open",
            FsError::BadHandle => "bad file handle",
            FsError::TooManyOpen => "too many open files",
            FsError::PermissionDenied => "file not opened for that",
            FsError::FileTooLarge => "file too large",
            FsError::Unsupported => "unsupported filesystem",
            FsError::Io => "I/O error",
            FsError::Corrupt => "filesystem is corrupt",
            FsError::ShuttingDown => "filesystem is shutting down",
            FsError::Ipc(e) => e.as_str(),
        }
    }
}

impl From<Error> for FsError {
    fn from(e: Error) -> FsError {
        FsError::Ipc(e)
    }
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FsError::Ipc(e) => write!(f, "fs server: {e}"),
            e => f.write_str(e.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trip() {
        for e in CODES {
            let s = e.status().unwrap();
            assert!(s > 0);
            assert_eq!(FsError::from_status(s), Err(e));
        }
        assert_eq!(FsError::from_status(0), Ok(()));
        assert_eq!(FsError::from_status(1000), Err(FsError::Io));
        assert_eq!(FsError::from_status(Error::PeerDied.to_raw()), Err(FsError::Ipc(Error::PeerDied)));
        assert_eq!(FsError::Ipc(Error::PeerDied).status(), None);
    }

    #[test]
    fn display() {
        extern crate std;
        use std::string::ToString;
        assert_eq!(FsError::NotFound.to_string(), "no such file or directory");
        assert_eq!(FsError::Ipc(Error::PeerDied).to_string(), "fs server: peer died");
    }
}
