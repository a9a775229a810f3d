//! The typed protocol of the library rows: declared with libipc's
//! `wire!` and `protocol!` like any server's, so those rows pay exactly what
//! a typed client and server pay (encoding, decoding, the generated client).
//!
//! `ping(Stamp)` is 20 bytes of request (8 of header, 12 of stamp) and 14
//! of reply (2 of opcode, 12 of stamp).
#![forbid(unsafe_code)]

libipc::wire! {
    /// What a ping carries: a sequence number and a tag.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Stamp { pub seq: u64, pub tag: u32 }
}

libipc::protocol! {
    /// The benchmark's echo service.
    pub mod bench = "ipcbench", version 1 {
        /// Answers the stamp with its tag incremented.
        Ping = 1 => fn ping(stamp: Stamp) -> Stamp;
    }
}

/// The server's answer to a request.
pub fn answer(req: bench::Request) -> bench::Reply {
    match req {
        bench::Request::Ping { stamp } => bench::Reply::Ping(Stamp { seq: stamp.seq, tag: stamp.tag.wrapping_add(1) }),
    }
}

/// The stamp of iteration `i`, and the check of its answer.
pub fn stamp(i: u64) -> Stamp {
    Stamp { seq: i, tag: i as u32 ^ 0x5a5a }
}

/// Whether `got` is the answer to `stamp(i)`.
pub fn answered(i: u64, got: &Stamp) -> bool {
    let s = stamp(i);
    got.seq == s.seq && got.tag == s.tag.wrapping_add(1)
}
