//! Pulses: small notifications (a code and a value) that never block the
//! sender. Queued on the channel in order with messages, bounded by
//! `PULSE_QUEUE`: a full queue answers `QueueFull`, nothing is dropped.
//! Interrupts reach drivers as pulses too: the line is masked when it fires
//! and stays masked until the driver acknowledges, so a line has at most
//! one pulse outstanding and interrupts cannot overflow the queue.

use super::{ChannelId, Pending};
use crate::arch::ioapic;
use crate::state::Kernel;
use crate::thread::ProcessId;
use abi::Error;

/// Number of interrupt lines userspace can hold (ISA 0..15, GSI 16..23).
pub const IRQ_LINES: usize = 24;

/// A line bound to a channel.
#[derive(Clone, Copy, Debug)]
pub struct IrqBinding {
    pub channel: ChannelId,
    pub owner: ProcessId,
    pub code: u64,
    pub gsi: u32,
}

impl Kernel {
    /// Queues a pulse on `ch` (or hands it to a waiting receiver).
    pub fn ipc_pulse(&mut self, ch: ChannelId, code: u64, value: u64) -> Result<(), Error> {
        self.post(ch, Pending::Pulse { code, value })?;
        self.ipc_counters.pulses += 1;
        Ok(())
    }

    /// Routes interrupt `line` to `ch` as pulses with `code`, and unmasks it.
    pub fn irq_bind(&mut self, line: u8, ch: ChannelId, code: u64) -> Result<(), Error> {
        let owner = self.cur().process;
        let gsi = if line < 16 {
            ioapic::route_isa_irq(line, crate::arch::trap::VECTOR_IRQ_BASE + line).map_err(|_| Error::BadArgument)?
        } else {
            let gsi = u32::from(line);
            ioapic::route_gsi(
                gsi,
                crate::arch::trap::VECTOR_IRQ_BASE + line,
                crate::arch::acpi::Polarity::ActiveLow,
                crate::arch::acpi::Trigger::Level,
            )
            .map_err(|_| Error::BadArgument)?;
            gsi
        };
        let slot = self.irqs.get_mut(line as usize).ok_or(Error::BadArgument)?;
        *slot = Some(IrqBinding { channel: ch, owner, code, gsi });
        ioapic::unmask(gsi).map_err(|_| Error::BadArgument)?;
        Ok(())
    }

    /// The driver handled the interrupt: let the line fire again.
    pub fn irq_ack(&mut self, line: u8) -> Result<(), Error> {
        let b = self.irqs.get(line as usize).copied().flatten().ok_or(Error::BadState)?;
        ioapic::unmask(b.gsi).map_err(|_| Error::BadArgument)
    }

    /// Interrupt vector for `line` fired (EOI already sent).
    pub fn irq_fired(&mut self, line: u8) {
        let Some(b) = self.irqs.get(line as usize).copied().flatten() else {
            crate::kwarn!("interrupt on unbound line {line}");
            return;
        };
        let _ = ioapic::mask(b.gsi);
        if self.ipc_pulse(b.channel, b.code, u64::from(line)).is_err() {
            // The channel is gone: the line stays masked until rebound.
            self.irqs[line as usize] = None;
        }
    }

    /// A process ended: unbind and mask the lines it held.
    pub fn irq_release_of(&mut self, owner: ProcessId) {
        for slot in self.irqs.iter_mut() {
            if let Some(b) = slot {
                if b.owner == owner {
                    let _ = ioapic::mask(b.gsi);
                    *slot = None;
                }
            }
        }
    }
}
