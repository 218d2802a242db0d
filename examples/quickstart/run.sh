#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs the quickstart on an
# embedded SQLite database (engine "default" of config/retort.yaml).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tests/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build examples/quickstart examples/core plugins/retort-dialect-sqlite.so plugins/retort-pool-queue.so \
  plugins/retort-pool-static.so
./build/examples/quickstart config/retort.yaml default
echo
./build/examples/core config/retort.yaml memory
