#!/usr/bin/env bash
# The latency histograms' cost (issue 15): BM_HistogramCostPaired of bench/pipeline_bench, the
# full profile (arg 0) and Workload W at 1 ms (arg 1), each as two pipelines with histograms on
# and off driven in alternating turns (the median of the turns' time ratios: host noise moves
# both turns of a pair alike). Runs PROCESSES processes of 3 repetitions each, prints each
# process's cost (the median of its repetitions) and the median and range over the processes.
# Usage: bench/histogram_cost.sh [BUILD_DIR] [PROCESSES]   (root, hugepages reserved: bench/run.sh)
set -euo pipefail
build=${1:-build}
processes=${2:-15}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/flows_pcap.py --workload-w "$work/a.pcap" "$work/b.pcap" >/dev/null
for ((i = 1; i <= processes; i++)); do
  FAULTLINE_BENCH_W_A=$work/a.pcap FAULTLINE_BENCH_W_B=$work/b.pcap taskset -c 1 \
    "$build/bench/pipeline_bench" --benchmark_filter='HistogramCostPaired' \
    --benchmark_repetitions=3 --benchmark_format=json 2>/dev/null >"$work/run$i.json"
done
python3 - "$work" "$processes" <<'PY'
import json, statistics, sys
work, processes = sys.argv[1], int(sys.argv[2])
costs = {}
for i in range(1, processes + 1):
    runs = {}
    for b in json.load(open(f"{work}/run{i}.json"))["benchmarks"]:
        if b.get("run_type") == "iteration":
            runs.setdefault(b["name"].split("/iterations")[0], []).append(b["cost_pct"])
    line = []
    for name, values in sorted(runs.items()):
        costs.setdefault(name, []).append(statistics.median(values))
        line.append(f"{name} {costs[name][-1]:+.2f}%")
    print(f"process {i}: " + "  ".join(line))
for name, values in sorted(costs.items()):
    label = "full profile" if name.endswith("/0") else "workload W 1 ms"
    print(f"{label}: histograms cost median {statistics.median(values):+.2f}% "
          f"(range {min(values):+.2f}% .. {max(values):+.2f}%, {len(values)} processes)")
PY
