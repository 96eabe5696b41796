#!/usr/bin/env bash
# Lateness of trace steps on a live dataplane (applied minus scheduled, measured by the worker in
# TSC when it installs each step): p50, p99 and max over a trace of STEPS steps 10 ms apart that
# switch every rule between two impairments (set-impairment) and, in the same trace, flap a link
# (link down/up steps), in three settings:
#   idle, busy polling     net_ring ports nothing feeds: the worker spins (production mode)
#   idle, --idle-sleep     the same with 50 us idle sleeps (test mode; sleeps end at the next step)
#   loaded                 net_pcap infinite_rx of 1024 IPv4/UDP flows (bench/flows_pcap.py),
#                          forwarded with a 20 us / 40 us delay as fast as one worker can
# One worker on lcore 1 (0 on a one-core machine), hugepages reserved as the other benchmarks.
# Usage: bench/trace_lateness.sh [steps, default 400]   (FAULTLINE=path picks another binary)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-400}
binary=${FAULTLINE:-build/faultline}
[[ -x $binary ]] || { echo "build first: scripts/setup.sh" >&2; exit 1; }

pages=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
if (( $(cat $pages) < 1024 )); then echo 1024 > $pages; fi
mkdir -p /dev/hugepages
mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages
lcore=$(( $(nproc) > 1 ? 1 : 0 ))
work=$(mktemp -d)
daemon=""
cleanup() { [[ -n $daemon ]] && kill -INT "$daemon" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

python3 bench/flows_pcap.py "$work/flows.pcap" 1024
cat >"$work/profile.yaml" <<'YAML'
version: 1
impairments:
  short: {delay: {base: 20us}}
  long: {delay: {base: 40us}}
rules:
  - {name: all, match: {}, impairment: short}
YAML
{
  echo "version: 1"
  echo "events:"
  for ((i = 0; i < steps / 2; i++)); do
    printf '  - at: %dms\n    set-impairment: {rule: all, impairment: %s}\n' $((i * 20)) \
      "$([[ $((i % 2)) == 0 ]] && echo long || echo short)"
  done
  # The other half: a link flapping 5 ms down, 15 ms up, 10 ms after each set-impairment.
  printf '  - at: 10ms\n    link: {side: b, state: flapping, for: %dms, down: 5ms, up: 15ms}\n' \
    $(((steps / 2) * 20 - 20))
} >"$work/trace.yaml"
"$binary" validate --profile "$work/profile.yaml" "$work/trace.yaml" >/dev/null

measure() {  # label, faultline run options..., -- EAL vdevs...
  local label=$1; shift
  local socket="$work/control.sock"
  rm -f "$socket"
  "$binary" run --profile "$work/profile.yaml" --control "$socket" "$@" >"$work/run.log" 2>&1 &
  daemon=$!
  for _ in $(seq 100); do [[ -S $socket ]] && break; sleep 0.05; done
  sleep 1
  "$binary" trace start "$work/trace.yaml" --at +500ms --control "$socket" >/dev/null
  local total_ms=$(((steps / 2) * 20 + 1500))
  sleep "$(awk -v ms=$total_ms 'BEGIN { print ms / 1000 }')"
  "$binary" trace status --json --control "$socket" >"$work/status.json"
  "$binary" stats --json --control "$socket" >"$work/stats.json"
  kill -INT "$daemon"; wait "$daemon" 2>/dev/null || true; daemon=""
  python3 - "$label" "$work/status.json" "$work/stats.json" <<'PY'
import json, sys
label, status, stats = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
late = sorted(e["lateness_ns"] for e in status["events"] if e.get("state") == "applied")
def q(p): return late[min(len(late) - 1, int(p * len(late)))] if late else float("nan")
rx = sum(p["rx"] for p in stats["ports"])
print(f"{label:<28} steps {len(late):4d} ({status['state']})  lateness p50 {q(0.5)/1e3:7.2f} us"
      f"  p99 {q(0.99)/1e3:7.2f} us  max {late[-1]/1e3 if late else float('nan'):7.2f} us"
      f"   rx {rx/(stats['elapsed_ns']/1e9)/1e6:6.2f} Mpps"
      f"   handed over late {status.get('handed_over_late', 0)}")
PY
}

echo "trace step lateness, $steps steps 10 ms apart, 1 worker on lcore $lcore ($(date -u +%F), load $(cut -d' ' -f1 /proc/loadavg))"
eal=(-- --in-memory --no-pci -l "$lcore")
measure "idle, busy polling" "${eal[@]}" --vdev=net_ring0 --vdev=net_ring1
measure "idle, --idle-sleep 50us" --idle-sleep 50us "${eal[@]}" --vdev=net_ring0 --vdev=net_ring1
measure "loaded (pcap, 1024 flows)" --hold 262144 "${eal[@]}" \
  --vdev="net_pcap0,rx_pcap=$work/flows.pcap,infinite_rx=1" \
  --vdev="net_pcap1,rx_pcap=$work/flows.pcap,infinite_rx=1"
