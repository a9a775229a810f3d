//! The block device the filesystem runs on, as an async trait. The fs
//! server implements it over its virtio-blk connection (an asynchronous
//! send per request, so several requests can be in flight); tests implement
//! it over a `Vec<u8>` ([`crate::RamDisk`]).
//!
//! Methods take `&self`: the filesystem issues requests from several
//! concurrent operations, so the device keeps whatever state it needs
//! behind its own `RefCell`/queue. Requests cover whole device blocks; one
//! request per cached sector or per contiguous run of file data, so a
//! device that can do large transfers gets them.

use crate::Result;

/// A block device: a numbered array of equal-sized blocks.
///
/// The futures need not be `Send`: each server runs a single-threaded
/// executor, which is why `async fn` in a trait (stable since Rust 1.75) is
/// fine here and the `async_fn_in_trait` lint is allowed.
#[allow(async_fn_in_trait)]
pub trait BlockDevice {
    /// Bytes per block: a power of two, at most 4096 (virtio-blk: 512).
    fn block_size(&self) -> usize;

    /// Number of blocks on the device.
    fn block_count(&self) -> u64;

    /// Reads `buf.len() / block_size()` consecutive blocks starting at
    /// `lba`. `buf.len()` is always a non-zero multiple of the block size.
    async fn read_blocks(&self, lba: u64, buf: &mut [u8]) -> Result<()>;

    /// Writes `buf.len() / block_size()` consecutive blocks starting at
    /// `lba`. `buf.len()` is always a non-zero multiple of the block size.
    async fn write_blocks(&self, lba: u64, buf: &[u8]) -> Result<()>;

    /// Makes every completed write durable (virtio-blk `FLUSH`).
    async fn flush(&self) -> Result<()>;
}

impl<T: BlockDevice + ?Sized> BlockDevice for &T {
    fn block_size(&self) -> usize {
        (**self).block_size()
    }

    fn block_count(&self) -> u64 {
        (**self).block_count()
    }

    async fn read_blocks(&self, lba: u64, buf: &mut [u8]) -> Result<()> {
        (**self).read_blocks(lba, buf).await
    }

    async fn write_blocks(&self, lba: u64, buf: &[u8]) -> Result<()> {
        (**self).write_blocks(lba, buf).await
    }

    async fn flush(&self) -> Result<()> {
        (**self).flush().await
    }
}
