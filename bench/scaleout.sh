#!/usr/bin/env bash
# Scale-out of issue 14 (target 6), run as root: workload W (profiles/workload-w.yaml, frames
# from bench/flows_pcap.py --workload-w, 1,024 flows) forwarded by `faultline run` on two
# net_pcap infinite_rx ports
#   w1  1 worker: one rx queue per port, everything on lcore 1 (as bench/run.sh's pipeline run)
#   w2  2 workers: two rx/tx queues per port, one pcap per rx queue (flows_pcap.py --queues 2:
#       flow f and its replies on queue f % 2 of both ports, as a symmetric RSS hash puts them),
#       EAL --lcores '0@0,1@0,2@1': the main lcore (it sleeps, waking every 20 ms) shares CPU 0
#       with worker lcore 1, worker lcore 2 has CPU 1; the control threads share CPU 0 too
# each `repetitions` times, interleaved (w1, w2, then again), and prints every run and the
# medians: frames transmitted per second, both directions together. Each 2-worker run is also
# checked (the statistics document at stop): every frame received is transmitted or dropped with
# a counted cause (rx + duplicated = tx + dropped; frames held at the stop are dropped as
# `shutdown`), and both workers received frames (its per-worker counters, `workers`). The mbuf
# pools' start lines (one per socket with a worker) are printed with each 2-worker run.
# Hugepages as bench/run.sh (bench/lib.sh).
#
# Usage: bench/scaleout.sh [repetitions, default 5] [seconds per run, default 5]
#   BUILD=dir picks the meson build directory (default build); NO_HUGE=1 runs with --no-huge.
# Last line, exactly:
#   RESULT scaleout_w1_mpps=X scaleout_w2_mpps=Y
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_arguments "$@"
(( $(nproc) >= 2 )) || { echo "bench/scaleout.sh: needs 2 CPUs (one per worker)" >&2; exit 1; }

bench_build "$build"
bench_memory 1024

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/flows_pcap.py --workload-w "$work/a.pcap" "$work/b.pcap" --flows 1024
python3 bench/flows_pcap.py --workload-w "$work/a.pcap" "$work/b.pcap" --flows 1024 --queues 2
w1_eal=(-l 1 --vdev="net_pcap0,rx_pcap=$work/a.pcap,infinite_rx=1"
        --vdev="net_pcap1,rx_pcap=$work/b.pcap,infinite_rx=1")
# net_pcap: one rx queue per rx_pcap; without tx_pcap/tx_iface one dropping tx queue per rx one.
w2_eal=(--lcores '0@0,1@0,2@1'
        --vdev="net_pcap0,rx_pcap=$work/a.q0.pcap,rx_pcap=$work/a.q1.pcap,infinite_rx=1"
        --vdev="net_pcap1,rx_pcap=$work/b.q0.pcap,rx_pcap=$work/b.q1.pcap,infinite_rx=1")

# FILE: "ok (...)" if every frame received is out or counted and both workers received frames,
# else what is wrong.
conservation() {
  python3 - "$1" <<'EOF' 2>/dev/null || echo "unreadable"
import json, sys
d = json.load(open(sys.argv[1]))
rx = sum(p["rx"] for p in d["ports"])
tx = sum(p["tx"] for p in d["ports"])
dropped = sum(d["dropped"].values())
duplicated = sum(r.get("duplicated", 0) for r in d.get("rules", []))
workers = " + ".join(str(w["rx"]) for w in d.get("workers", []))
idle = len(d.get("workers", [])) != 2 or any(w["rx"] == 0 for w in d["workers"])
if rx + duplicated != tx + dropped:
    print(f"LOST: rx {rx} + duplicated {duplicated} != tx {tx} + dropped {dropped}")
elif idle:
    print(f"A WORKER RECEIVED NOTHING: workers' rx {workers}")
else:
    print(f"ok (rx {rx} + duplicated {duplicated} = tx {tx} + dropped {dropped}; workers' rx {workers})")
EOF
}

echo "bench/scaleout.sh: $reps repetition(s) of $seconds s, 64 B frames of workload W on net_pcap infinite_rx,"
echo "  $memory_note, $binary ($(git rev-parse --short HEAD 2>/dev/null || echo '?')), $(date -u +%FT%TZ)"
declare -a w1 w2
failed=0
for (( rep = 1; rep <= reps; ++rep )); do
  faultline_eal=("${w1_eal[@]}")
  w1+=("$(run_faultline "$work/w1.json" --profile profiles/workload-w.yaml)")
  faultline_eal=("${w2_eal[@]}")
  w2+=("$(run_faultline "$work/w2.json" --profile profiles/workload-w.yaml --workers 2)")
  check="no statistics"
  if [[ -s $work/w2.json ]]; then check=$(conservation "$work/w2.json"); fi
  [[ $check == ok* ]] || failed=1
  grep '^faultline: mbuf pool' "$work/out.txt" | sed 's/^/  w2 /' || true
  printf 'run %d: w1 %s  w2 %s Mpps  w2 frames: %s\n' "$rep" "${w1[-1]:-FAILED}" \
    "${w2[-1]:-FAILED}" "$check"
done
if (( failed )); then echo "bench/scaleout.sh: a 2-worker run lost frames, left a worker idle or did not report" >&2; fi
echo "RESULT scaleout_w1_mpps=$(median "${w1[@]}") scaleout_w2_mpps=$(median "${w2[@]}")"
exit "$failed"
