#!/usr/bin/env python3
"""The host side of `make bench`: boots the benchmark in QEMU, collects
ipcbench's results, writes them down and prints the table.

    python3 tools/bench.py --mode icount --out target/bench -- qemu-system-x86_64 ...

The QEMU command after `--` boots the OS with `bench` on the kernel command
line (init's bench mode runs `ipcbench bench`), headless, with its serial
port on stdout; in the default mode it carries `-icount shift=0`, so that
the guest's TSC counts guest instructions. This tool

- runs it under a time limit, keeping the whole serial log (--log);
- reads ipcbench's machine-readable lines: `BENCH-META {json}` (timer
  overhead, TSC frequency), one `BENCH {json}` per row, `BENCH-BROKEN {json}`
  for a case that could not run, `BENCH-END {json}`; and the kernel's
  `time: TSC <f> MHz` line (its calibration);
- writes <out>/ipc.json (every row with its figures, unit, mode, the QEMU
  version, the git revision and the kernel's IPC counters before, after and
  their difference) and <out>/ipc.svg (median round trip by message size,
  fast path against the path through the scheduler);
- compares the medians with the previous run's <out>/ipc.json of the same
  mode (kept as ipc.previous.json) and says whether they agree within 1%;
- prints the table, and exits non-zero if ipcbench failed (a check failed,
  a case broke, no closing line), QEMU did not end cleanly or the time ran
  out.

Python 3 standard library only.
"""

import argparse
import datetime
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time

# The kernel's IPC counters, in abi::ipc::IpcStats order, and their short names.
COUNTERS = [
    "fast_sends",
    "fast_replies",
    "slow_sends",
    "scheduler_invocations",
    "context_switches",
    "syscalls",
    "pulses",
    "async_sends",
]
SHORT = ["fs", "fr", "ss", "sch", "cs", "sys", "pl", "as"]

# QEMU's exit status when the guest powers off through isa-debug-exit with
# status 0 (the kernel writes 0x10; QEMU exits with (v << 1) | 1).
QEMU_SUCCESS = (0x10 << 1) | 1
# How long QEMU may take to power off after ipcbench's closing line.
GRACE_S = 10
# Medians of two runs in the default mode must agree within this (percent).
AGREEMENT_PCT = 1.0

TSC_LINE = re.compile(r"time: TSC (\d+)\.(\d+) MHz")
CLOSING_LINE = re.compile(r"^ipcbench: (\d+) passed, (\d+) failed")


def log(msg):
    print(f"bench: {msg}", flush=True)


