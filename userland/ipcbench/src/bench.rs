//! The run: which mode, how many iterations, the timed loop every case
//! shares, and the rows it produces.
//!
//! Modes (`smoke` and `quick` win over `bench`, so that `bench smoke` on the
//! kernel command line runs the smoke test through init's bench mode):
//! - `bench` — the full run `make bench` starts through init's bench mode:
//!   warm-up and many iterations per case, a `BENCH {json}` line per row
//!   for `tools/bench.py`, then the table. Figures are TSC ticks, which
//!   under `-icount shift=0` are guest instructions; with `mode=wall` they
//!   are converted to (emulated) nanoseconds.
//! - `quick` — the shell's `bench`: few iterations, the table only, in
//!   emulated nanoseconds. Counter deltas are shown but not judged: the
//!   rest of the system runs meanwhile and the counters are system-wide.
//! - `smoke` (also the default with no arguments) — the correctness run of
//!   `make test`: every case with few iterations, checking reply contents
//!   and counters; `PASS <row>` / `FAIL <row>: why` and a closing
//!   `ipcbench: N passed, N failed`. No timing is judged.
//!
//! `iters=N` sets the full run's base iteration count (default 10000).
#![forbid(unsafe_code)]

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use abi::ipc::IpcStats;
use libipc::Args;

use crate::counters::{self, Expect};
use crate::measure::{Samples, Summary, Timer};
use crate::raw;

/// What the run is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Full,
    Quick,
    Smoke,
}

/// Base iteration count of a full run.
const FULL_ITERATIONS: usize = 10_000;

/// How many times a case runs.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Untimed iterations first (caches, lazily built kernel state, peers
    /// settling into their loops).
    pub warmup: usize,
    /// Timed iterations.
    pub iterations: usize,
    /// Operations per timed iteration (a sample is divided by it).
    pub per: u64,
}

/// One row of the table.
#[derive(Debug)]
pub struct Row {
    /// Unique name (`fast_64`), for `PASS`/`FAIL` lines and the JSON.
    pub id: String,
    /// The case (`fast`), shared by the rows of one case.
    pub case: &'static str,
    /// What it measures, for people.
    pub label: &'static str,
    /// Message (or lease) bytes; 0 where it does not apply.
    pub size: usize,
    /// The operation one figure is the cost of.
    pub per: &'static str,
    pub plan: Plan,
    /// In TSC ticks.
    pub ticks: Summary,
    pub before: IpcStats,
    pub after: IpcStats,
    /// Reply contents and counters as expected, or why not.
    pub check: Result<(), String>,
}

/// What a timed loop produced.
pub struct Measured {
    pub ticks: Summary,
    pub before: IpcStats,
    pub after: IpcStats,
}

/// The two TSC reads of one timed operation.
#[derive(Default)]
pub struct Stopwatch {
    t0: u64,
    t1: u64,
}

impl Stopwatch {
    /// Reads the TSC: the operation starts.
    #[inline(always)]
    pub fn start(&mut self) {
        self.t0 = raw::rdtsc();
    }

    /// Reads the TSC: the operation is over.
    #[inline(always)]
    pub fn stop(&mut self) {
        self.t1 = raw::rdtsc();
    }
}

/// The run's settings and results.
pub struct Bench {
    pub mode: Mode,
    /// Report emulated nanoseconds rather than TSC ticks (`mode=wall`).
    pub wall: bool,
    pub timer: Timer,
    base: usize,
    pub rows: Vec<Row>,
    /// Cases that could not run at all: (row or case id, why).
    pub broken: Vec<(String, String)>,
}

impl Bench {
    /// The settings from the arguments; calibrates the timer.
    pub fn new(args: &Args) -> Bench {
        let mode = if args.contains("smoke") {
            Mode::Smoke
        } else if args.contains("quick") {
            Mode::Quick
        } else if args.contains("bench") {
            Mode::Full
        } else {
            Mode::Smoke
        };
        let base = args.value("iters").and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(FULL_ITERATIONS);
        Bench {
            mode,
            wall: args.value("mode") == Some("wall"),
            timer: Timer::calibrate(),
            base,
            rows: Vec::new(),
            broken: Vec::new(),
        }
    }

