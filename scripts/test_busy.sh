#!/usr/bin/env bash
# The release tests (and with --sanitizers the ASan+UBSan ones) while busy loops compete for every
# CPU: a check that no test depends on the machine being idle. Each CPU gets LOOPS_PER_CPU
# (default 2) spinning shells pinned to it, ended by PID when the tests end. Needs the builds
# scripts/test.sh made. Not in CI (it would double its time).
# Usage: scripts/test_busy.sh [--sanitizers] [meson test options]
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizers=0
if [ "${1:-}" = "--sanitizers" ]; then sanitizers=1; shift; fi
loops=()
cleanup() { [ ${#loops[@]} -eq 0 ] || kill "${loops[@]}" 2>/dev/null || true; }
trap cleanup EXIT
for ((cpu = 0; cpu < $(nproc); cpu++)); do
  for ((i = 0; i < ${LOOPS_PER_CPU:-2}; i++)); do
    taskset -c "$cpu" sh -c 'while :; do :; done' &
    loops+=($!)
  done
done
echo "test_busy: ${#loops[@]} busy loops on $(nproc) CPU(s)"
status=0
meson test -C build --print-errorlogs "$@" || status=$?
if [ "$sanitizers" = 1 ]; then scripts/sanitizer_tests.sh "$@" || status=$?; fi
exit $status
