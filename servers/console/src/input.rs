//! The input side of the console: who is waiting to read, what has been
//! typed, and what Ctrl-C does. Pure logic: the server feeds it requests
//! and typed bytes and carries out the [`Action`]s it returns (replies,
//! echo, the interrupt pulse), so every rule below is tested on the host.
//!
//! Input is kept in one of two modes, and the reader decides which: the
//! reader at the front of the queue, or while nobody waits, the kind of the
//! last reader (line readers at first).
//!
//! - **Cooked** (`read_line`): typed bytes go through the [`LineEditor`]
//!   with echo (unless the front reader asked for none); finished lines
//!   (and Ctrl-D) go to the line readers in order, or wait (at most
//!   [`MAX_READY`]) for the next `read_line`.
//! - **Raw** (`read_raw`, for a program that edits lines itself): bytes
//!   are kept as typed, unechoed (at most [`MAX_RAW`]), and each raw read
//!   takes what waits, up to what it asked for, or blocks for the next.
//!
//! When the mode changes, what waits is carried over: lines typed ahead
//! become raw bytes again (each with its `\r`), and raw bytes go through
//! the line editor (echoed then).
//!
//! Ctrl-C: to a raw reader that waits, it is a byte like any other.
//! Otherwise it drops the line being typed and everything typed ahead,
//! answers every waiting line reader [`LineStatus::Interrupted`], and asks
//! the server to pulse the subscriber ([`Action::Interrupt`]): so the
//! shell learns of it while a program runs in the foreground, in either
//! mode.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use libipc::console::LineStatus;

use crate::line::{Event, LineEditor, BELL, CTRL_C, CTRL_D};

/// Finished lines kept for a `read_line` that has not come yet.
pub const MAX_READY: usize = 32;
/// Raw bytes kept for a `read_raw` that has not come yet.
pub const MAX_RAW: usize = 4096;
/// Readers that may wait at once.
pub const MAX_READERS: usize = 16;

/// A blocked reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reader {
    Line { rcvid: u64, echo: bool },
    Raw { rcvid: u64, max: usize },
}

/// How typed input is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Cooked,
    Raw,
}

/// What the server must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Answer `rcvid` with `status` and `data`.
    Reply { rcvid: u64, status: i64, data: Vec<u8> },
    /// Refuse `rcvid`: too many readers wait already.
    Busy { rcvid: u64 },
    /// Send these bytes to the terminal as they are.
    Echo(Vec<u8>),
    /// Ctrl-C: pulse the subscriber.
    Interrupt,
}

/// Counters for `STATS`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub lines: u64,
    pub interrupts: u64,
    pub dropped: u64,
}

/// Readers, the line being typed and the input waiting.
#[derive(Debug)]
pub struct Input {
    editor: LineEditor,
    /// Cooked mode: finished lines waiting.
    ready: VecDeque<Event>,
    /// Raw mode: bytes waiting.
    raw: VecDeque<u8>,
    mode: Mode,
    readers: VecDeque<Reader>,
    pub counters: Counters,
}

impl Input {
    /// Nothing typed, nobody waiting, cooked; lines up to `max_line` bytes.
    pub fn new(max_line: usize) -> Input {
        Input {
            editor: LineEditor::new(max_line),
            ready: VecDeque::new(),
            raw: VecDeque::new(),
            mode: Mode::Cooked,
            readers: VecDeque::new(),
            counters: Counters::default(),
        }
    }

    /// A `read_line` from `rcvid`: answered now if a line waits, else queued.
    pub fn read_line(&mut self, rcvid: u64, echo: bool) -> Vec<Action> {
        self.enqueue(Reader::Line { rcvid, echo })
    }

    /// A `read_raw` of at most `max` bytes from `rcvid`: answered now if
    /// bytes wait, else queued.
    pub fn read_raw(&mut self, rcvid: u64, max: usize) -> Vec<Action> {
        self.enqueue(Reader::Raw { rcvid, max: max.max(1) })
    }

    fn enqueue(&mut self, reader: Reader) -> Vec<Action> {
        if self.readers.len() >= MAX_READERS {
            let (Reader::Line { rcvid, .. } | Reader::Raw { rcvid, .. }) = reader;
            return alloc::vec![Action::Busy { rcvid }];
        }
        self.readers.push_back(reader);
        let mut actions = Vec::new();
        self.settle(&mut actions);
        actions
    }

