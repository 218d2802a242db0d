#!/usr/bin/env bash
# The concurrency and exhaustion tests at full size: 64 threads x 10k sessions (pool 5 + 5,
# 1 s checkout timeout) on a SQLite file and PostgreSQL, 1000 coroutines x 10 queries on
# PostgreSQL, 50 async sessions on a SQLite file. CI runs them small (scale 1).
# Usage: tests/stress/run.sh [build-dir] [scale]   (default: build, 500 = 64 x 10,000 sessions)
# Needs a PostgreSQL: source the output of `bash tests/pg-server.sh start` first, or the
# PostgreSQL cases are skipped.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$here/build}
scale=${2:-500}
export RETORT_STRESS_SCALE=$scale
cd "$build"
ninja -j2 tests/stress/test_stress tests/async/test_sqlite_concurrency >/dev/null
meson test --num-processes 1 --print-errorlogs --verbose --timeout-multiplier 100 \
  stress-sqlite_file stress-postgresql async-sqlite-concurrency-sqlite_file
