#!/usr/bin/env bash
# Forwarding rate of `faultline run` (64-byte frames, both directions), one worker on one lcore,
# with dpdk-testpmd's io forwarding on the same vdevs as the ceiling. Reserves hugepages (root)
# as benchmarks need. Two sources:
#  - net_null (size=64): as fast as it is polled, but every frame is the same (all zeros: one
#    non-IP flow); pass-through and a 1 ms constant delay.
#  - net_pcap (rx_pcap=FILE,infinite_rx=1, tx dropped): replays a pcap of 1024 IPv4/UDP flows
#    (bench/flows_pcap.py) forever, copying each frame into its mbuf; pass-through, a 1 ms
#    constant delay and the full profile profiles/bench-full-pipeline.yaml (1 ms + 100 us normal
#    jitter, order kept per flow, 1% Gilbert-Elliott loss, 0.1% duplication).
# Usage: bench/mpps.sh [seconds per run, default 5]   (FAULTLINE=path picks another binary)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
binary=${FAULTLINE:-build/faultline}
[[ -x $binary ]] || { echo "build first: scripts/setup.sh" >&2; exit 1; }

pages=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
if (( $(cat $pages) < 1024 )); then echo 1024 > $pages; fi
mkdir -p /dev/hugepages
mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages
lcore=$(( $(nproc) > 1 ? 1 : 0 ))
pcap=$(mktemp --suffix=.pcap)
trap 'rm -f "$pcap"' EXIT
python3 bench/flows_pcap.py "$pcap" 1024
null_vdevs=(--vdev=net_null0,size=64 --vdev=net_null1,size=64)
pcap_vdevs=(--vdev="net_pcap0,rx_pcap=$pcap,infinite_rx=1" --vdev="net_pcap1,rx_pcap=$pcap,infinite_rx=1")

run_faultline() {  # label, vdevs array name, faultline options...
  local label=$1; local -n vdevs=$2; shift 2
  local out
  out=$(timeout -s INT "$seconds" "$binary" run "$@" -- --in-memory --no-pci -l "$lcore" "${vdevs[@]}" 2>/dev/null || true)
  local a b
  a=$(grep -o 'port 0 (side a): rx [0-9]*  tx [0-9]*  (rx [0-9.]* Mpps, tx [0-9.]* Mpps)' <<<"$out" | grep -o 'tx [0-9.]* Mpps' | grep -o '[0-9.]*')
  b=$(grep -o 'port 1 (side b): rx [0-9]*  tx [0-9]*  (rx [0-9.]* Mpps, tx [0-9.]* Mpps)' <<<"$out" | grep -o 'tx [0-9.]* Mpps' | grep -o '[0-9.]*')
  local drops; drops=$(grep -o '^dropped:.*' <<<"$out")
  printf '%-36s  b->a %8s Mpps   a->b %8s Mpps   %s\n' "$label" "$a" "$b" "$drops"
  local rule; rule=$(grep -o '^rule .*' <<<"$out" || true)
  if [[ -n $rule ]]; then printf '%-36s  %s\n' "" "$rule"; fi
}

run_testpmd() {  # label, vdevs array name
  local label=$1; local -n vdevs=$2
  command -v dpdk-testpmd >/dev/null || return 0
  # Non-interactive testpmd forwards until it reads a line; its totals cover the whole run.
  local out tx
  out=$( (sleep "$seconds"; echo) | dpdk-testpmd --in-memory --no-pci -l 0,"$lcore" \
        "${vdevs[@]}" -- --forward-mode=io 2>/dev/null || true)
  tx=$(grep -A4 'Accumulated forward statistics for all ports' <<<"$out" | grep -o 'TX-packets: *[0-9]*' | grep -o '[0-9]*$')
  printf '%-36s  both ways %8s Mpps in total (testpmd counts over ~%s s)\n' "$label" \
    "$(awk -v p="${tx:-0}" -v s="$seconds" 'BEGIN { printf "%.3f", p / s / 1e6 }')" "$seconds"
}

echo "faultline forwarding rate, $seconds s per run, 64 B frames, 1 worker on lcore $lcore ($(date -u +%F))"
run_faultline "null: pass-through" null_vdevs --hold 262144
run_faultline "null: constant delay 1ms" null_vdevs --delay 1ms --hold 262144
run_testpmd "null: dpdk-testpmd io (ceiling)" null_vdevs
run_faultline "pcap 1024 flows: pass-through" pcap_vdevs --hold 262144
run_faultline "pcap 1024 flows: constant delay 1ms" pcap_vdevs --delay 1ms --hold 262144
run_faultline "pcap 1024 flows: full profile" pcap_vdevs --profile profiles/bench-full-pipeline.yaml --hold 262144
run_testpmd "pcap: dpdk-testpmd io (ceiling)" pcap_vdevs
