//! The 16550 UART's registers, and the only unsafe code of the console.
//!
//! Port I/O is `unsafe` in libipc because a write to the wrong device can
//! make it overwrite memory (DMA). A 16550 has no DMA: reading and writing
//! its eight registers can only change what the UART sends and receives.
//! So each access below is sound once [`Uart::new`] has enabled the ports
//! (before that the CPU would fault, which ends the process, also sound).
//!
//! The kernel programmed the UART at boot (115200 8N1, FIFOs on) and still
//! writes its own log to it by polling; this driver leaves the line settings
//! alone and only takes over the interrupts (and the FIFO trigger level).
#![allow(unsafe_code)]

use libipc::ipc::raw::{inb, outb};
use libipc::ipc::{ioports_enable, Handle};
use libipc::Result;

/// COM1's base port (its registers are `COM1..COM1 + 8`).
pub const COM1: u16 = 0x3f8;
/// Bytes the transmit FIFO takes once the line status says it is empty.
pub const TX_FIFO: usize = 16;

/// Register offsets.
mod reg {
    /// Receive buffer (read) / transmit holding (write).
    pub const DATA: u16 = 0;
    /// Interrupt enable.
    pub const IER: u16 = 1;
    /// Interrupt identification (read) / FIFO control (write).
    pub const IIR_FCR: u16 = 2;
    /// Modem control.
    pub const MCR: u16 = 4;
    /// Line status.
    pub const LSR: u16 = 5;
}

/// Interrupt enable bits.
mod ier {
    /// Received data available (and the FIFO's character timeout).
    pub const RX: u8 = 1 << 0;
    /// Transmit holding register empty.
    pub const THRE: u8 = 1 << 1;
}

/// Line status bits.
mod lsr {
    pub const DATA_READY: u8 = 1 << 0;
    pub const OVERRUN: u8 = 1 << 1;
    pub const THR_EMPTY: u8 = 1 << 5;
}

/// Modem control: DTR, RTS, and OUT2, which on a PC gates the UART's
/// interrupt onto the ISA line.
const MCR_NORMAL: u8 = 0x0b;
/// Modem control bit: loop the transmitter back into the receiver.
const MCR_LOOP: u8 = 1 << 4;
/// FIFO control: FIFOs on, receive interrupt at every byte (trigger level
/// 1), FIFOs not cleared (so nothing typed before the console started is
/// lost).
const FCR_ENABLE_TRIGGER_1: u8 = 0x01;
/// IIR bit 0 set: no interrupt pending.
const IIR_NONE: u8 = 1;

/// One 16550 whose ports this process may use.
#[derive(Debug)]
pub struct Uart {
    base: u16,
    /// What IER holds (so enabling THRE keeps RX on).
    ier: u8,
}

impl Uart {
    /// Enables the ports (`ports` must cover `base..base + 8`) and takes
    /// over the UART: receive interrupts on, transmit interrupts off.
    pub fn new(base: u16, ports: &Handle) -> Result<Uart> {
        ioports_enable(ports)?;
        let mut uart = Uart { base, ier: 0 };
        uart.write(reg::IIR_FCR, FCR_ENABLE_TRIGGER_1);
        uart.write(reg::MCR, MCR_NORMAL);
        uart.set_ier(ier::RX);
        Ok(uart)
    }

    fn read(&self, offset: u16) -> u8 {
        // SAFETY: the ports were enabled in `new`; a 16550 register read has
        // no effect beyond the UART (module documentation).
        unsafe { inb(self.base + offset) }
    }

    fn write(&self, offset: u16, value: u8) {
        // SAFETY: as in `read`; a 16550 cannot reach memory.
        unsafe { outb(self.base + offset, value) }
    }

    fn set_ier(&mut self, value: u8) {
        if value != self.ier {
            self.ier = value;
            self.write(reg::IER, value);
        }
    }

    /// Reads IIR (which also clears a pending "transmitter empty"
    /// interrupt); true if the UART has an interrupt pending.
    pub fn interrupt_pending(&self) -> bool {
        self.read(reg::IIR_FCR) & IIR_NONE == 0
    }

    /// The next received byte, if there is one, and whether the receiver
    /// overran (lost bytes) before it.
    pub fn receive(&self) -> (Option<u8>, bool) {
        let status = self.read(reg::LSR);
        let overrun = status & lsr::OVERRUN != 0;
        if status & lsr::DATA_READY == 0 {
            return (None, overrun);
        }
        (Some(self.read(reg::DATA)), overrun)
    }

    /// True if the transmit FIFO is empty (it takes [`TX_FIFO`] bytes).
    pub fn can_send(&self) -> bool {
        self.read(reg::LSR) & lsr::THR_EMPTY != 0
    }

    /// Puts a byte in the transmit FIFO (call only after [`can_send`], at
    /// most [`TX_FIFO`] bytes per time it said yes).
    ///
    /// [`can_send`]: Self::can_send
    pub fn send(&self, byte: u8) {
        self.write(reg::DATA, byte);
    }

    /// Asks for an interrupt when the transmit FIFO empties (or stops).
    pub fn want_tx_interrupt(&mut self, on: bool) {
        let ier = if on { ier::RX | ier::THRE } else { ier::RX };
        self.set_ier(ier);
    }

    /// Turns loopback (transmitter wired to the receiver, nothing on the
    /// line) on or off.
    pub fn set_loopback(&self, on: bool) {
        self.write(reg::MCR, if on { MCR_NORMAL | MCR_LOOP } else { MCR_NORMAL });
    }
}
