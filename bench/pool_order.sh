#!/usr/bin/env bash
# The mbuf pool's order (issue 14, target 2b), run as root: the same `faultline run` with its
# default mempool handler, "stack" (LIFO: the mbuf freed last is handed out first), and with
# DPDK's default FIFO ring (EAL --mbuf-pool-ops-name ring_mp_mc), on the ports of bench/run.sh
# (two net_pcap infinite_rx ports fed with workload W's frames), for
#   passthrough  no profile
#   delay        --delay 1ms
#   pipeline     --profile profiles/workload-w.yaml
# each `repetitions` times, interleaved (stack, ring, stack, ring, ...), and prints every run and
# the medians: frames transmitted per second, both directions together, in the steady state
# (bench/lib.sh). One worker on lcore 1; hugepages as bench/run.sh.
#
# Usage: bench/pool_order.sh [repetitions, default 5] [seconds per run, default 5]
#   BUILD=dir picks the meson build directory (default build); NO_HUGE=1 runs with --no-huge;
#   VDEVS='--vdev=... --vdev=...' runs on other ports (e.g. '--vdev=net_null0 --vdev=net_null1').
# Last line, exactly:
#   RESULT stack_passthrough_mpps=A ring_passthrough_mpps=B stack_delay_mpps=C ring_delay_mpps=D
#   stack_pipeline_mpps=E ring_pipeline_mpps=F
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_arguments "$@"

bench_build "$build"
bench_memory 1024

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ -n ${VDEVS:-} ]]; then
  read -r -a vdevs <<<"$VDEVS"
else
  python3 bench/flows_pcap.py --workload-w "$work/a.pcap" "$work/b.pcap" --flows 1024
  vdevs=(--vdev="net_pcap0,rx_pcap=$work/a.pcap,infinite_rx=1"
         --vdev="net_pcap1,rx_pcap=$work/b.pcap,infinite_rx=1")
fi

echo "$bench_name: $reps repetition(s) of $seconds s on ${vdevs[*]}, 1 worker on lcore 1,"
echo "  $memory_note, $binary ($(git rev-parse --short HEAD 2>/dev/null || echo '?')), $(date -u +%FT%TZ)"
cases=(passthrough delay pipeline)
declare -A options=([passthrough]="" [delay]="--delay 1ms"
                    [pipeline]="--profile profiles/workload-w.yaml")
declare -A rates
for (( rep = 1; rep <= reps; ++rep )); do
  line="run $rep:"
  for case_name in "${cases[@]}"; do
    for handler in stack ring; do
      ops=()
      [[ $handler == ring ]] && ops=(--mbuf-pool-ops-name ring_mp_mc)
      faultline_eal=("${ops[@]}" -l 1 "${vdevs[@]}")
      # shellcheck disable=SC2086  # the options are words
      rate=$(run_faultline "$work/stats.json" ${options[$case_name]})
      if [[ $rep == 1 && $case_name == passthrough ]]; then
        grep -o 'mbuf pool faultline_pool.*' "$work/out.txt" | sed "s/^/  $handler: /" >&2
      fi
      rates[$handler.$case_name]+="${rate:-NA} "
      line+=" $handler/$case_name ${rate:-FAILED}"
    done
  done
  echo "$line"
done
result="RESULT"
for case_name in "${cases[@]}"; do
  for handler in stack ring; do
    # shellcheck disable=SC2086  # the rates are words
    result+=" ${handler}_${case_name}_mpps=$(median ${rates[$handler.$case_name]})"
  done
done
echo "$result"
