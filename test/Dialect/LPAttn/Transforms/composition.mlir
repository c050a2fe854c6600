// The same safeguards requested as attributes of the graph-level op or by
// running the passes, in any order, before or after lpattn-tile, give
// identical tile-level IR (the math of P scaling, reverse order and the
// bias-corrected softmax commutes, and so do the rewrites).
//
// RUN: split-file %s %t
// Route A: attributes on the op.
// RUN: lpattn-opt %t/attrs.mlir --lpattn-tile > %t/a.mlir
// Route B: passes after tiling, two orders.
// RUN: lpattn-opt %t/plain.mlir --lpattn-tile --lpattn-insert-p-scale --lpattn-reverse-kv --lpattn-bias-corrected-softmax > %t/b1.mlir
// RUN: lpattn-opt %t/plain.mlir --lpattn-tile --lpattn-bias-corrected-softmax --lpattn-reverse-kv --lpattn-insert-p-scale > %t/b2.mlir
// Route C: passes on the graph-level op, then tiling.
// RUN: lpattn-opt %t/plain.mlir --lpattn-reverse-kv --lpattn-bias-corrected-softmax --lpattn-insert-p-scale --lpattn-tile > %t/c.mlir
// RUN: diff %t/a.mlir %t/b1.mlir
// RUN: diff %t/a.mlir %t/b2.mlir
// RUN: diff %t/a.mlir %t/c.mlir
// The pipeline is the same as its two passes.
// RUN: lpattn-opt %t/plain-nobias.mlir --lpattn-tile --lpattn-robust-fp8 > %t/p.mlir
// RUN: lpattn-opt %t/plain-nobias.mlir --lpattn-tile --lpattn-reverse-kv --lpattn-insert-p-scale=scale=256 > %t/q.mlir
// RUN: diff %t/p.mlir %t/q.mlir
// RUN: FileCheck %s --input-file %t/a.mlir
// PASA composes with the P scale and reverse order too.
// RUN: lpattn-opt %t/pasa-attrs.mlir --lpattn-tile > %t/pa.mlir
// RUN: lpattn-opt %t/pasa-plain.mlir --lpattn-tile --lpattn-robust-fp8 --lpattn-pasa-shift=beta=0.5 > %t/pb.mlir
// RUN: diff %t/pa.mlir %t/pb.mlir

// Every safeguard is present once.
// CHECK-COUNT-1: step kv_index
// CHECK-COUNT-1: step bias_correct
// CHECK-COUNT-1: step p_scale
// CHECK-COUNT-1: step unscale_sum
// CHECK-NOT:     step p_scale

//--- attrs.mlir
func.func @attn(%q: tensor<1x2x12x16xf32>, %k: tensor<1x1x20x16xf32>, %v: tensor<1x1x20x16xf32>) -> tensor<1x2x12x16xbf16> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = bf16, overflow = satfinite>
         p_scale = 256.0 kv_order = reverse softmax = bias_corrected causal = true tiles = [8, 8]
         : tensor<1x2x12x16xf32>, tensor<1x1x20x16xf32>, tensor<1x1x20x16xf32> -> tensor<1x2x12x16xbf16>
  return %o : tensor<1x2x12x16xbf16>
}
//--- plain.mlir
func.func @attn(%q: tensor<1x2x12x16xf32>, %k: tensor<1x1x20x16xf32>, %v: tensor<1x1x20x16xf32>) -> tensor<1x2x12x16xbf16> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = bf16, overflow = satfinite>
         causal = true tiles = [8, 8]
         : tensor<1x2x12x16xf32>, tensor<1x1x20x16xf32>, tensor<1x1x20x16xf32> -> tensor<1x2x12x16xbf16>
  return %o : tensor<1x2x12x16xbf16>
}
//--- plain-nobias.mlir
func.func @attn(%q: tensor<1x1x16x16xf8E4M3FN>, %k: tensor<1x1x16x16xf8E4M3FN>, %v: tensor<1x1x16x16xf8E4M3FN>) -> tensor<1x1x16x16xbf16> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite>
         tiles = [8, 8]
         : tensor<1x1x16x16xf8E4M3FN>, tensor<1x1x16x16xf8E4M3FN>, tensor<1x1x16x16xf8E4M3FN> -> tensor<1x1x16x16xbf16>
  return %o : tensor<1x1x16x16xbf16>
}
//--- pasa-attrs.mlir
func.func @attn(%q: tensor<1x1x16x16xf16>, %k: tensor<1x1x16x16xf16>, %v: tensor<1x1x16x16xf16>) -> tensor<1x1x16x16xf16> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f16, score = f16, p = f8E4M3FN, v = f16, acc = f32, out = f16, overflow = satfinite>
         p_scale = 256.0 kv_order = reverse softmax = pasa(beta = 0.5) tiles = [8, 8]
         : tensor<1x1x16x16xf16>, tensor<1x1x16x16xf16>, tensor<1x1x16x16xf16> -> tensor<1x1x16x16xf16>
  return %o : tensor<1x1x16x16xf16>
}
//--- pasa-plain.mlir
func.func @attn(%q: tensor<1x1x16x16xf16>, %k: tensor<1x1x16x16xf16>, %v: tensor<1x1x16x16xf16>) -> tensor<1x1x16x16xf16> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f16, score = f16, p = f8E4M3FN, v = f16, acc = f32, out = f16, overflow = satfinite>
         tiles = [8, 8]
         : tensor<1x1x16x16xf16>, tensor<1x1x16x16xf16>, tensor<1x1x16x16xf16> -> tensor<1x1x16x16xf16>
  return %o : tensor<1x1x16x16xf16>
}
