//! Program output. Everything a program prints goes through
//! [`write_stdout`]: to the console server once it can be found (looked up
//! by name on first use and cached, see [`console`](crate::console)), else
//! to the kernel log (`debug_write`): before the console is up, in init and
//! the console itself ([`console::use_kernel_log`](crate::console::use_kernel_log)),
//! in processes without a name service, and while a dead console is being
//! restarted. `print!`/`println!` format into a [`LineWriter`] on the
//! stack, so one `println!` is one message (up to [`LINE_MAX`] bytes): lines
//! from different threads or processes never mix, and printing needs no
//! heap (it works in the panic handler).
#![forbid(unsafe_code)]

use core::fmt;

/// Bytes one `print!` gathers before writing; longer output is written in
/// pieces of this size.
pub const LINE_MAX: usize = 512;

/// Writes bytes to the program's output: the console if it takes them,
/// else (or whatever it did not take) the kernel log. Errors are dropped:
/// there is nowhere else to report them.
#[cfg(not(test))]
pub fn write_stdout(bytes: &[u8]) {
    let done = crate::console::write_stdout(bytes);
    write_kernel_log(bytes.get(done..).unwrap_or(&[]));
}

/// Writes bytes to the kernel log (`debug_write`), bypassing the console.
#[cfg(not(test))]
pub fn write_kernel_log(bytes: &[u8]) {
    /// Most bytes handed to the kernel in one `debug_write` (it takes at
    /// most 64 KiB).
    const WRITE_MAX: usize = 16 * 1024;
    let mut rest = bytes;
    while !rest.is_empty() {
        let piece = &rest[..rest.len().min(WRITE_MAX)];
        match crate::sys::debug_write(piece) {
            Ok(n) if n > 0 && n <= piece.len() => rest = &rest[n..],
            _ => return,
        }
    }
}

/// Host tests: output is captured per test thread instead.
#[cfg(test)]
pub fn write_stdout(bytes: &[u8]) {
    tests::CAPTURED.with(|c| c.borrow_mut().push(bytes.to_vec()));
}

/// Gathers formatted output in a fixed buffer and writes it with as few
/// calls as possible.
pub struct LineWriter {
    buf: [u8; LINE_MAX],
    len: usize,
}

impl LineWriter {
    /// An empty writer.
    pub const fn new() -> LineWriter {
        LineWriter { buf: [0; LINE_MAX], len: 0 }
    }

    /// Writes what is buffered.
    pub fn flush(&mut self) {
        write_stdout(&self.buf[..self.len]);
        self.len = 0;
    }

    /// Appends a newline and writes everything.
    pub fn finish_line(&mut self) {
        let _ = fmt::Write::write_str(self, "\n");
        self.flush();
    }
}

impl Default for LineWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Write for LineWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s.as_bytes();
        while !rest.is_empty() {
            if self.len == LINE_MAX {
                self.flush();
            }
            let n = rest.len().min(LINE_MAX - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&rest[..n]);
            self.len += n;
            rest = &rest[n..];
        }
        Ok(())
    }
}

#[doc(hidden)]
pub fn _print(args: fmt::Arguments<'_>, newline: bool) {
    let mut w = LineWriter::new();
    let _ = fmt::Write::write_fmt(&mut w, args);
    if newline {
        w.finish_line();
    } else {
        w.flush();
    }
}

/// Prints to the program's output (see [`write_stdout`]).
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::io::_print(format_args!($($arg)*), false) };
}

/// Prints a line to the program's output, in one write when it fits
/// [`LINE_MAX`](crate::io::LINE_MAX).
#[macro_export]
macro_rules! println {
    () => { $crate::io::_print(format_args!(""), true) };
    ($($arg:tt)*) => { $crate::io::_print(format_args!($($arg)*), true) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    std::thread_local! {
        pub static CAPTURED: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
    }

    fn take() -> Vec<Vec<u8>> {
        CAPTURED.with(|c| core::mem::take(&mut *c.borrow_mut()))
    }

    #[test]
    fn one_line_is_one_write() {
        crate::println!("pid {} says {}", 7, "hi");
        assert_eq!(take(), [b"pid 7 says hi\n".to_vec()]);
        crate::print!("");
        crate::println!();
        assert_eq!(take(), [b"".to_vec(), b"\n".to_vec()]);
    }

    #[test]
    fn long_output_is_split_at_line_max() {
        let long = "x".repeat(LINE_MAX + 10);
        crate::println!("{long}");
        let writes = take();
        assert_eq!(writes.len(), 2);
        assert_eq!(writes[0].len(), LINE_MAX);
        assert_eq!(writes[1].len(), 11);
        assert_eq!(writes.concat(), format!("{long}\n").into_bytes());
    }
}
