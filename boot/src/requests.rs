//! Finding the kernel's Limine requests and base revision tag in its loaded
//! image, as Limine does: every 8-byte aligned position is checked, the scan
//! restarts at the last start marker and stops at the first end marker, and
//! duplicate IDs are refused.

use crate::error::{bail, Result};
use crate::kernel_elf::Kernel;
use crate::phys;

/// First two words of every request ID.
const COMMON_MAGIC: [u64; 2] = [0xc7b1_dd30_df4c_8b88, 0x0a82_e883_a194_f07b];
const START_MARKER: [u64; 4] =
    [0xf6b8_f4b3_9de7_d1ae, 0xfab9_1a69_40fc_b9cf, 0x785c_6ed0_15d3_e316, 0x181e_920a_7852_b9d9];
const END_MARKER: [u64; 2] = [0xadc0_e053_1bb1_0d03, 0x9572_709f_3176_4c62];
const BASE_REVISION_MAGIC: [u64; 2] = [0xf956_2b2d_5c95_a6c8, 0x6a7b_3849_4453_6bdc];

/// The request-specific halves of the IDs this loader answers.
pub mod id {
    pub const BOOTLOADER_INFO: [u64; 2] = [0xf550_38d8_e2a1_202f, 0x2794_26fc_f5f5_9740];
    pub const FIRMWARE_TYPE: [u64; 2] = [0x8c2f_75d9_0bef_28a8, 0x7045_a468_8eac_00c3];
    pub const STACK_SIZE: [u64; 2] = [0x224e_f046_0a8e_8926, 0xe1cb_0fc2_5f46_ea3d];
    pub const HHDM: [u64; 2] = [0x48dc_f1cb_8ad2_b852, 0x6398_4e95_9a98_244b];
    pub const PAGING_MODE: [u64; 2] = [0x95c1_a0ed_ab09_44cb, 0xa4e5_cb38_42f7_488a];
    pub const MEMORY_MAP: [u64; 2] = [0x67cf_3d9d_378a_806f, 0xe304_acdf_c50c_3c62];
    pub const ENTRY_POINT: [u64; 2] = [0x13d8_6c03_5a1c_d3e1, 0x2b0c_aa89_d8f3_026a];
    pub const EXECUTABLE_FILE: [u64; 2] = [0xad97_e90e_83f1_ed67, 0x31eb_5d1c_5ff2_3b69];
    pub const MODULE: [u64; 2] = [0x3e7e_2797_02be_32af, 0xca1c_4f3b_d128_0cee];
    pub const RSDP: [u64; 2] = [0xc5e7_7b6b_397e_7b43, 0x2763_7845_accd_cf3c];
    pub const SMBIOS: [u64; 2] = [0x9e90_46f1_1e09_5391, 0xaa4a_520f_efbd_e5ee];
    pub const DATE_AT_BOOT: [u64; 2] = [0x5027_46e1_84c0_88aa, 0xfbc5_ec83_e632_7893];
    pub const EXECUTABLE_ADDRESS: [u64; 2] = [0x71ba_7686_3cc5_5f63, 0xb264_4a48_c516_a487];
    pub const EXECUTABLE_CMDLINE: [u64; 2] = [0x4b16_1536_e598_651e, 0xb390_ad4a_2f1f_303a];
}

/// Offset of `revision` in every request.
pub const REVISION_OFFSET: u64 = 32;
/// Offset of `response` in every request.
pub const RESPONSE_OFFSET: u64 = 40;
/// Size of the fields every request has: id[4], revision, response.
const HEADER_SIZE: u64 = 48;

/// Most requests accepted (Limine's limit).
const MAX_REQUESTS: usize = 128;

/// A request found in the image.
#[derive(Clone, Copy, Default)]
pub struct Request {
    /// Physical address of the request.
    pub phys: u64,
    /// Request-specific ID words.
    pub id: [u64; 2],
    /// Bytes of the image from the request to the image end.
    pub room: u64,
}

