#!/usr/bin/env bash
# Sets up (packages, build) and runs every test. This is what CI runs.
# Usage: scripts/test.sh   (as root: the end-to-end tests build network namespaces)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Leftovers of an interrupted earlier run would collide with nothing (names carry the PID),
# but say so if there are any.
leftover=$(ip netns list 2>/dev/null | grep -c '^fl[0-9]*-' || true)
[[ "$leftover" == 0 ]] || echo "test: note: $leftover faultline test namespaces from earlier runs exist"
status=0
meson test -C build --print-errorlogs "$@" || status=$?
# Every fuzz target for a short fixed time from its corpus (tests/fuzz): any crash, leak, timeout
# or sanitizer report fails the run. Long runs: scripts/fuzz.sh SECONDS.
if (($# == 0)); then
  scripts/fuzz.sh "${FUZZ_SECONDS:-20}" || status=1
fi
# One plain closing line for CI, counted from meson's own log (meson is a python program, so
# python3 is there).
python3 - build/meson-logs/testlog.json <<'PY'
import json, sys
results = [json.loads(line)["result"] for line in open(sys.argv[1]) if line.strip()]
passed = sum(r == "OK" for r in results)
skipped = sum(r == "SKIP" for r in results)
print(f"tests: {passed} passed, {len(results) - passed - skipped} failed, {skipped} skipped")
PY
exit $status
