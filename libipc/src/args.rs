//! A program's arguments: one byte string from the spawner, by convention
//! words separated by spaces (`key=value` words for options). [`Args`] is a
//! borrowed view of the bytes the kernel copied onto the stack at start; it
//! is `Copy` and lives as long as the process.
#![forbid(unsafe_code)]

/// The argument bytes a process was started with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Args {
    bytes: &'static [u8],
}

impl Args {
    /// Wraps argument bytes (the runtime does this at start).
    pub const fn new(bytes: &'static [u8]) -> Args {
        Args { bytes }
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &'static [u8] {
        self.bytes
    }

    /// The bytes as text, if they are UTF-8.
    pub fn as_str(&self) -> Option<&'static str> {
        core::str::from_utf8(self.bytes).ok()
    }

    /// True if there are no argument bytes.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The space-separated words, empty ones skipped.
    pub fn words(&self) -> impl Iterator<Item = &'static [u8]> {
        self.bytes.split(|&b| b == b' ').filter(|w| !w.is_empty())
    }

    /// The words that are UTF-8, as text.
    pub fn words_str(&self) -> impl Iterator<Item = &'static str> {
        self.words().filter_map(|w| core::str::from_utf8(w).ok())
    }

    /// The `n`th word (from 0).
    pub fn word(&self, n: usize) -> Option<&'static str> {
        self.words_str().nth(n)
    }

    /// True if one of the words is exactly `word`.
    pub fn contains(&self, word: &str) -> bool {
        self.words().any(|w| w == word.as_bytes())
    }

    /// The value of the first `key=value` word with this key.
    pub fn value(&self, key: &str) -> Option<&'static str> {
        self.words_str().find_map(|w| w.strip_prefix(key).and_then(|rest| rest.strip_prefix('=')))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_values() {
        let a = Args::new(b"  test  ms=300 x=  -3 ");
        assert_eq!(a.words_str().collect::<Vec<_>>(), ["test", "ms=300", "x=", "-3"]);
        assert!(a.contains("test"));
        assert!(!a.contains("tes"));
        assert_eq!(a.value("ms"), Some("300"));
        assert_eq!(a.value("x"), Some(""));
        assert_eq!(a.value("m"), None);
        assert_eq!(a.word(3), Some("-3"));
        assert_eq!(a.word(4), None);
        assert!(Args::new(b"").is_empty());
        assert_eq!(Args::new(b"").words().count(), 0);
    }
}