impl Request {
    pub fn revision(&self) -> Result<u64> {
        phys::read(self.phys + REVISION_OFFSET)
    }

    /// Reads the u64 field at `offset`, if the image holds it.
    pub fn field(&self, offset: u64) -> Result<Option<u64>> {
        if offset + 8 > self.room {
            return Ok(None);
        }
        phys::read(self.phys + offset).map(Some)
    }

    /// Stores the response pointer (an HHDM address).
    pub fn respond(&self, response: u64) -> Result<()> {
        phys::write(self.phys + RESPONSE_OFFSET, response)
    }
}

/// The requests found and the base revision tag, if any.
pub struct Requests {
    list: [Request; MAX_REQUESTS],
    count: usize,
    /// Physical address of the base revision tag.
    pub base_revision_tag: Option<u64>,
}

impl Requests {
    pub fn all(&self) -> &[Request] {
        &self.list[..self.count]
    }

    pub fn find(&self, id: [u64; 2]) -> Option<Request> {
        self.all().iter().copied().find(|r| r.id == id)
    }
}

/// Scans the loaded kernel image.
pub fn scan(kernel: &Kernel) -> Result<Requests> {
    let image = phys::bytes(kernel.phys_base, kernel.size())?;
    let word = |i: usize| -> Option<u64> {
        let bytes = image.get(i..i + 8)?;
        let mut w = [0u8; 8];
        w.copy_from_slice(bytes);
        Some(u64::from_le_bytes(w))
    };
    let words_match =
        |i: usize, expected: &[u64]| expected.iter().enumerate().all(|(k, &e)| word(i + 8 * k) == Some(e));

    let mut found = Requests { list: [Request::default(); MAX_REQUESTS], count: 0, base_revision_tag: None };
    for i in (0..image.len()).step_by(8) {
        if words_match(i, &START_MARKER) {
            found.count = 0;
            found.base_revision_tag = None;
        } else if words_match(i, &END_MARKER) {
            break;
        } else if words_match(i, &BASE_REVISION_MAGIC) && word(i + 16).is_some() {
            if found.base_revision_tag.is_some() {
                bail!("kernel: duplicated base revision tag");
            }
            found.base_revision_tag = Some(kernel.phys_base + i as u64);
        } else if words_match(i, &COMMON_MAGIC) {
            let (Some(a), Some(b)) = (word(i + 16), word(i + 24)) else {
                continue;
            };
            let room = (image.len() - i) as u64;
            if room < HEADER_SIZE {
                continue;
            }
            if found.find([a, b]).is_some() {
                bail!("kernel: duplicated request ID", a);
            }
            if found.count == MAX_REQUESTS {
                bail!("kernel: too many requests", MAX_REQUESTS);
            }
            found.list[found.count] = Request { phys: kernel.phys_base + i as u64, id: [a, b], room };
            found.count += 1;
        }
    }
    Ok(found)
}

/// The base revision this loader implements.
pub const LOADER_BASE_REVISION: u64 = 3;
/// The oldest base revision it will boot.
const OLDEST_BASE_REVISION: u64 = 1;

/// Applies the base revision handshake and returns the revision the kernel
/// is booted with. A supported request (1 to 3) gets the third word set to
/// 0 and the second set to the revision used; a newer one is left
/// unsupported (third word untouched) and booted as revision 3; a missing
/// tag or revision 0 is refused, since this loader has no revision 0
/// behaviour (deprecated `.limine_reqs` lists, lower-half identity map).
pub fn negotiate_base_revision(found: &Requests) -> Result<u64> {
    let Some(tag) = found.base_revision_tag else {
        bail!("kernel: no base revision tag (revision 0 is not supported)");
    };
    let requested: u64 = phys::read(tag + 16)?;
    if requested < OLDEST_BASE_REVISION {
        bail!("kernel: base revision not supported", requested);
    }
    let used = requested.min(LOADER_BASE_REVISION);
    phys::write(tag + 8, used)?;
    if requested <= LOADER_BASE_REVISION {
        phys::write(tag + 16, 0u64)?;
    }
    Ok(used)
}
