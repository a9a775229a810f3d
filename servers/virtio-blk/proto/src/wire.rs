//! The bytes on the wire: the request header, the info reply, and the
//! status codes. Pure encoding and decoding, tested on the host; nothing
//! here panics on what the other side sent.

use abi::ipc::MAX_MESSAGE;
use abi::Error;

/// Bytes per sector: the unit of `sector` and `count`.
pub const SECTOR_SIZE: usize = 512;
/// Most sectors an inline read returns in its reply.
pub const MAX_INLINE_READ: u32 = (MAX_MESSAGE / SECTOR_SIZE) as u32;
/// Most sectors an inline write carries after its header.
pub const MAX_INLINE_WRITE: u32 = ((MAX_MESSAGE - Request::SIZE) / SECTOR_SIZE) as u32;

/// What a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Op {
    /// The device's size and properties.
    Info = 1,
    /// Read `count` sectors from `sector`.
    Read = 2,
    /// Write `count` sectors at `sector`.
    Write = 3,
    /// Make completed writes durable.
    Flush = 4,
}

impl Op {
    fn from_raw(v: u32) -> Option<Op> {
        [Op::Info, Op::Read, Op::Write, Op::Flush].into_iter().find(|op| *op as u32 == v)
    }
}

/// Request flags.
pub mod flags {
    /// Data travels in the message (write) or the reply (read) instead of
    /// lease 0.
    pub const INLINE: u32 = 1 << 0;
    /// Every flag this version knows; others are refused.
    pub const ALL: u32 = INLINE;
}

/// The request header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// What to do.
    pub op: Op,
    /// `flags::*`.
    pub flags: u32,
    /// First sector (reads and writes).
    pub sector: u64,
    /// Number of sectors (reads and writes).
    pub count: u32,
}

impl Request {
    /// Bytes of the encoded header: op u32, flags u32, sector u64, count
    /// u32, reserved u32 (0).
    pub const SIZE: usize = 24;

    /// A request without data.
    pub const fn new(op: Op) -> Request {
        Request { op, flags: 0, sector: 0, count: 0 }
    }

    /// A read or write of `count` sectors from `sector`.
    pub const fn io(op: Op, sector: u64, count: u32) -> Request {
        Request { op, flags: 0, sector, count }
    }

    /// The same request with data inline.
    pub const fn inline(mut self) -> Request {
        self.flags |= flags::INLINE;
        self
    }

    /// True if the data travels in the messages.
    pub const fn is_inline(&self) -> bool {
        self.flags & flags::INLINE != 0
    }

    /// Bytes of data the request moves (`count * 512`), if that fits a `usize`.
    pub fn data_len(&self) -> Option<usize> {
        usize::try_from(self.count).ok()?.checked_mul(SECTOR_SIZE)
    }

    /// The header's bytes.
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0; Self::SIZE];
        b[0..4].copy_from_slice(&(self.op as u32).to_le_bytes());
        b[4..8].copy_from_slice(&self.flags.to_le_bytes());
        b[8..16].copy_from_slice(&self.sector.to_le_bytes());
        b[16..20].copy_from_slice(&self.count.to_le_bytes());
        b
    }

    /// Decodes the header at the start of `msg`; the rest of `msg` is the
    /// inline data, if any. `BadArgument` for a short message, an unknown
    /// op or flag, or a nonzero reserved word.
    pub fn decode(msg: &[u8]) -> Result<(Request, &[u8]), Error> {
        let (head, rest) = msg.split_at_checked(Self::SIZE).ok_or(Error::BadArgument)?;
        let word = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
        let op = Op::from_raw(word(0)).ok_or(Error::BadArgument)?;
        let flags = word(4);
        if flags & !flags::ALL != 0 || word(20) != 0 {
            return Err(Error::BadArgument);
        }
        let sector = u64::from(word(8)) | (u64::from(word(12)) << 32);
        Ok((Request { op, flags, sector, count: word(16) }, rest))
    }
}

/// Flags in [`Info::flags`].
pub mod info_flags {
    /// Writes are refused (`BlkError::ReadOnly`).
    pub const READ_ONLY: u32 = 1 << 0;
    /// The device has a write cache: `Flush` does real work.
    pub const FLUSH: u32 = 1 << 1;
}

/// The reply to `Info`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Info {
    /// Size of the device in sectors.
    pub capacity: u64,
    /// Bytes per sector (always [`SECTOR_SIZE`]).
    pub sector_size: u32,
    /// The device's preferred block size in bytes (a multiple of 512).
    pub block_size: u32,
    /// Sectors per device request: larger requests are split (and run in
    /// parallel) by the driver.
    pub max_transfer: u32,
    /// `info_flags::*`.
    pub flags: u32,
}

impl Info {
    /// Bytes of the encoded reply: capacity u64, sector_size u32,
    /// block_size u32, max_transfer u32, flags u32.
    pub const SIZE: usize = 24;

