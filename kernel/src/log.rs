//! The kernel log: leveled lines on the kernel's serial port, each stamped
//! with the uptime. `kinfo!`, `kwarn!`, `kerror!` and `kdebug!` are the only
//! way kernel code prints.

use crate::arch::{serial::SERIAL, time};
use core::fmt::{self, Write};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
}

impl Level {
    fn label(self) -> &'static str {
        match self {
            Level::Error => "ERROR",
            Level::Warn => "WARN ",
            Level::Info => "INFO ",
            Level::Debug => "DEBUG",
        }
    }
}

/// Lines above this level are dropped.
const MAX_LEVEL: Level = Level::Info;

/// Writes one log line. Use the macros instead.
pub fn log(level: Level, args: fmt::Arguments) {
    if level > MAX_LEVEL {
        return;
    }
    let ns = time::uptime_ns();
    crate::arch::cpu::without_interrupts(|| {
        let mut serial = SERIAL.lock();
        let _ =
            writeln!(serial, "[{:>4}.{:06}] {} {}", ns / 1_000_000_000, (ns / 1_000) % 1_000_000, level.label(), args);
    });
}

/// Prints without a prefix (test results, banners).
pub fn print(args: fmt::Arguments) {
    crate::arch::cpu::without_interrupts(|| {
        let _ = SERIAL.lock().write_fmt(args);
    });
}

#[macro_export]
macro_rules! kprintln {
    () => { $crate::log::print(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::log::print(format_args!("{}\n", format_args!($($arg)*))) };
}
#[macro_export]
macro_rules! kerror {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Error, format_args!($($arg)*)) };
}
#[macro_export]
macro_rules! kwarn {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Warn, format_args!($($arg)*)) };
}
#[macro_export]
macro_rules! kinfo {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Info, format_args!($($arg)*)) };
}
#[macro_export]
macro_rules! kdebug {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Debug, format_args!($($arg)*)) };
}
