//! File contents: fixed text, or a pseudo-random pattern any range of
//! which can be produced on its own (so a reader can check a chunk at any
//! offset without generating what comes before it).

use alloc::vec::Vec;

use crate::hash::Fnv1a64;

/// What a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// These bytes.
    Text(&'static str),
    /// `len` bytes of [`pattern`] with this seed.
    Pattern {
        /// Picks the stream.
        seed: u64,
        /// Bytes in the file.
        len: u64,
    },
}

impl Content {
    /// Bytes in the file.
    pub fn len(&self) -> u64 {
        match self {
            Content::Text(t) => t.len() as u64,
            Content::Pattern { len, .. } => *len,
        }
    }

    /// True for an empty file.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fills `buf` with the file's bytes from `offset`; returns how many
    /// there were (fewer than `buf.len()` at the end of the file).
    pub fn fill(&self, offset: u64, buf: &mut [u8]) -> usize {
        let left = self.len().saturating_sub(offset);
        let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let Some(out) = buf.get_mut(..n) else { return 0 };
        match self {
            Content::Text(t) => {
                let start = usize::try_from(offset).unwrap_or(usize::MAX);
                if let Some(src) = t.as_bytes().get(start..start + n) {
                    out.copy_from_slice(src);
                }
            }
            Content::Pattern { seed, .. } => pattern(*seed, offset, out),
        }
        n
    }

    /// The whole file (for small files and the host).
    pub fn bytes(&self) -> Vec<u8> {
        let mut v = alloc::vec![0; usize::try_from(self.len()).unwrap_or(0)];
        self.fill(0, &mut v);
        v
    }

    /// The FNV-1a 64 hash of the whole file, computed in chunks.
    pub fn hash(&self) -> u64 {
        let mut h = Fnv1a64::new();
        let mut chunk = [0u8; 512];
        let mut offset = 0;
        loop {
            let n = self.fill(offset, &mut chunk);
            if n == 0 {
                return h.finish();
            }
            h.update(&chunk[..n]);
            offset += n as u64;
        }
    }
}

/// SplitMix64: a good 64-bit mix of one word.
const fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Fills `buf` with the pattern of `seed` from byte `offset`: byte `p` is
/// byte `p % 8` (little-endian) of `mix(seed * 2^32 + p / 8)`.
pub fn pattern(seed: u64, offset: u64, buf: &mut [u8]) {
    let base = seed.wrapping_shl(32);
    for (i, b) in buf.iter_mut().enumerate() {
        let p = offset.wrapping_add(i as u64);
        *b = mix(base.wrapping_add(p / 8)).to_le_bytes()[(p % 8) as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_agree_with_the_whole() {
        let c = Content::Pattern { seed: 7, len: 1000 };
        let whole = c.bytes();
        assert_eq!(whole.len(), 1000);
        let mut part = [0u8; 37];
        assert_eq!(c.fill(13, &mut part), 37);
        assert_eq!(&part[..], &whole[13..50]);
        assert_eq!(c.fill(990, &mut part), 10);
        assert_eq!(&part[..10], &whole[990..]);
        assert_eq!(c.fill(5000, &mut part), 0);
        assert_eq!(c.hash(), crate::fnv1a64(&whole));
    }

    #[test]
    fn seeds_differ_and_text_is_itself() {
        let (a, b) = (Content::Pattern { seed: 1, len: 64 }, Content::Pattern { seed: 2, len: 64 });
        assert_ne!(a.bytes(), b.bytes());
        let t = Content::Text("hello");
        assert_eq!(t.bytes(), b"hello");
        let mut buf = [0u8; 3];
        assert_eq!(t.fill(3, &mut buf), 2);
        assert_eq!(&buf[..2], b"lo");
        assert!(Content::Text("").is_empty());
    }
}
