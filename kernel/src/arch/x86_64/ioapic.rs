//! The I/O APIC(s): where device interrupt lines (GSIs) become vectors.
//! Owns each I/O APIC's redirection table: everything masked at `init`,
//! then lines routed one by one (`route_isa_irq`, `route_gsi`) and
//! masked/unmasked by GSI as drivers come and go.
//!
//! Device vectors are `VECTOR_IRQ_BASE .. VECTOR_IRQ_BASE + IRQ_LINES` (see
//! `trap.rs`); the caller picks one per line (`VECTOR_IRQ_BASE + gsi` by
//! default, `vector_for_gsi`), so a vector names its line without a table.
//! ISA IRQs reach GSIs through the MADT's interrupt source overrides (on
//! QEMU, IRQ 0 is GSI 2), which also give their polarity and trigger mode;
//! the overrides are copied here at `init` so routing needs no
//! `PlatformInfo`.
//!
//! Every redirection-table access is an IOREGSEL write followed by an IOWIN
//! access, so all of them happen under one lock with interrupts disabled.

use super::acpi::{PlatformInfo, Polarity, SourceOverride, Trigger, MAX_IOAPICS, MAX_OVERRIDES};
use super::cpu::without_interrupts;
use super::trap::{IRQ_LINES, VECTOR_IRQ_BASE};
use spin::Mutex;

const REG_ID: u32 = 0x00;
const REG_VERSION: u32 = 0x01;
const REG_REDIRECTION: u32 = 0x10;

const IOWIN: u64 = 0x10;

const ENTRY_MASKED: u64 = 1 << 16;
const ENTRY_LEVEL: u64 = 1 << 15;
const ENTRY_ACTIVE_LOW: u64 = 1 << 13;

/// One I/O APIC as the kernel drives it.
#[derive(Clone, Copy)]
struct IoApic {
    /// Virtual address of its uncached register window.
    virt: u64,
    gsi_base: u32,
    /// Number of redirection entries (inputs).
    lines: u32,
}

impl IoApic {
    fn read(&self, reg: u32) -> u32 {
        // SAFETY: `virt` maps this I/O APIC's register window (IOREGSEL at
        // +0, IOWIN at +0x10), made in `init`. The caller holds `STATE`'s lock,
        // so no other select/access pair interleaves with this one.
        unsafe {
            core::ptr::write_volatile(self.virt as *mut u32, reg);
            core::ptr::read_volatile((self.virt + IOWIN) as *const u32)
        }
    }

    fn write(&self, reg: u32, value: u32) {
        // SAFETY: as in `read`.
        unsafe {
            core::ptr::write_volatile(self.virt as *mut u32, reg);
            core::ptr::write_volatile((self.virt + IOWIN) as *mut u32, value);
        }
    }

    fn read_entry(&self, input: u32) -> u64 {
        let low = self.read(REG_REDIRECTION + 2 * input);
        let high = self.read(REG_REDIRECTION + 2 * input + 1);
        (u64::from(high) << 32) | u64::from(low)
    }

    /// Writes a whole entry. The low half (with the mask bit) goes last when
    /// unmasking and first when masking, so the line is never live with a
    /// half-written destination.
    fn write_entry(&self, input: u32, entry: u64) {
        let (low, high) = (entry as u32, (entry >> 32) as u32);
        if entry & ENTRY_MASKED != 0 {
            self.write(REG_REDIRECTION + 2 * input, low);
            self.write(REG_REDIRECTION + 2 * input + 1, high);
        } else {
            self.write(REG_REDIRECTION + 2 * input + 1, high);
            self.write(REG_REDIRECTION + 2 * input, low);
        }
    }

    fn covers(&self, gsi: u32) -> bool {
        gsi >= self.gsi_base && gsi - self.gsi_base < self.lines
    }
}

struct State {
    ioapics: [IoApic; MAX_IOAPICS],
    count: usize,
    overrides: [Option<SourceOverride>; MAX_OVERRIDES],
}

impl State {
    /// The I/O APIC serving `gsi` and the input number on it.
    fn find(&self, gsi: u32) -> Result<(&IoApic, u32), &'static str> {
        self.ioapics[..self.count]
            .iter()
            .find(|io| io.covers(gsi))
            .map(|io| (io, gsi - io.gsi_base))
            .ok_or("ioapic: no I/O APIC serves this GSI")
    }
}

static STATE: Mutex<State> = Mutex::new(State {
    ioapics: [IoApic { virt: 0, gsi_base: 0, lines: 0 }; MAX_IOAPICS],
    count: 0,
    overrides: [None; MAX_OVERRIDES],
});

fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    without_interrupts(|| f(&mut STATE.lock()))
}

/// The vector a GSI is delivered on, if it has one.
#[allow(dead_code)] // API: the default vector of a GSI
pub fn vector_for_gsi(gsi: u32) -> Option<u8> {
    let line = u8::try_from(gsi).ok().filter(|&l| l < IRQ_LINES)?;
    Some(VECTOR_IRQ_BASE + line)
}

