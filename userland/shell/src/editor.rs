//! The shell's line editor: turns the bytes a terminal sends into an edited
//! line, and says what to write back so the screen shows it.
//!
//! The console server has a line editor of its own (echo, Backspace,
//! Ctrl-U/W) for every program that reads lines, but it drops escape
//! sequences and keeps no history. The shell reads the console raw instead
//! (`console::Console::read_raw`) and edits here, so it can recall earlier
//! lines with Up/Down (Ctrl-P/N) and move the cursor (Left/Right,
//! Home/End, Ctrl-A/E/B/F, Delete). History lives in the shell, not in the
//! restartable console server.
//!
//! [`Editor::feed`] takes one byte, appends the terminal output it causes
//! (plain echo when typing at the end of the line, ANSI cursor movement
//! otherwise) and returns a [`Done`] when the line is finished. Output uses
//! `\n` for a new line (the console turns it into `\r\n`). Finished lines
//! are not recorded by themselves: [`Editor::remember`] does it. Pure
//! logic, tested on the host.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::history::History;

/// How a line ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Done {
    /// Enter: the line.
    Line(String),
    /// Ctrl-C: the line was dropped.
    Interrupted,
    /// Ctrl-D on an empty line.
    End,
}

/// A key, decoded from the terminal's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    Char(char),
    Enter,
    Backspace,
    Delete,
    Left,
    Right,
    Home,
    End,
    Up,
    Down,
    KillLine,
    KillWord,
    Interrupt,
    EndOfInput,
}

/// Where the decoder is inside a multi-byte key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Decode {
    #[default]
    Ground,
    /// After ESC.
    Escape,
    /// After `ESC [`, with the last numeric parameter so far.
    Csi(u16),
    /// After `ESC O`.
    Ss3,
    /// Inside a UTF-8 sequence: bytes still needed, bits so far.
    Utf8(u8, u32),
}

/// Bytes to keys.
#[derive(Debug, Default)]
struct Decoder {
    state: Decode,
    /// The previous byte was CR (so a following LF is the same Enter).
    after_cr: bool,
}

impl Decoder {
    fn key(&mut self, b: u8) -> Option<Key> {
        let after_cr = core::mem::replace(&mut self.after_cr, b == b'\r');
        match self.state {
            Decode::Ground => self.ground(b, after_cr),
            Decode::Escape => {
                self.state = match b {
                    b'[' => Decode::Csi(0),
                    b'O' => Decode::Ss3,
                    0x1b => Decode::Escape,
                    _ => Decode::Ground,
                };
                None
            }
            Decode::Csi(p) => match b {
                b'0'..=b'9' => {
                    self.state = Decode::Csi(p.saturating_mul(10).saturating_add(u16::from(b - b'0')));
                    None
                }
                b';' => {
                    self.state = Decode::Csi(0);
                    None
                }
                0x40..=0x7e => {
                    self.state = Decode::Ground;
                    match (b, p) {
                        (b'~', 1 | 7) => Some(Key::Home),
                        (b'~', 4 | 8) => Some(Key::End),
                        (b'~', 3) => Some(Key::Delete),
                        (b'~', _) => None,
                        _ => arrow(b),
                    }
                }
                // Intermediate bytes: keep reading the sequence.
                0x20..=0x3f => None,
                _ => {
                    self.state = Decode::Ground;
                    None
                }
            },
            Decode::Ss3 => {
                self.state = Decode::Ground;
                arrow(b)
            }
            Decode::Utf8(need, bits) => {
                if b & 0xc0 != 0x80 {
                    // A broken sequence: drop it and read this byte afresh.
                    self.state = Decode::Ground;
                    return self.ground(b, after_cr);
                }
                let bits = (bits << 6) | u32::from(b & 0x3f);
                if need > 1 {
                    self.state = Decode::Utf8(need - 1, bits);
                    return None;
                }
                self.state = Decode::Ground;
                char::from_u32(bits).map(Key::Char)
            }
        }
    }