def run_qemu(cmd, timeout, log_path, on_line):
    """Runs `cmd`, calling on_line(line) for each line it prints. Returns
    (lines, exit status or None, why it was stopped or None)."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines_q = queue.Queue()

    def reader():
        for raw in proc.stdout:
            lines_q.put(raw.decode("utf-8", "replace").rstrip("\r\n").replace("\r", ""))
        lines_q.put(None)

    threading.Thread(target=reader, daemon=True).start()
    deadline = time.monotonic() + timeout
    stop_at = None
    stopped_why = None
    lines = []
    with open(log_path, "w", encoding="utf-8") as log_file:
        while True:
            now = time.monotonic()
            limit = min(deadline, stop_at) if stop_at else deadline
            try:
                line = lines_q.get(timeout=max(0.05, limit - now))
            except queue.Empty:
                line = ""
                if time.monotonic() >= deadline:
                    stopped_why = f"time limit of {timeout} s reached"
                    break
                if stop_at and time.monotonic() >= stop_at:
                    stopped_why = "QEMU did not power off after ipcbench ended (stopped)"
                    break
                continue
            if line is None:
                break
            log_file.write(line + "\n")
            lines.append(line)
            verdict = on_line(line)
            if verdict == "done" and stop_at is None:
                stop_at = time.monotonic() + GRACE_S
            elif verdict == "stop":
                stop_at = time.monotonic() + 1
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return lines, proc.returncode, stopped_why


def qemu_version(binary):
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
        return out.splitlines()[0].strip() if out else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def git_revision():
    try:
        rev = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=10)
        if rev.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, timeout=30
        )
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def named(words):
    return {name: value for name, value in zip(COUNTERS, words)}


def with_counters(row):
    """The row as ipc.json keeps it: counters by name, and their deltas."""
    before, after = row.pop("before", [0] * 8), row.pop("after", [0] * 8)
    delta = [a - b for a, b in zip(after, before)]
    row["counters"] = {"before": named(before), "after": named(after), "delta": named(delta)}
    return row


def describe_delta(row):
    d = row["counters"]["delta"]
    return " ".join(f"{s}={d[c]}" for s, c in zip(SHORT, COUNTERS))


def table(result):
    unit = result["unit"]
    out = [
        f"IPC benchmark: {unit} per operation ({result['mode']} mode), median of "
        f"each row's samples; {result['git']}, {result['qemu']}",
        f"{'case':<34} {'size':>5} {'iters':>6} {'min':>8} {'median':>8} {'p99':>8} {'mean':>9}  "
        f"{'per':<14} counter deltas",
    ]
    for r in result["rows"]:
        mark = "" if r["check"] == "ok" else f"  <- {r['check']}"
        out.append(
            f"{r['label']:<34} {r['size']:>5} {r['iterations']:>6} {r['min']:>8} {r['median']:>8} "
            f"{r['p99']:>8} {r['mean']:>9}  {r['per']:<14} {describe_delta(r)}{mark}"
        )
    for b in result["broken"]:
        out.append(f"{b['id']}: did not run: {b['why']}")
    return "\n".join(out)


def nice_step(span):
    """A round tick step for an axis of `span`."""
    raw = span / 6
    mag = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def svg_chart(result):
    """Median round trip by message size, fast path against slow path, as
    a hand-written SVG line chart."""
    series = [
        ("fast", "fast path (direct hand-off)", "#1f77b4"),
        ("slow", "via the scheduler (hand-off off)", "#d62728"),
    ]
    points = {case: sorted((r["size"], r["median"]) for r in result["rows"] if r["case"] == case) for case, _, _ in series}
    sizes = sorted({s for pts in points.values() for s, _ in pts})
    if not sizes:
        return None
    top = max(v for pts in points.values() for _, v in pts) or 1
    step = nice_step(top)
    y_max = step * (int(top * 1.08 / step) + 1)
    width, height = 720, 440
    left, right, top_m, bottom = 80, 50, 60, 70
    plot_w, plot_h = width - left - right, height - top_m - bottom

    def x_of(size):
        i = sizes.index(size)
        return left + (plot_w * i / (len(sizes) - 1) if len(sizes) > 1 else plot_w / 2)

    def y_of(v):
        return top_m + plot_h - plot_h * v / y_max

    unit = result["unit"]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="24" text-anchor="middle" font-size="16">'
        f"IPC round trip between two address spaces: median {unit}</text>",
        f'<text x="{width / 2}" y="42" text-anchor="middle" fill="#555">'
        f"{result['mode']} mode, {result['git']}, {result['qemu']}</text>",
    ]
    v = 0
    while v <= y_max:
        y = y_of(v)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{v:g}</text>')
        v += step
    for s in sizes:
        x = x_of(s)
        parts.append(f'<line x1="{x:.1f}" y1="{top_m}" x2="{x:.1f}" y2="{top_m + plot_h}" stroke="#eee"/>')
        parts.append(f'<text x="{x:.1f}" y="{top_m + plot_h + 18}" text-anchor="middle">{s}</text>')
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{height - 22}" text-anchor="middle">'
        f"message size (bytes; reply of the same size)</text>"
    )
    parts.append(
        f'<text transform="translate(18,{top_m + plot_h / 2}) rotate(-90)" text-anchor="middle">'
        f"median per round trip ({unit})</text>"
    )
    parts.append(
        f'<rect x="{left}" y="{top_m}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>'
    )
    for n, (case, label, colour) in enumerate(series):
        pts = points[case]
        if not pts:
            continue
        path = " ".join(f"{x_of(s):.1f},{y_of(v):.1f}" for s, v in pts)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for s, v in pts:
            x, y = x_of(s), y_of(v)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>')
            dy = -8 if case == "slow" else 16
            parts.append(f'<text x="{x:.1f}" y="{y + dy:.1f}" text-anchor="middle" fill="{colour}">{v}</text>')
        ly = top_m + 16 + 18 * n
        parts.append(f'<line x1="{left + 12}" y1="{ly - 4}" x2="{left + 36}" y2="{ly - 4}" stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<text x="{left + 42}" y="{ly}">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def compare(previous, result):
    """Largest relative difference of medians between two runs, as
    (percent, row id, rows compared); None if nothing to compare."""
    old = {r["id"]: r["median"] for r in previous.get("rows", [])}
    worst = (0.0, None)
    n = 0
    for r in result["rows"]:
        if r["id"] not in old:
            continue
        n += 1
        a, b = old[r["id"]], r["median"]
        pct = 0.0 if a == b else abs(b - a) * 100.0 / max(abs(a), 1)
        if pct >= worst[0]:
            worst = (pct, r["id"])
    return (worst[0], worst[1], n) if n else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", choices=["icount", "wall"], default="icount")
    ap.add_argument("--timeout", type=int, default=600, help="time limit for the QEMU run (s)")
    ap.add_argument("--out", default="target/bench", help="directory for ipc.json and ipc.svg")
    ap.add_argument("--log", default=None, help="where to keep the serial log (default <out>/serial.log)")
    ap.add_argument("cmd", nargs=argparse.REMAINDER, help="-- then the QEMU command")
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
    if not cmd:
        ap.error("give the QEMU command after --")
    if args.mode == "icount" and "-icount" not in cmd:
        ap.error("icount mode needs -icount shift=0 in the QEMU command")
    os.makedirs(args.out, exist_ok=True)
    log_path = args.log or os.path.join(args.out, "serial.log")

    state = {"meta": None, "rows": [], "broken": [], "end": None, "closing": None, "tsc_mhz": None, "panic": False}

    def on_line(line):
        head, _, rest = line.partition(" ")
        try:
            if head == "BENCH":
                row = json.loads(rest)
                state["rows"].append(row)
                ok = "" if row["check"] == "ok" else f"  CHECK FAILED: {row['check']}"
                print(f"  {row['id']:<24} median {row['median']:>7} {row['unit']}{ok}", flush=True)
            elif head == "BENCH-META":
                state["meta"] = json.loads(rest)
            elif head == "BENCH-BROKEN":
                b = json.loads(rest)
                state["broken"].append(b)
                print(f"  {b['id']:<24} did not run: {b['why']}", flush=True)
            elif head == "BENCH-END":
                state["end"] = json.loads(rest)
        except (json.JSONDecodeError, KeyError) as e:
            print(f"bench: cannot read line ({e}): {line}", flush=True)
        m = TSC_LINE.search(line)
        if m and state["tsc_mhz"] is None:
            state["tsc_mhz"] = float(f"{m.group(1)}.{m.group(2)}")
        if "KERNEL PANIC" in line:
            state["panic"] = True
            print(line, flush=True)
            return "stop"
        if CLOSING_LINE.match(line):
            state["closing"] = line
            return "done"
        if "init exited with status" in line or line.startswith("init: cannot start ipcbench"):
            print(line, flush=True)
            return "stop"
        return None

    how = "-icount shift=0: figures are guest instructions" if args.mode == "icount" else (
        "no -icount: figures are emulated nanoseconds (the guest TSC converted with the kernel's calibration)"
    )
    log(f"mode {args.mode} ({how}); time limit {args.timeout} s; serial log {log_path}")
    started = time.monotonic()
    lines, status, stopped = run_qemu(cmd, args.timeout, log_path, on_line)
    elapsed = time.monotonic() - started

    problems = []
    if stopped:
        problems.append(stopped)
    if state["panic"]:
        problems.append("the kernel panicked")
    if state["end"] is None:
        problems.append("ipcbench printed no BENCH-END line (it did not finish)")
    if state["closing"] is None:
        problems.append("ipcbench printed no closing line")
    if status is not None and status != QEMU_SUCCESS and not stopped:
        problems.append(f"QEMU exited with status {status} (expected {QEMU_SUCCESS}: powered off with status 0)")
    failed = [r for r in state["rows"] if r.get("check") != "ok"]
    if failed:
        problems.append(f"{len(failed)} row(s) failed their checks: {', '.join(r['id'] for r in failed)}")
    if state["broken"]:
        problems.append(f"{len(state['broken'])} case(s) did not run: {', '.join(b['id'] for b in state['broken'])}")

    meta = state["meta"] or {}
    result = {
        "benchmark": "ipc",
        "mode": args.mode,
        "unit": meta.get("unit", "instructions" if args.mode == "icount" else "ns"),
        "method": (
            "per operation: serialised rdtsc (lfence; rdtsc; lfence) before and after, minus the median "
            "cost of two back-to-back reads; warm-up first; min, nearest-rank median and p99, mean"
            + (
                "; -icount shift=0, so one TSC tick is one guest instruction"
                if args.mode == "icount"
                else "; no -icount: emulated nanoseconds from the kernel's TSC calibration"
            )
        ),
        "qemu": qemu_version(cmd[0]),
        "git": git_revision(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": cmd,
        "timer_overhead": meta.get("timer_overhead"),
        "tsc_hz": meta.get("tsc_hz"),
        "tsc_mhz_kernel_log": state["tsc_mhz"],
        "rows": [with_counters(dict(r)) for r in state["rows"]],
        "broken": state["broken"],
        "failed": len(failed) + len(state["broken"]),
        "ok": not problems,
        "problems": problems,
        "host_seconds": round(elapsed, 1),
    }

    json_path = os.path.join(args.out, "ipc.json")
    previous = None
    if os.path.exists(json_path):
        try:
            with open(json_path, encoding="utf-8") as f:
                previous = json.load(f)
            shutil.copyfile(json_path, os.path.join(args.out, "ipc.previous.json"))
        except (OSError, json.JSONDecodeError):
            previous = None
    with open(json_path, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    svg = svg_chart(result)
    svg_path = os.path.join(args.out, "ipc.svg")
    if svg:
        with open(svg_path, "w", encoding="utf-8") as f:
            f.write(svg)

    print()
    print(table(result))
    print()
    log(f"wrote {json_path}" + (f" and {svg_path}" if svg else "") + f" ({elapsed:.0f} s)")
    if previous and previous.get("mode") == args.mode and previous.get("ok") and result["rows"]:
        c = compare(previous, result)
        if c:
            pct, worst, n = c
            agree = pct <= AGREEMENT_PCT
            verdict = (
                f"agree within {AGREEMENT_PCT:g}%" if agree else f"DIFFER by more than {AGREEMENT_PCT:g}%"
            )
            spread = "all identical" if pct == 0 else f"largest difference {pct:.2f}% ({worst})"
            log(
                f"medians against the previous run ({previous.get('git')}, {previous.get('date')}): "
                f"{n} rows, {spread}: {verdict}"
            )
            if args.mode == "icount" and not agree:
                log("(under -icount the figures should repeat; a difference means the code or the set-up changed)")
    if problems:
        for p in problems:
            log(f"FAILED: {p}")
        return 1
    log(f"ok: {len(result['rows'])} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
