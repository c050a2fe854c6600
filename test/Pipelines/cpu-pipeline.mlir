// lpattn-cpu-pipeline takes an attention to the LLVM dialect in one named
// pipeline: no lpattn, tensor, linalg, scf or memref op is left, FP8 data is
// i8 in memory, and the function keeps its C interface.
// RUN: lpattn-opt %s --lpattn-cpu-pipeline | FileCheck %s
// RUN: lpattn-opt %s --lpattn-cpu-pipeline="tile-q=16 tile-kv=32 count-collapse=4" | FileCheck %s --check-prefix=COUNT
// RUN: lpattn-opt %s --lpattn-tile-pipeline | FileCheck %s --check-prefix=TILE

// CHECK-LABEL: llvm.func @attention(
// CHECK-NOT: lpattn.
// CHECK-NOT: tensor.
// CHECK-NOT: linalg.
// CHECK-NOT: scf.
// CHECK-NOT: memref.
// CHECK: llvm.func @_mlir_ciface_attention(

// The instrumentation appends a memref<2xi64> (5 LLVM arguments).
// COUNT-LABEL: llvm.func @attention(
// COUNT-SAME: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64) -> !llvm.struct

// The common part alone: the tile-level form with the op's safeguards.
// TILE-LABEL: func.func @attention(
// TILE-NOT: lpattn.attention
// TILE: lpattn.step = #lpattn<step p_scale>
// TILE: } {lpattn.kv_loop, lpattn.kv_order = #lpattn<kv_order reverse>

func.func @attention(%q: tensor<1x2x32x16xf8E4M3FN>, %k: tensor<1x1x64x16xf8E4M3FN>, %v: tensor<1x1x64x16xf8E4M3FN>) -> tensor<1x2x32x16xbf16> attributes {llvm.emit_c_interface} {
  %o = lpattn.attention %q, %k, %v policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite> p_scale = 256.0 kv_order = reverse : tensor<1x2x32x16xf8E4M3FN>, tensor<1x1x64x16xf8E4M3FN>, tensor<1x1x64x16xf8E4M3FN> -> tensor<1x2x32x16xbf16>
  return %o : tensor<1x2x32x16xbf16>
}
