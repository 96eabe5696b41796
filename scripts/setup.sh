#!/usr/bin/env bash
# Installs what faultline needs on Debian 12 (idempotent, non-interactive) and builds it.
# Usage: scripts/setup.sh [TARGET...]   (as root on a fresh machine)
#   TARGET: ninja targets to build (default: everything); scripts/demo.sh builds only `faultline`.
#   FAULTLINE_WERROR=1: compiler warnings are errors (CI: scripts/test.sh sets it).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential pkg-config meson ninja-build
  libdpdk-dev dpdk dpdk-dev          # DPDK 22.11: libraries, PMDs, dpdk-testpmd
  libpcap-dev libcli11-dev nlohmann-json3-dev libyaml-dev   # libyaml: the YAML reader
  libgtest-dev libgmock-dev libbenchmark-dev   # meson configures the tests and benchmarks
  iproute2 iputils-ping iperf3 ethtool procps   # demo and end-to-end test bed
  libjs-chart.js                     # `faultline report` inlines its Chart.js into the page
  libcpp-httplib-dev libssl-dev      # the HTTP API (run --api, --metrics) and its client (--box)
)
# Only for the tests (scripts/test.sh sets FAULTLINE_TEST_TOOLS=1): the demo does not wait for them.
if [[ "${FAULTLINE_TEST_TOOLS:-0}" == 1 ]]; then
  packages+=(
    clang-14 libclang-rt-14-dev      # libFuzzer and the sanitizers (scripts/sanitize_build.sh)
    clang-format-14                  # the formatting check (scripts/check_format.sh)
    ccache                           # rebuilds of unchanged sources (release and sanitizer builds)
    chromium python3-pytest          # the report rendered headless (tests/report_render_test.py)
    openssl prometheus               # http_api_test's certificate; prometheus_scrape_test and
                                     # promtool (stats_test checks the exposition)
    # clients/python: its tests and `pip install ./clients/python` offline (--no-build-isolation
    # uses Debian's setuptools and wheel)
    python3-setuptools python3-wheel python3-pip
    debhelper man-db                 # the package test: scripts/package.sh, man -l
    systemd                          # systemd-analyze verify of faultline@.service
  )
fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ ! -f build/build.ninja ]]; then
  meson setup build --buildtype=release
fi
# The build is free of warnings (GCC 12 on Debian 12); CI keeps it so.
if [[ "${FAULTLINE_WERROR:-0}" == 1 ]]; then meson configure build -Dwerror=true; fi
ninja -C build "$@"
