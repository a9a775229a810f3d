//! The kernel's own COM1 output: polled 16550 transmit for early boot, the
//! kernel log and panics. Userspace gets the UART through the console server.

use super::cpu::{inb, outb};
use core::fmt;
use spin::Mutex;

const COM1: u16 = 0x3f8;

/// The COM1 port. Locked so log lines from different contexts do not interleave.
pub static SERIAL: Mutex<Serial> = Mutex::new(Serial);

pub struct Serial;

impl Serial {
    /// Programs COM1 for 115200 8N1, FIFOs on, no interrupts.
    pub fn init(&mut self) {
        // SAFETY: COM1 belongs to the kernel until the console server starts,
        // and these writes only configure the UART.
        unsafe {
            outb(COM1 + 1, 0x00); // no interrupts
            outb(COM1 + 3, 0x80); // DLAB on
            outb(COM1, 0x01); // divisor 1: 115200 baud
            outb(COM1 + 1, 0x00);
            outb(COM1 + 3, 0x03); // 8N1, DLAB off
            outb(COM1 + 2, 0xc7); // FIFO on, cleared, 14-byte threshold
            outb(COM1 + 4, 0x03); // DTR + RTS
        }
    }

    fn write_byte(&mut self, byte: u8) {
        // SAFETY: polling the line status and writing THR of COM1 is harmless.
        unsafe {
            while inb(COM1 + 5) & 0x20 == 0 {
                core::hint::spin_loop();
            }
            outb(COM1, byte);
        }
    }

    /// Writes raw bytes, turning `\n` into `\r\n`.
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                self.write_byte(b'\r');
            }
            self.write_byte(b);
        }
    }
}

impl fmt::Write for Serial {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}
