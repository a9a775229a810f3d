//! The line discipline: turns typed bytes into edited lines and control
//! events, and says what to echo. Pure logic (no UART, no IPC), tested on
//! the host.
//!
//! | byte | effect | echo |
//! |---|---|---|
//! | printable, UTF-8 | appended (a bell if the line is full) | the byte |
//! | Tab | appended as a space | a space |
//! | `\r` or `\n` | the line is complete ([`Event::Line`]); `\n` right after `\r` is ignored | `\r\n` |
//! | Backspace (0x08), Delete (0x7f) | removes the last character | `\b \b` |
//! | Ctrl-U | removes the whole line | `\b \b` per character |
//! | Ctrl-W | removes the last word and the spaces after it | `\b \b` per character |
//! | Ctrl-C | drops the line, [`Event::Interrupt`] | `^C\r\n` |
//! | Ctrl-D | on an empty line: [`Event::EndOfInput`]; else nothing | `^D\r\n` |
//! | `ESC [ ...` / `ESC O x` | the escape sequence (arrow keys, ...) is dropped | — |
//! | other control bytes | dropped | — |
//!
//! Echo is one column per character, which is right for ASCII and for most
//! of what a serial terminal shows.

use alloc::vec::Vec;

/// Ctrl-C.
pub const CTRL_C: u8 = 0x03;
/// Ctrl-D.
pub const CTRL_D: u8 = 0x04;
/// Ctrl-U.
pub const CTRL_U: u8 = 0x15;
/// Ctrl-W.
pub const CTRL_W: u8 = 0x17;
/// Escape.
pub const ESC: u8 = 0x1b;
/// Backspace.
pub const BS: u8 = 0x08;
/// Delete (what most terminals send for the Backspace key).
pub const DEL: u8 = 0x7f;
/// The bell, echoed when a byte cannot be taken.
pub const BELL: u8 = 0x07;

/// What a byte completed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A line (without its end).
    Line(Vec<u8>),
    /// Ctrl-C.
    Interrupt,
    /// Ctrl-D on an empty line.
    EndOfInput,
}

/// Where the editor is in an escape sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Escape {
    /// Not in one.
    None,
    /// After ESC.
    Start,
    /// After `ESC [`: parameters until a final byte 0x40..=0x7e.
    Csi,
    /// After `ESC O`: one more byte.
    Ss3,
}

/// The line being typed.
#[derive(Debug)]
pub struct LineEditor {
    line: Vec<u8>,
    max: usize,
    escape: Escape,
    /// The last byte was `\r` (so a following `\n` is the same line end).
    after_cr: bool,
}

impl LineEditor {
    /// An empty line that may grow to `max` bytes.
    pub fn new(max: usize) -> LineEditor {
        LineEditor { line: Vec::new(), max, escape: Escape::None, after_cr: false }
    }

    /// What has been typed of the current line.
    pub fn current(&self) -> &[u8] {
        &self.line
    }

    /// Forgets the current line (echoing nothing).
    pub fn clear(&mut self) {
        self.line.clear();
    }

