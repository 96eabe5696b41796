#!/usr/bin/env bash
# CI's short run of every Google Benchmark binary: proves they build, start and finish, and
# asserts nothing about speed (bench/RESULTS.md has the measurements, bench/run.sh the harness).
# Workload W's frames are generated small (one round of 1,024 flows); the EAL runs without
# hugepages, as in the tests.
# Usage: bench/smoke.sh BUILD_DIR   (meson test runs it: suite `bench`)
set -euo pipefail
build=$(realpath "$1")
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/flows_pcap.py --workload-w "$work/a.pcap" "$work/b.pcap" --rounds 1 >/dev/null
export FAULTLINE_BENCH_W_A=$work/a.pcap FAULTLINE_BENCH_W_B=$work/b.pcap
export FAULTLINE_BENCH_NO_HUGE=1 FAULTLINE_BENCH_LCORE=0
short=(--benchmark_min_time=0.01 --benchmark_repetitions=1)
for bench in timing_wheel_bench latency_histogram_bench classifier_bench pipeline_bench pipeline_stage_bench; do
  echo "== $bench"
  "$build/bench/$bench" "${short[@]}"
done
echo "== cpu_gaps"
"$build/bench/cpu_gaps" 0.2 0
echo "== lateness_bench"
"$build/bench/lateness_bench" 0.2 0.5
