#!/usr/bin/env bash
# Forwarding rate of `faultline run` on net_null vdevs (64-byte frames, both directions), one
# worker on one lcore, for pass-through and a 1 ms constant delay, with dpdk-testpmd's io
# forwarding on the same vdevs as the ceiling. Reserves hugepages (root) as benchmarks need.
# Usage: bench/mpps.sh [seconds per run, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
binary=build/faultline
[[ -x $binary ]] || { echo "build first: scripts/setup.sh" >&2; exit 1; }

pages=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
if (( $(cat $pages) < 1024 )); then echo 1024 > $pages; fi
mkdir -p /dev/hugepages
mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages
lcore=$(( $(nproc) > 1 ? 1 : 0 ))
eal=(--in-memory --no-pci -l "$lcore" --vdev=net_null0,size=64 --vdev=net_null1,size=64)

run_faultline() {  # label, faultline options...
  local label=$1; shift
  local out
  out=$(timeout -s INT "$seconds" "$binary" run "$@" -- "${eal[@]}" 2>/dev/null || true)
  local a b
  a=$(grep -o 'port 0 (side a): rx [0-9]*  tx [0-9]*  (rx [0-9.]* Mpps, tx [0-9.]* Mpps)' <<<"$out" | grep -o 'tx [0-9.]* Mpps' | grep -o '[0-9.]*')
  b=$(grep -o 'port 1 (side b): rx [0-9]*  tx [0-9]*  (rx [0-9.]* Mpps, tx [0-9.]* Mpps)' <<<"$out" | grep -o 'tx [0-9.]* Mpps' | grep -o '[0-9.]*')
  local drops; drops=$(grep -o '^dropped:.*' <<<"$out")
  printf '%-34s  b->a %8s Mpps   a->b %8s Mpps   %s\n' "$label" "$a" "$b" "$drops"
}

echo "faultline forwarding rate, $seconds s per run, net_null 64 B, 1 worker on lcore $lcore ($(date -u +%F))"
run_faultline "pass-through" --hold 262144
run_faultline "constant delay 1ms" --delay 1ms --hold 262144
if command -v dpdk-testpmd >/dev/null; then
  # Non-interactive testpmd forwards until it reads a line; its totals cover the whole run.
  out=$( (sleep "$seconds"; echo) | dpdk-testpmd --in-memory --no-pci -l 0,"$lcore" \
        --vdev=net_null0,size=64 --vdev=net_null1,size=64 -- --forward-mode=io 2>/dev/null || true)
  tx=$(grep -A4 'Accumulated forward statistics for all ports' <<<"$out" | grep -o 'TX-packets: *[0-9]*' | grep -o '[0-9]*$')
  printf '%-34s  both ways %8s Mpps in total (testpmd counts over ~%s s)\n' "dpdk-testpmd io (ceiling)" \
    "$(awk -v p="${tx:-0}" -v s="$seconds" 'BEGIN { printf "%.3f", p / s / 1e6 }')" "$seconds"
fi
