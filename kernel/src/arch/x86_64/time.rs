//! Time: the TSC as the kernel's clock and the LAPIC timer as its tick.
//! Owns calibration of both against the legacy PIT, `uptime_ns` (read by the
//! log from the first line on), the tick counter, and the periodic timer
//! interrupt the scheduler will preempt from.
//!
//! Calibration is the standard PIT channel-2 method: gate channel 2 through
//! port 0x61 (speaker off), load ~10 ms in mode 0, and count TSC cycles and
//! LAPIC-timer ticks until OUT2 goes high. Five runs; each instant is
//! bracketed by TSC reads and the tightest run wins (see `calibrate`). The PIT
//! runs at 1,193,182 Hz on every PC and in QEMU on the same virtual clock as
//! the LAPIC timer; under `-icount shift=0` the TSC advances once per guest
//! instruction and the PIT/LAPIC on that same instruction clock, so the
//! calibrated nanoseconds stay consistent there too.
//!
//! `uptime_ns` counts from the TSC's reset (machine power-on), converted with
//! a 32.32 fixed-point multiplier: one multiply and a shift, no division, so
//! the log and benchmarks can call it anywhere. It reads 0 until `init` has
//! calibrated.

use super::apic;
use super::cpu::{self, inb, outb};
use core::sync::atomic::{AtomicU64, Ordering};

/// Timer interrupts per second.
pub const TICK_HZ: u64 = 100;
/// The PIT's input clock.
pub const PIT_HZ: u64 = 1_193_182;
/// PIT count for one calibration run: 11932 / 1193182 Hz = 10.000 ms.
const CALIBRATION_LATCH: u16 = 11_932;
/// Rounds of runs before accepting a noisy calibration.
const CALIBRATION_ROUNDS: usize = 4;
const CALIBRATION_RUNS: usize = 5;

/// TSC frequency in Hz; 0 until calibrated.
static TSC_HZ: AtomicU64 = AtomicU64::new(0);
/// Nanoseconds per TSC cycle in 32.32 fixed point; 0 until calibrated.
static NS_PER_CYCLE_FP: AtomicU64 = AtomicU64::new(0);
/// LAPIC timer ticks per second (after the divide-by-16); 0 until calibrated.
static LAPIC_TIMER_HZ: AtomicU64 = AtomicU64::new(0);
/// Timer interrupts seen, on all CPUs.
static TICKS: AtomicU64 = AtomicU64::new(0);

/// Nanoseconds since the TSC was reset; 0 before calibration. Callable from
/// any context, at any time.
#[inline]
pub fn uptime_ns() -> u64 {
    tsc_to_ns(cpu::rdtsc())
}

/// Converts TSC cycles to nanoseconds (0 before calibration).
#[inline]
pub fn tsc_to_ns(cycles: u64) -> u64 {
    ((u128::from(cycles) * u128::from(ns_per_tsc_fp())) >> 32) as u64
}

/// Nanoseconds per TSC cycle in 32.32 fixed point (0 before calibration):
/// the clock's whole state, which `kernel_info(Clock)` gives to programs.
#[inline]
pub fn ns_per_tsc_fp() -> u64 {
    NS_PER_CYCLE_FP.load(Ordering::Relaxed)
}

/// Converts nanoseconds to TSC cycles (0 before calibration).
#[allow(dead_code)] // API for timeouts and benchmarks
pub fn ns_to_tsc(ns: u64) -> u64 {
    let hz = TSC_HZ.load(Ordering::Relaxed);
    (u128::from(ns) * u128::from(hz) / 1_000_000_000) as u64
}

/// TSC frequency in Hz (0 before calibration).
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// TSC cycles per microsecond (0 before calibration).
#[allow(dead_code)] // API for benchmarks
pub fn tsc_per_us() -> u64 {
    tsc_hz() / 1_000_000
}

