//! Finding the SMBIOS entry points the way BIOS loaders do: a 16-byte
//! aligned scan of 0xF0000-0xFFFFF for the 32-bit (`_SM_`) and 64-bit
//! (`_SM3_`) anchors, each with a valid checksum.

use crate::phys;

/// Physical addresses of the 32-bit and 64-bit entry points, if present.
pub fn find() -> (Option<u64>, Option<u64>) {
    let find_anchor =
        |anchor: &[u8], len_at: usize| (0xf_0000..0x10_0000u64).step_by(16).find(|&addr| valid(addr, anchor, len_at));
    (find_anchor(b"_SM_", 5), find_anchor(b"_SM3_", 6))
}

/// Whether `addr` holds `anchor` followed by a structure whose length byte
/// is at `len_at` and whose bytes sum to zero.
fn valid(addr: u64, anchor: &[u8], len_at: usize) -> bool {
    let Ok(head) = phys::bytes(addr, 16) else {
        return false;
    };
    if !head.starts_with(anchor) {
        return false;
    }
    let len = u64::from(head[len_at]);
    if len < 16 || addr + len > 0x10_0000 {
        return false;
    }
    phys::bytes(addr, len).map(|all| all.iter().fold(0u8, |s, &b| s.wrapping_add(b)) == 0).unwrap_or(false)
}