    /// Takes one typed byte; appends what to show to `echo` when `show` is
    /// true (Ctrl-C and line ends are shown either way, so the terminal
    /// moves on to the next line).
    pub fn feed(&mut self, byte: u8, show: bool, echo: &mut Vec<u8>) -> Option<Event> {
        let after_cr = core::mem::replace(&mut self.after_cr, false);
        match self.escape {
            Escape::None => {}
            Escape::Start => {
                self.escape = match byte {
                    b'[' => Escape::Csi,
                    b'O' => Escape::Ss3,
                    _ => Escape::None,
                };
                return None;
            }
            Escape::Csi => {
                if (0x40..=0x7e).contains(&byte) {
                    self.escape = Escape::None;
                }
                return None;
            }
            Escape::Ss3 => {
                self.escape = Escape::None;
                return None;
            }
        }
        match byte {
            b'\r' | b'\n' => {
                if byte == b'\n' && after_cr {
                    return None;
                }
                self.after_cr = byte == b'\r';
                echo.extend_from_slice(b"\r\n");
                Some(Event::Line(core::mem::take(&mut self.line)))
            }
            CTRL_C => {
                self.line.clear();
                echo.extend_from_slice(b"^C\r\n");
                Some(Event::Interrupt)
            }
            CTRL_D => {
                if !self.line.is_empty() {
                    return None;
                }
                if show {
                    echo.extend_from_slice(b"^D\r\n");
                }
                Some(Event::EndOfInput)
            }
            BS | DEL => {
                let n = self.erase_chars(1);
                rub_out(n, show, echo);
                None
            }
            CTRL_U => {
                let n = self.erase_chars(usize::MAX);
                rub_out(n, show, echo);
                None
            }
            CTRL_W => {
                let n = self.erase_word();
                rub_out(n, show, echo);
                None
            }
            ESC => {
                self.escape = Escape::Start;
                None
            }
            b'\t' => self.insert(b' ', show, echo),
            0x00..=0x1f => None,
            _ => self.insert(byte, show, echo),
        }
    }

    fn insert(&mut self, byte: u8, show: bool, echo: &mut Vec<u8>) -> Option<Event> {
        if self.line.len() >= self.max {
            echo.push(BELL);
            return None;
        }
        self.line.push(byte);
        if show {
            echo.push(byte);
        }
        None
    }

    /// Removes up to `n` characters (UTF-8 sequences count as one) from the
    /// end; returns how many were removed.
    fn erase_chars(&mut self, n: usize) -> usize {
        let mut removed = 0;
        while removed < n {
            let Some(last) = self.line.pop() else { break };
            // Continuation bytes belong to the character before them.
            if last & 0xc0 == 0x80 {
                while self.line.last().is_some_and(|&b| b & 0xc0 == 0x80) {
                    self.line.pop();
                }
                if self.line.last().is_some_and(|&b| b >= 0xc0) {
                    self.line.pop();
                }
            }
            removed += 1;
        }
        removed
    }

    /// Removes the spaces at the end, then the word before them; returns the
    /// characters removed.
    fn erase_word(&mut self) -> usize {
        let mut removed = 0;
        while self.line.last() == Some(&b' ') {
            removed += self.erase_chars(1);
        }
        while self.line.last().is_some_and(|&b| b != b' ') {
            removed += self.erase_chars(1);
        }
        removed
    }
}

