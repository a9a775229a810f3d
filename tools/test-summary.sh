#!/usr/bin/env bash
# Prints `make test`'s closing summary from the logs its parts left:
# cargo's `test result:` lines (host tests), qemu-runner's closing line
# `qemu: N passed, N failed` (the in-QEMU boot) and, if given, the disk
# check's closing line `fscheck: N passed, N failed` (the host's look at
# the test disk after the boot). A part that failed without a failed test
# to show (it did not build, say) counts as one failure, so the total never
# reads "0 failed" for a failed run.
# and, if given, the expect-style shell test's `shelltest: N passed, N failed`.
# usage: test-summary.sh HOST_LOG HOST_STATUS QEMU_LOG QEMU_STATUS [DISK_LOG DISK_STATUS [SHELL_LOG SHELL_STATUS]]
set -euo pipefail
host_log=$1 host_status=$2 qemu_log=$3 qemu_status=$4
disk_log=${5:-} disk_status=${6:-0}
shell_log=${7:-} shell_status=${8:-0}

read -r host_passed host_failed < <(
    awk '/^test result:/ { p += $4; f += $6 } END { print p + 0, f + 0 }' "$host_log" 2>/dev/null ||
        echo 0 0)
# The last `WORD: N passed, N failed` line of a log, as "N N".
closing() {
    sed -n "s/^$1: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p" "$2" 2>/dev/null |
        tail -n 1 | grep . || echo 0 0
}
read -r qemu_passed qemu_failed < <(closing qemu "$qemu_log")
disk_passed=0 disk_failed=0
[ -n "$disk_log" ] && read -r disk_passed disk_failed < <(closing fscheck "$disk_log")
shell_passed=0 shell_failed=0
[ -n "$shell_log" ] && read -r shell_passed shell_failed < <(closing shelltest "$shell_log")

verdict() { [ "$1" -eq 0 ] && echo ok || echo FAILED; }
[ "$host_status" -ne 0 ] && [ "$host_failed" -eq 0 ] && host_failed=1
[ "$qemu_status" -ne 0 ] && [ "$qemu_failed" -eq 0 ] && qemu_failed=1
[ "$disk_status" -ne 0 ] && [ "$disk_failed" -eq 0 ] && disk_failed=1
[ "$shell_status" -ne 0 ] && [ "$shell_failed" -eq 0 ] && shell_failed=1

echo
echo "== make test =="
printf '  host tests: %4d passed, %d failed  %s\n' "$host_passed" "$host_failed" "$(verdict "$host_status")"
printf '  QEMU tests: %4d passed, %d failed  %s\n' "$qemu_passed" "$qemu_failed" "$(verdict "$qemu_status")"
[ -n "$disk_log" ] &&
    printf '  disk check: %4d passed, %d failed  %s\n' "$disk_passed" "$disk_failed" "$(verdict "$disk_status")"
[ -n "$shell_log" ] &&
    printf '  shell test: %4d passed, %d failed  %s\n' "$shell_passed" "$shell_failed" "$(verdict "$shell_status")"
echo "total: $((host_passed + qemu_passed + disk_passed + shell_passed)) passed, $((host_failed + qemu_failed + disk_failed + shell_failed)) failed"
