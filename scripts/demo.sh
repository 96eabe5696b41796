#!/usr/bin/env bash
# Sets up (packages, the faultline binary only: not the tests and benchmarks) and runs
# `faultline demo` on its embedded default test bed.
# Usage: scripts/demo.sh [demo options, e.g. --delay 25ms]   (as root)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh faultline >&2
exec build/faultline demo "$@"
