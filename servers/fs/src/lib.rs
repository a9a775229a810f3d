//! The `fs` server's logic: FAT (through `fatcore`) on the virtio disk
//! (through the `virtio-blk` server), served to programs over the
//! `fs-proto` protocol. The binary (`main.rs`) only starts it up.
//!
//! ```text
//!  clients ──send (+ lease)──▶ fs: executor ──task per request──▶ Server::handle
//!                                  │                                  │ fatcore::FileSystem
//!                                  │                                  ▼ (cache, FAT, dirs)
//!                                  ◀──async reply── virtio-blk ◀──call_async── BlkDisk
//! ```
//!
//! - [`blockdev`]: the disk as fatcore's `BlockDevice`, over
//!   `blk_proto::AsyncClient` (asynchronous calls, pieces in flight at
//!   once), with retries when the driver dies.
//! - [`serve`](mod@serve): one request → one reply; file data through the client's
//!   lease; housekeeping (dead clients, periodic write-back); shutdown.
//! - [`clients`]: which process opened which file.
//! - [`convert`]: fatcore's types as the protocol's.
//!
//! Everything here runs on the host too: `cargo test -p fs` drives the
//! server against a RAM disk made by `mkfs.fat`, and the disk's retries
//! against fake drivers on libipc's simulated kernel.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod blockdev;
pub mod clients;
pub mod convert;
pub mod serve;

pub use blockdev::{BlkDisk, Counted, DiskStats, Driver, Link, NamedLink, Retry, RETRY};
pub use serve::{serve, Lease, Server};