    fn ground(&mut self, b: u8, after_cr: bool) -> Option<Key> {
        match b {
            0x1b => {
                self.state = Decode::Escape;
                None
            }
            b'\r' => Some(Key::Enter),
            b'\n' if after_cr => None,
            b'\n' => Some(Key::Enter),
            0x7f | 0x08 => Some(Key::Backspace),
            0x01 => Some(Key::Home),
            0x02 => Some(Key::Left),
            0x03 => Some(Key::Interrupt),
            0x04 => Some(Key::EndOfInput),
            0x05 => Some(Key::End),
            0x06 => Some(Key::Right),
            0x0e => Some(Key::Down),
            0x10 => Some(Key::Up),
            0x15 => Some(Key::KillLine),
            0x17 => Some(Key::KillWord),
            0x20..=0x7e => Some(Key::Char(char::from(b))),
            0xc2..=0xdf => {
                self.state = Decode::Utf8(1, u32::from(b & 0x1f));
                None
            }
            0xe0..=0xef => {
                self.state = Decode::Utf8(2, u32::from(b & 0x0f));
                None
            }
            0xf0..=0xf4 => {
                self.state = Decode::Utf8(3, u32::from(b & 0x07));
                None
            }
            _ => None,
        }
    }
}

/// The final byte of `ESC [ x` / `ESC O x` as a key.
fn arrow(b: u8) -> Option<Key> {
    match b {
        b'A' => Some(Key::Up),
        b'B' => Some(Key::Down),
        b'C' => Some(Key::Right),
        b'D' => Some(Key::Left),
        b'H' => Some(Key::Home),
        b'F' => Some(Key::End),
        _ => None,
    }
}

/// A line being edited, and the history it can recall.
#[derive(Debug)]
pub struct Editor {
    line: Vec<char>,
    cursor: usize,
    /// Most characters a line may have (more are refused with a bell).
    max: usize,
    history: History,
    /// How far back in the history the line shown is (0 = the new line).
    back: usize,
    /// The new line, kept while browsing the history.
    draft: Vec<char>,
    decoder: Decoder,
}

impl Editor {
    /// An editor for lines of at most `max` characters.
    pub fn new(max: usize) -> Editor {
        Editor {
            line: Vec::new(),
            cursor: 0,
            max,
            history: History::new(),
            back: 0,
            draft: Vec::new(),
            decoder: Decoder::default(),
        }
    }

    /// The lines Up and Down recall.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Records a line for Up and Down (the caller decides what is worth
    /// keeping: the shell records lines after `!` expansion).
    pub fn remember(&mut self, line: &str) {
        self.history.add(line);
    }

    /// The line as it stands.
    pub fn text(&self) -> String {
        self.line.iter().collect()
    }

    /// Takes one byte from the terminal; appends to `out` what to write
    /// back; returns how the line ended, if it did.
    pub fn feed(&mut self, byte: u8, out: &mut String) -> Option<Done> {
        let key = self.decoder.key(byte)?;
        match key {
            Key::Char(c) => self.insert(c, out),
            Key::Enter => {
                out.push('\n');
                let text = self.text();
                self.reset();
                return Some(Done::Line(text));
            }
            Key::Interrupt => {
                out.push_str("^C\n");
                self.reset();
                return Some(Done::Interrupted);
            }
            Key::EndOfInput if self.line.is_empty() => {
                out.push('\n');
                self.reset();
                return Some(Done::End);
            }
            Key::EndOfInput | Key::Delete => self.delete(out),
            Key::Backspace => {
                if self.cursor > 0 {
                    self.cursor -= 1;
                    out.push('\u{8}');
                    self.delete(out);
                }
            }
            Key::Left => {
                if self.cursor > 0 {
                    self.cursor -= 1;
                    out.push('\u{8}');
                }
            }
            Key::Right => {
                if let Some(&c) = self.line.get(self.cursor) {
                    self.cursor += 1;
                    out.push(c);
                }
            }
            Key::Home => {
                move_left(out, self.cursor);
                self.cursor = 0;
            }
            Key::End => {
                out.extend(&self.line[self.cursor..]);
                self.cursor = self.line.len();
            }
            Key::Up => {
                if let Some(text) = self.history.get(self.back + 1) {
                    let text: Vec<char> = text.chars().collect();
                    if self.back == 0 {
                        self.draft = self.line.clone();
                    }
                    self.back += 1;
                    self.replace(text, out);
                }
            }
            Key::Down => {
                if self.back > 0 {
                    self.back -= 1;
                    let text = match self.back {
                        0 => core::mem::take(&mut self.draft),
                        n => self.history.get(n).unwrap_or("").chars().collect(),
                    };
                    self.replace(text, out);
                }
            }
            Key::KillLine => self.replace(Vec::new(), out),
            Key::KillWord => {
                let mut start = self.cursor;
                while start > 0 && self.line[start - 1] == ' ' {
                    start -= 1;
                }
                while start > 0 && self.line[start - 1] != ' ' {
                    start -= 1;
                }
                let mut text = self.line.clone();
                text.drain(start..self.cursor);
                let rest = self.line.len() - self.cursor;
                self.replace(text, out);
                // Put the cursor back where the word was.
                move_left(out, rest);
                self.cursor -= rest;
            }
        }
        None
    }