    /// The unit figures are reported in.
    pub fn unit(&self) -> &'static str {
        if self.in_ns() {
            "ns"
        } else {
            "instructions"
        }
    }

    /// Whether figures are converted to nanoseconds.
    pub fn in_ns(&self) -> bool {
        self.wall || self.mode == Mode::Quick
    }

    /// The measurement mode, for the JSON.
    pub fn mode_name(&self) -> &'static str {
        if self.wall {
            "wall"
        } else {
            "icount"
        }
    }

    /// The plan of a case whose full run has `weight` percent of the base
    /// iteration count, with `per` operations per timed iteration.
    pub fn plan(&self, weight: usize, per: u64) -> Plan {
        let (iterations, warmup) = match self.mode {
            Mode::Full => {
                let n = (self.base * weight / 100).max(10);
                (n, (n / 10).max(10))
            }
            Mode::Quick => (200, 20),
            Mode::Smoke => (20, 5),
        };
        Plan { warmup, iterations, per }
    }

    /// Runs `step` `plan.warmup` times untimed, then `plan.iterations` times
    /// with the counters read before and after. `step(i, watch)` prepares
    /// iteration `i`, brackets the operation with `watch.start()` /
    /// `watch.stop()`, then checks what came back (outside the bracket).
    #[inline(always)]
    pub fn measure(
        &self,
        plan: Plan,
        mut step: impl FnMut(u64, &mut Stopwatch) -> Result<(), String>,
    ) -> Result<Measured, String> {
        let mut watch = Stopwatch::default();
        for i in 0..plan.warmup {
            step(i as u64, &mut watch)?;
        }
        let mut samples = Samples::per(plan.iterations, plan.per);
        let before = counters::snapshot();
        for i in 0..plan.iterations {
            step((plan.warmup + i) as u64, &mut watch)?;
            samples.record(&self.timer, watch.t0, watch.t1);
        }
        let after = counters::snapshot();
        Ok(Measured { ticks: samples.summary(), before, after })
    }

    /// Adds a row for a measured case, checking its counters against
    /// `expect`, and reports it as the mode wants.
    #[allow(clippy::too_many_arguments)]
    pub fn row(
        &mut self,
        id: String,
        case: &'static str,
        label: &'static str,
        size: usize,
        per: &'static str,
        plan: Plan,
        m: Measured,
        expect: Expect,
    ) {
        let d = counters::delta(&m.before, &m.after);
        // The counters are system-wide. In the shell's quick run the other
        // servers keep working meanwhile, so their deltas are shown but not
        // judged; the full and smoke runs have the machine to themselves.
        let check = match self.mode {
            Mode::Quick => Ok(()),
            _ => expect.check(&d, plan.iterations as u64),
        };
        let row = Row { id, case, label, size, per, plan, ticks: m.ticks, before: m.before, after: m.after, check };
        crate::report::announce(self, &row);
        self.rows.push(row);
    }

    /// Records that case `id` could not run (or failed a check of what came
    /// back) with `why`.
    pub fn broke(&mut self, id: String, why: String) {
        crate::report::announce_broken(self, &id, &why);
        self.broken.push((id, why));
    }

    /// Runs a case's body; an error becomes a broken row named `id`.
    pub fn case(&mut self, id: &str, body: impl FnOnce(&mut Bench) -> Result<(), String>) {
        if let Err(why) = body(self) {
            self.broke(String::from(id), why);
        }
    }

    /// Rows that failed their checks, plus cases that broke.
    pub fn failed(&self) -> usize {
        self.rows.iter().filter(|r| r.check.is_err()).count() + self.broken.len()
    }

    /// `format!` for the callers' ids.
    pub fn id(case: &str, size: usize) -> String {
        format!("{case}_{size}")
    }
}
