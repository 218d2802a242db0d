#!/usr/bin/env bash
# Proves that ill-typed expressions do not compile: the control build of typed_expressions.cpp
# must succeed (so a failure below is not a missing include), then each ill-typed variant must
# fail with an error about the comparison or operator.
#   compile-fail.sh <c++ compiler command...> -- <source> <include dir>...
# The compiler is a command, not one word: meson's is `ccache c++` when ccache is installed.
set -u
cxx=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  cxx+=("$1")
  shift
done
shift # the "--"
source=$1
shift
includes=()
for dir in "$@"; do includes+=("-I$dir"); done
flags=(-std=c++20 -fsyntax-only -DBOOST_DLL_USE_STD_FS "${includes[@]}")

if ! "${cxx[@]}" "${flags[@]}" "$source"; then
  echo "FAIL: the well-typed control does not compile"
  exit 1
fi
for variant in 1 2 3 4 5; do
  log=$("${cxx[@]}" "${flags[@]}" -DRETORT_EXPECT_COMPILE_ERROR=$variant "$source" 2>&1)
  if [ $? -eq 0 ]; then
    echo "FAIL: ill-typed variant $variant compiled"
    exit 1
  fi
  if ! grep -qE "no match for .operator|constraints not satisfied" <<<"$log"; then
    echo "FAIL: variant $variant failed for another reason:"
    echo "$log" | head -20
    exit 1
  fi
  echo "ok: variant $variant is rejected by the compiler"
done