    fn reset(&mut self) {
        self.line.clear();
        self.cursor = 0;
        self.back = 0;
        self.draft.clear();
    }

    /// Inserts at the cursor: plain echo at the end of the line, else the
    /// rest of the line is redrawn.
    fn insert(&mut self, c: char, out: &mut String) {
        if self.line.len() >= self.max {
            out.push('\u{7}');
            return;
        }
        self.line.insert(self.cursor, c);
        self.cursor += 1;
        out.push(c);
        let rest = &self.line[self.cursor..];
        if !rest.is_empty() {
            out.extend(rest);
            move_left(out, rest.len());
        }
    }

    /// Deletes the character under the cursor (the screen's cursor is
    /// there too) and redraws the rest: Backspace at the end of the line
    /// comes out as the usual `BS SP BS`.
    fn delete(&mut self, out: &mut String) {
        if self.cursor >= self.line.len() {
            return;
        }
        self.line.remove(self.cursor);
        let rest = &self.line[self.cursor..];
        out.extend(rest);
        out.push(' ');
        move_left(out, rest.len() + 1);
    }

    /// Shows `text` instead of the line, with the cursor at its end.
    fn replace(&mut self, text: Vec<char>, out: &mut String) {
        move_left(out, self.cursor);
        out.extend(&text);
        if text.len() < self.line.len() {
            out.push_str("\u{1b}[K");
        }
        self.cursor = text.len();
        self.line = text;
    }
}

