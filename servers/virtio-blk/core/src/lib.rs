//! `vblk` (package `virtio-blk-core`): the device logic of the virtio-blk
//! driver, free of hardware and IPC so it runs on the host under
//! `cargo test` against a simulated device:
//!
//! - [`virtqueue`]: the split virtqueue (descriptor table, available and
//!   used rings) in the legacy layout;
//! - [`blk`]: virtio-blk requests (header, data, status) in slots;
//! - [`engine`]: client requests of any size cut into device requests,
//!   many in flight, answered through the [`engine::Host`] trait;
//! - [`pci`]: decoding PCI configuration values (BARs, interrupt routing);
//! - [`dma`]: the memory the device shares, as the above see it.
//!
//! The driver binary (`servers/virtio-blk`) adds port I/O, PCI
//! enumeration, the legacy virtio transport and the IPC loop.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod blk;
pub mod dma;
pub mod engine;
pub mod pci;
pub mod virtqueue;
