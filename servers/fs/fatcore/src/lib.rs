//! FAT12/16/32 for the `fs` server: the on-disk logic as a library that
//! does no I/O of its own and is tested on the host.
//!
//! # Why async, and how
//!
//! The fs server runs a single-threaded async executor (see libipc), and
//! its disk is the `virtio-blk` server, reached by asynchronous sends. A
//! synchronous FAT library (`fatfs`, `embedded-sdmmc`) would block the
//! whole server on every sector, so one slow request would stall every
//! client. We chose an **async trait** ([`BlockDevice`], `async fn
//! read_blocks/write_blocks/flush`, stable `async fn` in traits) over a
//! cache-centred state machine that reports "I need block N": the state
//! machine turns every operation (a rename touches two directories, the FAT
//! and FSInfo) into a hand-written resumable automaton, which is exactly
//! what the compiler builds from an `async fn`. With the trait, the FAT
//! logic reads as straight-line code and every operation is an `async fn`.
//!
//! Concurrency comes from `&self` everywhere: the server shares one
//! [`FileSystem`] among its tasks. While one operation waits for a sector,
//! others run. Reads (read, readdir, stat, open without create) share an
//! async reader-writer lock and overlap, also in the sector cache (two
//! tasks wanting the same sector wait for one device read); operations that
//! change the disk take the lock exclusively, so the FAT and directories
//! are never seen half-changed. The lock is fair (FIFO), so writers are not
//! starved. Futures are not `Send`; nothing here needs threads.
//!
//! # Using it (for the fs server)
//!
//! ```ignore
//! let fs = FileSystem::mount(my_virtio_disk, MountOptions::default()).await?;
//! let h = fs.open("/docs/notes.txt", OpenOptions::create()).await?;
//! fs.write(h, b"hello").await?;
//! fs.close(h)?;
//! for e in fs.list("/docs").await? { /* e.name, e.meta.size, e.meta.is_dir */ }
//! fs.sync().await?; // periodically and on shutdown
//! ```
//!
//! Handles ([`Handle`], a `u64` on the wire) are what the server stores in
//! its per-client table. Paths are `/`-separated; names are matched without
//! regard to case, by long or short name. Errors are [`Error`].
//!
//! | operation | lock | notes |
//! |---|---|---|
//! | `mount`, `unmount`, `into_device` | — | `MountOptions`: cache size, open-file limit, clock |
//! | `open(path, OpenOptions)` → `Handle` | shared; exclusive with create/truncate | directories open read-only |
//! | `close(h)` | none (no I/O) | |
//! | `read`, `read_at` | shared | 0 at end of file |
//! | `write`, `write_at` | exclusive | all or error; holes read as zeros |
//! | `seek(h, SeekFrom)`, `truncate(h, len)` | none / exclusive | |
//! | `fstat(h)`, `stat(path)` | shared | `Metadata` |
//! | `readdir(h)`, `list(path)` | shared | `DirEntry`; `.`/`..` skipped |
//! | `mkdir`, `rmdir`, `unlink`, `rename` | exclusive | |
//! | `read_file`, `write_file` | as above | whole-file helpers |
//! | `statfs`, `sync` | shared / exclusive | `FsStats` |
//!
//! [`RamDisk`] is a `Vec<u8>` block device (tests, or a RAM disk).
//!
//! Data reaches the disk on [`FileSystem::sync`] or when the bounded
//! write-back cache evicts it; call `sync` on a timer and before shutdown.
//!
//! # Limits
//! - Only volumes starting at block 0 (no partition table parsing).
//! - An open file cannot be unlinked or replaced (`Busy`).
//! - Cancelling (dropping) an operation's future mid-way leaves the cache
//!   and lock sound but may leave lost clusters, like a power cut.
//! - Short names are ASCII (`_` for other characters); no OEM code pages.
//! - No FAT dirty-volume bits; FAT32 backup boot sector is never written.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod bpb;
mod cache;
mod device;
mod dir;
mod error;
mod fat;
mod file;
mod fs;
mod handle;
mod io;
mod le;
mod lfn;
mod lock;
mod name;
mod ops;
mod path;
mod ramdisk;
mod time;
mod volume;

#[cfg(test)]
mod testutil;

pub use bpb::FatType;
pub use cache::CacheStats;
pub use device::BlockDevice;
pub use error::{Error, Result};
pub use fs::{DirEntry, FileSystem, FsStats, Metadata, MountOptions};
pub use handle::{Handle, OpenOptions, SeekFrom};
pub use ramdisk::{RamDisk, RamDiskStats};
pub use time::{epoch_clock, Timestamp};
