//! File names: which long names are valid, how names compare (FAT is
//! case-insensitive), how an 8.3 short name is shown, and how one is made
//! for a new long name (the specification's "basis name" plus `~N` tail).
//!
//! Policy for new entries (what Windows NT and mtools do): a name that is
//! a valid 8.3 name, each part in one case (`README.TXT`, `notes.txt`,
//! `Makefile` is not), is stored as a short entry only, lower-case parts
//! marked by the NT case bits; every other name gets long-name entries plus
//! a generated short alias. Short names are pure ASCII: characters outside
//! it become `_`.

use alloc::string::String;

/// Longest long name, in UTF-16 units.
pub(crate) const MAX_LONG: usize = 255;

/// Blank short name field.
pub(crate) const BLANK: [u8; 11] = [b' '; 11];

/// Checks that `name` may be stored as a long name.
pub(crate) fn valid_long(name: &str) -> bool {
    if name.is_empty() || name == "." || name == ".." || name.encode_utf16().count() > MAX_LONG {
        return false;
    }
    if name.ends_with(['.', ' ']) {
        return false;
    }
    !name.chars().any(|c| c < ' ' || matches!(c, '"' | '*' | '/' | ':' | '<' | '>' | '?' | '\\' | '|' | '\u{7f}'))
}

/// Characters allowed in a short name besides `A-Z` and `0-9`.
fn short_punct(c: u8) -> bool {
    matches!(
        c,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'(' | b')' | b'-' | b'@' | b'^' | b'_' | b'`' | b'{' | b'}' | b'~'
    )
}

fn short_char(c: u8) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit() || short_punct(c)
}

/// Upper-cases one character the way FAT does: one character to one, so
/// a character whose upper case is longer (`ß`) stays as it is.
fn fold(c: char) -> char {
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// Case-insensitive name comparison.
pub(crate) fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.chars().map(fold).eq(b.chars().map(fold))
}

/// The short name as text: `BASE.EXT`, with the NT lower-case flags of
/// `case` (bit 3: base, bit 4: extension) applied.
pub(crate) fn short_display(raw: &[u8; 11], case: u8) -> String {
    let conv = |b: u8, lower: bool| {
        let c = char::from(b);
        if lower {
            c.to_ascii_lowercase()
        } else {
            c
        }
    };
    let mut base = raw[..8].to_vec();
    if base.first() == Some(&0x05) {
        base[0] = 0xE5;
    }
    let base_len = base.iter().rposition(|&b| b != b' ').map_or(0, |p| p + 1);
    let ext_len = raw[8..].iter().rposition(|&b| b != b' ').map_or(0, |p| p + 1);
    let mut s: String = base[..base_len].iter().map(|&b| conv(b, case & 0x08 != 0)).collect();
    if ext_len > 0 {
        s.push('.');
        s.extend(raw[8..8 + ext_len].iter().map(|&b| conv(b, case & 0x10 != 0)));
    }
    s
}

/// `name` as a short entry if it already is a valid upper-case 8.3 name.
pub(crate) fn exact_short(name: &str) -> Option<[u8; 11]> {
    let (base, ext) = match name.rsplit_once('.') {
        Some((b, e)) => (b, e),
        None => (name, ""),
    };
    if base.is_empty() || base.len() > 8 || ext.len() > 3 || (name.contains('.') && ext.is_empty()) {
        return None;
    }
    if !base.bytes().chain(ext.bytes()).all(short_char) {
        return None;
    }
    let mut out = BLANK;
    out[..base.len()].copy_from_slice(base.as_bytes());
    out[8..8 + ext.len()].copy_from_slice(ext.as_bytes());
    Some(out)
}

