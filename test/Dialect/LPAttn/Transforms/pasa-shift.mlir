// RUN: lpattn-opt %s --split-input-file --lpattn-tile --lpattn-pasa-shift | FileCheck %s
// RUN: lpattn-opt %s --split-input-file --lpattn-tile --lpattn-pasa-shift > %t.once
// RUN: lpattn-opt %t.once --split-input-file --lpattn-pasa-shift > %t.twice
// RUN: diff %t.once %t.twice
// RUN: lpattn-opt %s --split-input-file --lpattn-pasa-shift=beta=0.5 | FileCheck %s --check-prefix=GRAPH
// RUN: not lpattn-opt %s --lpattn-tile --lpattn-pasa-shift=beta=2 2>&1 | FileCheck %s --check-prefix=BETA

// PASA on f16 score tiles: S' = Q (K_j - beta mean(K_j))^T summed in f32
// and rounded to f16, then S = S' c + (Q d_j^T) c in f32, where
// d_j = beta mean(K_j - mu) is the tile's shift minus the reference shift
// beta mu (mu: the mean key of the KV head). The reference shift Q (beta
// mu)^T c is the same for every tile of a row and cancels in the softmax, so
// the f32 scores stay small whatever the offset.
// CHECK-LABEL: func.func @f16_scores
// CHECK:         %[[Q:.+]] = tensor.extract_slice {{.*}} to tensor<8x16xf16>
// mu = mean_n K[b, h, n, :] in f32, once per query tile, before the KV loop.
// CHECK:         %[[HEAD:.+]] = tensor.extract_slice %{{.+}}[%{{.+}}, %{{.+}}, 0, 0] [1, 1, 8, 16] [1, 1, 1, 1] : tensor<1x1x8x16xf16> to tensor<8x16xf16>
// CHECK:         %[[RSUM:.+]] = linalg.generic {{.*}}["reduction", "parallel"]{{.*}} ins(%[[HEAD]] : tensor<8x16xf16>) outs(%{{.+}} : tensor<16xf32>) {{.*}}step pasa_reference
// CHECK:           arith.extf
// CHECK:           arith.addf
// CHECK:         %[[MU:.+]] = linalg.generic {{.*}} ins(%[[RSUM]], %{{.+}} : tensor<16xf32>, f32) {{.*}}step pasa_reference
// CHECK:           arith.divf
// CHECK:         scf.for
// CHECK:         %[[K:.+]] = tensor.extract_slice {{.*}} to tensor<8x16xf16>
// sum_n (K_j[n, :] - mu) in f32: the difference before any product.
// CHECK:         %[[SUM:.+]] = linalg.generic {{.*}}["reduction", "parallel"]{{.*}} ins(%[[K]], %[[MU]] : tensor<8x16xf16>, tensor<16xf32>) outs(%{{.+}} : tensor<16xf32>) {{.*}}step pasa_mean
// CHECK:           arith.extf
// CHECK:           arith.subf
// CHECK:           arith.addf
// d_j = sum / n * beta.
// CHECK:         %[[D:.+]] = linalg.generic {{.*}} ins(%[[SUM]], %{{.+}}, %{{.+}} : tensor<16xf32>, f32, f32) {{.*}}step pasa_mean
// K_j' = round_f16(((K_j - mu) - d_j) + (1 - beta) mu) = round_f16(K_j - beta mean(K_j)).
// CHECK:         %[[KS:.+]] = linalg.generic {{.*}} ins(%[[K]], %[[MU]], %[[D]], %{{.+}} : tensor<8x16xf16>, tensor<16xf32>, tensor<16xf32>, f32) outs(%{{.+}} : tensor<8x16xf16>) attrs = {lpattn.beta = 1.000000e+00 : f64, lpattn.step = #lpattn<step pasa_shift>}
// CHECK:           arith.subf
// CHECK:           arith.subf
// CHECK:           arith.mulf
// CHECK:           arith.addf
// CHECK:           lpattn.truncf %{{.+}} rne satfinite : f32 to f16
// r_j - r_ref = f32(Q_i) d_j^T.
// CHECK:         %[[R:.+]] = linalg.generic {{.*}}["parallel", "reduction"]{{.*}} ins(%[[Q]], %[[D]] : tensor<8x16xf16>, tensor<16xf32>) {{.*}}step pasa_recover
// The low-precision product reads the shifted keys, summed in f32.
// CHECK:         %[[S0:.+]] = linalg.matmul {{.*}}qk_mma{{.*}} ins(%[[Q]], %[[KS]] : tensor<8x16xf16>, tensor<8x16xf16>) outs(%{{.+}} : tensor<8x8xf32>)
// S' = f32(round_f16(S')) * c.
// CHECK:         %[[S:.+]] = linalg.generic {{.*}} ins(%[[S0]], %[[C:.+]] : tensor<8x8xf32>, f32) {{.*}}step score
// CHECK:           lpattn.truncf %{{.+}} rne satfinite : f32 to f16
// S = S' + (r_j - r_ref) * c, f32; the row max sees the recovered scores.
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
