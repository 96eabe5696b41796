# Shared by the forwarding-rate harnesses bench/run.sh, bench/scaleout.sh, bench/pool_order.sh
# and bench/pmd_share.sh (sourced, not run): the release build, hugepages (or --no-huge), one
# `faultline run` and its rate, one dpdk-testpmd io run, medians.
# The caller sets: seconds (per run), work (a temporary directory), and before run_faultline
# faultline_eal (the EAL arguments after the memory ones: lcores and vdevs).
bench_name=bench/$(basename "$0")

# bench_arguments [repetitions, default 5] [seconds per run, default 5]: sets reps, seconds and
# build (BUILD, default build); exits 2 on bad arguments, 1 if not root.
bench_arguments() {
  reps=${1:-5}
  seconds=${2:-5}
  build=${BUILD:-build}
  [[ $reps =~ ^[1-9][0-9]*$ && $seconds =~ ^[1-9][0-9]*$ ]] || {
    echo "usage: $bench_name [repetitions] [seconds per run]" >&2
    exit 2
  }
  [[ $EUID -eq 0 ]] || { echo "$bench_name: run as root (hugepages, DPDK)" >&2; exit 1; }
}

# bench_build BUILD_DIR: configures it release if needed, builds faultline; sets `binary`.
bench_build() {
  local build=$1
  if [[ ! -f $build/build.ninja ]]; then
    meson setup "$build" --buildtype=release >/dev/null
  elif [[ $(meson introspect "$build" --buildoptions |
            python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"))') != release ]]; then
    meson configure "$build" -Dbuildtype=release >/dev/null
  fi
  ninja -C "$build" faultline >/dev/null
  binary=$build/faultline
}

# bench_memory PAGES: reserves and mounts PAGES 2 MiB hugepages, or (if that fails, or NO_HUGE=1)
# falls back to --no-huge and says so. Sets `eal_memory` (array) and `memory_note`.
bench_memory() {
  huge_needed=$1
  eal_memory=(--in-memory)
  memory_note="hugepages (2 MiB)"
  if [[ ${NO_HUGE:-0} == 1 ]] || ! reserve_hugepages; then
    eal_memory=(--no-huge --no-shconf -m 2048)  # testpmd refuses --in-memory with --no-huge
    memory_note="NO HUGEPAGES: could not reserve $huge_needed free 2 MiB pages (or NO_HUGE=1), running with --no-huge -m 2048 (memory from malloc)"
    echo "$bench_name: $memory_note" >&2
  fi
}
reserve_hugepages() {
  local pages=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
  [[ -w $pages ]] || return 1
  local total; total=$(cat $pages)
  if (( total < huge_needed )); then echo "$huge_needed" > $pages 2>/dev/null || return 1; fi
  mkdir -p /dev/hugepages
  mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || return 1
  local free; free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
  (( free >= huge_needed ))
}

# Frames transmitted on all ports per second, in Mpps: between EARLY and FINAL (two statistics
# documents of one run: a `stats --json` snapshot and the final one) if EARLY is a snapshot of
# it, else over FINAL's whole run (start-up included).
mpps_from_stats_json() {  # FINAL [EARLY]
  python3 - "$1" "${2:-}" <<'EOF' 2>/dev/null || true
import json, sys
def tx_and_time(path):
    d = json.load(open(path))
    return sum(p['tx'] for p in d['ports']), d['elapsed_ns']
tx, elapsed = tx_and_time(sys.argv[1])
try:
    early_tx, early_elapsed = tx_and_time(sys.argv[2])
    if 0 < early_elapsed < elapsed and early_tx <= tx:
        tx, elapsed = tx - early_tx, elapsed - early_elapsed
except Exception:
    pass
if tx > 0 and elapsed > 0:  # else the run ended before forwarding (too short a run)
    print(f"{tx / (elapsed / 1e9) / 1e6:.3f}")
EOF
}

# run_faultline STATS_JSON, faultline run options...: one run of `seconds` on faultline_eal;
# prints its Mpps (both directions), or nothing if it forwarded nothing. Its output stays in
# $work/out.txt. The rate is the steady state's, as testpmd's last per-second report is: the
# frames sent between a `faultline stats --json` snapshot taken WARM_UP seconds in (default 2;
# none for runs of 3 s or less) and the end, over the time between them; if the snapshot could
# not be taken (a slow start), the whole run's rate, and stderr says so.
run_faultline() {
  local stats=$1; shift
  local early=$work/early.json
  local warm_up=${WARM_UP:-$(( seconds > 3 ? 2 : 0 ))}
  rm -f "$stats" "$early"
  # Its own control socket: a daemon already running on this machine keeps the default one.
  timeout -s INT "$seconds" "$binary" run --hold 262144 --control "$work/control.sock" \
    --stats-json "$stats" "$@" -- \
    --no-pci "${eal_memory[@]}" "${faultline_eal[@]}" >"$work/out.txt" 2>&1 &
  local pid=$!
  if (( warm_up > 0 )); then
    sleep "$warm_up"
    if ! "$binary" stats --json --control "$work/control.sock" >"$early" 2>/dev/null; then
      echo "$bench_name: no statistics snapshot ${warm_up} s into faultline run $*: its rate includes start-up" >&2
      rm -f "$early"
    fi
  fi
  wait "$pid" || true
  local mpps=""
  if [[ -s $stats ]]; then mpps=$(mpps_from_stats_json "$stats" "$early"); fi
  if [[ -z $mpps ]]; then
    # Start-up (EAL, the mbuf pool) takes seconds, more with --no-huge: runs must be longer.
    echo "$bench_name: faultline run $* forwarded nothing in $seconds s:" >&2
    tail -n 3 "$work/out.txt" >&2
  fi
  echo "$mpps"
}

# testpmd_io LCORE VDEV...: dpdk-testpmd --forward-mode=io for `seconds`, forwarding on LCORE
# (its main lcore on 0), each port's Tx-pps reported every second (--stats-period 1); prints
# testpmd's output.
testpmd_io() {
  local lcore=$1; shift
  (sleep "$seconds"; echo) | timeout $(( seconds + 30 )) dpdk-testpmd --no-pci "${eal_memory[@]}" \
    -l 0,"$lcore" "$@" -- --forward-mode=io --stats-period 1 2>&1 || true
}

median() {  # values... (NA and empty ignored) -> the median, or NA
  printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g |
    awk '{ v[n++] = $1 } END { if (!n) print "NA"; else if (n % 2) print v[(n-1)/2]; else printf "%.3f\n", (v[n/2-1] + v[n/2]) / 2 }'
}
