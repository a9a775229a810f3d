//! The console server, as the shell uses it (`libipc::console` is the
//! protocol): read one line, and have Ctrl-C delivered as a pulse while a
//! program runs in the foreground.
//!
//! Two ways to read a line:
//! - **raw** (with history): the shell asks the console for raw bytes
//!   (`read_raw`: no echo, no editing) and edits them itself with
//!   `shell::editor`, which recalls earlier lines with Up/Down and moves the
//!   cursor; it echoes through its own output. Bytes that arrive after a
//!   line's end wait here for the next line.
//! - **cooked**: the console's own line editor (`read_line`: echo,
//!   Backspace, Ctrl-U/W; arrow keys are dropped, so lines are recalled
//!   with `!!`, `!N`, `!text` instead: `shell::history`).
//!
//! Raw mode needs the console to keep bytes typed while no reader waits
//! for the next reader to take as it wants (it does: waiting bytes follow
//! the last reader's mode); a console that ran them through its line editor
//! instead would swallow what is typed between two raw reads.
//! [`RAW_BY_DEFAULT`] says which the shell starts with; the words `raw` /
//! `cooked` in its arguments choose.
//!
//! The connection is looked up by name when first needed and again after
//! an error (the console may have been restarted by init).

use alloc::collections::VecDeque;
use alloc::string::String;

use libipc::console::{self, Input, PULSE_INTERRUPT};
use libipc::ipc::Channel;
use libipc::{print, Result};
use shell::editor::{Done, Editor};
use shell::history::History;

/// Whether the shell reads raw bytes and edits lines itself (see the
/// module documentation).
pub const RAW_BY_DEFAULT: bool = true;
/// Bytes asked for in one raw read.
const RAW_CHUNK: usize = 64;

/// The pulse code the console sends on Ctrl-C to a subscriber.
pub const INTERRUPT_PULSE: u64 = PULSE_INTERRUPT;

/// What one read gave.
pub enum Line {
    /// A line (without its newline).
    Text(String),
    /// Ctrl-C at the prompt: the line was dropped.
    Interrupted,
    /// Ctrl-D on an empty line.
    End,
}

/// The shell's side of the console.
pub struct Console {
    conn: Option<console::Console>,
    raw: bool,
    editor: Editor,
    /// Raw bytes read but not yet edited (typed after a line's end).
    pending: VecDeque<u8>,
}

impl Console {
    /// A console reader, raw or cooked; the connection is made on first use.
    pub fn new(raw: bool) -> Console {
        Console { conn: None, raw, editor: Editor::new(console::MAX_LINE), pending: VecDeque::new() }
    }

    /// The connection, looked up if there is none.
    fn conn(&mut self) -> Result<&console::Console> {
        if self.conn.is_none() {
            self.conn = Some(console::Console::connect()?);
        }
        self.conn.as_ref().ok_or(libipc::Error::BadState)
    }

    /// Drops the connection after an error, so the next call looks the
    /// console up again.
    fn forget<T>(&mut self, r: Result<T>) -> Result<T> {
        if r.is_err() {
            self.conn = None;
        }
        r
    }

    /// The lines recorded so far (for Up/Down, `history` and `!`).
    pub fn history(&self) -> &History {
        self.editor.history()
    }

    /// Records a line that was run.
    pub fn remember(&mut self, line: &str) {
        self.editor.remember(line);
    }

    /// Shows `prompt` and reads one line.
    pub fn read_line(&mut self, prompt: &str) -> Result<Line> {
        if !prompt.is_empty() {
            print!("{prompt}");
        }
        let r = if self.raw { self.read_raw_line() } else { self.read_cooked_line() };
        self.forget(r)
    }

    fn read_cooked_line(&mut self) -> Result<Line> {
        Ok(match self.conn()?.read_line()? {
            Input::Line(bytes) => Line::Text(String::from_utf8_lossy(&bytes).into_owned()),
            Input::Interrupted => Line::Interrupted,
            Input::EndOfInput => Line::End,
        })
    }

    fn read_raw_line(&mut self) -> Result<Line> {
        let mut echo = String::new();
        loop {
            while let Some(b) = self.pending.pop_front() {
                let done = self.editor.feed(b, &mut echo);
                if let Some(done) = done {
                    print!("{echo}");
                    return Ok(match done {
                        Done::Line(text) => Line::Text(text),
                        Done::Interrupted => Line::Interrupted,
                        Done::End => Line::End,
                    });
                }
            }
            if !echo.is_empty() {
                print!("{echo}");
                echo.clear();
            }
            let bytes = self.conn()?.read_raw(RAW_CHUNK)?;
            self.pending.extend(bytes);
        }
    }

    /// Asks the console to pulse [`INTERRUPT_PULSE`] on `events` at every
    /// Ctrl-C (typed while the shell is not reading: a foreground program
    /// runs). One subscriber at a time; the shell is the only one.
    pub fn watch_interrupts(&mut self, events: &Channel) -> Result<()> {
        let notify = events.connect()?;
        let r = self.conn()?.subscribe_interrupts(&notify);
        self.forget(r)
    }

    /// Stops what [`watch_interrupts`](Self::watch_interrupts) started.
    pub fn unwatch_interrupts(&mut self) -> Result<()> {
        let r = self.conn()?.unsubscribe_interrupts();
        self.forget(r)
    }
}
