#!/usr/bin/env bash
# Builds Retort's libFuzzer targets with clang (apart from the meson g++ build: the code under
# test is compiled from its sources with coverage instrumentation) and runs each for a while.
#
#   tests/fuzz/run.sh [--minutes N | --seconds N] [--build-only] [TARGET...]
#
# TARGETs: url, config, plugin_file, sql (default: all). Each runs for the given time (default 1
# minute) from its seed corpus (tests/fuzz/corpus/<target>, plus real plugin files for
# plugin_file, from $FUZZ_PLUGIN_DIR, default build/plugins); new inputs and crashes go to
# $FUZZ_BUILD_DIR/<target>/ (default build-fuzz/).
# Exit 77 (skipped) when clang++-14 or libFuzzer is missing; 1 when a target finds a crash.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${FUZZ_BUILD_DIR:-$SRC/build-fuzz}
CXX=${FUZZ_CXX:-clang++-14}
seconds=60
build_only=0
targets=()
while [ $# -gt 0 ]; do
  case $1 in
    --minutes) seconds=$(($2 * 60)); shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --build-only) build_only=1; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(url config plugin_file sql)

say() { echo "fuzz: $*" >&2; }

if ! command -v "$CXX" >/dev/null; then
  say "$CXX not found (apt-get install clang-14 libfuzzer-14-dev): skipped"
  exit 77
fi
mkdir -p "$OUT/obj"
probe="$OUT/obj/probe.cpp"
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
  >"$probe"
if ! "$CXX" -fsanitize=fuzzer "$probe" -o "$OUT/obj/probe" 2>/dev/null; then
  say "libFuzzer is missing (apt-get install libfuzzer-14-dev): skipped"
  exit 77
fi

CCACHE=$(command -v ccache || true)
FLAGS=(-std=c++20 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined
       -fno-sanitize-recover=undefined -DBOOST_DLL_USE_STD_FS
       -I"$SRC/framework/include" -I"$SRC/framework/src")

# Compiles one source once (again when it is newer than its object).
object() {
  local source=$1 obj="$OUT/obj/$(echo "$1" | tr / _).o"
  if [ ! -f "$obj" ] || [ "$SRC/$source" -nt "$obj" ]; then
    $CCACHE "$CXX" "${FLAGS[@]}" -fsanitize=fuzzer-no-link -c "$SRC/$source" -o "$obj"
  fi
  echo "$obj"
}

# The framework sources each target needs (the rest of libretort is not linked in).
sources_of() {
  case $1 in
    url) echo framework/src/core/url.cpp framework/src/core/error.cpp ;;
    config) echo framework/src/config/config.cpp framework/src/config/scalars.cpp \
                 framework/src/core/url.cpp framework/src/core/error.cpp tests/fuzz/stubs.cpp ;;
    plugin_file) echo framework/src/plugin/elf_manifest.cpp ;;
    # The compiler with the schema and core it builds on, and the two dialects it is checked on.
    sql) (cd "$SRC" && echo framework/src/sql/*.cpp framework/src/schema/*.cpp \
            framework/src/core/*.cpp plugins/sqlite/dialect.cpp plugins/postgresql/dialect.cpp) ;;
    *) say "unknown target $1"; exit 2 ;;
  esac
}
libs_of() {
  case $1 in
    config) echo -lyaml-cpp ;;
    sql) echo -lsqlite3 ;;
  esac
}

build() {
  local target=$1 objs=()
  for source in $(sources_of "$target"); do objs+=("$(object "$source")"); done
  local main
  main=$(object "tests/fuzz/fuzz_$target.cpp")
  "$CXX" "${FLAGS[@]}" -fsanitize=fuzzer "$main" "${objs[@]}" $(libs_of "$target") \
    -o "$OUT/fuzz_$target"
}

# Seeds: the committed corpus, and for plugin_file real plugin files (stripped, so that each
# run copies less) and a small plugin built here.
seed() {
  local target=$1 dir="$OUT/$target/seeds"
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$SRC/tests/fuzz/corpus/$target"/* "$dir"/ 2>/dev/null || true
  if [ "$target" = plugin_file ]; then
    "$CXX" -std=c++20 -shared -fPIC -fvisibility=hidden -DBOOST_DLL_USE_STD_FS \
      -I"$SRC/framework/include" "$SRC/tests/fuzz/seed_plugin.cpp" -o "$dir/seed_plugin.so"
    strip --strip-unneeded "$dir/seed_plugin.so" -o "$dir/seed_plugin_stripped.so"
    for so in "${FUZZ_PLUGIN_DIR:-$SRC/build/plugins}"/retort-*.so; do
      [ -f "$so" ] && strip --strip-unneeded "$so" -o "$dir/$(basename "$so")" || true
    done
  fi
  echo "$dir"
}

for target in "${targets[@]}"; do
  say "building $target"
  build "$target"
done
[ $build_only -eq 1 ] && exit 0

status=0
for target in "${targets[@]}"; do
  seeds=$(seed "$target")
  work="$OUT/$target/corpus"
  mkdir -p "$work" "$OUT/$target/crashes"
  say "running $target for ${seconds}s"
  log="$OUT/$target/fuzz.log"
  # intercept_tls_get_addr=0: see tests/meson.build (a LeakSanitizer tracer crash at exit).
  if ! (cd "$OUT/$target" && ASAN_OPTIONS=detect_leaks=1:intercept_tls_get_addr=0 "$OUT/fuzz_$target" "$work" "$seeds" \
          -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=1048576 \
          -artifact_prefix="$OUT/$target/crashes/" -print_final_stats=1 >"$log" 2>&1); then
    say "$target FOUND A PROBLEM: see $log and $OUT/$target/crashes/"
    tail -40 "$log" >&2
    status=1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  say "$target: $runs executions in ${seconds}s"
done
exit $status
