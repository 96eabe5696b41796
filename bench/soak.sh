#!/usr/bin/env bash
# Soak: `faultline run` forwarding real traffic for an hour (by default) while the control plane
# keeps changing it, and the three things that must hold throughout:
#   - memory flat: after the warm-up, the daemon's resident memory outside the EAL memory (the C++
#     heap: profiles, specs, control state) stays within 5% of its lowest, and so does what the
#     EAL heap has allocated (group tables, mbufs: read through DPDK telemetry), the lowest and
#     the highest of the last fifth against the first fifth. Total RSS is reported too: it also
#     counts the pages of the EAL memory (-m, preallocated) that tables have touched so far, which
#     DPDK never gives back, so it grows in 64 MiB steps when a table lands on untouched pages,
#     up to -m;
#   - counters add up: every sample has rx >= tx + dropped (the rest is held) and every counter
#     only grows; after the stop (--on-exit drop) rx + duplicated = tx + dropped, exactly;
#   - `faultline stats` answered every time it asked (every 5 s).
# Set-up: two network namespaces (10.77.0.1, 10.77.0.2) joined only by the dataplane on
# net_af_packet over veth; iperf3 UDP both ways (20 Mbit/s each, 512-byte datagrams). The
# changes, in a loop of about 30 s: a trace (partition a -> b, heal, set-impairment, a stall of b,
# a partition both ways, heal all, set-impairment back, side b flapping), then apply profile B
# (rate limit, duplication, other delays), heal partitions, apply A, heal impairments, apply A.
#
# Usage: bench/soak.sh [seconds, default 3600]   (as root; not part of CI)
#   SOAK_DIR=dir keeps the samples there (default: a new directory under /tmp, printed);
#   FAULTLINE=path picks another binary; SOAK_WARMUP=seconds (default 300).
# Prints a summary and exits 0 if all three held, 1 if not. Run it with nice on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-3600}
warmup=${SOAK_WARMUP:-300}
[[ -x ${FAULTLINE:-build/faultline} ]] || { echo "build first: scripts/setup.sh" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "soak: needs root (network namespaces)" >&2; exit 1; }
dir=${SOAK_DIR:-$(mktemp -d /tmp/faultline-soak-XXXXXX)}
mkdir -p "$dir"
# A copy: a rebuild meanwhile must not pull the binary from under the daemon or the client calls.
binary=$dir/faultline
cp "${FAULTLINE:-build/faultline}" "$binary"
tag=fs$$
ns_a=$tag-a ns_b=$tag-b port_a=${tag}ad port_b=${tag}bd
socket=$dir/control.sock
daemon=""

cleanup() {
  [[ -n $daemon ]] && kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  for ns in $ns_a $ns_b; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  ip link del "$port_a" 2>/dev/null || true
  ip link del "$port_b" 2>/dev/null || true
}
trap cleanup EXIT

# --- test bed: host a in $ns_a behind veth $port_a, host b likewise ---
for side in a b; do
  ns=$tag-$side port=$tag${side}d host=$tag${side}h address=10.77.0.$([[ $side == a ]] && echo 1 || echo 2)
  ip netns add "$ns"
  ip link add "$port" type veth peer name "$host" netns "$ns"
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" ip addr add "$address/24" dev "$host"
  ip netns exec "$ns" ip link set "$host" up
  ip netns exec "$ns" ethtool -K "$host" tx off >/dev/null
  sysctl -qw "net.ipv6.conf.$port.disable_ipv6=1"
  ip link set "$port" up
done

# --- profiles and the trace ---
cat >"$dir/a.yaml" <<'YAML'
version: 1
seed: 7
groups:
  a: [10.77.0.1]
  b: [10.77.0.2]
impairments:
  light: {delay: {base: 1ms, jitter: 200us}, loss: {probability: 0.1%}}
  heavy: {delay: {base: 5ms, jitter: 2ms, distribution: normal}, loss: {model: gilbert-elliott, p: 1%, r: 30%}}
  back: {delay: {base: 2ms}}
