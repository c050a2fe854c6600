#!/usr/bin/env bash
# Installs lpattn from a build directory into a temporary prefix, then
# configures and builds test/Install/consumer against the installed package
# (find_package(lpattn)), runs it, and runs the consumer's own opt tool
# through its lit suite (test/Install/consumer/tests).
# Usage: check-install.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-${LPATTN_BUILD_DIR:-build}}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$BUILD_DIR" --prefix "$work/prefix" > "$work/install.log"
cmake -G Ninja -S test/Install/consumer -B "$work/build" \
  -DCMAKE_BUILD_TYPE=Release -Dlpattn_DIR="$work/prefix/lib/cmake/lpattn" \
  > "$work/configure.log" || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/build" > "$work/build.log" || { cat "$work/build.log"; exit 1; }
"$work/build/lpattn-consumer"
/usr/lib/llvm-22/bin/lit -sv test/Install/consumer/tests \
  --param consumer_opt="$work/build/consumer-opt"
# The C API (and so its consumer) exists when lpattn links libMLIR.so (the
# default).
if [ -e "$work/prefix/lib/libLPAttnCAPI.so" ]; then
  "$work/build/lpattn-capi-consumer"
fi
