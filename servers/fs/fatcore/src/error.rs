//! The one error type every operation returns. It is `Copy` and carries no
//! payload so the fs server can map it onto a wire error code with a
//! `match`. Corrupt on-disk data is always `Corrupt` (never a panic); a
//! failing block device is `Io`.

use core::fmt;

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// No entry by that name (or a path component is missing).
    NotFound,
    /// The name is already taken.
    Exists,
    /// `rmdir` (or a rename over a directory) on a directory with entries.
    NotEmpty,
    /// A path component, or the object of a directory operation, is a file.
    NotADirectory,
    /// A file operation on a directory.
    IsADirectory,
    /// No free cluster, or a fixed-size (FAT12/16) root directory is full.
    NoSpace,
    /// The name is empty, too long or has characters FAT does not allow.
    InvalidName,
    /// A bad argument: moving a directory into itself, removing the root,
    /// seeking before the start, a buffer of the wrong size, ...
    InvalidArgument,
    /// The file or directory is open, so it cannot be removed or replaced.
    Busy,
    /// The handle is closed or was never issued.
    BadHandle,
    /// The open-file table is full.
    TooManyOpen,
    /// Writing through a handle opened read-only, or reading through a
    /// write-only one.
    PermissionDenied,
    /// The file would grow past 4 GiB - 1, FAT's limit.
    FileTooLarge,
    /// A valid filesystem this crate does not handle (exFAT, FAT32 version
    /// other than 0, a sector size the device cannot address).
    Unsupported,
    /// The block device reported an error.
    Io,
    /// The on-disk structures are inconsistent.
    Corrupt,
}

/// Shorthand used throughout the crate.
pub type Result<T> = core::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Error::NotFound => "no such file or directory",
            Error::Exists => "file exists",
            Error::NotEmpty => "directory not empty",
            Error::NotADirectory => "not a directory",
            Error::IsADirectory => "is a directory",
            Error::NoSpace => "no space left on device",
            Error::InvalidName => "invalid file name",
            Error::InvalidArgument => "invalid argument",
            Error::Busy => "file is open",
            Error::BadHandle => "bad handle",
            Error::TooManyOpen => "too many open files",
            Error::PermissionDenied => "handle not opened for that access",
            Error::FileTooLarge => "file too large",
            Error::Unsupported => "unsupported filesystem",
            Error::Io => "I/O error",
            Error::Corrupt => "filesystem is corrupt",
        };
        f.write_str(s)
    }
}

impl core::error::Error for Error {}