/// Moves the terminal's cursor `n` columns left.
fn move_left(out: &mut String, n: usize) {
    match n {
        0 => {}
        1 => out.push('\u{8}'),
        n => {
            let _ = write!(out, "\u{1b}[{n}D");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input`; returns the outcomes and everything written.
    fn run(ed: &mut Editor, input: &[u8]) -> (Vec<Done>, String) {
        let mut out = String::new();
        let mut done = Vec::new();
        for &b in input {
            if let Some(d) = ed.feed(b, &mut out) {
                if let Done::Line(l) = &d {
                    ed.remember(l);
                }
                done.push(d);
            }
        }
        (done, out)
    }

    fn line(s: &str) -> Done {
        Done::Line(String::from(s))
    }

    #[test]
    fn typing_echoes_exactly() {
        let mut ed = Editor::new(100);
        let (done, out) = run(&mut ed, b"ls /\r");
        assert_eq!(done, [line("ls /")]);
        assert_eq!(out, "ls /\n");
        // CR LF is one Enter; a lone LF is one too.
        let (done, _) = run(&mut ed, b"a\r\nb\n");
        assert_eq!(done, [line("a"), line("b")]);
    }

    #[test]
    fn backspace_at_end() {
        let mut ed = Editor::new(100);
        let (done, out) = run(&mut ed, b"lx\x7fs\r");
        assert_eq!(done, [line("ls")]);
        assert_eq!(out, "lx\u{8} \u{8}s\n");
        let (done, out) = run(&mut ed, b"\x7f\x08\r");
        assert_eq!(done, [line("")]);
        assert_eq!(out, "\n");
    }

    #[test]
    fn cursor_movement_and_insertion() {
        let mut ed = Editor::new(100);
        // "cat" ← ← "x" → Home "y" End "z"
        let (done, out) = run(&mut ed, b"cat\x1b[D\x1b[Dx\x1b[C\x01y\x05z\r");
        assert_eq!(done, [line("ycxatz")]);
        assert!(out.starts_with("cat\u{8}\u{8}xat\u{1b}[2D"));
        // Delete key and Ctrl-D in the middle delete under the cursor.
        let (done, _) = run(&mut ed, b"abc\x01\x1b[3~\x04\r");
        assert_eq!(done, [line("c")]);
        // Backspace in the middle.
        let (done, _) = run(&mut ed, b"abc\x02\x7f\r");
        assert_eq!(done, [line("ac")]);
    }

    #[test]
    fn history_up_and_down() {
        let mut ed = Editor::new(100);
        run(&mut ed, b"one\rtwo\r");
        // Up twice recalls "one"; Down once "two"; Down again the draft.
        let (done, _) = run(&mut ed, b"dr\x1b[A\x1b[A\r");
        assert_eq!(done, [line("one")]);
        let (done, _) = run(&mut ed, b"dr\x1b[A\x1b[A\x1b[B\x1b[B\r");
        assert_eq!(done, [line("dr")]);
        let (done, out) = run(&mut ed, b"\x1bOA\r");
        assert_eq!(done, [line("dr")]);
        assert_eq!(out, "dr\n");
        // Ctrl-P beyond the oldest stays there.
        let (done, _) = run(&mut ed, b"\x10\x10\x10\x10\x10\r");
        assert_eq!(done, [line("one")]);
        assert_eq!(ed.history().len(), 5);
    }

    #[test]
    fn recalled_shorter_line_clears_the_rest() {
        let mut ed = Editor::new(100);
        run(&mut ed, b"ls\r");
        let (_, out) = run(&mut ed, b"cat /file\x1b[A");
        assert_eq!(out, "cat /file\u{1b}[9Dls\u{1b}[K");
    }

    #[test]
    fn kill_line_and_word() {
        let mut ed = Editor::new(100);
        let (done, _) = run(&mut ed, b"rm /a\x15ls\r");
        assert_eq!(done, [line("ls")]);
        let (done, _) = run(&mut ed, b"mv /a /b  \x17/c\r");
        assert_eq!(done, [line("mv /a /c")]);
        let (done, _) = run(&mut ed, b"one two three\x02\x02\x02\x02\x02\x17X\r");
        assert_eq!(done, [line("one Xthree")]);
    }

    #[test]
    fn control_keys_end_lines() {
        let mut ed = Editor::new(100);
        let (done, out) = run(&mut ed, b"half\x03");
        assert_eq!(done, [Done::Interrupted]);
        assert_eq!(out, "half^C\n");
        let (done, _) = run(&mut ed, b"\x04");
        assert_eq!(done, [Done::End]);
        assert!(ed.history().is_empty());
    }

    #[test]
    fn limits_and_odd_input() {
        let mut ed = Editor::new(3);
        let (done, out) = run(&mut ed, b"abcd\r");
        assert_eq!(done, [line("abc")]);
        assert_eq!(out, "abc\u{7}\n");
        // Unknown escape sequences and control bytes vanish.
        let (done, _) = run(&mut ed, b"\x1b[12;5Zx\x1b[9~\x00\x07y\r");
        assert_eq!(done, [line("xy")]);
        // UTF-8 is one character; broken UTF-8 is dropped.
        let (done, _) = run(&mut ed, "é\u{7f}ü".as_bytes());
        assert_eq!(done, []);
        assert_eq!(ed.text(), "ü");
        let (done, _) = run(&mut ed, b"\r\xc3x\xff\r");
        assert_eq!(done, [line("ü"), line("x")]);
    }
}
