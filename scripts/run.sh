#!/usr/bin/env bash
# The main job: set up, build, then compile and run attentions end to end and
# print their accuracy against a float64 attention of the same inputs: on
# the GPU (the sm_90a kernel, through lpattn-run --device auto) where a CUDA
# driver and an H100/H200 are present, on the CPU (bit-exact low-precision
# emulation) otherwise; plus the compiled kernel's static checks.
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
echo "== the GPU path: the same FP8 attention compiled for sm_90a (wgmma/TMA) =="
mkdir -p build/run
"$BIN/lpattn-run" --heads 8 --nq 1024 --nk 1024 --head-dim 128 --tile-kv 128 \
  --p-scale 256 --reverse --print-mlir --no-run > build/run/attention-fp8.mlir
"$BIN/lpattn-compile" build/run/attention-fp8.mlir -o build/run/attention-fp8 --time
grep -E "registers|spill" build/run/attention-fp8.ptxas.log
if TOOLS=$(python3 scripts/check-sass.py --find-tools 2>/dev/null); then
  LPATTN_CUDA_TOOLS=$TOOLS python3 scripts/check-sass.py \
    build/run/attention-fp8.cubin --ptxas-log build/run/attention-fp8.ptxas.log \
    --expect-qgmma e4m3 --expect-register-a
fi
echo "-- run: on the GPU when one is present, else on the CPU"
"$BIN/lpattn-run" --device auto --heads 8 --nq 1024 --nk 1024 --head-dim 128 \
  --tile-kv 128 --p-scale 256 --reverse
echo
echo "== full FP8: Q/K/V/P in e4m3, bf16 output, S = 256, reverse =="
"$BIN/lpattn-run" --heads 8 --nq 128 --nk 4096 --head-dim 128 --inputs sinks \
  --delta 7 | tail -n 2
