//! Splitting a command line into words.
//!
//! Words are separated by spaces or tabs. Double or single quotes keep
//! spaces inside a word (`write /f "two  spaces"`), and a backslash takes
//! the next character literally (outside single quotes). An unterminated
//! quote is an error rather than a guess, so a typo never writes the wrong
//! file. Pure logic, tested on the host.

use alloc::string::String;
use alloc::vec::Vec;

/// Why a line could not be split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitError {
    /// A quote was opened and never closed.
    UnterminatedQuote,
    /// The line ends in a lone backslash.
    TrailingBackslash,
}

impl SplitError {
    /// A short description for the user.
    pub fn as_str(self) -> &'static str {
        match self {
            SplitError::UnterminatedQuote => "unterminated quote",
            SplitError::TrailingBackslash => "trailing backslash",
        }
    }
}

/// Splits `line` into words (empty for a blank line).
pub fn split(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word has started (so `""` makes an empty word).
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => word.push(c),
            (_, '\\') => {
                let next = chars.next().ok_or(SplitError::TrailingBackslash)?;
                word.push(next);
                in_word = true;
            }
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, ' ' | '\t' | '\r' | '\n') => {
                if in_word {
                    words.push(core::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(SplitError::UnterminatedQuote);
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        split(line).unwrap()
    }

    #[test]
    fn plain_words() {
        assert_eq!(words("  ls   /d  "), ["ls", "/d"]);
        assert_eq!(words("write\t/t.txt hello"), ["write", "/t.txt", "hello"]);
        assert!(words("").is_empty());
        assert!(words("   \t ").is_empty());
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(words(r#"write /f "two  spaces""#), ["write", "/f", "two  spaces"]);
        assert_eq!(words("say 'it''s' \"a'b\""), ["say", "its", "a'b"]);
        assert_eq!(words(r"a\ b c\\d"), ["a b", r"c\d"]);
        assert_eq!(words(r#"x "" y"#), ["x", "", "y"]);
        assert_eq!(words(r#"'\n'"#), [r"\n"]);
        assert_eq!(words(r#"pre"mid"post"#), ["premidpost"]);
    }

    #[test]
    fn errors() {
        assert_eq!(split("cat \"open"), Err(SplitError::UnterminatedQuote));
        assert_eq!(split("cat 'open"), Err(SplitError::UnterminatedQuote));
        assert_eq!(split("cat x\\"), Err(SplitError::TrailingBackslash));
    }
}
