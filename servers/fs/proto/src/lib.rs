//! The fs protocol and its client: what programs send to the `fs` server
//! (FAT on the virtio disk) and the [`Fs`] library they call.
//!
//! ```ignore
//! use fs_proto::{Fs, OpenFlags};
//! let fs = Fs::connect()?;                       // looks up "fs"
//! fs.mkdir("/notes")?;
//! fs.write_file("/notes/a long name.txt", b"hello")?;
//! for e in fs.readdir("/notes")? { println!("{} {}", e.name, e.size); }
//! let fd = fs.open("/notes/a long name.txt", OpenFlags::READ)?;
//! let mut buf = [0u8; 5];
//! fs.read(fd, &mut buf)?;
//! fs.close(fd)?;
//! ```
//!
//! One request per synchronous message, answered by one reply:
//!
//! - the request is a [`proto::Request`], declared with `libipc::protocol!`
//!   (the protocol's ID, opcode and version, then the arguments; paths are
//!   UTF-8, `/`-separated, absolute, at most [`MAX_PATH`] bytes);
//! - file data travels through lease 0 of the send (the client's buffer,
//!   lent for writing by `Read` and for reading by `Write`), so a read or
//!   write of any size is one message;
//! - the reply is the op's [`proto::Reply`] variant holding an
//!   [`Answer`]: a status (0, or an [`FsError`] code), then the op's result
//!   (a `u64`, [`Opened`], [`Metadata`], [`DirPage`], [`VolumeInfo`], or
//!   nothing). A request the server cannot decode is refused with the IPC
//!   error `BadArgument`; a dead server gets the client `Ipc(PeerDied)`.
//!
//! File handles are per process: the server refuses a handle from any
//! process but the one it was opened by, and closes a process's files
//! when the process has ended.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod client;
mod error;
mod wire;

pub use client::{shutdown_with, Fd, Fs, NAME, RECONNECT_FOR};
pub use error::FsError;
pub use wire::{
    attr, proto, Answer, DateTime, DirEntry, DirPage, Metadata, OpenFlags, Opened, SeekFrom, ServerStats, VolumeInfo,
    MAX_PATH,
};
