#!/usr/bin/env python3
"""shelltest: an expect-style test of the shell, from the host.

    tools/shelltest.py [--timeout SECS] [--boot-timeout SECS] [--log FILE]
                       [--verbose] [--check-disk IMAGE] -- qemu-system-x86_64 ARGS...

Boots QEMU as `make run` does but headless, with the guest's serial port on
QEMU's stdin/stdout (`-serial stdio`), waits for the shell's prompt, types
commands as a person would and checks what each prints: files (write, cat,
mkdir, mv, rm, ls), the kernel's tables (ps, mem, uptime, ipcstat), process
control (Ctrl-C of a foreground program, kill, crash with init's restart),
errors that must be messages, and finally `shutdown`, after which QEMU must
exit by itself with the success status (33: init asked the kernel to power
off with status 0). With --check-disk, the disk image is then checked on
the host: fsck.fat finds it clean and a file the shell wrote is there.

Prints one `PASS name` / `FAIL name: why` line per check and closes with
`shelltest: N passed, N failed`; the exit status is 0 only if nothing
failed. The whole run has a time limit (--timeout, default 60 s); when it
runs out, or the guest stops answering, the remaining checks fail and QEMU
is killed. Everything the guest printed goes to --log (and to stdout with
--verbose). Standard library only.
"""

import argparse
import os
import re
import subprocess
import sys
import threading
import time

PROMPT = "$ "
# A prompt at the start of a line: the shell prints it after a newline.
PROMPT_RE = re.compile(r"(?:^|\n)\$ $")
# QEMU's status when the guest leaves through isa-debug-exit with 0x10.
QEMU_SUCCESS = 33
# Bytes typed at once and the pause between bursts: the 16550's receive
# FIFO holds 16 bytes, and under TCG the console may be slow to drain it.
BURST = 8
BURST_PAUSE = 0.02
# How long one command may take to bring the prompt back.
COMMAND_TIMEOUT = 15.0


class Timeout(Exception):
    """The guest did not print what was expected in time."""