/// LAPIC timer ticks per millisecond at divide-by-16 (0 before calibration).
pub fn lapic_ticks_per_ms() -> u64 {
    LAPIC_TIMER_HZ.load(Ordering::Relaxed) / 1000
}

/// Timer interrupts seen so far.
pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

/// Called by the trap dispatcher on `VECTOR_TIMER`, with interrupts
/// disabled and the EOI already sent.
pub fn on_timer_tick() {
    TICKS.fetch_add(1, Ordering::Relaxed);
    // ---- SCHEDULER HOOK ----
    // Per-tick timekeeping goes here. Preemption itself hangs off the trap
    // dispatcher: `trap::classify` returns `TrapKind::Timer` after this call
    // and `crate::sched` charges the time slice and switches threads.
}

/// One PIT-gated measurement, every instant bracketed by TSC reads so its
/// uncertainty is known rather than guessed (an emulator's vCPU can be
/// descheduled anywhere; a slow port or MMIO access adds its own delay).
struct Sample {
    /// TSC cycles while PIT channel 2 counted `CALIBRATION_LATCH` clocks.
    pit_cycles: u64,
    /// Half-width of the brackets around the PIT's start and end, in cycles.
    pit_error: u64,
    /// LAPIC timer ticks counted between two TSC-bracketed reads...
    lapic_ticks: u64,
    /// ...and the TSC cycles between the middles of those reads.
    lapic_cycles: u64,
    lapic_error: u64,
}

fn measure_once() -> Result<Sample, &'static str> {
    const PIT_CH2: u16 = 0x42;
    const PIT_CMD: u16 = 0x43;
    const PORT_B: u16 = 0x61;
    const GATE2: u8 = 1 << 0;
    const SPEAKER: u8 = 1 << 1;
    const OUT2: u8 = 1 << 5;
    // Generous bounds so a machine without a working PIT fails instead of
    // hanging: ~10 ms is a few thousand to a few million polls.
    const MAX_POLLS: u64 = 100_000_000;
    const MAX_CYCLES: u64 = 1 << 38;

    cpu::without_interrupts(|| {
        // SAFETY: PIT channel 2 and port 0x61 belong to the kernel (nothing
        // else uses the speaker channel); the writes program a one-shot count
        // with the speaker disconnected, and port 0x61 is restored below.
        let saved = unsafe { inb(PORT_B) };
        // SAFETY: as above.
        unsafe {
            outb(PORT_B, (saved & !SPEAKER) | GATE2);
            outb(PIT_CMD, 0xb0); // channel 2, lobyte/hibyte, mode 0, binary
            outb(PIT_CH2, CALIBRATION_LATCH as u8);
        }
        let start_a = cpu::rdtsc();
        // SAFETY: as above; the high byte starts the count.
        unsafe { outb(PIT_CH2, (CALIBRATION_LATCH >> 8) as u8) };
        let start_b = cpu::rdtsc();
        apic::timer_free_run();
        let lapic_a = cpu::rdtsc();
        let lapic_start = apic::timer_current();
        let lapic_b = cpu::rdtsc();
        let mut polls = 0u64;
        let result = loop {
            let before = cpu::rdtsc();
            // SAFETY: reading port 0x61 has no side effects.
            if unsafe { inb(PORT_B) } & OUT2 != 0 {
                let end_b = cpu::rdtsc();
                let lapic_c = cpu::rdtsc();
                let lapic_end = apic::timer_current();
                let lapic_d = cpu::rdtsc();
                let mid = |a: u64, b: u64| a / 2 + b / 2 + (a & b & 1);
                break Ok(Sample {
                    pit_cycles: mid(before, end_b).wrapping_sub(mid(start_a, start_b)),
                    pit_error: (end_b.wrapping_sub(before) + start_b.wrapping_sub(start_a)) / 2,
                    lapic_ticks: u64::from(lapic_start.saturating_sub(lapic_end)),
                    lapic_cycles: mid(lapic_c, lapic_d).wrapping_sub(mid(lapic_a, lapic_b)),
                    lapic_error: (lapic_d.wrapping_sub(lapic_c) + lapic_b.wrapping_sub(lapic_a)) / 2,
                });
            }
            polls += 1;
            if polls > MAX_POLLS || before.wrapping_sub(start_a) > MAX_CYCLES {
                break Err("time: PIT channel 2 never finished counting");
            }
        };
        apic::timer_stop();
        // SAFETY: restores port 0x61 as it was.
        unsafe { outb(PORT_B, saved) };
        result
    })
}

