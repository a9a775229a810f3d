//! Memory shared with the device, as the ring and request logic sees it.
//!
//! The logic in this crate never allocates or maps memory itself: it works on
//! anything that is a run of bytes with a known physical address. In the
//! driver that is a `dma_alloc` region (physically contiguous); in the host
//! tests it is a `Vec` with a made-up address, and a simulated device plays
//! the other side through the same bytes. Multi-byte fields are
//! little-endian, as virtio (and x86) lay them out.

/// Physically contiguous memory the device can reach.
pub trait Dma {
    /// Physical address of byte 0.
    fn phys(&self) -> u64;
    /// The bytes, for the driver to read.
    fn bytes(&self) -> &[u8];
    /// The bytes, for the driver to write.
    fn bytes_mut(&mut self) -> &mut [u8];
}

/// Reads the little-endian `u16` at `off` (the caller keeps `off + 2` in bounds).
pub fn read_u16(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([b[off], b[off + 1]])
}

/// Reads the little-endian `u32` at `off`.
pub fn read_u32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

/// Reads the little-endian `u64` at `off`.
pub fn read_u64(b: &[u8], off: usize) -> u64 {
    u64::from(read_u32(b, off)) | (u64::from(read_u32(b, off + 4)) << 32)
}

/// Writes `v` little-endian at `off`.
pub fn write_u16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}

/// Writes `v` little-endian at `off`.
pub fn write_u32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

/// Writes `v` little-endian at `off`.
pub fn write_u64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

/// A `Vec` standing in for DMA memory in host tests.
#[cfg(test)]
pub struct HostDma {
    pub phys: u64,
    pub mem: std::vec::Vec<u8>,
}

#[cfg(test)]
impl HostDma {
    pub fn new(phys: u64, len: usize) -> HostDma {
        HostDma { phys, mem: std::vec![0; len] }
    }
}

#[cfg(test)]
impl Dma for HostDma {
    fn phys(&self) -> u64 {
        self.phys
    }
    fn bytes(&self) -> &[u8] {
        &self.mem
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.mem
    }
}
