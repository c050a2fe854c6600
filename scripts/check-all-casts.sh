#!/usr/bin/env bash
# Checks the CPU expansion of every low-precision cast on ALL 2^32 f32
# inputs: each lpattn.truncf target/mode (and arith.truncf to FP8) is
# JIT-compiled and compared bit for bit with CUDA's host conversions
# (cuda_fp8.h etc., if the toolkit headers were found at configure time),
# and arith.extf on every code. Not part of the test suite (minutes).
#
#   scripts/check-all-casts.sh                  # vs CUDA, all cores
#   scripts/check-all-casts.sh --encode-rne     # also vs lpattn::encodeRNE
#                                               #   (APFloat; ~100 s/cast/core)
#   scripts/check-all-casts.sh --only="f8E4M3FN satfinite" --workers=8
#   scripts/check-all-casts.sh --input-bits=24  # quick: first 2^24 inputs
#
# Exit status 0 only if nothing differs. Builds lpattn-check-casts into
# $LPATTN_BUILD_DIR (default build/) first.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${LPATTN_BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  bash scripts/build.sh
fi
cmake --build "$BUILD_DIR" --target lpattn-check-casts
start=$(date +%s)
status=0
"$BUILD_DIR/bin/lpattn-check-casts" "$@" || status=$?
echo "check-all-casts: $(( $(date +%s) - start )) s wall, exit status $status"
exit $status