rules:
  - {name: a-to-b, match: {src: a, dst: b}, impairment: light}
  - {name: b-to-a, match: {src: b, dst: a}, impairment: back}
YAML
cat >"$dir/b.yaml" <<'YAML'
version: 1
seed: 7
groups:
  a: [10.77.0.1]
  b: [10.77.0.2, 10.77.0.128/25]
impairments:
  light: {delay: {base: 500us}, rate: {bandwidth: 15mbit, queue-limit: 200pkt}}
  heavy: {duplicate: {probability: 1%}, reorder: {probability: 5%, max-displacement: 4}, delay: {base: 3ms}}
  back: {corrupt: {probability: 0.1%, fix-checksums: true}, delay: {base: 1ms}}
rules:
  - {name: a-to-b, match: {src: a, dst: b}, impairment: light}
  - {name: b-to-a, match: {src: b, dst: a}, impairment: heavy}
  - {name: rest, match: {}, impairment: back}
YAML
cat >"$dir/cycle.trace.yaml" <<'YAML'
version: 1
name: soak-cycle
events:
  - at: 1s
    partition: {from: a, to: b, name: cut-ab}
  - at: 4s
    heal: partitions
  - at: 5s
    set-impairment: {rule: a-to-b, impairment: heavy}
  - at: 8s
    stall: {group: b, for: 500ms}
  - at: 10s
    partition: {between: [a, b], name: split}
  - at: 12s
    heal: all
  - at: 13s
    set-impairment: {rule: a-to-b, impairment: light}
  - at: 14s
    link: {side: b, state: flapping, for: 3s, down: 200ms, up: 800ms}
YAML
"$binary" validate "$dir/a.yaml" "$dir/b.yaml" >/dev/null
"$binary" validate --profile "$dir/a.yaml" "$dir/cycle.trace.yaml" >/dev/null

# --- the dataplane: one worker on lcore 1 (0 on a one-core machine), 50 us idle sleeps ---
lcore=$(( $(nproc) > 1 ? 1 : 0 ))
"$binary" run --profile "$dir/a.yaml" --hold 65536 --idle-sleep 50us --control "$socket" \
  --stats-json "$dir/final.json" -- --no-pci --no-huge --no-shconf -m 1024 -l $lcore \
  "--vdev=net_af_packet0,iface=$port_a,framecnt=8192" \
  "--vdev=net_af_packet1,iface=$port_b,framecnt=8192" >"$dir/run.log" 2>&1 &
daemon=$!
for _ in $(seq 200); do grep -q "faultline: forwarding" "$dir/run.log" && break; sleep 0.1; done
grep -q "faultline: forwarding" "$dir/run.log" || { cat "$dir/run.log"; exit 1; }
fl() { "$binary" "$@" --control "$socket"; }

# --- traffic: UDP both ways for the whole run ---
ip netns exec "$ns_b" iperf3 -s -p 5201 -D --logfile "$dir/iperf-server-b.log"
ip netns exec "$ns_a" iperf3 -s -p 5202 -D --logfile "$dir/iperf-server-a.log"
sleep 0.5
ip netns exec "$ns_a" iperf3 -c 10.77.0.2 -p 5201 -u -b 20M -l 512 -t "$duration" \
  --logfile "$dir/iperf-a-to-b.log" &
traffic=($!)
ip netns exec "$ns_b" iperf3 -c 10.77.0.1 -p 5202 -u -b 20M -l 512 -t "$duration" \
  --logfile "$dir/iperf-b-to-a.log" &
traffic+=($!)

