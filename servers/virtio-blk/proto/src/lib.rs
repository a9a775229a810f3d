//! The block-device protocol: what a client (the fs server, `blktest`) sends
//! to a block driver (`virtio-blk`, registered as [`NAME`]), a blocking
//! [`Client`] that lends the caller's buffer, and an [`AsyncClient`] for
//! executor tasks that sends the data inline.
//!
//! One request per message, answered by one reply:
//!
//! | op | message | data | reply |
//! |---|---|---|---|
//! | `Info` | header | — | [`Info`] ([`Info::SIZE`] bytes) |
//! | `Read` | header | lease 0, lent for writing, `count * 512` bytes | — |
//! | `Write` | header | lease 0, lent for reading, `count * 512` bytes | — |
//! | `Flush` | header | — | — |
//!
//! The header is [`Request`] ([`Request::SIZE`] bytes, little-endian).
//! Sectors are always 512 bytes ([`SECTOR_SIZE`]), whatever the device's
//! preferred block size. A request may cover any number of sectors; the
//! driver splits it into device requests itself, and serves requests from
//! many clients at once.
//!
//! Clients that cannot block in `send` (an async server using
//! `send_async`, which carries no leases) set [`flags::INLINE`]: a write's
//! data then follows the header in the message (at most
//! [`MAX_INLINE_WRITE`] sectors) and a read's data is the reply (at most
//! [`MAX_INLINE_READ`] sectors).
//!
//! The reply status is 0 for success or a [`BlkError`] code (> 0); a
//! malformed request (unknown op, bad length, missing or too small lease)
//! is failed with `abi::Error::BadArgument`, which the client's `send`
//! returns as an error like any IPC failure.
//!
//! Why a fixed layout of its own rather than `libipc::protocol!`: the data
//! path. The typed replies put an opcode and a length before the data, so
//! a 4 KiB block — the filesystem's unit — would not fit one inline reply;
//! here an inline read's reply *is* the data and the outcome rides in the
//! reply status, so eight sectors fit exactly. The header is still a
//! plain, versionable layout (unknown ops and flags are refused, and the
//! reserved word must be 0).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod async_client;
mod client;
mod wire;

/// The name a block driver is registered under with the name service.
pub const NAME: &str = "blk";

pub use async_client::AsyncClient;
pub use client::Client;
pub use wire::{flags, info_flags, BlkError, Info, Op, Request, MAX_INLINE_READ, MAX_INLINE_WRITE, SECTOR_SIZE};