/// `name` as a short entry plus NT case bits, if it is a valid 8.3 name
/// once upper-cased and each of its two parts is in a single case.
pub(crate) fn case_short(name: &str) -> Option<([u8; 11], u8)> {
    let upper = name.to_ascii_uppercase();
    let raw = exact_short(&upper)?;
    let (base, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    let lower = |part: &str| -> Option<bool> {
        let letters = || part.bytes().filter(u8::is_ascii_alphabetic);
        if letters().all(|b| b.is_ascii_uppercase()) {
            Some(false)
        } else if letters().all(|b| b.is_ascii_lowercase()) {
            Some(true)
        } else {
            None
        }
    };
    let flags = (if lower(base)? { 0x08 } else { 0 }) | (if lower(ext)? { 0x10 } else { 0 });
    Some((raw, flags))
}

/// The basis short name for a long name, and whether it is an exact (only
/// case-folded) rendering; if not, a `~N` tail must be added.
pub(crate) fn basis(name: &str) -> ([u8; 11], bool) {
    let mut exact = true;
    let trimmed = name.trim_start_matches('.');
    if trimmed.len() != name.len() {
        exact = false;
    }
    let (base, ext) = match trimmed.rsplit_once('.') {
        Some((b, e)) => (b, Some(e)),
        None => (trimmed, None),
    };
    let mut out = BLANK;
    let mut fill = |part: &str, field: &mut [u8]| {
        let mut n = 0;
        for c in part.chars() {
            if c == ' ' || c == '.' {
                exact = false;
                continue;
            }
            let b = if c.is_ascii() { c.to_ascii_uppercase() as u8 } else { 0 };
            let b = if short_char(b) {
                b
            } else {
                exact = false;
                b'_'
            };
            match field.get_mut(n) {
                Some(slot) => {
                    *slot = b;
                    n += 1;
                }
                None => exact = false,
            }
        }
        n
    };
    let (head, tail) = out.split_at_mut(8);
    let base_len = fill(base, head);
    if let Some(e) = ext {
        fill(e, tail);
    }
    if base_len == 0 {
        head[0] = b'_';
        exact = false;
    }
    (out, exact)
}

/// `basis` with the numeric tail `~n` (n >= 1), the base shortened to fit.
pub(crate) fn with_tail(basis: &[u8; 11], n: u32) -> [u8; 11] {
    let mut digits = [0u8; 10];
    let mut len = 0;
    let mut v = n;
    loop {
        digits[len] = b'0' + (v % 10) as u8;
        len += 1;
        v /= 10;
        if v == 0 || len == digits.len() {
            break;
        }
    }
    let tail_len = len + 1;
    let base_len = basis[..8].iter().rposition(|&b| b != b' ').map_or(0, |p| p + 1);
    let keep = base_len.min(8usize.saturating_sub(tail_len));
    let mut out = BLANK;
    out[..keep].copy_from_slice(&basis[..keep]);
    out[keep] = b'~';
    for i in 0..len {
        if let Some(slot) = out.get_mut(keep + 1 + i) {
            *slot = digits[len - 1 - i];
        }
    }
    out[8..].copy_from_slice(&basis[8..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(raw: &[u8; 11]) -> &str {
        core::str::from_utf8(raw).unwrap()
    }

    #[test]
    fn validity() {
        for ok in ["a", "README.TXT", "a long name.tar.gz", "ünï cödé", "x+y=z;[1]", " lead"] {
            assert!(valid_long(ok), "{ok}");
        }
        let long = "x".repeat(256);
        for bad in ["", ".", "..", "a/b", "a:b", "what?", "trail.", "trail ", "tab\t", long.as_str()] {
            assert!(!valid_long(bad), "{bad:?}");
        }
        assert!(valid_long(&"x".repeat(255)));
    }

    #[test]
    fn exact_short_names() {
        assert_eq!(exact_short("README.TXT").map(|r| s(&r).to_owned()), Some("README  TXT".into()));
        assert_eq!(exact_short("A").map(|r| s(&r).to_owned()), Some("A          ".into()));
        for no in ["readme.txt", "TOOLONGNAME", "A.B.C", "A.TOOL", "A B", "A.", ".A", "A+B"] {
            assert_eq!(exact_short(no), None, "{no}");
        }
    }

    #[test]
    fn case_bits() {
        let c = |n: &str| case_short(n).map(|(r, f)| (s(&r).to_owned(), f));
        assert_eq!(c("README.TXT"), Some(("README  TXT".into(), 0)));
        assert_eq!(c("readme.txt"), Some(("README  TXT".into(), 0x18)));
        assert_eq!(c("README.txt"), Some(("README  TXT".into(), 0x10)));
        assert_eq!(c("1st.c"), Some(("1ST     C  ".into(), 0x18)));
        assert_eq!(c("Makefile"), None);
        assert_eq!(c("readme.Txt"), None);
        assert_eq!(c("toolongname"), None);
        for n in ["readme.txt", "README.txt", "sub", "1st.c"] {
            let (raw, flags) = case_short(n).unwrap();
            assert_eq!(short_display(&raw, flags), n);
        }
    }

    #[test]
    fn basis_names() {
        let b = |n: &str| {
            let (raw, exact) = basis(n);
            (s(&raw).to_owned(), exact)
        };
        assert_eq!(b("readme.txt"), ("README  TXT".into(), true));
        assert_eq!(b("The quick brown.fox"), ("THEQUICKFOX".into(), false));
        assert_eq!(b(".bashrc"), ("BASHRC     ".into(), false));
        assert_eq!(b("archive.tar.gz"), ("ARCHIVETGZ ".into(), false));
        assert_eq!(b("a+b.c"), ("A_B     C  ".into(), false));
        assert_eq!(b("ünï"), ("_N_        ".into(), false));
        assert_eq!(b("data.html"), ("DATA    HTM".into(), false));
    }

    #[test]
    fn tails() {
        let (raw, _) = basis("The quick brown.fox");
        assert_eq!(s(&with_tail(&raw, 1)), "THEQUI~1FOX");
        assert_eq!(s(&with_tail(&raw, 42)), "THEQU~42FOX");
        assert_eq!(s(&with_tail(&raw, 999_999)), "T~999999FOX");
        let (raw, _) = basis("ab");
        assert_eq!(s(&with_tail(&raw, 7)), "AB~7       ");
    }

    #[test]
    fn display_and_case() {
        assert_eq!(short_display(b"README  TXT", 0), "README.TXT");
        assert_eq!(short_display(b"README  TXT", 0x08), "readme.TXT");
        assert_eq!(short_display(b"README  TXT", 0x18), "readme.txt");
        assert_eq!(short_display(b"NOEXT      ", 0), "NOEXT");
        assert!(eq_ignore_case("Ärger.TXT", "äRGER.txt"));
        assert!(!eq_ignore_case("Straße", "STRASSE"));
        assert!(!eq_ignore_case("a", "b"));
    }
}
