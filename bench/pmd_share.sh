#!/usr/bin/env bash
# Where a forwarding core's time goes, per frame, split between DPDK (the vdev and the libraries
# it calls) and the forwarder's own code (issue 14, targets 2a and 2b: what bounds pass-through
# against testpmd, and a 1 ms delay against pass-through). Run as root. On the ports of
# bench/run.sh (two net_pcap infinite_rx ports fed with workload W's frames), the forwarding
# thread on lcore 1, for
#   testpmd      dpdk-testpmd --forward-mode=io (main lcore 0, forwarding on lcore 1)
#   passthrough  faultline run, no profile
#   delay        faultline run --delay 1ms
#   pipeline     faultline run --profile profiles/workload-w.yaml
# each `repetitions` times, interleaved. Each run lasts `seconds`; from 2 s in until 2 s before
# its end, `perf record` (cpu-clock samples) records the forwarding CPU. Each shared object's
# share of the samples, over the frames sent per second meanwhile, is its nanoseconds of that
# CPU per frame forwarded. The rate: faultline's steady-state rate as bench/run.sh takes it
# (bench/lib.sh: from a `stats --json` snapshot 2 s in to the end); testpmd's mean per-second
# Tx-pps of both ports over the recorded stretch. DPDK = every librte_* object; own = the
# binary (faultline, dpdk-testpmd); other = the rest (libc, the dynamic loader's TLS lookups
# that DPDK's libraries call, kernel).
#
# The bound it prints: a 1 ms delay cannot forward faster than 1 / (DPDK's ns per frame in the
# delay runs), even if faultline's own code took no time at all. Target 2b asks for 80% of
# pass-through; if 0.8 x the pass-through rate is above that bound, a faultline that keeps held
# frames in their mbufs cannot reach the target on these ports.
#
# Usage: bench/pmd_share.sh [repetitions, default 3] [seconds per run, default 8, at least 6]
#   BUILD=dir picks the meson build directory (default build); NO_HUGE=1 runs with --no-huge.
# Needs perf (package linux-perf; installed if missing) and dpdk-testpmd (package dpdk).
# Last line, exactly:
#   RESULT testpmd_mpps=A passthrough_mpps=B delay_mpps=C pipeline_mpps=D testpmd_dpdk_ns=E
#   passthrough_dpdk_ns=F delay_dpdk_ns=G pipeline_dpdk_ns=H testpmd_own_ns=I
#   passthrough_own_ns=J delay_own_ns=K pipeline_own_ns=L delay_bound_mpps=M
#   delay_target_mpps=N
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_arguments "${1:-3}" "${2:-8}"
(( seconds >= 6 )) || { echo "$bench_name: runs must last at least 6 s" >&2; exit 2; }
command -v dpdk-testpmd >/dev/null || { echo "$bench_name: dpdk-testpmd missing (apt-get install dpdk)" >&2; exit 1; }
if ! perf --version >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-perf >/dev/null
fi

bench_build "$build"
bench_memory 1024

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/flows_pcap.py --workload-w "$work/a.pcap" "$work/b.pcap" --flows 1024
lcore=$(( $(nproc) > 1 ? 1 : 0 ))
vdevs=(--vdev="net_pcap0,rx_pcap=$work/a.pcap,infinite_rx=1"
       --vdev="net_pcap1,rx_pcap=$work/b.pcap,infinite_rx=1")

# Records the forwarding CPU from 2 s into a run until 2 s before its end (run it in the
# background as the run starts); then perf's per-object report is in $work/objects.txt.
record_cpu() {
  rm -f "$work/perf.data"
  sleep 2
  perf record -q -o "$work/perf.data" -C "$lcore" -- sleep $(( seconds - 4 )) >/dev/null 2>&1 || true
  perf report -i "$work/perf.data" --no-children --sort dso --stdio 2>/dev/null \
    >"$work/objects.txt" || true
}

# per_frame MPPS OWN: each object's ns per frame (to stderr, those of 0.1 ns or more) and the line
# "MPPS DPDK_NS OWN_NS OTHER_NS", OWN being the forwarder's binary; NA if nothing was measured.
per_frame() {
  python3 - "$work/objects.txt" "$1" "$2" <<'EOF'
import re, sys
report, mpps, own = sys.argv[1], sys.argv[2], sys.argv[3]
shares = {}
for line in open(report):
    m = re.match(r'\s*([0-9.]+)%\s+(\S+)', line)
    if m: shares[m.group(2)] = float(m.group(1)) / 100
if not re.fullmatch(r'[0-9.]+', mpps) or float(mpps) <= 0 or not shares:
    print("NA NA NA NA"); sys.exit()
ns = {name: share * 1e3 / float(mpps) for name, share in shares.items()}
dpdk = sum(v for name, v in ns.items() if name.startswith('librte_'))
ours = ns.get(own, 0.0)
for name, v in sorted(ns.items(), key=lambda kv: -kv[1]):
    if v >= 0.1: print(f"    {name:32s} {v:6.2f} ns/frame", file=sys.stderr)
print(f"{float(mpps):.3f} {dpdk:.2f} {ours:.2f} {sum(ns.values()) - dpdk - ours:.2f}")
EOF
}