    /// Bytes typed (or injected, or looped back).
    pub fn typed(&mut self, bytes: &[u8]) -> Vec<Action> {
        let mut actions = Vec::new();
        match self.mode {
            Mode::Raw => self.typed_raw(bytes, &mut actions),
            Mode::Cooked => self.typed_cooked(bytes, &mut actions),
        }
        self.settle(&mut actions);
        actions
    }

    fn typed_raw(&mut self, bytes: &[u8], actions: &mut Vec<Action>) {
        let reader_waits = matches!(self.readers.front(), Some(Reader::Raw { .. }));
        for &b in bytes {
            if b == CTRL_C && !reader_waits {
                self.raw.clear();
                self.interrupt(actions);
            } else if self.raw.len() < MAX_RAW {
                self.raw.push_back(b);
            } else {
                self.counters.dropped += 1;
            }
        }
    }

    fn typed_cooked(&mut self, bytes: &[u8], actions: &mut Vec<Action>) {
        let mut echo = Vec::new();
        for (i, &byte) in bytes.iter().enumerate() {
            let show = match self.readers.front() {
                Some(Reader::Line { echo, .. }) => *echo,
                _ => true,
            };
            match self.editor.feed(byte, show, &mut echo) {
                None => {}
                Some(Event::Interrupt) => {
                    flush_echo(&mut echo, actions);
                    self.ready.clear();
                    self.interrupt(actions);
                }
                Some(event) if self.ready.len() < MAX_READY => {
                    self.ready.push_back(event);
                    // Serve at once, so the next byte's echo follows the
                    // reader that is then at the front.
                    flush_echo(&mut echo, actions);
                    self.settle(actions);
                    if self.mode == Mode::Raw {
                        // A raw reader came to the front: the rest is raw.
                        self.typed_raw(&bytes[i + 1..], actions);
                        return;
                    }
                }
                Some(_) => {
                    self.counters.dropped += 1;
                    echo.push(BELL);
                }
            }
        }
        flush_echo(&mut echo, actions);
    }

    /// Ctrl-C (not taken as data): line readers are interrupted and the
    /// subscriber pulsed.
    fn interrupt(&mut self, actions: &mut Vec<Action>) {
        self.counters.interrupts += 1;
        self.readers.retain(|r| match *r {
            Reader::Line { rcvid, .. } => {
                actions.push(Action::Reply { rcvid, status: LineStatus::Interrupted as i64, data: Vec::new() });
                false
            }
            Reader::Raw { .. } => true,
        });
        actions.push(Action::Interrupt);
    }

    /// Serves the readers at the front from what waits, switching modes as
    /// the front reader needs.
    fn settle(&mut self, actions: &mut Vec<Action>) {
        while let Some(&front) = self.readers.front() {
            match front {
                Reader::Line { rcvid, .. } => {
                    if self.mode != Mode::Cooked {
                        // May serve readers itself: look at the front again.
                        self.switch(Mode::Cooked, actions);
                        continue;
                    }
                    let Some(event) = self.ready.pop_front() else { return };
                    self.readers.pop_front();
                    actions.push(self.answer(rcvid, event));
                }
                Reader::Raw { rcvid, max } => {
                    if self.mode != Mode::Raw {
                        self.switch(Mode::Raw, actions);
                        continue;
                    }
                    if self.raw.is_empty() {
                        return;
                    }
                    let n = self.raw.len().min(max);
                    let data: Vec<u8> = self.raw.drain(..n).collect();
                    self.readers.pop_front();
                    actions.push(Action::Reply { rcvid, status: n as i64, data });
                }
            }
        }
    }

    /// Carries what waits over to mode `to`.
    fn switch(&mut self, to: Mode, actions: &mut Vec<Action>) {
        self.mode = to;
        match to {
            Mode::Raw => {
                for event in self.ready.drain(..) {
                    match event {
                        Event::Line(line) => {
                            self.raw.extend(line);
                            self.raw.push_back(b'\r');
                        }
                        Event::EndOfInput => self.raw.push_back(CTRL_D),
                        Event::Interrupt => {}
                    }
                }
                self.raw.extend(self.editor.current());
                self.editor.clear();
            }
            Mode::Cooked => {
                let bytes: Vec<u8> = self.raw.drain(..).collect();
                self.typed_cooked(&bytes, actions);
            }
        }
    }

