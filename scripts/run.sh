#!/usr/bin/env bash
# The main job: set up, build, then compile and run attentions end to end on
# the CPU (bit-exact low-precision emulation) and print their accuracy
# against a float64 attention of the same unquantized inputs.
# (No GPU kernel yet, so the CPU path runs everywhere; runtime/ can load and
# launch GPU artifacts once the kernel lowering writes them.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
BIN=${LPATTN_BUILD_DIR:-build}/bin

echo
echo "== examples/attention.mlir, verified and printed by lpattn-opt =="
"$BIN/lpattn-opt" examples/attention.mlir
echo
echo "== the same file compiled and run on the CPU (random inputs) =="
"$BIN/lpattn-run" examples/attention.mlir
echo
echo "== P-Cast: 8 heads, 4 sink keys of strength Delta = 7, n_k = 4096, d = 128;"
echo "   Q/K/V in f32, only P cast to e4m3 (the isolating setting) =="
COMMON=(--heads 8 --nq 128 --nk 4096 --head-dim 128 --inputs sinks --delta 7
        --qk-type f32 --v-type f32 --out-type f32)
echo "-- naive: S = 1, forward KV order"
"$BIN/lpattn-run" "${COMMON[@]}" --p-scale 1 --reverse=false | tail -n 2
echo "-- robust (lpattn-robust-fp8): S = 256, reverse KV order"
"$BIN/lpattn-run" "${COMMON[@]}" --p-scale 256 --reverse | tail -n 2
echo
echo "== full FP8: Q/K/V/P in e4m3, bf16 output, S = 256, reverse =="
"$BIN/lpattn-run" --heads 8 --nq 128 --nk 4096 --head-dim 128 --inputs sinks \
  --delta 7 | tail -n 2