# One `faultline run` with options "$@"; its rate is bench/lib.sh's (the frames sent from a
# statistics snapshot 2 s in to the end, over that time).
faultline_eal=(-l "$lcore" "${vdevs[@]}")
faultline_run() {
  record_cpu &
  local recorder=$! mpps
  mpps=$(run_faultline "$work/stats.json" "$@")
  wait "$recorder"
  per_frame "${mpps:-NA}" "$(basename "$binary")"
}

# One dpdk-testpmd io run. It reports each port's Tx-pps every second: the reports made while
# the CPU was recorded (the 3rd to the (seconds - 2)th) give its rate.
testpmd_run() {
  record_cpu &
  local recorder=$! mpps
  testpmd_io "$lcore" "${vdevs[@]}" >"$work/testpmd.txt"
  wait "$recorder"
  mpps=$({ grep -o 'Tx-pps: *[0-9]*' "$work/testpmd.txt" || true; } | grep -o '[0-9]*$' |
         awk -v first=3 -v last=$(( seconds - 2 )) '
           { report = int((NR + 1) / 2) }  # two lines a report: port 0, port 1
           report >= first && report <= last { total += $1; lines++ }
           END { if (lines >= 2) printf "%.3f\n", total / (lines / 2) / 1e6 }')
  per_frame "${mpps:-NA}" dpdk-testpmd
}

echo "$bench_name: $reps repetition(s) of $seconds s, forwarding on lcore $lcore, $memory_note,"
echo "  $binary ($(git rev-parse --short HEAD 2>/dev/null || echo '?')), $(date -u +%FT%TZ)"
cases=(testpmd passthrough delay pipeline)
declare -A options=([passthrough]="" [delay]="--delay 1ms"
                    [pipeline]="--profile profiles/workload-w.yaml")
declare -A mpps dpdk own
for (( rep = 1; rep <= reps; ++rep )); do
  for case_name in "${cases[@]}"; do
    echo "run $rep, $case_name:"
    if [[ $case_name == testpmd ]]; then
      read -r rate dpdk_ns own_ns other_ns < <(testpmd_run)
    else
      # shellcheck disable=SC2086  # the options are words
      read -r rate dpdk_ns own_ns other_ns < <(faultline_run ${options[$case_name]})
    fi
    echo "  $rate Mpps; ns per frame: DPDK $dpdk_ns, own $own_ns, other $other_ns"
    mpps[$case_name]+="$rate "; dpdk[$case_name]+="$dpdk_ns "; own[$case_name]+="$own_ns "
  done
done

declare -A m
# shellcheck disable=SC2086  # one value per word
for case_name in "${cases[@]}"; do
  m[$case_name.mpps]=$(median ${mpps[$case_name]})
  m[$case_name.dpdk]=$(median ${dpdk[$case_name]})
  m[$case_name.own]=$(median ${own[$case_name]})
done
read -r bound target < <(python3 -c "
import sys
d, p = sys.argv[1], sys.argv[2]
print(f'{1e3 / float(d):.3f}' if d != 'NA' else 'NA', f'{0.8 * float(p):.3f}' if p != 'NA' else 'NA')
" "${m[delay.dpdk]}" "${m[passthrough.mpps]}")
echo "Medians, ns per frame: testpmd io DPDK ${m[testpmd.dpdk]} + own ${m[testpmd.own]};" \
  "faultline pass-through DPDK ${m[passthrough.dpdk]} + own ${m[passthrough.own]}."
echo "A 1 ms delay spends ${m[delay.dpdk]} ns per frame in DPDK alone: at most $bound Mpps"
echo "if faultline took no time; target 2b (80% of pass-through's ${m[passthrough.mpps]}) needs $target."
echo "RESULT testpmd_mpps=${m[testpmd.mpps]} passthrough_mpps=${m[passthrough.mpps]}" \
  "delay_mpps=${m[delay.mpps]} pipeline_mpps=${m[pipeline.mpps]}" \
  "testpmd_dpdk_ns=${m[testpmd.dpdk]} passthrough_dpdk_ns=${m[passthrough.dpdk]}" \
  "delay_dpdk_ns=${m[delay.dpdk]} pipeline_dpdk_ns=${m[pipeline.dpdk]}" \
  "testpmd_own_ns=${m[testpmd.own]} passthrough_own_ns=${m[passthrough.own]}" \
  "delay_own_ns=${m[delay.own]} pipeline_own_ns=${m[pipeline.own]}" \
  "delay_bound_mpps=$bound delay_target_mpps=$target"
