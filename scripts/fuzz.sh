#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang-14, AddressSanitizer, UndefinedBehaviorSanitizer,
# in the sanitizer build of scripts/sanitize_build.sh) and runs each for SECONDS (default 30) from
# its checked-in corpus. Fails on any crash, leak, timeout (10 s per input) or sanitizer report; the input that caused it is kept in
# $FUZZ_OUT/TARGET/ (default build-sanitize/findings). New interesting inputs go there too, never
# into the checked-in corpus.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (targets: frame profile trace pcap control)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(frame profile trace pcap control)
source scripts/sanitize_build.sh
out=${FUZZ_OUT:-$build/findings}
CCACHE_NOHASHDIR=true ninja -C "$build" $(printf 'tests/fuzz/%s_fuzz ' "${targets[@]}")

# Leaks are errors; a report aborts so libFuzzer keeps the input.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# One target per core at a time: each still gets SECONDS of its own, the whole run takes about
# SECONDS x targets / cores (FUZZ_JOBS overrides the number at once).
jobs=${FUZZ_JOBS:-$(nproc)}
run_target() {
  local target=$1
  mkdir -p "$out/$target/new"
  local dict=()
  [[ -f "tests/fuzz/$target.dict" ]] && dict=(-dict="tests/fuzz/$target.dict")
  "$build/tests/fuzz/${target}_fuzz" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$out/$target/" "${dict[@]}" \
    "$out/$target/new" "tests/fuzz/corpus/$target" >"$out/$target/log" 2>&1
}
declare -A pid_of
for target in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
  echo "fuzz: $target for ${seconds}s"
  run_target "$target" &
  pid_of[$target]=$!
done
status=0
for target in "${targets[@]}"; do
  if ! wait "${pid_of[$target]}"; then
    echo "fuzz: $target FAILED; input and log in $out/$target/" >&2
    grep -E "ERROR|SUMMARY|runtime error|Test unit written" "$out/$target/log" | head -20 >&2 || true
    status=1
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|cov: .* ft: " "$out/$target/log" |
    tail -3 | sed "s/^/fuzz: $target: /"
done
exit $status
