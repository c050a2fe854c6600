// RUN: lpattn-opt %s --split-input-file --lpattn-tile --lpattn-bias-corrected-softmax | FileCheck %s
// RUN: lpattn-opt %s --split-input-file --lpattn-tile --lpattn-bias-corrected-softmax > %t.once
// RUN: lpattn-opt %t.once --split-input-file --lpattn-bias-corrected-softmax > %t.twice
// RUN: diff %t.once %t.twice
// RUN: lpattn-opt %s --split-input-file --lpattn-bias-corrected-softmax="beta=3 tol=0.01" | FileCheck %s --check-prefix=GRAPH

// LPTF: where >= 2 scores tie with the running max m' (within tol), m' moves
// to beta * m' (m' > 0) or 0 (m' < 0) so that no P is exactly 1.
// CHECK-LABEL: func.func @bf16
// CHECK:         %[[MN:.+]] = linalg.generic {{.*}}step row_max
// ties = #{s >= m' - tol}, tol = 1e-3.
// CHECK-NEXT:      ^bb0
// CHECK-NEXT:      arith.maximumf
// CHECK-NEXT:      linalg.yield
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[TOL:.+]] = arith.constant 1.000000e-03 : f32
// CHECK:         %[[TIES:.+]] = linalg.generic {{.*}} ins(%{{.+}}, %[[MN]], %[[TOL]] : tensor<8x8xf32>, tensor<8xf32>, f32) {{.*}}step tie_count
// CHECK:           arith.subf
// CHECK:           arith.cmpf oge
// CHECK:           arith.addf
// beta - 1 = 1; the shift is clamped to ln(1 / smallest normal of bf16) =
// 126 ln 2 = 87.34 so the largest P stays normal.
// CHECK:         %[[BM1:.+]] = arith.constant 1.000000e+00 : f32
// CHECK:         %[[CLAMP:.+]] = arith.constant 87.3365478 : f32
// CHECK:         %[[MB:.+]] = linalg.generic {{.*}} ins(%[[MN]], %[[TIES]], %[[BM1]], %[[CLAMP]] : {{.*}} attrs = {lpattn.beta = 2.000000e+00 : f64, lpattn.step = #lpattn<step bias_correct>, lpattn.tol = 1.000000e-03 : f64}
// CHECK:           arith.cmpf ogt
// CHECK:           arith.minimumf
// CHECK:           arith.cmpf oge
// CHECK:           arith.select
// The guard, P, the rescale and the carried max all use m''.
// CHECK:         linalg.generic {{.*}} ins(%[[MB]] : tensor<8xf32>) {{.*}}step max_guard
// CHECK:         scf.yield %[[MB]]
// GRAPH-LABEL: func.func @bf16
// GRAPH:       softmax = bias_corrected(beta = 3.000000e+00, tol = 1.000000e-02)
func.func @bf16(%q: tensor<1x1x8x16xbf16>, %k: tensor<1x1x8x16xbf16>, %v: tensor<1x1x8x16xbf16>) -> tensor<1x1x8x16xbf16> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = bf16, score = f32, p = bf16, v = bf16, acc = bf16, out = bf16, overflow = satfinite>
         : tensor<1x1x8x16xbf16>, tensor<1x1x8x16xbf16>, tensor<1x1x8x16xbf16> -> tensor<1x1x8x16xbf16>
  return %o : tensor<1x1x8x16xbf16>
}

// -----

// e4m3 P: the shift is clamped to ln(2^6) = 4.159, so the largest P of a
// rewritten row is at least 2^-6, the smallest e4m3 normal.
// CHECK-LABEL: func.func @e4m3_guard
// CHECK:       arith.constant 4.15888309 : f32
// CHECK:       step bias_correct
func.func @e4m3_guard(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite>
         : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}
