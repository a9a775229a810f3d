//! VFAT long file names: the 32-byte LFN entries that precede a short
//! entry, each holding 13 UTF-16 units, stored last part first, all tied to
//! the short entry by a checksum of its 11-byte name.
//!
//! [`Assembler`] is a pure state machine fed the raw entries of a directory
//! in order; it yields a long name only when a complete, correctly
//! numbered, checksum-matching run ends at the short entry. Anything else
//! (orphans, gaps, a mismatched checksum) is dropped and the short name is
//! used, as Windows and Linux do.

use alloc::string::String;
use alloc::vec::Vec;

use crate::le::put16;
use crate::name::MAX_LONG;

/// Attribute byte of an LFN entry.
pub(crate) const ATTR_LFN: u8 = 0x0F;
/// Flag in the ordinal byte of the first (physically) entry of a run.
const LAST: u8 = 0x40;
/// Units per entry.
const UNITS: usize = 13;
/// Most entries a run can have (20 × 13 ≥ 255).
const MAX_PARTS: usize = 20;
/// Byte offsets of the 13 units in an entry.
const OFFSETS: [usize; UNITS] = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

/// The checksum of a short name that every LFN entry of its run carries.
pub(crate) fn checksum(short: &[u8; 11]) -> u8 {
    short.iter().fold(0u8, |sum, &b| sum.rotate_right(1).wrapping_add(b))
}

/// How many LFN entries `name` needs.
pub(crate) fn entries_needed(name: &str) -> usize {
    name.encode_utf16().count().div_ceil(UNITS)
}

/// The LFN entries for `name`, in on-disk order (highest ordinal first).
/// `name` must be valid (at most 255 units).
pub(crate) fn encode(name: &str, short: &[u8; 11]) -> Vec<[u8; 32]> {
    let units: Vec<u16> = name.encode_utf16().collect();
    let count = units.len().div_ceil(UNITS);
    let sum = checksum(short);
    let mut out = Vec::with_capacity(count);
    for part in (0..count).rev() {
        let mut e = [0u8; 32];
        e[0] = (part + 1) as u8 | if part + 1 == count { LAST } else { 0 };
        e[11] = ATTR_LFN;
        e[13] = sum;
        for (k, &off) in OFFSETS.iter().enumerate() {
            let i = part * UNITS + k;
            let u = match i.cmp(&units.len()) {
                core::cmp::Ordering::Less => units[i],
                core::cmp::Ordering::Equal => 0x0000,
                core::cmp::Ordering::Greater => 0xFFFF,
            };
            put16(&mut e, off, u);
        }
        out.push(e);
    }
    out
}

/// Collects a run of LFN entries; see the module comment.
pub(crate) struct Assembler {
    units: [u16; MAX_PARTS * UNITS],
    /// Parts in the run (0: no run in progress).
    total: u8,
    /// The ordinal expected next (counting down to 1).
    expect: u8,
    sum: u8,
}

impl Assembler {
    pub fn new() -> Assembler {
        Assembler { units: [0; MAX_PARTS * UNITS], total: 0, expect: 0, sum: 0 }
    }

    /// Forgets the run in progress.
    pub fn reset(&mut self) {
        self.total = 0;
        self.expect = 0;
    }

    /// Whether a run is in progress.
    pub fn active(&self) -> bool {
        self.total != 0
    }

    /// Takes an LFN entry.
    pub fn feed(&mut self, e: &[u8; 32]) {
        let ord = e[0] & 0x1F;
        if e[0] & LAST != 0 {
            if ord == 0 || usize::from(ord) > MAX_PARTS {
                self.reset();
                return;
            }
            self.total = ord;
            self.sum = e[13];
        } else if self.total == 0 || ord != self.expect || e[13] != self.sum {
            self.reset();
            return;
        }
        let part = usize::from(ord) - 1;
        for (k, &off) in OFFSETS.iter().enumerate() {
            if let Some(slot) = self.units.get_mut(part * UNITS + k) {
                *slot = u16::from_le_bytes([e[off], e[off + 1]]);
            }
        }
        self.expect = ord - 1;
    }

    /// Ends the run at a short entry: its long name if the run is complete
    /// and belongs to `short`.
    pub fn finish(&mut self, short: &[u8; 11]) -> Option<String> {
        let ok = self.total != 0 && self.expect == 0 && self.sum == checksum(short);
        let total = usize::from(self.total) * UNITS;
        self.reset();
        if !ok {
            return None;
        }
        let units = self.units.get(..total)?;
        let len = units.iter().position(|&u| u == 0).unwrap_or(units.len());
        if len == 0 || len > MAX_LONG {
            return None;
        }
        Some(char::decode_utf16(units[..len].iter().copied()).map(|r| r.unwrap_or('\u{FFFD}')).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_known_value() {
        // The specification's algorithm, computed independently.
        let mut sum: u8 = 0;
        for &b in b"THEQUI~1FOX" {
            sum = (if sum & 1 != 0 { 0x80u8 } else { 0 }).wrapping_add(sum >> 1).wrapping_add(b);
        }
        assert_eq!(checksum(b"THEQUI~1FOX"), sum);
    }

    #[test]
    fn encode_then_assemble() {
        for name in ["a", "exactly13char", "exactly13charsX", "ünïcødé – 名前.txt", &"y".repeat(255)] {
            let short = *b"SHORT~1 TXT";
            let entries = encode(name, &short);
            assert_eq!(entries.len(), entries_needed(name));
            assert_eq!(entries[0][0] & LAST, LAST);
            let mut a = Assembler::new();
            for e in &entries {
                a.feed(e);
            }
            assert_eq!(a.finish(&short).as_deref(), Some(name));
        }
    }

    #[test]
    fn rejects_broken_runs() {
        let short = *b"SHORT~1 TXT";
        let entries = encode("a name that needs three entries!!", &short);
        assert_eq!(entries.len(), 3);
        let mut a = Assembler::new();
        a.feed(&entries[0]);
        a.feed(&entries[2]); // skipped part 2
        assert_eq!(a.finish(&short), None);
        for e in &entries {
            a.feed(e);
        }
        assert_eq!(a.finish(b"OTHER   TXT"), None, "checksum mismatch");
        a.feed(&entries[1]); // orphan without the first part
        a.feed(&entries[2]);
        assert_eq!(a.finish(&short), None);
        let mut bad = entries[0];
        bad[0] = LAST | 31;
        a.feed(&bad);
        assert_eq!(a.finish(&short), None);
    }
}
