#!/bin/bash
# Builds examples/external-plugin as a separate meson project against the uninstalled Retort
# (pkg-config retort-uninstalled.pc), then runs its check program with the plugin on the path.
# Usage: external-plugin.sh <retort source dir> <retort build dir> [b_sanitize of that build]
set -euo pipefail
src=$1
build=$2
# An ASan libretort can only be loaded by a program built with the same sanitizers.
sanitize=${3:-none}
work=$(mktemp -d "${TMPDIR:-/tmp}/retort-external.XXXXXX")
trap 'rm -rf "$work"' EXIT

export PKG_CONFIG_PATH="$build/meson-uninstalled${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pkg-config --exists retort || { echo "pkg-config cannot find retort in $build/meson-uninstalled"; exit 1; }

meson setup -Db_sanitize="$sanitize" "$work/build" "$src/examples/external-plugin" >"$work/setup.log" 2>&1 ||
  { cat "$work/setup.log"; exit 1; }
ninja -C "$work/build" -j1 >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
test -f "$work/build/retort-pool-fifo-external.so"

export LD_LIBRARY_PATH="$build/framework${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export RETORT_PLUGIN_PATH="$work/build:$build/plugins"
"$work/build/check-external-plugin"