/// Calibrates the TSC and the LAPIC timer against the PIT. Needs the LAPIC
/// (`apic::init`); does not start the tick.
///
/// Of `CALIBRATION_RUNS` runs, the one with the tightest brackets wins for
/// each clock: a disturbance (host preemption, a slow emulated access) only
/// ever widens a bracket, so the tightest run is the least disturbed one.
pub fn calibrate() -> Result<(), &'static str> {
    if !apic::is_ready() {
        return Err("time: calibrate needs apic::init first");
    }
    let mut best_pit: Option<(u64, u64)> = None; // (error, cycles)
    let mut best_lapic: Option<(u64, u64, u64)> = None; // (error, ticks, cycles)
    let within = |error: u64, cycles: u64, percent: u64| cycles != 0 && error.saturating_mul(100 / percent) <= cycles;
    // A busy host can stall the emulator in every run of a round; try a
    // few rounds before settling for the best bracket seen.
    for _round in 0..CALIBRATION_ROUNDS {
        for _ in 0..CALIBRATION_RUNS {
            let s = measure_once()?;
            if best_pit.is_none_or(|(e, _)| s.pit_error < e) {
                best_pit = Some((s.pit_error, s.pit_cycles));
            }
            if best_lapic.is_none_or(|(e, _, _)| s.lapic_error < e) {
                best_lapic = Some((s.lapic_error, s.lapic_ticks, s.lapic_cycles));
            }
        }
        let (pe, pc) = best_pit.unwrap_or((1, 0));
        let (le, _, lc) = best_lapic.unwrap_or((1, 0, 0));
        if within(pe, pc, 1) && within(le, lc, 1) {
            break;
        }
    }
    let (pit_error, pit_cycles) = best_pit.ok_or("time: no calibration run")?;
    let (lapic_error, lapic_ticks, lapic_cycles) = best_lapic.ok_or("time: no calibration run")?;
    // Past 1% of slop the clocks are noisy (a loaded host); past 10% the PIT
    // or the TSC is not working at all.
    if !within(pit_error, pit_cycles, 10) {
        return Err("time: TSC calibration failed (PIT brackets too wide)");
    }
    if !within(lapic_error, lapic_cycles, 10) {
        return Err("time: LAPIC timer calibration failed (brackets too wide)");
    }
    if !within(pit_error, pit_cycles, 1) || !within(lapic_error, lapic_cycles, 1) {
        crate::kwarn!("time: calibration noisy (host busy?): TSC +/- {pit_error} of {pit_cycles} cycles");
    }
    let tsc_hz = (u128::from(pit_cycles) * u128::from(PIT_HZ) / u128::from(CALIBRATION_LATCH)) as u64;
    let lapic_hz = (u128::from(lapic_ticks) * u128::from(tsc_hz) / u128::from(lapic_cycles)) as u64;
    if tsc_hz < 1_000_000 {
        return Err("time: TSC runs below 1 MHz; calibration failed");
    }
    if lapic_hz < TICK_HZ * 100 || lapic_hz / TICK_HZ > u64::from(u32::MAX) {
        return Err("time: LAPIC timer frequency implausible; calibration failed");
    }
    crate::kdebug!(
        "time: calibration: TSC {pit_cycles} +/- {pit_error} cycles per {CALIBRATION_LATCH} PIT clocks, \
         LAPIC {lapic_ticks} ticks per {lapic_cycles} +/- {lapic_error} cycles"
    );
    let mult = ((1_000_000_000u128 << 32) / u128::from(tsc_hz)) as u64;
    TSC_HZ.store(tsc_hz, Ordering::Relaxed);
    LAPIC_TIMER_HZ.store(lapic_hz, Ordering::Relaxed);
    NS_PER_CYCLE_FP.store(mult, Ordering::Relaxed);
    Ok(())
}

