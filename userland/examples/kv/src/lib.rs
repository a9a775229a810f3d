//! The key-value store's protocol, and helpers for its lease operations
//! (values larger than a message travel in memory the client lends).
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec;

use libipc::ipc::{Connection, SendOptions};
use libipc::Result;

/// Largest value the store keeps.
pub const MAX_VALUE: usize = 64 * 1024;

libipc::protocol! {
    /// Requests to the key-value store (registered as `"kv"`).
    pub mod kv = "kv", version 1 {
        /// The value under `key`, if any.
        Get = 1 => fn get(key: String) -> Option<Vec<u8>>;
        /// Stores `value` under `key`; the value it replaced.
        Put = 2 => fn put(key: String, value: Vec<u8>) -> Option<Vec<u8>>;
        /// Removes `key`; whether it was there.
        Delete = 3 => fn delete(key: String) -> bool;
        /// Every key, sorted.
        Keys = 4 => fn keys() -> Vec<String>;
        /// Stores the `len` bytes lent as lease 0 (readable) under `key`.
        PutLease = 5 => fn put_lease(key: String, len: u32) -> ();
        /// Copies up to `capacity` bytes of the value under `key` into lease
        /// 0 (writable); the value's whole length.
        GetLease = 6 => fn get_lease(key: String, capacity: u32) -> u32;
    }
}

/// Stores `value` (up to [`MAX_VALUE`] bytes) under `key` through a lease.
pub fn put_large(conn: &Connection, key: &str, value: &[u8]) -> Result<()> {
    let len = u32::try_from(value.len()).map_err(|_| libipc::Error::BadArgument)?;
    let mut reply = [0u8; 16];
    let r = conn.send_with(&kv::encode::put_lease(key, len), &mut reply, &SendOptions::new().lease_read(value))?;
    kv::result::put_lease(&reply[..r.len])
}

/// Reads the value under `key` into `buf` through a lease; its whole length
/// (more than `buf.len()` if it did not fit).
pub fn get_large(conn: &Connection, key: &str, buf: &mut [u8]) -> Result<usize> {
    let capacity = u32::try_from(buf.len()).unwrap_or(u32::MAX);
    let mut reply = vec![0u8; 16];
    let msg = kv::encode::get_lease(key, capacity);
    let r = conn.send_with(&msg, &mut reply, &SendOptions::new().lease_write(buf))?;
    kv::result::get_lease(&reply[..r.len]).map(|n| n as usize)
}