# --- the changes, in a loop, until the end ---
start=$(date +%s)
end=$((start + duration))
(
  cycles=0 refused=0
  while (( $(date +%s) < end - 40 )); do
    fl trace start "$dir/cycle.trace.yaml" --at +200ms >/dev/null || refused=$((refused + 1))
    for _ in $(seq 30); do
      sleep 1
      fl trace status --json 2>/dev/null | grep -q '"state": "running"' || break
    done
    fl apply "$dir/b.yaml" >/dev/null || refused=$((refused + 1))
    sleep 3
    fl heal >/dev/null || refused=$((refused + 1))
    fl apply "$dir/a.yaml" >/dev/null || refused=$((refused + 1))
    sleep 3
    fl heal --impairments >/dev/null || refused=$((refused + 1))
    sleep 2
    fl apply "$dir/a.yaml" >/dev/null || refused=$((refused + 1))
    cycles=$((cycles + 1))
    echo "$cycles $refused" >"$dir/cycles"
  done
) &
changer=$!

# The daemon's DPDK telemetry socket (it says its pid), for what the EAL heap has allocated.
telemetry=$(python3 - "$daemon" <<'PY'
import glob, json, socket, sys
for path in glob.glob("/var/run/dpdk/*/dpdk_telemetry.v2*"):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(path)
        if json.loads(s.recv(16384)).get("pid") == int(sys.argv[1]):
            print(path)
    except OSError:
        pass
PY
)
[[ -n $telemetry ]] || { echo "soak: no DPDK telemetry socket of pid $daemon" >&2; exit 1; }
heap_allocated() {
  python3 - "$telemetry" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.recv(16384)
s.send(b"/eal/heap_info,0")
print(json.loads(s.recv(16384))["/eal/heap_info"]["Alloc_size"] // 1024)
PY
}

# --- samples every 5 s: time, RSS (KiB: all, and of the EAL memory mapping), EAL heap
# allocated (KiB), stats answered?, its latency, rx, tx, dropped, duplicated ---
echo "seconds,rss_kib,eal_rss_kib,heap_kib,answered,stats_ms,rx,tx,dropped,duplicated" \
  >"$dir/samples.csv"
while (( $(date +%s) < end )); do
  now=$(date +%s.%N)
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$daemon/status")
  # --no-huge: one memfd of -m bytes ("/memfd:nohuge"); with hugepages, rtemap files (not RSS).
  eal_rss=$(awk '/^[0-9a-f]+-[0-9a-f]+ / {eal = $6 ~ /memfd:nohuge|rtemap/} eal && /^Rss:/ {sum += $2} END {print sum + 0}' "/proc/$daemon/smaps")
  heap=$(heap_allocated)
  t0=$(date +%s%N)
  if fl stats --json >"$dir/stats.json" 2>"$dir/stats.err"; then answered=1; else answered=0; fi
  t1=$(date +%s%N)
  counters=$(python3 - "$dir/stats.json" "$answered" <<'PY'
import json, sys
if sys.argv[2] != "1":
    print("0,0,0,0"); sys.exit()
s = json.load(open(sys.argv[1]))
rx = sum(p["rx"] for p in s["ports"]); tx = sum(p["tx"] for p in s["ports"])
dropped = sum(s["dropped"].values())
duplicated = sum(r["duplicated"] for r in s["rules"])
print(f"{rx},{tx},{dropped},{duplicated}")
PY
)
  printf '%.1f,%s,%s,%s,%s,%d,%s\n' "$(awk -v a="$now" -v b="$start" 'BEGIN { print a - b }')" \
    "$rss" "$eal_rss" "$heap" "$answered" $(((t1 - t0) / 1000000)) "$counters" >>"$dir/samples.csv"
  sleep 5
done
wait "$changer" 2>/dev/null || true
wait "${traffic[@]}" 2>/dev/null || true
kill -TERM "$daemon"
wait "$daemon" || true
daemon=""

# --- verdict ---
python3 - "$dir" "$warmup" <<'PY'
import csv, json, sys
d, warmup = sys.argv[1], float(sys.argv[2])
rows = list(csv.DictReader(open(f"{d}/samples.csv")))
answered = [r for r in rows if r["answered"] == "1"]
unanswered = len(rows) - len(answered)
late = [r for r in rows if float(r["seconds"]) >= warmup] or rows[len(rows) // 2:]  # short runs
rss_all = [int(r["rss_kib"]) for r in rows]
rss_late = [int(r["rss_kib"]) for r in late]
own = [int(r["rss_kib"]) - int(r["eal_rss_kib"]) for r in late]
own_growth = (max(own) / min(own) - 1) * 100
# The EAL heap's allocation follows the snapshots alive at the moment (one or a few sets of group
# tables): its envelope, lowest and highest of the last fifth against the first fifth, must hold.
heap = [int(r["heap_kib"]) for r in late]
fifth = max(len(heap) // 5, 1)
first, last = heap[:fifth], heap[-fifth:]
heap_growth = max(min(last) / min(first), max(last) / max(first)) * 100 - 100
# Live: counters only grow, rx >= tx + dropped (the difference is held).
monotonic = held_ok = True
previous = None
for r in answered:
    rx, tx, dropped = int(r["rx"]), int(r["tx"]), int(r["dropped"])
    if rx + int(r["duplicated"]) < tx + dropped: held_ok = False
    if previous and (rx < previous[0] or tx < previous[1] or dropped < previous[2]):
        monotonic = False
    previous = (rx, tx, dropped)
final = json.load(open(f"{d}/final.json"))
rx = sum(p["rx"] for p in final["ports"]); tx = sum(p["tx"] for p in final["ports"])
dropped = sum(final["dropped"].values())
dup = sum(r["duplicated"] for r in final["rules"])
# Rules that left the profile (the trace's stall rules) took their duplicates with them from the
# list, but they duplicate nothing: the identity holds with the rules in force.
balanced = rx + dup == tx + dropped
cycles = open(f"{d}/cycles").read().split() if __import__("os").path.exists(f"{d}/cycles") else ["0", "0"]
stats_ms = sorted(int(r["stats_ms"]) for r in answered)
print(f"soak: {float(rows[-1]['seconds']):.0f} s, {len(rows)} stats samples, {unanswered} unanswered "
      f"(stats latency p50 {stats_ms[len(stats_ms)//2]} ms, max {stats_ms[-1]} ms)")
print(f"soak: {cycles[0]} change cycles (trace + 5 applies/heals each), {cycles[1]} refused")
print(f"soak: after the {warmup:.0f} s warm-up: RSS outside the EAL memory {min(own)/1024:.1f}.."
      f"{max(own)/1024:.1f} MiB, growth {own_growth:.2f}% (limit 5%); EAL heap allocated "
      f"{min(first)/1024:.0f}..{max(first)/1024:.0f} MiB in the first fifth, {min(last)/1024:.0f}.."
      f"{max(last)/1024:.0f} MiB in the last, growth {heap_growth:.2f}% (limit 5%)")
print(f"soak: total RSS {min(rss_all)/1024:.1f}..{max(rss_all)/1024:.1f} MiB overall, "
      f"{min(rss_late)/1024:.1f}..{max(rss_late)/1024:.1f} MiB after the warm-up (with the EAL pages "
      f"touched so far; at most -m 1024 MiB of them)")
print(f"soak: final rx {rx} + duplicated {dup} = {rx + dup}; tx {tx} + dropped {dropped} = {tx + dropped}"
      f" ({'equal' if balanced else 'DIFFERENT'}); drops by cause {final['dropped']}")
print(f"soak: live samples: counters {'only grew' if monotonic else 'WENT BACK'}, "
      f"rx + duplicated >= tx + dropped {'always' if held_ok else 'NOT ALWAYS'}")
ok = unanswered == 0 and own_growth <= 5 and heap_growth <= 5 and balanced and monotonic and held_ok
print(f"soak: {'PASS' if ok else 'FAIL'} (samples in {d})")
sys.exit(0 if ok else 1)
PY