    fn answer(&mut self, rcvid: u64, event: Event) -> Action {
        match event {
            Event::Line(data) => {
                self.counters.lines += 1;
                Action::Reply { rcvid, status: LineStatus::Line as i64, data }
            }
            Event::EndOfInput => Action::Reply { rcvid, status: LineStatus::EndOfInput as i64, data: Vec::new() },
            Event::Interrupt => Action::Reply { rcvid, status: LineStatus::Interrupted as i64, data: Vec::new() },
        }
    }

    /// Readers waiting.
    pub fn waiting(&self) -> usize {
        self.readers.len()
    }
}

/// Echo must reach the terminal before the replies that follow it.
fn flush_echo(echo: &mut Vec<u8>, actions: &mut Vec<Action>) {
    if !echo.is_empty() {
        actions.push(Action::Echo(core::mem::take(echo)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn line(rcvid: u64, s: &str) -> Action {
        Action::Reply { rcvid, status: LineStatus::Line as i64, data: s.as_bytes().to_vec() }
    }

    fn status(rcvid: u64, s: LineStatus) -> Action {
        Action::Reply { rcvid, status: s as i64, data: Vec::new() }
    }

    fn echo(s: &[u8]) -> Action {
        Action::Echo(s.to_vec())
    }

    #[test]
    fn a_waiting_reader_gets_the_line_after_its_echo() {
        let mut input = Input::new(64);
        assert_eq!(input.read_line(7, true), vec![]);
        assert_eq!(input.typed(b"ls"), vec![echo(b"ls")]);
        assert_eq!(input.typed(b"\r"), vec![echo(b"\r\n"), line(7, "ls")]);
        assert_eq!(input.waiting(), 0);
        assert_eq!(input.counters.lines, 1);
    }

    #[test]
    fn lines_typed_ahead_wait_in_order() {
        let mut input = Input::new(64);
        input.typed(b"one\rtwo\r\x04");
        assert_eq!(input.read_line(1, true), vec![line(1, "one")]);
        assert_eq!(input.read_line(2, true), vec![line(2, "two")]);
        assert_eq!(input.read_line(3, true), vec![status(3, LineStatus::EndOfInput)]);
        assert_eq!(input.read_line(4, true), vec![]);
    }

    #[test]
    fn ctrl_c_interrupts_every_line_reader_and_the_subscriber() {
        let mut input = Input::new(64);
        input.typed(b"queued\r");
        input.read_line(1, true); // takes "queued"
        input.typed(b"stale\r");
        input.read_line(2, true);
        input.read_line(3, true); // 2 got "stale"; 3 waits
        let actions = input.typed(b"half\x03");
        assert_eq!(actions, vec![echo(b"half^C\r\n"), status(3, LineStatus::Interrupted), Action::Interrupt]);
        assert_eq!(input.waiting(), 0);
        assert_eq!(input.counters.interrupts, 1);
    }

    #[test]
    fn ctrl_c_drops_lines_typed_ahead() {
        let mut input = Input::new(64);
        input.typed(b"a\rb\r\x03");
        assert_eq!(input.read_line(9, true), vec![]);
        assert_eq!(input.typed(b"c\r"), vec![echo(b"c\r\n"), line(9, "c")]);
    }

    #[test]
    fn ctrl_c_with_nobody_reading_still_pulses() {
        let mut input = Input::new(64);
        assert_eq!(input.typed(b"\x03"), vec![echo(b"^C\r\n"), Action::Interrupt]);
    }

    #[test]
    fn raw_readers_take_bytes_unechoed_and_unedited() {
        let mut input = Input::new(64);
        input.read_raw(5, 2);
        input.read_line(6, true);
        // 5 takes two bytes as they are (Ctrl-C too); the rest is edited for 6.
        let actions = input.typed(b"\x03xab\r");
        assert_eq!(
            actions,
            vec![Action::Reply { rcvid: 5, status: 2, data: b"\x03x".to_vec() }, echo(b"ab\r\n"), line(6, "ab"),]
        );
        assert_eq!(input.counters.interrupts, 0);
    }

    #[test]
    fn no_echo_readers_see_no_echo() {
        let mut input = Input::new(64);
        input.read_line(1, false);
        assert_eq!(input.typed(b"pw\r"), vec![echo(b"\r\n"), line(1, "pw")]);
    }

    #[test]
    fn too_many_readers_are_refused() {
        let mut input = Input::new(64);
        for r in 0..MAX_READERS as u64 {
            assert_eq!(input.read_line(r, true), vec![]);
        }
        assert_eq!(input.read_line(99, true), vec![Action::Busy { rcvid: 99 }]);
        assert_eq!(input.read_raw(98, 1), vec![Action::Busy { rcvid: 98 }]);
    }

    #[test]
    fn lines_beyond_the_backlog_are_dropped_with_a_bell() {
        let mut input = Input::new(8);
        let many: Vec<u8> = (0..MAX_READY + 2).flat_map(|_| b"x\r".iter().copied()).collect();
        let actions = input.typed(&many);
        assert_eq!(input.counters.dropped, 2);
        assert!(matches!(actions.last(), Some(Action::Echo(e)) if e.contains(&BELL)));
        for r in 0..MAX_READY as u64 {
            assert_eq!(input.read_line(r, true), vec![line(r, "x")]);
        }
        assert_eq!(input.read_line(100, true), vec![]);
    }

    #[test]
    fn long_input_is_capped_at_the_line_limit() {
        let mut input = Input::new(libipc::console::MAX_LINE);
        input.read_line(1, false);
        let long = vec![b'y'; 5000];
        input.typed(&long);
        let actions = input.typed(b"\r");
        match actions.last() {
            Some(Action::Reply { rcvid: 1, data, .. }) => assert_eq!(data.len(), libipc::console::MAX_LINE),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn raw_bytes_typed_between_raw_reads_wait_for_the_next() {
        let mut input = Input::new(64);
        assert_eq!(input.read_raw(1, 4), vec![]);
        assert_eq!(input.typed(b"abcdefgh"), vec![Action::Reply { rcvid: 1, status: 4, data: b"abcd".to_vec() }]);
        // Nobody reads: raw stays the mode, nothing is echoed.
        assert_eq!(input.typed(b"ij\r"), vec![]);
        assert_eq!(input.read_raw(2, 64), vec![Action::Reply { rcvid: 2, status: 7, data: b"efghij\r".to_vec() }]);
    }

    #[test]
    fn ctrl_c_in_raw_mode_is_data_to_a_reader_else_an_interrupt() {
        let mut input = Input::new(64);
        input.read_raw(1, 8);
        assert_eq!(input.typed(b"x\x03"), vec![Action::Reply { rcvid: 1, status: 2, data: b"x\x03".to_vec() }]);
        // A program runs in the foreground; the shell does not read.
        assert_eq!(input.typed(b"typed ahead\x03"), vec![Action::Interrupt]);
        assert_eq!(input.counters.interrupts, 1);
        assert_eq!(input.read_raw(2, 8), vec![], "what was typed before Ctrl-C is dropped");
    }

    #[test]
    fn modes_carry_what_waits_over() {
        let mut input = Input::new(64);
        // Cooked lines typed ahead come back raw, with their line ends.
        input.typed(b"one\rtw");
        assert_eq!(input.read_raw(1, 64), vec![Action::Reply { rcvid: 1, status: 6, data: b"one\rtw".to_vec() }]);
        // Raw bytes typed ahead go through the editor for a line reader.
        input.typed(b"ab\x7fc\rd");
        let actions = input.read_line(2, true);
        assert_eq!(actions, vec![echo(b"ab\x08 \x08c\r\n"), line(2, "ac"), echo(b"d")]);
        assert_eq!(input.read_line(3, true), vec![]);
        assert_eq!(input.typed(b"e\r"), vec![echo(b"e\r\n"), line(3, "de")]);
    }

    #[test]
    fn a_line_then_raw_reader_split_one_burst() {
        let mut input = Input::new(64);
        input.read_line(1, true);
        input.read_raw(2, 64);
        let actions = input.typed(b"ls\rxyz");
        assert_eq!(
            actions,
            vec![echo(b"ls\r\n"), line(1, "ls"), Action::Reply { rcvid: 2, status: 3, data: b"xyz".to_vec() }]
        );
    }
}
