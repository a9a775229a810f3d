//! The fs tests' data, in one place for both sides of the disk:
//!
//! - the host (`fsfixture tree`, run by the Makefile) builds the fixture
//!   tree from [`fixture_tree`], writes its [`manifest`] beside it, and
//!   `mcopy`s both onto a fresh FAT image;
//! - `fstest`, inside the OS, reads the manifest from the image and checks
//!   every file and directory it names against what the fs server returns,
//!   then writes the files [`outputs`] describes;
//! - after QEMU exits, the host (`fsfixture check`, run by
//!   `tools/fscheck.sh`) compares what landed on the image with [`outputs`],
//!   byte for byte.
//!
//! Contents are generated, not stored: [`Content::fill`] produces any range
//! of a file from its seed, so both sides agree without shipping data, and
//! [`Fnv1a64`] is the hash both sides compute. The library is `no_std` (with
//! `alloc`) so `fstest` links it.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod content;
mod hash;
mod manifest;
mod spec;

pub use content::{pattern, Content};
pub use hash::{fnv1a64, Fnv1a64};
pub use manifest::{manifest, parse_manifest, Kind, ManifestEntry, MANIFEST_PATH};
pub use spec::{fixture_tree, outputs, Entry, Output, ABSENT, APPEND_PATH, APPEND_TAIL, OUT_DIR, RENAME_FROM};
