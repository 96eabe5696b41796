#!/usr/bin/env bash
# Where a worker's time goes, per frame, split between DPDK (the vdev and the libraries it calls)
# and faultline (issue 14, target 2b: what bounds a 1 ms delay against pass-through). Run as
# root. On the ports of bench/run.sh (two net_pcap infinite_rx ports fed with workload W's
# frames), one worker on lcore 1, for
#   passthrough  no profile
#   delay        --delay 1ms
#   pipeline     --profile profiles/workload-w.yaml
# each `repetitions` times, interleaved. Each run: `seconds` of `faultline run`; 2 s in, a
# `stats --json` snapshot, then `perf record` (cpu-clock samples) of the worker's CPU for
# seconds - 4, then a second snapshot. The frames sent between the snapshots and the samples
# between them give, for each shared object, its share of the CPU's time divided by the frames:
# nanoseconds of that CPU per frame forwarded.
#
# The bound it prints: a 1 ms delay cannot forward faster than 1 / (DPDK's ns per frame in the
# delay runs), even if faultline's own code took no time at all. Target 2b asks for 80% of
# pass-through; if 0.8 x the pass-through rate is above that bound, no change to faultline can
# reach the target on these ports.
#
# Usage: bench/pmd_share.sh [repetitions, default 3] [seconds per run, default 8, at least 6]
#   BUILD=dir picks the meson build directory (default build); NO_HUGE=1 runs with --no-huge.
# Needs perf (package linux-perf; installed if missing).
# Last line, exactly:
#   RESULT passthrough_mpps=A delay_mpps=B pipeline_mpps=C passthrough_dpdk_ns=D
#   delay_dpdk_ns=E pipeline_dpdk_ns=F passthrough_faultline_ns=G delay_faultline_ns=H
#   pipeline_faultline_ns=I delay_bound_mpps=J delay_target_mpps=K
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_arguments "${1:-3}" "${2:-8}"
(( seconds >= 6 )) || { echo "$bench_name: runs must last at least 6 s" >&2; exit 2; }
if ! perf --version >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-perf >/dev/null
fi

bench_build "$build"
bench_memory 1024

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/flows_pcap.py --workload-w "$work/a.pcap" "$work/b.pcap" --flows 1024
lcore=$(( $(nproc) > 1 ? 1 : 0 ))
eal=(--no-pci "${eal_memory[@]}" -l "$lcore"
     --vdev="net_pcap0,rx_pcap=$work/a.pcap,infinite_rx=1"
     --vdev="net_pcap1,rx_pcap=$work/b.pcap,infinite_rx=1")

# One run; prints "MPPS DPDK_NS FAULTLINE_NS OTHER_NS" and the per-object lines to stderr.
profile_run() {
  local control=$work/control.sock
  rm -f "$work/early.json" "$work/late.json" "$work/perf.data"
  timeout -s INT "$seconds" "$binary" run --hold 262144 --control "$control" "$@" -- "${eal[@]}" \
    >"$work/out.txt" 2>&1 &
  local pid=$!
  sleep 2
  "$binary" stats --json --control "$control" >"$work/early.json" 2>/dev/null || true
  perf record -q -o "$work/perf.data" -C "$lcore" -- sleep $(( seconds - 4 )) >/dev/null 2>&1 || true
  "$binary" stats --json --control "$control" >"$work/late.json" 2>/dev/null || true
  wait "$pid" || true
  perf report -i "$work/perf.data" --no-children --sort dso --stdio 2>/dev/null >"$work/dso.txt" || true
  python3 - "$work/early.json" "$work/late.json" "$work/dso.txt" <<'EOF'
import json, re, sys
try:
    early, late = (json.load(open(p)) for p in sys.argv[1:3])
except Exception:
    print("NA NA NA NA"); sys.exit()
frames = sum(p['tx'] for p in late['ports']) - sum(p['tx'] for p in early['ports'])
window_ns = late['elapsed_ns'] - early['elapsed_ns']
shares = {}
for line in open(sys.argv[3]):
    m = re.match(r'\s*([0-9.]+)%\s+(\S+)', line)
    if m: shares[m.group(2)] = float(m.group(1)) / 100
if frames <= 0 or not shares:
    print("NA NA NA NA"); sys.exit()
ns = {dso: share * window_ns / frames for dso, share in shares.items()}
dpdk = sum(v for d, v in ns.items() if d.startswith('librte_'))
ours = sum(v for d, v in ns.items() if d not in ('[kernel.kallsyms]',) and not d.startswith('lib')
           and not d.startswith('ld-linux') and not d.startswith('['))
other = sum(ns.values()) - dpdk - ours
for d, v in sorted(ns.items(), key=lambda kv: -kv[1]):
    if v >= 0.1: print(f"    {d:32s} {v:6.2f} ns/frame", file=sys.stderr)
print(f"{frames / window_ns * 1e3:.3f} {dpdk:.2f} {ours:.2f} {other:.2f}")
EOF
}

echo "$bench_name: $reps repetition(s) of $seconds s, 1 worker on lcore $lcore, $memory_note,"
echo "  $binary ($(git rev-parse --short HEAD 2>/dev/null || echo '?')), $(date -u +%FT%TZ)"
cases=(passthrough delay pipeline)
declare -A options=([passthrough]="" [delay]="--delay 1ms"
                    [pipeline]="--profile profiles/workload-w.yaml")
declare -A mpps dpdk ours
for (( rep = 1; rep <= reps; ++rep )); do
  for case_name in "${cases[@]}"; do
    echo "run $rep, $case_name:"
    # shellcheck disable=SC2086  # the options are words
    read -r rate dpdk_ns our_ns other_ns < <(profile_run ${options[$case_name]})
    echo "  $rate Mpps; ns per frame: DPDK $dpdk_ns, faultline $our_ns, other $other_ns"
    mpps[$case_name]+="$rate "; dpdk[$case_name]+="$dpdk_ns "; ours[$case_name]+="$our_ns "
  done
done

declare -A m
# shellcheck disable=SC2086  # one value per word
for case_name in "${cases[@]}"; do
  m[$case_name.mpps]=$(median ${mpps[$case_name]})
  m[$case_name.dpdk]=$(median ${dpdk[$case_name]})
  m[$case_name.ours]=$(median ${ours[$case_name]})
done
read -r bound target < <(python3 -c "
import sys
d, p = sys.argv[1], sys.argv[2]
print(f'{1e3 / float(d):.3f}' if d != 'NA' else 'NA', f'{0.8 * float(p):.3f}' if p != 'NA' else 'NA')
" "${m[delay.dpdk]}" "${m[passthrough.mpps]}")
echo "A 1 ms delay spends ${m[delay.dpdk]} ns per frame in DPDK alone (median): at most $bound Mpps"
echo "if faultline took no time; target 2b (80% of pass-through's ${m[passthrough.mpps]}) needs $target."
echo "RESULT passthrough_mpps=${m[passthrough.mpps]} delay_mpps=${m[delay.mpps]}" \
  "pipeline_mpps=${m[pipeline.mpps]} passthrough_dpdk_ns=${m[passthrough.dpdk]}" \
  "delay_dpdk_ns=${m[delay.dpdk]} pipeline_dpdk_ns=${m[pipeline.dpdk]}" \
  "passthrough_faultline_ns=${m[passthrough.ours]} delay_faultline_ns=${m[delay.ours]}" \
  "pipeline_faultline_ns=${m[pipeline.ours]} delay_bound_mpps=$bound delay_target_mpps=$target"
