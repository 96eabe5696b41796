#!/usr/bin/env bash
# The unit, EAL (live-control included) and golden tests once more, built with AddressSanitizer
# and UndefinedBehaviorSanitizer in build-sanitize/. Only what those tests need is built (the
# libraries, faultline for the golden tests, the test binaries): not the benchmarks, the
# statistics suite or the end-to-end tests. scripts/test.sh runs it after the release tests.
# Usage: scripts/sanitizer_tests.sh [meson test options, e.g. a test name]
set -euo pipefail
cd "$(dirname "$0")/.."
suites=(unit eal golden)
source scripts/sanitize_build.sh
targets=$(meson introspect "$build" --targets --tests | python3 -c '
import json, os, sys
info = json.load(sys.stdin)
wanted = {"faultline:" + s for s in sys.argv[2:]}
ids = {d for t in info["tests"] if wanted & set(t["suite"]) for d in t["depends"]}
build = sys.argv[1]
print(" ".join(os.path.relpath(t["filename"][0], build) for t in info["targets"] if t["id"] in ids))
' "$(realpath "$build")" "${suites[@]}")
rm -f "$build/meson-logs/testlog.json"  # a failed build must not leave an old verdict
# The fuzz targets too (scripts/fuzz.sh runs them next). The objects carry line tables, so ccache
# would key them on the build directory's path; without that, a fresh checkout of unchanged code
# (CI) reuses them.
CCACHE_NOHASHDIR=true ninja -C "$build" $targets \
  $(printf 'tests/fuzz/%s_fuzz ' frame profile trace pcap control)
# Any report fails its test: leaks too (none are suppressed: EAL's memory is mapped, not
# malloc'ed, and rte_eal_cleanup frees the rest), undefined behaviour too.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
suite_args=()
for suite in "${suites[@]}"; do suite_args+=(--suite "$suite"); done
meson test -C "$build" --no-rebuild --print-errorlogs --timeout-multiplier 4 "${suite_args[@]}" "$@"
