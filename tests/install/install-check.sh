#!/bin/bash
# The README's install sequence, for real: configures Retort from <source dir> without tests,
# installs it into a fresh prefix, then uses the installed copy the two ways the README shows
# (an outside Meson project through pkg-config, and a plain g++ command line) and runs both.
# Usage: install-check.sh <retort source dir> <work dir, kept between runs for ccache>
set -euo pipefail
src=$(cd "$1" && pwd)
work=$2
mkdir -p "$work"
work=$(cd "$work" && pwd)
prefix=$work/prefix
rm -rf "$prefix" "$work/app" "$work/ext"
log() { echo "install-check: $*"; }
run_logged() { # log file, command...
  local file=$1
  shift
  "$@" >"$file" 2>&1 || { cat "$file"; log "failed: $*"; exit 1; }
}

# 1. meson setup --prefix, meson install, without the tests (release: no -g, so ccache can
#    reuse the objects of an earlier run of this check; the build dir stays in $work).
if [ ! -f "$work/build/build.ninja" ]; then
  run_logged "$work/setup.log" meson setup "$work/build" "$src" --prefix="$prefix" -Dtests=false \
    -Dbuildtype=release
else
  run_logged "$work/setup.log" meson configure "$work/build" --prefix="$prefix" -Dtests=false
fi
run_logged "$work/install.log" meson install -C "$work/build"

# 2. pkg-config finds it in the multiarch directory the README names.
export PKG_CONFIG_PATH="$prefix/lib/$(gcc -print-multiarch)/pkgconfig"
unset PKG_CONFIG_LIBDIR
pkg-config --exists retort || { log "no retort.pc in $PKG_CONFIG_PATH"; ls -R "$prefix" | head -40; exit 1; }
plugindir=$(pkg-config --variable=plugindir retort)
for plugin in retort-dialect-sqlite retort-dialect-postgresql retort-pool-queue retort-pool-null \
  retort-pool-static; do
  test -f "$plugindir/$plugin.so" || { log "$plugin.so missing in plugindir $plugindir"; exit 1; }
done
log "installed $(pkg-config --modversion retort), plugindir $plugindir"

# Nothing below may find plugins or headers in the source or build tree.
unset RETORT_PLUGIN_PATH LD_LIBRARY_PATH
libdir="$prefix/lib/$(gcc -print-multiarch)"

# 3. Without Meson: the quickstart, compiled with pkg-config's flags, finds the installed
#    plugins by itself (an engine in a YAML file without plugins.paths).
mkdir -p "$work/app"
run_logged "$work/app/build.log" g++ -std=c++20 -Wno-missing-field-initializers \
  "$src/examples/quickstart/main.cpp" $(pkg-config --cflags --libs retort) -o "$work/app/quickstart"
printf 'engines:\n  default:\n    url: sqlite:///%s/app/quickstart.db\n' "$work" >"$work/app/retort.yaml"
LD_LIBRARY_PATH=$libdir run_logged "$work/app/run.log" "$work/app/quickstart" "$work/app/retort.yaml" default
grep -q '^rollback: after' "$work/app/run.log" || { cat "$work/app/run.log"; exit 1; }
log "g++ \$(pkg-config --cflags --libs retort): quickstart ran against the installed plugins"

# 4. An outside Meson project: examples/external-plugin, against dependency('retort'). Meson
#    gives the programs of its build directory a run path to the installed libretort.
run_logged "$work/ext-setup.log" meson setup "$work/ext" "$src/examples/external-plugin"
run_logged "$work/ext-build.log" ninja -C "$work/ext" -j1
RETORT_PLUGIN_PATH="$work/ext" run_logged "$work/ext-run.log" "$work/ext/check-external-plugin"
cat "$work/ext-run.log"
log "outside Meson project: built and loaded its plugin"
