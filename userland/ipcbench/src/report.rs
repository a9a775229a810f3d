//! What the run prints: a `BENCH {json}` line per row (full run), `PASS` /
//! `FAIL` lines (smoke run), and the human table (full and quick runs).
//!
//! The JSON line is what `tools/bench.py` reads; one object per row, on one
//! line, written with a single call so nothing interleaves with it:
//!
//! ```text
//! BENCH {"id":"fast_64","case":"fast","label":"...","size":64,"per":"round trip",
//!        "iterations":10000,"warmup":1000,"min":..,"median":..,"p99":..,"mean":..,
//!        "unit":"instructions","mode":"icount","before":[8 counters],"after":[..],
//!        "check":"ok"}
//! ```
//!
//! before/after are the kernel's IPC counters in `abi::ipc::IpcStats`
//! order (fast_sends, fast_replies, slow_sends, scheduler_invocations,
//! context_switches, syscalls, pulses, async_sends). `BENCH-META` opens the
//! run (timer overhead, TSC frequency) and `BENCH-END` closes it.
#![forbid(unsafe_code)]

use alloc::format;
use alloc::string::String;

use abi::ipc::IpcStats;
use libipc::println;

use crate::bench::{Bench, Mode, Row};
use crate::counters;
use crate::measure::Summary;

/// Writes `line` and a newline in one piece.
fn emit(mut line: String) {
    line.push('\n');
    libipc::write_stdout(line.as_bytes());
}

/// `s` as a JSON string literal (the ids and messages here are ASCII).
fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_words(s: &IpcStats) -> String {
    let w = s.to_words();
    format!("[{},{},{},{},{},{},{},{}]", w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7])
}

/// A mean kept in tenths, as `123.4`.
fn tenths(v: u64) -> String {
    format!("{}.{}", v / 10, v % 10)
}

/// The row's figures in the run's unit.
fn figures(b: &Bench, row: &Row) -> Summary {
    if b.in_ns() {
        row.ticks.to_ns(&b.timer)
    } else {
        row.ticks
    }
}

/// The line that opens a full run.
pub fn announce_start(b: &Bench) {
    if b.mode == Mode::Full {
        emit(format!(
            "BENCH-META {{\"mode\":{},\"unit\":{},\"timer_overhead\":{},\"tsc_hz\":{}}}",
            json_str(b.mode_name()),
            json_str(b.unit()),
            b.timer.overhead,
            b.timer.tsc_hz
        ));
    }
}

/// Reports a finished row as the mode wants.
pub fn announce(b: &Bench, row: &Row) {
    match b.mode {
        Mode::Full => {
            let f = figures(b, row);
            let check = match &row.check {
                Ok(()) => String::from("ok"),
                Err(why) => why.clone(),
            };
            emit(format!(
                "BENCH {{\"id\":{},\"case\":{},\"label\":{},\"size\":{},\"per\":{},\"iterations\":{},\"warmup\":{},\
                 \"min\":{},\"median\":{},\"p99\":{},\"mean\":{},\"unit\":{},\"mode\":{},\"before\":{},\"after\":{},\
                 \"check\":{}}}",
                json_str(&row.id),
                json_str(row.case),
                json_str(row.label),
                row.size,
                json_str(row.per),
                row.plan.iterations,
                row.plan.warmup,
                f.min,
                f.median,
                f.p99,
                tenths(f.mean_x10),
                json_str(b.unit()),
                json_str(b.mode_name()),
                json_words(&row.before),
                json_words(&row.after),
                json_str(&check)
            ));
        }
        Mode::Smoke => match &row.check {
            Ok(()) => println!("PASS {}", row.id),
            Err(why) => println!("FAIL {}: {why}", row.id),
        },
        Mode::Quick => {}
    }
}

/// Reports a case that could not run.
pub fn announce_broken(b: &Bench, id: &str, why: &str) {
    match b.mode {
        Mode::Full => emit(format!("BENCH-BROKEN {{\"id\":{},\"why\":{}}}", json_str(id), json_str(why))),
        Mode::Smoke | Mode::Quick => println!("FAIL {id}: {why}"),
    }
}

/// The closing lines: the table (full and quick runs), the verdict.
pub fn finish(b: &Bench) {
    if b.mode != Mode::Smoke {
        table(b);
    }
    let failed = b.failed();
    let passed = b.rows.len() + b.broken.len() - failed;
    if b.mode == Mode::Full {
        emit(format!("BENCH-END {{\"rows\":{},\"failed\":{failed}}}", b.rows.len()));
    }
    println!("ipcbench: {passed} passed, {failed} failed");
}

/// The human table.
fn table(b: &Bench) {
    let how = if b.in_ns() {
        "emulated ns (TSC ticks converted with the kernel's calibration)"
    } else {
        "guest instructions (-icount shift=0: one TSC tick per instruction)"
    };
    println!("ipcbench: {how}, per operation; timer overhead {} ticks subtracted", b.timer.overhead);
    println!(
        "{:<34} {:>5} {:>6} {:>8} {:>8} {:>8} {:>9}  {:<14} counter deltas",
        "case", "size", "iters", "min", "median", "p99", "mean", "per"
    );
    for row in &b.rows {
        let f = figures(b, row);
        let mark = if row.check.is_ok() { "" } else { "  <- CHECK FAILED" };
        println!(
            "{:<34} {:>5} {:>6} {:>8} {:>8} {:>8} {:>9}  {:<14} {}{mark}",
            row.label,
            row.size,
            row.plan.iterations,
            f.min,
            f.median,
            f.p99,
            tenths(f.mean_x10),
            row.per,
            counters::describe(&counters::delta(&row.before, &row.after)),
        );
    }
    for (id, why) in &b.broken {
        println!("{id}: did not run: {why}");
    }
}