    /// The reply's bytes.
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0; Self::SIZE];
        b[0..8].copy_from_slice(&self.capacity.to_le_bytes());
        b[8..12].copy_from_slice(&self.sector_size.to_le_bytes());
        b[12..16].copy_from_slice(&self.block_size.to_le_bytes());
        b[16..20].copy_from_slice(&self.max_transfer.to_le_bytes());
        b[20..24].copy_from_slice(&self.flags.to_le_bytes());
        b
    }

    /// Decodes a reply (`BadArgument` if it is too short).
    pub fn decode(b: &[u8]) -> Result<Info, Error> {
        let b = b.get(..Self::SIZE).ok_or(Error::BadArgument)?;
        let word = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Ok(Info {
            capacity: u64::from(word(0)) | (u64::from(word(4)) << 32),
            sector_size: word(8),
            block_size: word(12),
            max_transfer: word(16),
            flags: word(20),
        })
    }

    /// True if writes are refused.
    pub fn read_only(&self) -> bool {
        self.flags & info_flags::READ_ONLY != 0
    }
}

/// Why a request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlkError {
    /// The sectors are not all inside the device.
    OutOfRange,
    /// The device reported an I/O error.
    Io,
    /// The device does not support the operation.
    Unsupported,
    /// The device is read-only.
    ReadOnly,
    /// The message exchange itself failed (`PeerDied`: the driver is gone;
    /// `BadArgument`: a malformed request or a missing or small lease).
    Ipc(Error),
}

impl BlkError {
    /// The reply status for this error (> 0); `None` for `Ipc`, which is
    /// answered with an error reply instead.
    pub const fn status(self) -> Option<i64> {
        match self {
            BlkError::OutOfRange => Some(1),
            BlkError::Io => Some(2),
            BlkError::Unsupported => Some(3),
            BlkError::ReadOnly => Some(4),
            BlkError::Ipc(_) => None,
        }
    }

    /// Decodes a reply status: 0 is success; an unknown code counts as `Io`.
    pub fn from_status(status: i64) -> Result<(), BlkError> {
        match status {
            0 => Ok(()),
            1 => Err(BlkError::OutOfRange),
            2 => Err(BlkError::Io),
            3 => Err(BlkError::Unsupported),
            4 => Err(BlkError::ReadOnly),
            s if s < 0 => Err(BlkError::Ipc(Error::from_raw(s).err().unwrap_or(Error::BadState))),
            _ => Err(BlkError::Io),
        }
    }
}

impl From<Error> for BlkError {
    fn from(e: Error) -> BlkError {
        BlkError::Ipc(e)
    }
}

impl core::fmt::Display for BlkError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BlkError::OutOfRange => f.write_str("sector out of range"),
            BlkError::Io => f.write_str("I/O error"),
            BlkError::Unsupported => f.write_str("unsupported operation"),
            BlkError::ReadOnly => f.write_str("read-only device"),
            BlkError::Ipc(e) => write!(f, "{e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trip() {
        for r in [
            Request::new(Op::Info),
            Request::new(Op::Flush),
            Request::io(Op::Read, u64::MAX, u32::MAX),
            Request::io(Op::Write, 0x1_0000_0001, 7).inline(),
        ] {
            let mut msg = r.encode().to_vec();
            msg.extend_from_slice(b"data");
            assert_eq!(Request::decode(&msg), Ok((r, &b"data"[..])));
        }
    }

    #[test]
    fn malformed_requests_are_refused() {
        let good = Request::io(Op::Read, 1, 1).encode();
        assert_eq!(Request::decode(&good[..Request::SIZE - 1]), Err(Error::BadArgument));
        assert_eq!(Request::decode(&[]), Err(Error::BadArgument));
        for (at, value) in [(0, 0u8), (0, 5), (0, 0xff), (4, 2), (7, 0x80), (20, 1), (23, 1)] {
            let mut bad = good;
            bad[at] = value;
            assert_eq!(Request::decode(&bad), Err(Error::BadArgument), "byte {at} = {value}");
        }
    }

    #[test]
    fn info_round_trip() {
        let i = Info { capacity: 65536, sector_size: 512, block_size: 4096, max_transfer: 128, flags: 3 };
        assert_eq!(Info::decode(&i.encode()), Ok(i));
        assert!(i.read_only());
        assert_eq!(Info::decode(&[0; Info::SIZE - 1]), Err(Error::BadArgument));
    }

    #[test]
    fn status_codes() {
        for e in [BlkError::OutOfRange, BlkError::Io, BlkError::Unsupported, BlkError::ReadOnly] {
            assert_eq!(BlkError::from_status(e.status().unwrap()), Err(e));
        }
        assert_eq!(BlkError::from_status(0), Ok(()));
        assert_eq!(BlkError::from_status(99), Err(BlkError::Io));
        assert_eq!(BlkError::from_status(Error::PeerDied.to_raw()), Err(BlkError::Ipc(Error::PeerDied)));
        assert_eq!(BlkError::Ipc(Error::BadArgument).status(), None);
    }

    #[test]
    fn inline_limits_fit_a_message() {
        assert_eq!(MAX_INLINE_READ, 8);
        assert_eq!(MAX_INLINE_WRITE, 7);
        assert!(Request::SIZE + MAX_INLINE_WRITE as usize * SECTOR_SIZE <= MAX_MESSAGE);
        assert_eq!(Request::io(Op::Read, 0, u32::MAX).data_len(), Some(u32::MAX as usize * 512));
    }
}
