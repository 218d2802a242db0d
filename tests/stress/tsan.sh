#!/usr/bin/env bash
# ThreadSanitizer over the pool and the async executor: a small build of its own (g++
# -fsanitize=thread) with only the tests that exercise them (pools, async-checkout,
# async-sqlite-concurrency, the stress suite's threads and coroutines), then runs them.
# Usage: tests/stress/tsan.sh [build-dir]   (default: build-tsan); PostgreSQL cases need the
# environment of `bash tests/pg-server.sh start`, else they are skipped.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$here/build-tsan}
if [ ! -d "$build" ]; then
  meson setup "$build" "$here" -Db_sanitize=thread -Dbuildtype=debug -Doptimization=1 \
    -Db_lundef=false >/dev/null
fi
targets=(plugins/retort-dialect-sqlite.so plugins/retort-dialect-postgresql.so
         plugins/retort-pool-queue.so plugins/retort-pool-null.so plugins/retort-pool-static.so
         tests/pools/test_pools tests/async/test_checkout tests/async/test_sqlite_concurrency
         tests/stress/test_stress)
ninja -C "$build" -j2 "${targets[@]}"
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
cd "$build"
meson test --num-processes 1 --print-errorlogs --no-rebuild pools async-checkout-sqlite_file \
  async-checkout-postgresql async-sqlite-concurrency-sqlite_file stress-sqlite_file \
  stress-postgresql
