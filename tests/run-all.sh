#!/usr/bin/env bash
# The README's test command: on a fresh Debian 12 machine it installs what is missing, builds,
# starts a throwaway PostgreSQL server, runs every test (plain build, then ASan+UBSan), stops the
# server whatever happens, and ends with one line "N passed, N failed" (test cases).
#
#   bash tests/run-all.sh            # everything
#   RETORT_SKIP_SANITIZERS=1 bash tests/run-all.sh   # the plain build only (quicker)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

build() { # dir, extra meson options...
  local dir=$1
  shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >/dev/null
  fi
  ninja -C "$dir" -j"$(nproc)"
}

PG_BASE=""
stop_pg() {
  if [ -n "$PG_BASE" ]; then bash tests/pg-server.sh stop "$PG_BASE" || true; fi
}
trap stop_pg EXIT

bash tests/install-deps.sh

eval "$(bash tests/pg-server.sh start)"
PG_BASE=$RETORT_TEST_PG_BASE
export RETORT_TEST_POSTGRES_URL RETORT_TEST_PG_BASE RETORT_TEST_PG_PORT

REPORTS=()
run_suite() { # build dir
  local dir=$1
  # PostgreSQL tests restart the shared server, so the suites run one at a time.
  (cd "$dir" && meson test --num-processes 1 --print-errorlogs) || true
  REPORTS+=("$dir/meson-logs/testlog.json")
}

build build
run_suite build
if [ "${RETORT_SKIP_SANITIZERS:-0}" != "1" ]; then
  # -O1 keeps the sanitizer build affordable on two cores; the Catch2 main is prebuilt.
  build build-asan -Db_sanitize=address,undefined -Dbuildtype=debug -Doptimization=1 \
    -Db_lundef=false
  run_suite build-asan
fi

python3 tests/count-results.py "${REPORTS[@]}"
