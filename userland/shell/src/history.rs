//! The lines typed before: for the line editor's Up and Down keys (raw
//! input), the `history` command, and `!` recall, which works with any
//! console: `!!` (the last line), `!N` (line N as `history` numbers it),
//! `!-N` (N lines back), `!text` (the last line starting with `text`), each
//! followed by the rest of what was typed.
//!
//! A bounded list, oldest first: a blank line or a repeat of the newest is
//! not added, and past [`History::CAPACITY`] the oldest line goes. The
//! shell owns its history (not the console server), so it survives a
//! console restart. Pure logic, tested on the host.

use alloc::collections::VecDeque;
use alloc::string::String;

/// Earlier lines.
#[derive(Debug, Default)]
pub struct History {
    lines: VecDeque<String>,
}

impl History {
    /// Lines kept at most.
    pub const CAPACITY: usize = 64;

    /// An empty history.
    pub fn new() -> History {
        History::default()
    }

    /// Records a line that was entered.
    pub fn add(&mut self, line: &str) {
        if line.trim().is_empty() || self.lines.back().is_some_and(|last| last == line) {
            return;
        }
        if self.lines.len() == Self::CAPACITY {
            self.lines.pop_front();
        }
        self.lines.push_back(String::from(line));
    }

    /// How many lines are kept.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// True if nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The line `back` steps before the end (1 = the newest).
    pub fn get(&self, back: usize) -> Option<&str> {
        let i = self.lines.len().checked_sub(back)?;
        self.lines.get(i).map(String::as_str)
    }

    /// The lines, oldest first, numbered from 1.
    pub fn numbered(&self) -> impl Iterator<Item = (usize, &str)> {
        self.lines.iter().enumerate().map(|(i, l)| (i + 1, l.as_str()))
    }

    /// Expands a `!` recall at the start of `line`: `Ok(None)` if there is
    /// none (the line stands as typed), the expanded line, or an error for
    /// the user when nothing matches.
    pub fn expand(&self, line: &str) -> Result<Option<String>, String> {
        let trimmed = line.trim_start();
        let Some(event) = trimmed.strip_prefix('!') else {
            return Ok(None);
        };
        let (word, rest) = match event.find([' ', '\t']) {
            Some(i) => event.split_at(i),
            None => (event, ""),
        };
        let found = if word == "!" {
            self.get(1)
        } else if let Some(back) = word.strip_prefix('-').and_then(|n| n.parse::<usize>().ok()) {
            self.get(back)
        } else if let Ok(n) = word.parse::<usize>() {
            n.checked_sub(1).and_then(|i| self.lines.get(i)).map(String::as_str)
        } else if word.is_empty() {
            return Ok(None);
        } else {
            self.lines.iter().rev().find(|l| l.starts_with(word)).map(String::as_str)
        };
        match found {
            Some(l) => Ok(Some(alloc::format!("{l}{rest}"))),
            None => Err(alloc::format!("!{word}: event not found")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_is_one_step_back() {
        let mut h = History::new();
        h.add("ls");
        h.add("cat /t.txt");
        assert_eq!(h.get(1), Some("cat /t.txt"));
        assert_eq!(h.get(2), Some("ls"));
        assert_eq!(h.get(3), None);
        assert_eq!(h.get(0), None);
    }

    #[test]
    fn blanks_and_repeats_are_skipped() {
        let mut h = History::new();
        h.add("");
        h.add("  ");
        h.add("ps");
        h.add("ps");
        h.add("mem");
        h.add("ps");
        assert_eq!(h.len(), 3);
    }

    #[test]
    fn recall() {
        let mut h = History::new();
        for l in ["ls /", "cat /t.txt", "ps"] {
            h.add(l);
        }
        assert_eq!(h.expand("ls"), Ok(None));
        assert_eq!(h.expand("!!"), Ok(Some("ps".into())));
        assert_eq!(h.expand("  !1"), Ok(Some("ls /".into())));
        assert_eq!(h.expand("!-2"), Ok(Some("cat /t.txt".into())));
        assert_eq!(h.expand("!ca /other"), Ok(Some("cat /t.txt /other".into())));
        assert_eq!(h.expand("!l"), Ok(Some("ls /".into())));
        assert_eq!(h.expand("!"), Ok(None));
        assert_eq!(h.expand("!9"), Err("!9: event not found".into()));
        assert_eq!(h.expand("!zz"), Err("!zz: event not found".into()));
        assert_eq!(History::new().expand("!!"), Err("!!: event not found".into()));
        let n: alloc::vec::Vec<_> = h.numbered().collect();
        assert_eq!(n[2], (3, "ps"));
    }

    #[test]
    fn bounded() {
        let mut h = History::new();
        for i in 0..History::CAPACITY + 5 {
            h.add(&alloc::format!("cmd {i}"));
        }
        assert_eq!(h.len(), History::CAPACITY);
        assert_eq!(h.get(History::CAPACITY), Some("cmd 5"));
    }
}
