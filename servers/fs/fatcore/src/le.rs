//! Little-endian field access on byte slices. Every on-disk structure is
//! read through these, so an out-of-range offset yields zero instead of a
//! panic (reads) or is ignored (writes); callers validate what they read.

/// The `u16` at `off`, or 0 if the slice is too short.
pub(crate) fn get16(b: &[u8], off: usize) -> u16 {
    match b.get(off..off.wrapping_add(2)) {
        Some(&[x, y]) => u16::from_le_bytes([x, y]),
        _ => 0,
    }
}

/// The `u32` at `off`, or 0 if the slice is too short.
pub(crate) fn get32(b: &[u8], off: usize) -> u32 {
    match b.get(off..off.wrapping_add(4)) {
        Some(&[a, c, d, e]) => u32::from_le_bytes([a, c, d, e]),
        _ => 0,
    }
}

/// Stores `v` at `off` if the slice is long enough.
pub(crate) fn put16(b: &mut [u8], off: usize, v: u16) {
    if let Some(s) = b.get_mut(off..off.wrapping_add(2)) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

/// Stores `v` at `off` if the slice is long enough.
pub(crate) fn put32(b: &mut [u8], off: usize, v: u32) {
    if let Some(s) = b.get_mut(off..off.wrapping_add(4)) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_is_harmless() {
        let mut b = [1u8, 2, 3];
        assert_eq!(get16(&b, 1), 0x0302);
        assert_eq!(get16(&b, 2), 0);
        assert_eq!(get32(&b, 0), 0);
        assert_eq!(get32(&b, usize::MAX), 0);
        put32(&mut b, 0, 7);
        put16(&mut b, usize::MAX, 7);
        assert_eq!(b, [1, 2, 3]);
        put16(&mut b, 1, 0xAABB);
        assert_eq!(b, [1, 0xBB, 0xAA]);
    }
}