class Guest:
    """QEMU with the serial console on pipes, and everything it printed."""

    def __init__(self, argv, log, verbose, deadline):
        self.deadline = deadline
        self.log = log
        self.verbose = verbose
        self.text = ""
        self.pos = 0  # where the next expect() starts looking
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            chunk = self.proc.stdout.read1(4096) if hasattr(self.proc.stdout, "read1") else os.read(
                self.proc.stdout.fileno(), 4096)
            if not chunk:
                break
            s = chunk.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "")
            if self.log:
                self.log.write(s)
                self.log.flush()
            if self.verbose:
                sys.stdout.write(s)
                sys.stdout.flush()
            with self.cond:
                self.text += s
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def expect(self, regex, timeout):
        """Waits for `regex` after the current position; returns the text
        from there to the end of the match and moves past it."""
        pattern = re.compile(regex)
        end = min(time.monotonic() + timeout, self.deadline)
        with self.cond:
            while True:
                m = pattern.search(self.text, self.pos)
                if m:
                    seen = self.text[self.pos:m.end()]
                    self.pos = m.end()
                    return seen, m
                left = end - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.reader.is_alive()):
                    tail = self.text[self.pos:][-200:]
                    raise Timeout(f"waited for {regex!r}; last output {tail!r}")
                self.cond.wait(min(left, 0.1))

    def type(self, s):
        data = s.encode()
        for i in range(0, len(data), BURST):
            self.proc.stdin.write(data[i:i + BURST])
            self.proc.stdin.flush()
            time.sleep(BURST_PAUSE)

    def command(self, line, timeout=COMMAND_TIMEOUT):
        """Types `line` and Enter; returns what it printed before the next
        prompt, without the echo of the line and without the servers' log
        lines (which reach the serial port beside the console's output)."""
        self.type(line + "\r")
        seen, _ = self.expect(r"(?:^|\n)\$ ", timeout)
        return clean(seen[: -len(PROMPT)], line)

    def wait_exit(self, timeout):
        end = min(time.monotonic() + timeout, self.deadline)
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return self.proc.returncode
            time.sleep(0.05)
        return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Checks:
    """Counts and prints PASS/FAIL lines."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, name):
        self.passed += 1
        print(f"PASS {name}", flush=True)

    def fail(self, name, why):
        self.failed += 1
        print(f"FAIL {name}: {why}", flush=True)

    def check(self, name, cond, why):
        if cond:
            self.ok(name)
        else:
            self.fail(name, why)


# Lines the servers and the kernel log beside the shell's output.
LOG_LINE = re.compile(r"^(?:init|kernel|console|virtio-blk|blk|fs|names): |^\[ *\d+\.\d+\] ")


def clean(out, typed=None):
    """`out` without log lines and without the first echo of `typed`."""
    lines = [l for l in out.split("\n") if not LOG_LINE.search(l)]
    if typed is not None:
        for i, l in enumerate(lines):
            if l.strip() == typed.strip():
                del lines[i]
                break
    return "\n".join(lines).strip("\n")


def parse_ps(out):
    """{name: [pid, ...]} of the running processes in `ps` output."""
    procs = {}
    for line in out.splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 6 and cols[0].isdigit() and cols[4] == "running":
            procs.setdefault(cols[5], []).append(int(cols[0]))
    return procs


def scenario(g, c, boot_timeout):
    """The session. Each step runs a command and checks its output."""
    t0 = time.monotonic()
    g.expect(r"(?:^|\n)\$ ", boot_timeout)
    c.ok(f"boot to prompt ({time.monotonic() - t0:.1f} s)")

    out = g.command("help")
    missing = [w for w in ("ls", "cat", "write", "mkdir", "rm", "mv", "ps", "kill", "mem", "uptime", "ipcstat",
                           "bench", "crash", "run", "shutdown", "exit", "history") if not re.search(rf"(?m)^\s+{w}\b", out)]
    c.check("help lists every command", not missing, f"missing {missing} in {out!r}")

    out = g.command("ls /")
    c.check("ls /", "ls:" not in out, repr(out))

    out = g.command("write /t.txt hello")
    c.check("write /t.txt hello", out == "", repr(out))
    out = g.command("cat /t.txt")
    c.check("cat /t.txt", out == "hello", repr(out))
    out = g.command("ls /")
    c.check("ls / shows t.txt", re.search(r"(?m)\bt\.txt$", out) is not None, repr(out))

    out = g.command("mkdir /d")
    c.check("mkdir /d", out == "", repr(out))
    out = g.command("ls /")
    c.check("ls / shows d/", re.search(r"(?m)\bd/$", out) is not None, repr(out))

    out = g.command("mv /t.txt /d/u.txt")
    c.check("mv /t.txt /d/u.txt", out == "", repr(out))
    out = g.command("cat /d/u.txt")
    c.check("cat after mv", out == "hello", repr(out))
    out = g.command("cat /t.txt")
    c.check("the old name is gone", out.startswith("cat: /t.txt: ") and "no such file" in out, repr(out))

    out = g.command("rm /d/u.txt")
    c.check("rm /d/u.txt", out == "", repr(out))
    out = g.command("ls /d")
    c.check("ls of an empty directory", out == "(empty)", repr(out))
    out = g.command("rm /d")
    c.check("rm of an empty directory", out == "", repr(out))
    out = g.command("ls /")
    c.check("ls / after rm", re.search(r"(?m)\bd/$", out) is None and "ls:" not in out, repr(out))

    out = g.command("ls /nope")
    c.check("error: ls of a missing path", out == "ls: /nope: no such file or directory", repr(out))
    out = g.command("frobnicate now")
    c.check("error: unknown command", out.startswith("frobnicate: command not found"), repr(out))
    out = g.command("cat")
    c.check("error: usage", out.startswith("usage: cat"), repr(out))
    out = g.command('write /q "unterminated')
    c.check("error: bad quoting", out == "shell: unterminated quote", repr(out))

    out = g.command("ps")
    procs = parse_ps(out)
    c.check("ps", out.startswith("PID") and "init" in procs and "shell" in procs and "fs" in procs, repr(out))

    out = g.command("mem")
    m = re.search(r"frames: (\d+) total, (\d+) used, (\d+) free", out)
    c.check("mem", m is not None and int(m[1]) == int(m[2]) + int(m[3]) and int(m[3]) > 0, repr(out))

    out = g.command("uptime")
    c.check("uptime", re.fullmatch(r"up \d+\.\d{3} s|up \d+m \d{2}s", out) is not None, repr(out))
    out = g.command("!!")
    c.check("history: !! runs the last line again", re.fullmatch(r"uptime\nup .*", out) is not None, repr(out))

    # The shell reads raw keys and edits lines itself (the default): Up
    # recalls the last line, Home moves to the start of the line.
    for name, keys in (("editor: Up recalls the last line", "\x1b[A"),
                       ("editor: Home, then typing, inserts at the start", "ptime\x1b[Hu")):
        g.type(keys + "\r")
        seen, _ = g.expect(r"(?:^|\n)\$ ", COMMAND_TIMEOUT)
        out = clean(seen[: -len(PROMPT)])
        c.check(name, re.search(r"(?m)^up \d", out) is not None, repr(out))

    out = g.command("ipcstat")
    m = re.search(r"(?m)^fast_sends\s+(\d+)$", out)
    c.check("ipcstat", m is not None and int(m[1]) > 0, repr(out))

    # Ctrl-C ends a foreground program and the prompt comes back.
    g.type("run sleeper ms=60000\r")
    time.sleep(1.0)
    g.type("\x03")
    seen, _ = g.expect(r"(?:^|\n)\$ ", COMMAND_TIMEOUT)
    c.check("Ctrl-C ends a foreground program", "sleeper: killed" in seen, repr(seen))

    # A background program, killed by pid (the shell holds its handle).
    out = g.command("run sleeper &")
    m = re.search(r"started sleeper \(pid (\d+)\)", out)
    c.check("run ... & starts a background program", m is not None, repr(out))
    if m:
        pid = int(m[1])
        out = g.command(f"kill {pid}")
        still = pid in parse_ps(g.command("ps")).get("sleeper", [])
        c.check("kill <pid> of a background program", out == f"killed {pid}" and not still, repr(out))
    out = g.command("kill 99999")
    c.check("error: kill of an unknown pid", out.startswith("kill: 99999: "), repr(out))

    # crash: init kills the server and starts it again (new pid), and the
    # file system answers afterwards.
    old = procs.get("fs", [])
    out = g.command("crash fs")
    c.check("crash fs", out.startswith("crashed fs"), repr(out))
    restarted, new = False, []
    for _ in range(20):
        new = parse_ps(g.command("ps")).get("fs", [])
        if new and not set(new) & set(old):
            restarted = True
            break
        time.sleep(0.25)
    c.check("init restarts fs", restarted, f"fs pids before {old}, after {new}")
    out = g.command("write /after-crash.txt ok")
    out2 = g.command("cat /after-crash.txt")
    c.check("fs works after the restart", out == "" and out2 == "ok", repr((out, out2)))

    # kill <pid> of a server goes through init, which restarts it: the
    # console here, so the shell must go on reading and printing after it.
    console = parse_ps(g.command("ps")).get("console", [])
    if console:
        out = g.command(f"kill {console[0]}")
        c.check("kill <pid> of a server (through init)", out == f"killed {console[0]}", repr(out))
        time.sleep(0.5)
        out = g.command("services")
        c.check("the console was restarted", re.search(r"(?m)^console\s+console\s+\d+\s+running\s+1\b", out)
                is not None, repr(out))
    else:
        c.fail("kill <pid> of a server (through init)", "no console in ps")

    # The IPC benchmark's quick run prints its table.
    out = g.command("bench", timeout=40)
    c.check("bench", "round trip" in out and "0 failed" in out and "FAIL" not in out, repr(out[-300:]))

    # A foreground program that ends by itself: its output, then the prompt.
    out = g.command("run hello a b")
    c.check("run <program> [args]", re.fullmatch(r'hello: hello, world! pid \d+ args "a b"', out) is not None,
            repr(out))

    g.type("shutdown\r")
    status = g.wait_exit(15)
    c.check("shutdown powers off", status == QEMU_SUCCESS, f"QEMU exit status {status}")


def check_disk(c, image):
    """After the power-off: the file system is clean and holds what the
    shell wrote (init synced it before powering off)."""
    try:
        fsck = subprocess.run(["fsck.fat", "-n", image], capture_output=True, text=True, timeout=30)
        c.check("disk is clean after shutdown (fsck.fat -n)", fsck.returncode == 0, fsck.stdout + fsck.stderr)
        got = subprocess.run(["mtype", "-i", image, "::/after-crash.txt"], capture_output=True, text=True,
                             timeout=30)
        c.check("what the shell wrote is on the disk", got.stdout == "ok\n", repr(got.stdout + got.stderr))
    except (OSError, subprocess.SubprocessError) as e:
        c.fail("disk check", f"{e} (fsck.fat and mtype come with dosfstools and mtools)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--boot-timeout", type=float, default=30)
    ap.add_argument("--log")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--check-disk", metavar="IMAGE", help="after the run, check the guest's FAT disk image")
    ap.add_argument("qemu", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    qemu = args.qemu[1:] if args.qemu[:1] == ["--"] else args.qemu
    if not qemu:
        ap.error("no QEMU command after --")

    log = open(args.log, "w") if args.log else None
    start = time.monotonic()
    g = Guest(qemu, log, args.verbose, start + args.timeout)
    c = Checks()
    try:
        scenario(g, c, args.boot_timeout)
    except Timeout as e:
        c.fail("guest answered in time", str(e))
    except BrokenPipeError:
        c.fail("guest answered in time", "QEMU exited early")
    finally:
        g.kill()
        if log:
            log.close()
    if args.check_disk:
        check_disk(c, args.check_disk)
    print(f"shelltest: {time.monotonic() - start:.1f} s")
    print(f"shelltest: {c.passed} passed, {c.failed} failed")
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
