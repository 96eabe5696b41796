#!/usr/bin/env bash
# The forwarding-rate harness of issue 14 (run as root): builds faultline (release), then runs,
# on the same two net_pcap infinite_rx ports fed with workload W's frames (bench/flows_pcap.py
# --workload-w: 1,024 IPv4 UDP/TCP flows, side a's requests on port 0, the replies on port 1),
#   testpmd      dpdk-testpmd --forward-mode=io: the ceiling of these ports on this machine
#   passthrough  faultline run without a profile
#   delay        faultline run --delay 1ms
#   pipeline     faultline run --profile profiles/workload-w.yaml (workload W)
# each `repetitions` times, interleaved (one of each, then again) so a machine that gets busier
# or quieter affects all four alike, and prints every run and the medians. One worker on one
# lcore; rates are frames transmitted per second, both directions together, in the steady state
# (testpmd: its last per-second report; faultline: between a stats snapshot 2 s in and the end,
# bench/lib.sh). Hugepages are
# reserved and mounted; if that fails the runs fall back to --no-huge, and the output says so
# (TLB misses then cost more: figures are not comparable with hugepage runs).
#
# Usage: bench/run.sh [repetitions, default 5] [seconds per run, default 5]
#   BUILD=dir picks the meson build directory (default build; configured release if new).
#   NO_HUGE=1 runs with --no-huge without trying hugepages.
# Last line, exactly:
#   RESULT testpmd_mpps=X passthrough_mpps=Y delay_mpps=Z pipeline_mpps=W lateness_p50_ns=A
#   lateness_p999_ns=B
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_arguments "$@"
command -v dpdk-testpmd >/dev/null || { echo "bench/run.sh: dpdk-testpmd missing (apt-get install dpdk)" >&2; exit 1; }

bench_build "$build"
# 2 MiB pages: the mbuf pool for --hold 262144 and the rings fit in 2 GiB.
bench_memory 1024

# --- ports -------------------------------------------------------------------------------------
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/flows_pcap.py --workload-w "$work/a.pcap" "$work/b.pcap" --flows 1024
vdevs=(--vdev="net_pcap0,rx_pcap=$work/a.pcap,infinite_rx=1"
       --vdev="net_pcap1,rx_pcap=$work/b.pcap,infinite_rx=1")
lcore=$(( $(nproc) > 1 ? 1 : 0 ))  # testpmd: main on 0, forwarding on it; faultline: all on it
faultline_eal=(-l "$lcore" "${vdevs[@]}")

# The departure-lateness percentiles of a run's statistics document: its top-level `lateness_ns`
# (transmit call minus scheduled departure, all ports, the dataplane's own histogram).
lateness_from_stats_json() {  # FILE -> "P50 P999" in ns
  python3 - "$1" <<'EOF' 2>/dev/null || echo "NA NA"
import json, sys
late = json.load(open(sys.argv[1])).get("lateness_ns")
print(f"{late['p50']} {late['p999']}" if late and late.get("count") else "NA NA")
EOF
}

# testpmd prints each port's throughput since the previous report every second (--stats-period);
# the last report of each port is a steady-state rate, free of the start-up time.
run_testpmd() {
  local out
  out=$(testpmd_io "$lcore" "${vdevs[@]}")
  { grep -o 'Tx-pps: *[0-9]*' <<<"$out" || true; } | grep -o '[0-9]*$' | tail -2 |
    awk '{ total += $1; n++ } END { if (n == 2) printf "%.3f\n", total / 1e6 }'
}

echo "bench/run.sh: $reps repetition(s) of $seconds s, 64 B frames of workload W on net_pcap infinite_rx,"
echo "  1 worker on lcore $lcore, $memory_note, $binary ($(git rev-parse --short HEAD 2>/dev/null || echo '?')), $(date -u +%FT%TZ)"
declare -a testpmd passthrough delay pipeline p50 p999
for (( rep = 1; rep <= reps; ++rep )); do
  testpmd+=("$(run_testpmd)")
  passthrough+=("$(run_faultline "$work/passthrough.json")")
  delay+=("$(run_faultline "$work/delay.json" --delay 1ms)")
  pipeline+=("$(run_faultline "$work/pipeline.json" --profile profiles/workload-w.yaml)")
  read -r late50 late999 < <(lateness_from_stats_json "$work/pipeline.json")
  p50+=("$late50")
  p999+=("$late999")
  printf 'run %d: testpmd %s  passthrough %s  delay %s  pipeline %s Mpps  lateness p50 %s p99.9 %s ns\n' \
    "$rep" "${testpmd[-1]:-FAILED}" "${passthrough[-1]:-FAILED}" "${delay[-1]:-FAILED}" \
    "${pipeline[-1]:-FAILED}" "$late50" "$late999"
done
echo "RESULT testpmd_mpps=$(median "${testpmd[@]}") passthrough_mpps=$(median "${passthrough[@]}") delay_mpps=$(median "${delay[@]}") pipeline_mpps=$(median "${pipeline[@]}") lateness_p50_ns=$(median "${p50[@]}") lateness_p999_ns=$(median "${p999[@]}")"
