#!/usr/bin/env bash
# Depth (issue 14, target 4), offline: 1 s of delay at 1 Mpps, a million frames in flight, with
# zero loss. `faultline replay` in virtual time of 1,228,800 64-byte frames (workload W's side a,
# bench/flows_pcap.py --workload-w, 1,024 flows x 1,200 rounds) stamped 1 us apart (1 Mpps),
# --delay 1s: after the first second every new frame waits behind 1,000,000 held ones.
#   run 1: --hold 1048576 (1Mi): must forward every frame, buffer_exhausted 0;
#   run 2: --hold 900000: must drop and count (buffer_exhausted > 0), the proof that run 1 really
#          held about a million frames at once and that the limit is counted, not silent.
# Needs about 2.6 GB of (no-huge) DPDK memory for the pool; no root. Exit 0 only if both hold.
# Usage: bench/depth.sh [BUILD dir, default build]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
ninja -C "$build" faultline >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/flows_pcap.py --workload-w "$work/a.pcap" "$work/b.pcap" --flows 1024 \
  --rounds 1200 --gap-us 1
rm -f "$work/b.pcap"

replay() {  # HOLD STATS_JSON -> prints "in out buffer_exhausted seconds"
  local start end
  start=$(date +%s.%N)
  "$build/faultline" replay --delay 1s --hold "$1" --in "$work/a.pcap" --out "$work/out.pcap" \
    --stats-json "$2" >"$work/replay.txt" 2>&1 || true
  end=$(date +%s.%N)
  python3 - "$2" "$start" "$end" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rx = sum(p["rx"] for p in d["ports"])
tx = sum(p["tx"] for p in d["ports"])
print(rx, tx, d["dropped"]["buffer_exhausted"], f"{float(sys.argv[3]) - float(sys.argv[2]):.1f}")
PY
}

status=0
read -r rx tx exhausted took < <(replay 1048576 "$work/hold1mi.json")
echo "depth: --delay 1s at 1 Mpps, --hold 1048576: in $rx out $tx buffer_exhausted $exhausted ($took s wall)"
if (( rx < 1200000 || tx != rx || exhausted != 0 )); then
  echo "depth: FAILED: frames lost with room for 1Mi in flight" >&2
  status=1
fi
read -r rx2 tx2 exhausted2 took2 < <(replay 900000 "$work/hold900k.json")
echo "depth: --delay 1s at 1 Mpps, --hold 900000:  in $rx2 out $tx2 buffer_exhausted $exhausted2 ($took2 s wall)"
if (( exhausted2 == 0 || tx2 + exhausted2 != rx2 )); then
  echo "depth: FAILED: 900,000 held frames should not hold 1 s at 1 Mpps, and every drop counts" >&2
  status=1
fi
(( status == 0 )) && echo "depth: OK: a million frames in flight, none lost; past the hold limit every drop is counted"
exit $status
