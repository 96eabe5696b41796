#!/usr/bin/env bash
# Sets up (packages, build) and runs every test. This is what CI runs.
# Usage: scripts/test.sh   (as root: the end-to-end tests build network namespaces)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Leftovers of an interrupted earlier run would collide with nothing (names carry the PID),
# but say so if there are any.
leftover=$(ip netns list 2>/dev/null | grep -c '^fl[0-9]*-' || true)
[[ "$leftover" == 0 ]] || echo "test: note: $leftover faultline test namespaces from earlier runs exist"
meson test -C build --print-errorlogs "$@"
