// An opt tool built outside lpattn against the installed package parses,
// verifies, tiles and lowers an attention with lpattn's registered passes
// and pipelines.
// RUN: %consumer-opt %lpattn_examples/attention.mlir | FileCheck %s --check-prefix=ROUNDTRIP
// RUN: %consumer-opt %lpattn_examples/attention.mlir --lpattn-tile --lpattn-robust-fp8 | FileCheck %s --check-prefix=TILE
// RUN: %consumer-opt %lpattn_examples/attention.mlir --lpattn-cpu-pipeline | FileCheck %s --check-prefix=LLVM
// RUN: not %consumer-opt %s 2>&1 | FileCheck %s --check-prefix=VERIFY

// ROUNDTRIP: lpattn.attention {{.*}} p_scale = 2.560000e+02 kv_order = reverse
// TILE: scf.forall
// TILE: lpattn.step = #lpattn<step p_cast>
// TILE: lpattn.kv_loop, lpattn.kv_order = #lpattn<kv_order reverse>
// LLVM: llvm.func @attention(
// No lpattn op is left (step tags may ride along on converted arith ops).
// LLVM-NOT: lpattn.attention
// LLVM-NOT: lpattn.truncf
// VERIFY: p_scale = 448 is not a power of two

func.func @bad(%q: tensor<1x1x16x16xf32>, %k: tensor<1x1x16x16xf32>, %v: tensor<1x1x16x16xf32>) -> tensor<1x1x16x16xf32> {
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> p_scale = 448.0 : tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32> -> tensor<1x1x16x16xf32>
  return %o : tensor<1x1x16x16xf32>
}
