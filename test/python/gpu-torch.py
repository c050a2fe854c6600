# The Python GPU path on a GPU (skipped without torch and an sm_90 CUDA
# device, i.e. everywhere but a machine with LLVM, torch and an H100/H200):
# lpattn.GPUArtifact and lpattn.attention on torch FP8 CUDA tensors must give
# lpattn-gpu-run's O bit for bit (which lpattn-gpu-run checks against the
# CPU emulation within the case's tolerance, docs/gpu-check.md), and
# lpattn.attention on numpy arrays of the same FP8 values the CPU
# emulation's O bit for bit. scripts/gpu-check.sh runs the same script on
# the GPU machine without the C API.
# REQUIRES: torch-cuda-sm90, ptxas
# RUN: rm -rf %t && mkdir -p %t
# RUN: lpattn-run --tile-q 64 --tile-kv 128 --heads 4 --kv-heads 2 --nq 256 --nk 384 --head-dim 128 --qk-type f8E4M3FN --v-type f8E4M3FN --p-type f8E4M3FN --score-type f32 --acc-type f32 --out-type bf16 --p-scale 256 --reverse --causal --q-descale 0.5 --k-descale 1.5 --v-descale 2 --inputs random --seed 3 --save-case %t/case --json > %t/cpu.json
# RUN: lpattn-compile %t/case/case.mlir -o %t/art/attn
# RUN: %python %lpattn_src_root/scripts/gpu_python_check.py %t/art/attn.json %t/case --gpu-run lpattn-gpu-run --with-capi --work %t/work | FileCheck %s
# CHECK: gpu-python: case: PASS: O of the Python path is bit-identical to lpattn-gpu-run's (131072 elements; its check against the CPU emulation: PASS)
