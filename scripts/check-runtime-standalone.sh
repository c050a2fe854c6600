#!/usr/bin/env bash
# The GPU runtime builds where only a C++ compiler and CMake exist (the GPU
# machine has no MLIR): configures runtime/ on its own with plain CMake and
# the system g++ (no MLIR, LLVM or CUDA paths given), builds it, runs its
# ctest (lpattn-rt-info without a driver fails with the message), and checks
# that no runtime source includes an LLVM or MLIR header.
# Usage: check-runtime-standalone.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if grep -rnE '#include *[<"](llvm|mlir)[-/]' runtime/; then
  echo "runtime/ must not include LLVM or MLIR headers" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake -S runtime -B "$work/build" -DCMAKE_CXX_COMPILER=g++ \
  > "$work/configure.log" 2>&1 || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/build" -j 2 > "$work/build.log" 2>&1 ||
  { cat "$work/build.log"; exit 1; }
ctest --test-dir "$work/build" --output-on-failure
if out=$(LPATTN_CUDA_DRIVER=/nonexistent/libcuda.so.1 \
          "$work/build/lpattn-rt-info" 2>&1); then
  echo "lpattn-rt-info succeeded without a driver: $out" >&2
  exit 1
fi
grep -F "no CUDA driver: dlopen(/nonexistent/libcuda.so.1) failed" <<< "$out"
echo "runtime: standalone build OK"
