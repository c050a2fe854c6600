// RUN: lpattn-opt %s --split-input-file --lpattn-tile --lpattn-pasa-shift | FileCheck %s
// RUN: lpattn-opt %s --split-input-file --lpattn-tile --lpattn-pasa-shift > %t.once
// RUN: lpattn-opt %t.once --split-input-file --lpattn-pasa-shift > %t.twice
// RUN: diff %t.once %t.twice
// RUN: lpattn-opt %s --split-input-file --lpattn-pasa-shift=beta=0.5 | FileCheck %s --check-prefix=GRAPH
// RUN: not lpattn-opt %s --lpattn-tile --lpattn-pasa-shift=beta=2 2>&1 | FileCheck %s --check-prefix=BETA

// PASA on f16 score tiles: S' = Q (K_j - mu)^T in f16, mu = beta mean(K_j),
// then S = S' c + (Q mu^T) c in f32.
// CHECK-LABEL: func.func @f16_scores
// CHECK:         %[[Q:.+]] = tensor.extract_slice {{.*}} to tensor<8x16xf16>
// CHECK:         scf.for
// CHECK:         %[[K:.+]] = tensor.extract_slice {{.*}} to tensor<8x16xf16>
// sum_n K_j[n, :] in f32.
// CHECK:         %[[SUM:.+]] = linalg.generic {{.*}}["reduction", "parallel"]{{.*}} ins(%[[K]] : tensor<8x16xf16>) outs(%{{.+}} : tensor<16xf32>) {{.*}}step pasa_mean
// CHECK:           arith.extf
// mu = sum / n * beta.
// CHECK:         %[[MU:.+]] = linalg.generic {{.*}} ins(%[[SUM]], %{{.+}}, %{{.+}} : tensor<16xf32>, f32, f32) {{.*}}step pasa_mean
// K_j' = round_f16(K_j - mu).
// CHECK:         %[[KS:.+]] = linalg.generic {{.*}} ins(%[[K]], %[[MU]] : tensor<8x16xf16>, tensor<16xf32>) outs(%{{.+}} : tensor<8x16xf16>) attrs = {lpattn.beta = 1.000000e+00 : f64, lpattn.step = #lpattn<step pasa_shift>}
// CHECK:           arith.subf
// CHECK:           lpattn.truncf %{{.+}} rne satfinite : f32 to f16
// r = f32(Q_i) mu^T.
// CHECK:         %[[R:.+]] = linalg.generic {{.*}}["parallel", "reduction"]{{.*}} ins(%[[Q]], %[[MU]] : tensor<8x16xf16>, tensor<16xf32>) {{.*}}step pasa_recover
// The low-precision product reads the shifted keys.
// CHECK:         %[[S0:.+]] = linalg.matmul {{.*}}qk_mma{{.*}} ins(%[[Q]], %[[KS]] : tensor<8x16xf16>, tensor<8x16xf16>) outs(%{{.+}} : tensor<8x8xf16>)
// CHECK:         %[[S:.+]] = linalg.generic {{.*}} ins(%[[S0]], %[[C:.+]] : tensor<8x8xf16>, f32) {{.*}}step score
// S = S + r * c, f32; the row max sees the recovered scores.
// CHECK:         %[[SR:.+]] = linalg.generic {{.*}} ins(%[[S]], %[[R]], %[[C]] : tensor<8x8xf32>, tensor<8xf32>, f32) {{.*}}step pasa_add
// CHECK:         linalg.generic {{.*}} ins(%[[SR]] : tensor<8x8xf32>) {{.*}}step row_max
// GRAPH-LABEL: func.func @f16_scores
// GRAPH:       softmax = pasa(beta = 5.000000e-01)
// BETA: error: pasa beta must be in (0, 1], got 2
func.func @f16_scores(%q: tensor<1x1x8x16xf16>, %k: tensor<1x1x8x16xf16>, %v: tensor<1x1x8x16xf16>) -> tensor<1x1x8x16xf16> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f16, score = f16, p = f16, v = f16, acc = f32, out = f16, overflow = satfinite>
         : tensor<1x1x8x16xf16>, tensor<1x1x8x16xf16>, tensor<1x1x8x16xf16> -> tensor<1x1x8x16xf16>
  return %o : tensor<1x1x8x16xf16>
}
