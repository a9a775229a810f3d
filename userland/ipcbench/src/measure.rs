//! Timing: the cost of the timer itself, a case's samples, their summary
//! (min, median, p99, mean), and the conversion to nanoseconds.
//!
//! A sample is one operation bracketed by two serialised TSC reads
//! ([`raw::rdtsc`]), minus [`Timer::overhead`], the median cost of two
//! back-to-back reads. Under `-icount shift=0` the TSC advances once per
//! guest instruction, so a sample counts the instructions the operation
//! executed (user and kernel, both sides of an IPC); without it the TSC is
//! the emulated clock and [`Timer::ns`] converts with the kernel's
//! calibration.
//!
//! Percentiles are nearest-rank: the `p`th percentile of `n` sorted samples
//! is the sample at rank `ceil(p * n / 100)` (so the median of an even count
//! is the lower of the two middle samples).
#![forbid(unsafe_code)]

use alloc::vec::Vec;

use crate::raw;

/// The timer's calibration.
#[derive(Clone, Copy, Debug)]
pub struct Timer {
    /// TSC ticks two back-to-back serialised reads cost (median).
    pub overhead: u64,
    /// TSC frequency in Hz, as the kernel's clock converts it (derived from
    /// the `time` system call against the TSC; 0 if it could not be).
    pub tsc_hz: u64,
}

/// Back-to-back read pairs timed to find the overhead.
const OVERHEAD_SAMPLES: usize = 1000;
/// TSC ticks the frequency measurement spans (at least).
const HZ_SPAN: u64 = 20_000_000;

impl Timer {
    /// Measures the overhead and the TSC frequency.
    pub fn calibrate() -> Timer {
        Timer { overhead: measure_overhead(), tsc_hz: measure_hz() }
    }

    /// The overhead only (for peers that time a call of their own).
    pub fn overhead_only() -> Timer {
        Timer { overhead: measure_overhead(), tsc_hz: 0 }
    }

    /// TSC ticks of one sample: `end - start - overhead` (never below 0).
    #[inline(always)]
    pub fn ticks(&self, start: u64, end: u64) -> u64 {
        end.wrapping_sub(start).saturating_sub(self.overhead)
    }

    /// `ticks` in nanoseconds (0 if the frequency is unknown).
    pub fn ns(&self, ticks: u64) -> u64 {
        if self.tsc_hz == 0 {
            return 0;
        }
        (u128::from(ticks) * 1_000_000_000 / u128::from(self.tsc_hz)) as u64
    }
}

/// The median cost of two back-to-back serialised TSC reads.
fn measure_overhead() -> u64 {
    let mut pairs: Vec<u64> = Vec::with_capacity(OVERHEAD_SAMPLES);
    for _ in 0..OVERHEAD_SAMPLES {
        let t0 = raw::rdtsc();
        let t1 = raw::rdtsc();
        pairs.push(t1.wrapping_sub(t0));
    }
    pairs.sort_unstable();
    pairs[percentile_rank(pairs.len(), 50)]
}

/// The TSC frequency the kernel's clock implies: the kernel's `time` is the
/// TSC converted with its calibration, so the ratio of the two over an
/// interval is that calibration. Each `time` call is bracketed by TSC reads
/// and matched to their midpoint.
fn measure_hz() -> u64 {
    let sample = || {
        let a = raw::rdtsc();
        let ns = libipc::time_ns();
        let b = raw::rdtsc();
        (a + (b - a) / 2, ns)
    };
    let (t0, n0) = sample();
    let mut last = sample();
    while last.0.wrapping_sub(t0) < HZ_SPAN {
        last = sample();
    }
    let (t1, n1) = last;
    match n1.checked_sub(n0) {
        Some(ns) if ns > 0 => (u128::from(t1 - t0) * 1_000_000_000 / u128::from(ns)) as u64,
        _ => 0,
    }
}

/// Index of the nearest-rank `p`th percentile among `n` sorted samples
/// (`n` > 0).
pub fn percentile_rank(n: usize, p: usize) -> usize {
    (n * p).div_ceil(100).clamp(1, n) - 1
}

/// A case's timing, in TSC ticks (or nanoseconds after [`Summary::to_ns`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub min: u64,
    pub median: u64,
    pub p99: u64,
    /// The mean in tenths (mean × 10, rounded down).
    pub mean_x10: u64,
}

impl Summary {
    /// Summarises `samples` (sorting them); all zero if there are none.
    pub fn of(samples: &mut [u64]) -> Summary {
        if samples.is_empty() {
            return Summary::default();
        }
        samples.sort_unstable();
        let n = samples.len();
        let sum: u128 = samples.iter().map(|&s| u128::from(s)).sum();
        Summary {
            min: samples[0],
            median: samples[percentile_rank(n, 50)],
            p99: samples[percentile_rank(n, 99)],
            mean_x10: (sum * 10 / n as u128) as u64,
        }
    }

    /// The same figures in nanoseconds.
    pub fn to_ns(self, timer: &Timer) -> Summary {
        Summary {
            min: timer.ns(self.min),
            median: timer.ns(self.median),
            p99: timer.ns(self.p99),
            mean_x10: timer.ns(self.mean_x10),
        }
    }
}

/// Samples of one case, with room reserved up front (so that recording
/// one never allocates inside the measured loop).
pub struct Samples {
    ticks: Vec<u64>,
    /// Each sample is divided by this (operations per timed iteration: 2
    /// for the per-switch and per-pulse rows).
    pub per: u64,
}

impl Samples {
    /// Room for `n` samples of one operation each.
    pub fn new(n: usize) -> Samples {
        Samples { ticks: Vec::with_capacity(n), per: 1 }
    }

    /// Room for `n` samples, each covering `per` operations.
    pub fn per(n: usize, per: u64) -> Samples {
        Samples { ticks: Vec::with_capacity(n), per: per.max(1) }
    }

    /// Records the ticks between two TSC reads.
    #[inline(always)]
    pub fn record(&mut self, timer: &Timer, start: u64, end: u64) {
        self.ticks.push(timer.ticks(start, end) / self.per);
    }

    /// Records an already computed sample (ticks of one operation).
    pub fn push(&mut self, ticks: u64) {
        self.ticks.push(ticks);
    }

    /// The summary (sorts the samples).
    pub fn summary(&mut self) -> Summary {
        Summary::of(&mut self.ticks)
    }
}