/// Echoes the erasure of `n` characters.
fn rub_out(n: usize, show: bool, echo: &mut Vec<u8>) {
    if show {
        for _ in 0..n {
            echo.extend_from_slice(b"\x08 \x08");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// Feeds `input`; returns the events and the echo.
    fn type_in(ed: &mut LineEditor, input: &[u8]) -> (Vec<Event>, Vec<u8>) {
        let mut echo = Vec::new();
        let events = input.iter().filter_map(|&b| ed.feed(b, true, &mut echo)).collect();
        (events, echo)
    }

    fn line(s: &str) -> Event {
        Event::Line(s.as_bytes().to_vec())
    }

    #[test]
    fn typed_line_is_echoed_and_completed() {
        let mut ed = LineEditor::new(64);
        let (events, echo) = type_in(&mut ed, b"ls /\r");
        assert_eq!(events, vec![line("ls /")]);
        assert_eq!(echo, b"ls /\r\n");
        assert!(ed.current().is_empty());
    }

    #[test]
    fn crlf_is_one_line_end_but_lf_lf_is_two() {
        let mut ed = LineEditor::new(64);
        let (events, _) = type_in(&mut ed, b"a\r\nb\n\nc\r\r");
        assert_eq!(events, vec![line("a"), line("b"), line(""), line("c"), line("")]);
    }

    #[test]
    fn backspace_and_delete_erase_one_character() {
        let mut ed = LineEditor::new(64);
        let (events, echo) = type_in(&mut ed, b"cax\x7f\x08t\r");
        assert_eq!(events, vec![line("ct")]);
        assert_eq!(echo, b"cax\x08 \x08\x08 \x08t\r\n");
        // Backspace on an empty line echoes nothing.
        let (events, echo) = type_in(&mut ed, b"\x7f\x7fa\r");
        assert_eq!((events, echo), (vec![line("a")], b"a\r\n".to_vec()));
    }

    #[test]
    fn backspace_removes_a_whole_utf8_character() {
        let mut ed = LineEditor::new(64);
        let (events, echo) = type_in(&mut ed, "aé€\x7f\x7f\r".as_bytes());
        assert_eq!(events, vec![line("a")]);
        // Two characters rubbed out, one column each.
        assert!(echo.ends_with(b"\x08 \x08\x08 \x08\r\n"));
    }

    #[test]
    fn ctrl_c_drops_the_line_and_interrupts() {
        let mut ed = LineEditor::new(64);
        let (events, echo) = type_in(&mut ed, b"rm -r /\x03ls\r");
        assert_eq!(events, vec![Event::Interrupt, line("ls")]);
        assert_eq!(echo, b"rm -r /^C\r\nls\r\n");
    }

    #[test]
    fn ctrl_d_ends_input_only_on_an_empty_line() {
        let mut ed = LineEditor::new(64);
        let (events, echo) = type_in(&mut ed, b"ab\x04\r\x04");
        assert_eq!(events, vec![line("ab"), Event::EndOfInput]);
        assert_eq!(echo, b"ab\r\n^D\r\n");
    }

    #[test]
    fn ctrl_u_kills_the_line_and_ctrl_w_the_last_word() {
        let mut ed = LineEditor::new(64);
        let (events, echo) = type_in(&mut ed, b"abc\x15x\r");
        assert_eq!(events, vec![line("x")]);
        assert_eq!(echo, b"abc\x08 \x08\x08 \x08\x08 \x08x\r\n");
        let (events, _) = type_in(&mut ed, b"cat one two  \x17three\r");
        assert_eq!(events, vec![line("cat one three")]);
        let (events, _) = type_in(&mut ed, b"word\x17\x17\x17x\r");
        assert_eq!(events, vec![line("x")]);
    }

    #[test]
    fn long_lines_stop_at_the_limit_with_a_bell() {
        let mut ed = LineEditor::new(4);
        let (events, echo) = type_in(&mut ed, b"abcdef\r");
        assert_eq!(events, vec![line("abcd")]);
        assert_eq!(echo, b"abcd\x07\x07\r\n");
        // Room again after erasing.
        let (events, _) = type_in(&mut ed, b"abcd\x7fz\r");
        assert_eq!(events, vec![line("abcz")]);
    }

    #[test]
    fn escape_sequences_and_control_bytes_are_dropped() {
        let mut ed = LineEditor::new(64);
        // Up arrow, Right arrow (SS3 form), a parameterised CSI, ESC x, NUL, Ctrl-A.
        let (events, echo) = type_in(&mut ed, b"a\x1b[A\x1bOCb\x1b[1;5Dc\x1bxd\x00\x01e\r");
        assert_eq!(events, vec![line("abcde")]);
        assert_eq!(echo, b"abcde\r\n");
    }

    #[test]
    fn tabs_become_spaces() {
        let mut ed = LineEditor::new(64);
        let (events, echo) = type_in(&mut ed, b"a\tb\r");
        assert_eq!((events, echo), (vec![line("a b")], b"a b\r\n".to_vec()));
    }

    #[test]
    fn without_echo_only_line_ends_and_interrupts_show() {
        let mut ed = LineEditor::new(64);
        let mut echo = Vec::new();
        let events: Vec<_> = b"secret\x7f\r\x03".iter().filter_map(|&b| ed.feed(b, false, &mut echo)).collect();
        assert_eq!(events, vec![line("secre"), Event::Interrupt]);
        assert_eq!(echo, b"\r\n^C\r\n");
    }
}