/// Maps every I/O APIC the MADT lists, reads its size and masks all of its
/// inputs; remembers the ISA overrides.
///
/// Preconditions: `mm` ready (`map_mmio` works); `apic::init` done.
pub fn init(info: &PlatformInfo) -> Result<(), &'static str> {
    if info.ioapics().is_empty() {
        return Err("ioapic: the MADT lists no I/O APIC");
    }
    with_state(|state| {
        state.count = 0;
        for o in state.overrides.iter_mut() {
            *o = None;
        }
        for (slot, o) in state.overrides.iter_mut().zip(info.overrides()) {
            *slot = Some(*o);
        }
        for found in info.ioapics() {
            let virt = crate::mm::map_mmio(found.phys, IOWIN + 4);
            let mut io = IoApic { virt, gsi_base: found.gsi_base, lines: 0 };
            let version = io.read(REG_VERSION);
            if version == u32::MAX {
                crate::kerror!("ioapic: nothing answers at {:#x}; skipped", found.phys);
                continue;
            }
            io.lines = ((version >> 16) & 0xff) + 1;
            for input in 0..io.lines {
                // Masked, and vector 0 until routed, so `unmask` can refuse
                // a line nobody routed.
                io.write_entry(input, ENTRY_MASKED);
            }
            let hw_id = (io.read(REG_ID) >> 24) & 0xf;
            crate::kinfo!(
                "ioapic: id {} (MADT {}) at {:#x}, version {:#x}, GSIs {}..{}, all masked",
                hw_id,
                found.id,
                found.phys,
                version & 0xff,
                io.gsi_base,
                io.gsi_base + io.lines - 1,
            );
            if let Some(slot) = state.ioapics.get_mut(state.count) {
                *slot = io;
                state.count += 1;
            }
        }
        if state.count == 0 {
            Err("ioapic: no usable I/O APIC")
        } else {
            Ok(())
        }
    })
}

/// The GSI, polarity and trigger of ISA IRQ `irq`: from the MADT override if
/// there is one, else identity-mapped, active high, edge-triggered.
pub fn resolve_isa_irq(irq: u8) -> (u32, Polarity, Trigger) {
    with_state(|state| {
        state.overrides.iter().flatten().find(|o| o.isa_irq == irq).map(|o| (o.gsi, o.polarity, o.trigger)).unwrap_or((
            u32::from(irq),
            Polarity::ActiveHigh,
            Trigger::Edge,
        ))
    })
}

/// Routes ISA IRQ `irq` (0..16) to `vector` on the boot CPU, honouring the
/// MADT's override for it (GSI, polarity, trigger), and returns the GSI it
/// arrives on. The line is left MASKED: call `unmask(gsi)` once the handler
/// is ready. `vector` must be a device vector (`VECTOR_IRQ_BASE` ..
/// `VECTOR_IRQ_BASE + IRQ_LINES`); the trap dispatcher reports
/// `vector - VECTOR_IRQ_BASE` as the line, so either `VECTOR_IRQ_BASE + irq`
/// or `vector_for_gsi(gsi)` works as long as callers agree.
pub fn route_isa_irq(irq: u8, vector: u8) -> Result<u32, &'static str> {
    if irq >= 16 {
        return Err("ioapic: ISA IRQs are 0..16");
    }
    let (gsi, polarity, trigger) = resolve_isa_irq(irq);
    route_gsi(gsi, vector, polarity, trigger)?;
    Ok(gsi)
}

/// Programs GSI `gsi` to deliver `vector` to the boot CPU (fixed delivery,
/// physical destination) with the given polarity and trigger. Leaves the
/// line masked.
pub fn route_gsi(gsi: u32, vector: u8, polarity: Polarity, trigger: Trigger) -> Result<(), &'static str> {
    if !(VECTOR_IRQ_BASE..VECTOR_IRQ_BASE + IRQ_LINES).contains(&vector) {
        return Err("ioapic: device vectors are VECTOR_IRQ_BASE..VECTOR_IRQ_BASE + IRQ_LINES");
    }
    let dest = super::apic::id();
    if dest > 0xff {
        return Err("ioapic: APIC id does not fit an xAPIC destination");
    }
    let mut entry = ENTRY_MASKED | u64::from(vector) | (u64::from(dest) << 56);
    if polarity == Polarity::ActiveLow {
        entry |= ENTRY_ACTIVE_LOW;
    }
    if trigger == Trigger::Level {
        entry |= ENTRY_LEVEL;
    }
    with_state(|state| {
        let (io, input) = state.find(gsi)?;
        io.write_entry(input, entry);
        Ok(())
    })
}

fn set_masked(gsi: u32, masked: bool) -> Result<(), &'static str> {
    with_state(|state| {
        let (io, input) = state.find(gsi)?;
        let entry = io.read_entry(input);
        let entry = if masked { entry | ENTRY_MASKED } else { entry & !ENTRY_MASKED };
        if !masked && entry & 0xff == 0 {
            return Err("ioapic: line unmasked before it was routed");
        }
        io.write_entry(input, entry);
        Ok(())
    })
}

/// Stops GSI `gsi` from interrupting.
pub fn mask(gsi: u32) -> Result<(), &'static str> {
    set_masked(gsi, true)
}

/// Lets GSI `gsi` interrupt, as routed.
pub fn unmask(gsi: u32) -> Result<(), &'static str> {
    set_masked(gsi, false)
}

/// Whether GSI `gsi` is currently masked (`None` if no I/O APIC serves it).
#[allow(dead_code)] // diagnostics and in-kernel tests
pub fn is_masked(gsi: u32) -> Option<bool> {
    with_state(|state| state.find(gsi).ok().map(|(io, input)| io.read_entry(input) & ENTRY_MASKED != 0))
}

/// Total inputs over all I/O APICs.
#[allow(dead_code)] // diagnostics and in-kernel tests
pub fn line_count() -> u32 {
    with_state(|state| state.ioapics[..state.count].iter().map(|io| io.lines).sum())
}
