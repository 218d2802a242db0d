#!/bin/bash
# Runs one example program the way a user would, on SQLite, and checks that it succeeds and
# prints what it should.
# Usage: run-example.sh <program> <memory|file> <expected line (grep -E)>...
# The engine "example" of a fresh YAML file is either SQLite :memory: or a new file; plugins come
# from RETORT_PLUGIN_PATH (this build's).
set -euo pipefail
program=$(realpath "$1") # meson passes it relative to the build directory
kind=$2
shift 2
work=$(mktemp -d "${TMPDIR:-/tmp}/retort-example.XXXXXX")
trap 'rm -rf "$work"' EXIT
case $kind in
  memory) url='"sqlite:///:memory:"' ;;
  file) url="sqlite:///$work/example.db" ;;
  *) echo "unknown kind $kind"; exit 2 ;;
esac
printf 'engines:\n  example:\n    url: %s\n' "$url" >"$work/retort.yaml"
status=0
(cd "$work" && "$program" "$work/retort.yaml" example) >"$work/out.txt" 2>&1 || status=$?
cat "$work/out.txt"
if [ "$status" -ne 0 ]; then
  echo "run-example: $(basename "$program") exited with status $status"
  exit 1
fi
for expected in "$@"; do
  grep -Eq -- "$expected" "$work/out.txt" || { echo "run-example: no line matches '$expected'"; exit 1; }
done
