#!/usr/bin/env bash
# Prints `make test`'s closing summary from the logs its two parts left:
# cargo's `test result:` lines (host tests) and qemu-runner's closing line
# `qemu: N passed, N failed` (the in-QEMU boot). A part that failed without
# a failed test to show (it did not build, say) counts as one failure, so
# the total never reads "0 failed" for a failed run.
# usage: test-summary.sh HOST_LOG HOST_STATUS QEMU_LOG QEMU_STATUS
set -euo pipefail
host_log=$1 host_status=$2 qemu_log=$3 qemu_status=$4

read -r host_passed host_failed < <(
    awk '/^test result:/ { p += $4; f += $6 } END { print p + 0, f + 0 }' "$host_log" 2>/dev/null ||
        echo 0 0)
read -r qemu_passed qemu_failed < <(
    sed -n 's/^qemu: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' "$qemu_log" 2>/dev/null |
        tail -n 1 | grep . || echo 0 0)

verdict() { [ "$1" -eq 0 ] && echo ok || echo FAILED; }
[ "$host_status" -ne 0 ] && [ "$host_failed" -eq 0 ] && host_failed=1
[ "$qemu_status" -ne 0 ] && [ "$qemu_failed" -eq 0 ] && qemu_failed=1

echo
echo "== make test =="
printf '  host tests: %4d passed, %d failed  %s\n' "$host_passed" "$host_failed" "$(verdict "$host_status")"
printf '  QEMU tests: %4d passed, %d failed  %s\n' "$qemu_passed" "$qemu_failed" "$(verdict "$qemu_status")"
echo "total: $((host_passed + qemu_passed)) passed, $((host_failed + qemu_failed)) failed"
