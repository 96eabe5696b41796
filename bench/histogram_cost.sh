#!/usr/bin/env bash
# The latency histograms' cost (issue 15): full profile and Workload W with histograms on and off
# in one pipeline_bench process, randomly interleaved; prints each case's median and minimum ns
# per frame over the repetitions and the cost of on against off.
# Usage: bench/histogram_cost.sh [BUILD_DIR] [REPETITIONS]   (root, hugepages reserved: bench/run.sh)
set -euo pipefail
build=${1:-build}
repetitions=${2:-25}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/flows_pcap.py --workload-w "$work/a.pcap" "$work/b.pcap" >/dev/null
FAULTLINE_BENCH_W_A=$work/a.pcap FAULTLINE_BENCH_W_B=$work/b.pcap taskset -c 1 \
  "$build/bench/pipeline_bench" \
  --benchmark_filter='FullProfile(NoHistograms)?/0|WorkloadW(NoHistograms)?/1000' \
  --benchmark_repetitions="$repetitions" --benchmark_enable_random_interleaving=true \
  --benchmark_format=json 2>/dev/null | python3 -c '
import json, re, statistics, sys
runs = {}
for b in json.load(sys.stdin)["benchmarks"]:
    if b.get("run_type") == "iteration":
        runs.setdefault(re.sub(r"/iterations:\d+", "", b["name"]), []).append(b["ns_per_pkt"] * 1e9)
for name, ns in sorted(runs.items()):
    print(f"{name:32s} median {statistics.median(ns):7.1f}  min {min(ns):7.1f} ns/frame")
for on, off in (("BM_FullProfile/0", "BM_FullProfileNoHistograms/0"),
                ("BM_WorkloadW/1000", "BM_WorkloadWNoHistograms/1000")):
    a, b = runs[on], runs[off]
    print(f"cost {on}: median {statistics.median(a) / statistics.median(b) - 1:+.1%}"
          f"  min {min(a) / min(b) - 1:+.1%}")'
