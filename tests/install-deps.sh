#!/usr/bin/env bash
# Installs the Debian 12 packages Retort needs to build and test, if any is missing.
set -euo pipefail
PACKAGES=(meson ninja-build pkg-config g++ libboost-dev libboost-filesystem-dev libyaml-cpp-dev
          catch2 libsqlite3-dev libpq-dev postgresql binutils python3 clang-14 libfuzzer-14-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-upgrade keeps an already installed libpq/postgresql at its version.
apt-get install -y -qq --no-upgrade "${missing[@]}" >/dev/null
