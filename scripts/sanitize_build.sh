# Sourced by scripts/sanitizer_tests.sh and scripts/fuzz.sh: configures the one sanitizer build
# both use, $build (default build-sanitize): clang-14 with AddressSanitizer and
# UndefinedBehaviorSanitizer, every object with libFuzzer's coverage feedback (-Dfuzzing=true),
# so the libraries are compiled once for the sanitized unit tests and the fuzzers alike.
# -O1 with line tables: the fuzzers need the speed, and clang's -O1 costs little more build time
# than -O0; the tests' timeouts are stretched instead.
build=${SANITIZER_BUILD:-build-sanitize}
if ! command -v clang++-14 >/dev/null || [[ ! -d /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux ]]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang-14 \
    libclang-rt-14-dev >/dev/null
fi
# meson puts ccache in front of the compiler only when it picks the compiler itself: with CC and
# CXX given, it must be named here, or every sanitizer build is a cold one (8-9 minutes).
launcher=()
command -v ccache >/dev/null && launcher=(ccache)
if [[ ! -f $build/build.ninja ]]; then
  CC="${launcher[*]} clang-14" CXX="${launcher[*]} clang++-14" meson setup "$build" -Dfuzzing=true \
    -Db_sanitize=address,undefined -Db_lundef=false --buildtype=plain -Doptimization=1 >/dev/null
fi
ninja -C "$build" build.ninja >/dev/null  # regenerated if a meson.build changed: the target list
