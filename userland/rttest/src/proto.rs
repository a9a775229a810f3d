//! The protocols of rttest's two servers.

libipc::protocol! {
    /// The front server: every request waits for a second server.
    pub mod front = "rt-front", version 1 {
        /// Waits until `GROUP` requests are in progress together, then asks
        /// the back server for `x`; answers `(x, back's answer)`.
        Work = 1 => fn work(x: u32) -> (u32, u64);
        /// The most requests in progress at once, and how many waited in
        /// vain for the group to fill.
        Stats = 2 => fn stats() -> (u32, u32);
    }
}

libipc::protocol! {
    /// The back server.
    pub mod back = "rt-back", version 1 {
        /// `x * x + 1`, after `delay_ms` milliseconds.
        Square = 1 => fn square(x: u32, delay_ms: u32) -> u64;
    }
}

/// Requests the front server holds until all are in progress together.
pub const GROUP: usize = 32;

/// What the back server answers for `x`.
pub fn expected(x: u32) -> u64 {
    u64::from(x) * u64::from(x) + 1
}
