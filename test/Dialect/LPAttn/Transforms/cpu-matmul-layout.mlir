// RUN: lpattn-opt %s --split-input-file --lpattn-cpu-matmul-layout | FileCheck %s

// The QK product (B read transposed, e4m3 inputs, f32 accumulator): inputs
// widened once per tile, B transposed to [K, N], loop order (m, k, n) so the
// inner loop is unit-stride while each C[m, n] still sums k in order.
// CHECK-DAG: #[[MK:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[KN:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[MN:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[T:.+]] = affine_map<(d0, d1) -> (d1, d0)>
// CHECK-LABEL: func.func @qk
// CHECK:       %[[A:.+]] = linalg.generic {{.*}} ins(%{{.+}} : tensor<16x32xf8E4M3FN>) outs(%{{.+}} : tensor<16x32xf32>)
// CHECK:         arith.extf %{{.+}} : f8E4M3FN to f32
// CHECK:       %[[B:.+]] = linalg.generic {indexing_maps = [#[[T]], {{.*}} ins(%{{.+}} : tensor<8x32xf8E4M3FN>) outs(%{{.+}} : tensor<32x8xf32>)
// CHECK:       linalg.generic {indexing_maps = [#[[MK]], #[[KN]], #[[MN]]], iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[A]], %[[B]] : tensor<16x32xf32>, tensor<32x8xf32>) {{.*}}step qk_mma
// CHECK:         arith.mulf
// CHECK:         arith.addf
// CHECK-NOT:   linalg.matmul
func.func @qk(%q: tensor<16x32xf8E4M3FN>, %k: tensor<8x32xf8E4M3FN>, %s: tensor<16x8xf32>) -> tensor<16x8xf32> {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         {lpattn.step = #lpattn<step qk_mma>}
         ins(%q, %k : tensor<16x32xf8E4M3FN>, tensor<8x32xf8E4M3FN>) outs(%s : tensor<16x8xf32>) -> tensor<16x8xf32>
  return %r : tensor<16x8xf32>
}

// -----

// bf16 accumulation: e4m3 P widened exactly to bf16 (via f32), bf16 V used
// as is, products and sums rounded to bf16 as in the matmul.
// CHECK-LABEL: func.func @pv_bf16
// CHECK:       linalg.generic {{.*}} outs(%{{.+}} : tensor<16x8xbf16>)
// CHECK:         arith.extf %{{.+}} : f8E4M3FN to f32
// CHECK:         lpattn.truncf %{{.+}} rne nonsat : f32 to bf16
// CHECK:       linalg.generic {{.*}}["parallel", "reduction", "parallel"]{{.*}} ins(%{{.+}}, %{{.+}} : tensor<16x8xbf16>, tensor<8x4xbf16>) outs(%{{.+}} : tensor<16x4xbf16>)
func.func @pv_bf16(%p: tensor<16x8xf8E4M3FN>, %v: tensor<8x4xbf16>, %acc: tensor<16x4xbf16>) -> tensor<16x4xbf16> {
  %r = linalg.matmul ins(%p, %v : tensor<16x8xf8E4M3FN>, tensor<8x4xbf16>) outs(%acc : tensor<16x4xbf16>) -> tensor<16x4xbf16>
  return %r : tensor<16x4xbf16>
}
