//! The COM1 UART (16550 at port 0x3f8) and the `log!` macro that prints
//! `boot: `-prefixed progress lines on it.

use core::fmt;

use crate::cpu::{inb, outb};

const COM1: u16 = 0x3f8;

/// Programs COM1 for 115200 baud, 8N1, FIFOs on, interrupts off.
pub fn init() {
    outb(COM1 + 1, 0x00); // no interrupts
    outb(COM1 + 3, 0x80); // DLAB on
    outb(COM1, 0x01); // divisor 1 = 115200 baud
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03); // DLAB off, 8 data bits, no parity, 1 stop bit
    outb(COM1 + 2, 0xc7); // FIFOs on and cleared, 14-byte threshold
    outb(COM1 + 4, 0x03); // DTR | RTS
}

fn put(byte: u8) {
    // Bounded wait for "transmit holding register empty", so a missing UART
    // cannot hang the loader.
    for _ in 0..100_000 {
        if inb(COM1 + 5) & 0x20 != 0 {
            break;
        }
    }
    outb(COM1, byte);
}

/// `fmt::Write` sink for COM1; `\n` is sent as `\r\n`.
pub struct Serial;

impl fmt::Write for Serial {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                put(b'\r');
            }
            put(b);
        }
        Ok(())
    }
}

/// Prints one `boot: `-prefixed line on COM1.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let _ = writeln!($crate::serial::Serial, "boot: {}", format_args!($($arg)*));
    }};
}
