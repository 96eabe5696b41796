#!/usr/bin/env bash
# Builds the Debian package of faultline with debhelper (debian/): the binary built for
# -march=corei7 (what Debian's DPDK needs), the profiles and traces, the manual pages and the
# systemd unit, as `meson install` puts them (docs/install.md).
# Usage: scripts/package.sh [OUT_DIR]   (default build-package/; prints the .deb's path last)
# The sources are copied to OUT_DIR/src, a fixed path under the checkout, so that ccache finds
# the objects of the previous package build (only the binary and one manual page are built:
# debian/rules). Needs the build packages of scripts/setup.sh and debhelper.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-build-package}")
rm -rf "$out/src"
mkdir -p "$out/src"
# The files of the checkout (tracked, and new ones not ignored), as they are now.
git ls-files -z --cached --others --exclude-standard |
  tar --null --files-from=- --ignore-failed-read -cf - | tar -xf - -C "$out/src"
# debhelper (compat 13) runs dh_auto_* with a HOME of its own, where ccache finds neither its
# configuration nor its cache: point it at the user's cache, with paths relative to the copy, so
# a package build of unchanged sources reuses the objects of the last one, wherever the checkout.
if command -v ccache >/dev/null; then
  CCACHE_DIR=${CCACHE_DIR:-$(ccache -k cache_dir)}
  export CCACHE_DIR CCACHE_BASEDIR=$out/src CCACHE_NOHASHDIR=true
fi
rm -f "$out"/faultline_*.deb "$out"/faultline-dbgsym_* "$out"/faultline_*.buildinfo \
  "$out"/faultline_*.changes
(cd "$out/src" && dpkg-buildpackage -b -us -uc --no-sign -j"$(nproc)" >"$out/build.log" 2>&1) || {
  tail -n 40 "$out/build.log" >&2
  echo "package: dpkg-buildpackage failed; the whole log: $out/build.log" >&2
  exit 1
}
deb=$(ls "$out"/faultline_*_amd64.deb)
echo "package: $deb"