/// Starts this CPU's LAPIC timer periodically at `TICK_HZ`. Needs
/// `calibrate`. (Each AP will call this too, once SMP exists.)
pub fn start_tick() -> Result<(), &'static str> {
    let count = LAPIC_TIMER_HZ.load(Ordering::Relaxed) / TICK_HZ;
    let count = u32::try_from(count).map_err(|_| "time: tick period does not fit the LAPIC timer")?;
    if count == 0 {
        return Err("time: LAPIC timer not calibrated");
    }
    apic::timer_periodic(count);
    Ok(())
}

/// Calibrates the TSC and LAPIC timer, then starts the periodic tick. The
/// caller enables interrupts afterwards.
///
/// Preconditions: interrupts disabled; `apic::init` done.
pub fn init() -> Result<(), &'static str> {
    calibrate()?;
    start_tick()?;
    let hz = tsc_hz();
    // CPUID 0x8000_0007 EDX bit 8: the TSC runs at a constant rate in every
    // power state.
    let invariant = cpu::cpuid(0x8000_0000, 0).0 >= 0x8000_0007 && cpu::cpuid(0x8000_0007, 0).3 & (1 << 8) != 0;
    crate::kinfo!(
        "time: TSC {}.{:03} MHz{}, LAPIC timer {} ticks/ms (divide {}), tick {} Hz",
        hz / 1_000_000,
        (hz / 1_000) % 1_000,
        if invariant { " (invariant)" } else { " (not declared invariant)" },
        lapic_ticks_per_ms(),
        apic::TIMER_DIVIDE,
        TICK_HZ,
    );
    Ok(())
}

/// Waits until `n` more timer interrupts have arrived, halting between
/// them; gives up after `timeout_ms` milliseconds of uptime. Returns whether
/// the ticks arrived.
///
/// Interrupts are enabled while it waits (`sti; hlt`) and the caller's
/// interrupt state is restored on return, so it must not be called while
/// holding a lock that an interrupt handler takes. Needs `init`.
#[allow(dead_code)] // in-kernel tests
pub fn wait_for_ticks(n: u64, timeout_ms: u64) -> bool {
    if tsc_hz() == 0 {
        return false;
    }
    let was_enabled = cpu::interrupts_enabled();
    let target = ticks() + n;
    let deadline = uptime_ns().saturating_add(timeout_ms.saturating_mul(1_000_000));
    let mut arrived = true;
    while ticks() < target {
        if uptime_ns() >= deadline {
            arrived = false;
            break;
        }
        // The next tick is at most 1/TICK_HZ away, so the halt always ends.
        cpu::enable_and_halt();
    }
    if !was_enabled {
        cpu::disable_interrupts();
    }
    arrived
}

/// Busy-waits `us` microseconds on the TSC. Before calibration it falls back
/// to writes to port 0x80, which take about a microsecond each.
#[allow(dead_code)] // for AP start-up (INIT/SIPI delays) and drivers
pub fn delay_us(us: u64) {
    let per_us = tsc_per_us();
    if per_us == 0 {
        for _ in 0..us {
            // SAFETY: port 0x80 is the POST diagnostic port; writes are ignored.
            unsafe { outb(0x80, 0) };
        }
        return;
    }
    let start = cpu::rdtsc();
    let cycles = us.saturating_mul(per_us);
    while cpu::rdtsc().wrapping_sub(start) < cycles {
        core::hint::spin_loop();
    }
}
