#!/usr/bin/env bash
# Sets up (packages, build) and runs every test. This is what CI runs.
# Usage: scripts/test.sh   (as root: the end-to-end tests build network namespaces)
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache (when installed) keys objects on paths relative to the checkout, so a fresh clone
# anywhere reuses the objects of an earlier run of unchanged sources.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}
FAULTLINE_WERROR=1 FAULTLINE_TEST_TOOLS=1 scripts/setup.sh
# Every C++ file as .clang-format says (clang-format-14), before anything slow.
scripts/check_format.sh || status_format=1
build_seconds=$SECONDS
# Leftovers of an interrupted earlier run would collide with nothing (names carry the PID),
# but say so if there are any.
leftover=$(ip netns list 2>/dev/null | grep -c '^fl[0-9]*-' || true)
[[ "$leftover" == 0 ]] || echo "test: note: $leftover faultline test namespaces from earlier runs exist"
status=${status_format:-0}
meson test -C build --print-errorlogs "$@" || status=$?
test_seconds=$((SECONDS - build_seconds))
# The unit, eal and golden suites again under AddressSanitizer and UndefinedBehaviorSanitizer
# (build-sanitize/, only what they need), then every fuzz target for a short fixed time from its
# corpus (tests/fuzz): any crash, leak, timeout or sanitizer report fails the run. Long runs:
# scripts/fuzz.sh SECONDS. Skipped when tests were named: those ran above.
sanitized=()
if (($# == 0)); then
  scripts/sanitizer_tests.sh || status=$?
  sanitized=(build-sanitize/meson-logs/testlog.json)
  scripts/fuzz.sh "${FUZZ_SECONDS:-20}" || status=1
fi
# One plain closing line per build for CI, counted from meson's own logs (meson is a python
# program, so python3 is there).
python3 - build/meson-logs/testlog.json "${sanitized[@]}" <<'PY'
import json, sys
for log, label in zip(sys.argv[1:], ["tests", "tests under ASan+UBSan"]):
    try:
        results = [json.loads(line)["result"] for line in open(log) if line.strip()]
    except FileNotFoundError:
        print(f"{label}: did not run (see above)")
        continue
    passed = sum(r == "OK" for r in results)
    skipped = sum(r == "SKIP" for r in results)
    print(f"{label}: {passed} passed, {len(results) - passed - skipped} failed, {skipped} skipped")
PY
# Where CI's time goes (.ci/run must stay under 15 minutes on a 2-core machine).
echo "time: set-up and build ${build_seconds}s, tests ${test_seconds}s, sanitizer and fuzz builds and runs" \
  "$((SECONDS - build_seconds - test_seconds))s, total ${SECONDS}s"
exit $status
