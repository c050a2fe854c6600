// RUN: lpattn-opt %s --split-input-file --lpattn-geometry-scale=token-norm=100 -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK
// RUN: lpattn-opt %s --split-input-file --lpattn-geometry-scale=token-norm=100 2>/dev/null | FileCheck %s
// Running it twice changes nothing more (the scale is applied once).
// RUN: lpattn-opt %s --split-input-file --lpattn-geometry-scale=token-norm=100 2>/dev/null | lpattn-opt --split-input-file --lpattn-geometry-scale=token-norm=100 -o /dev/null 2>&1 | FileCheck %s --check-prefix=AGAIN
// auto-alpha (traced weights only: the other ops get an error).
// RUN: not lpattn-opt %s --split-input-file --lpattn-geometry-scale='token-norm=100 auto-alpha=true' -o /dev/null 2>&1 | FileCheck %s --check-prefix=AUTO
// One power-iteration step cannot converge: a warning says sigma may be low.
// RUN: lpattn-opt %s --split-input-file --lpattn-geometry-scale='token-norm=100 iterations=1' -o /dev/null 2>&1 | FileCheck %s --check-prefix=UNCONVERGED
// UNCONVERGED: remark: geometry scale: {{.*}} (1 iterations, not converged)
// UNCONVERGED: warning: lpattn-geometry-scale: the power iteration did not converge in 1 iterations for some head; sigma, approached from below, may be low (raise iterations)
// lpattn-tile honours the scale in the score step.
// RUN: lpattn-opt %s --split-input-file --lpattn-geometry-scale=token-norm=100 --lpattn-tile 2>/dev/null | FileCheck %s --check-prefix=TILE

// Weights traced in the IR, GQA (Hq = 2, Hkv = 1, D = 2, dModel = 4).
// W_q rows: head 0 = (2 e0, e1), head 1 = (3 e2, e3); W_k rows k0 = (3, 0, 4, 0),
// k1 = (0, 0, 0, 1), k0 orthogonal to k1. M_h = sum_r wq_r k_r^T has the
// orthogonal rows 2 k0, k1 (head 0) and 3 k0, k1 (head 1), so its singular
// values are their norms: sigma_0 = 2 * 5 = 10, sigma_1 = 3 * 5 = 15.
// B_X = 100: |q.k| <= 1e4 sigma = 1e5 and 1.5e5, above f16's 65504: the
// scales are 0.5 (1e5 * 0.5 <= 65504) and 0.25 (1.5e5 * 0.5 > 65504), the op
// takes 0.25. The logit bound is c * 1.5e5 = 106066 (c = 1/sqrt(2)).

// REMARK: remark: geometry scale: B_X = 100, alpha = 1, score type f16 (max 65504); head 0 (KV head 0): sigma = 10 ({{[0-9]+}} iterations), |q.k| <= 100000, logit bound 70710.7, scale 0.5; head 1 (KV head 0): sigma = 15 ({{[0-9]+}} iterations), |q.k| <= 150000, logit bound 106066, scale 0.25; op: qk scale 0.25, logit bound 106066
// AGAIN: remark: geometry scale: already applied (lpattn.qk_scale = 0.25)

// CHECK-LABEL: func.func @traced_gqa
// Nothing but attributes changes: the op reads the same truncf results.
// CHECK-NOT: arith.mulf
// CHECK: %[[Q16:.+]] = arith.truncf %{{.+}} : tensor<1x2x4x2xf32> to tensor<1x2x4x2xf16>
// CHECK: %[[K16:.+]] = arith.truncf %{{.+}} : tensor<1x1x4x2xf32> to tensor<1x1x4x2xf16>
// CHECK-NOT: arith.mulf
// CHECK: lpattn.attention %[[Q16]], %[[K16]], %arg1
// CHECK-SAME: scale = 0.707106769
// CHECK-SAME: lpattn.logit_bound = 106066.{{[0-9]+}} : f64
// CHECK-SAME: lpattn.qk_scale = 2.500000e-01 : f64
// CHECK-SAME: lpattn.qk_sigma = array<f64: {{10\.0[0-9]*|9\.9999[0-9]*}}, {{15\.0[0-9]*|14\.9999[0-9]*}}>
func.func @traced_gqa(%x: tensor<4x4xf32>, %v: tensor<1x1x4x2xf16>) -> tensor<1x2x4x2xf32> {
  %wq = arith.constant dense<[[2.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0],
                              [0.0, 0.0, 3.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>
  %wk = arith.constant dense<[[3.0, 0.0, 4.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<2x4xf32>
  %zero = arith.constant 0.0 : f32
  // q = x W_q^T, viewed [B, N, Hq, D], transposed to [B, Hq, N, D].
  %wqt_init = tensor.empty() : tensor<4x4xf32>
  %wqt = linalg.transpose ins(%wq : tensor<4x4xf32>) outs(%wqt_init : tensor<4x4xf32>) permutation = [1, 0]
  %qacc_init = tensor.empty() : tensor<4x4xf32>
  %qacc = linalg.fill ins(%zero : f32) outs(%qacc_init : tensor<4x4xf32>) -> tensor<4x4xf32>
  %qp = linalg.matmul ins(%x, %wqt : tensor<4x4xf32>, tensor<4x4xf32>) outs(%qacc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %q4 = tensor.expand_shape %qp [[0, 1], [2, 3]] output_shape [1, 4, 2, 2] : tensor<4x4xf32> into tensor<1x4x2x2xf32>
  %qt_init = tensor.empty() : tensor<1x2x4x2xf32>
  %qt = linalg.transpose ins(%q4 : tensor<1x4x2x2xf32>) outs(%qt_init : tensor<1x2x4x2xf32>) permutation = [0, 2, 1, 3]
  // k = x W_k^T, the same way, one KV head.
  %wkt_init = tensor.empty() : tensor<4x2xf32>
  %wkt = linalg.transpose ins(%wk : tensor<2x4xf32>) outs(%wkt_init : tensor<4x2xf32>) permutation = [1, 0]
  %kacc_init = tensor.empty() : tensor<4x2xf32>
  %kacc = linalg.fill ins(%zero : f32) outs(%kacc_init : tensor<4x2xf32>) -> tensor<4x2xf32>
  %kp = linalg.matmul ins(%x, %wkt : tensor<4x4xf32>, tensor<4x2xf32>) outs(%kacc : tensor<4x2xf32>) -> tensor<4x2xf32>
  %k4 = tensor.expand_shape %kp [[0, 1], [2, 3]] output_shape [1, 4, 1, 2] : tensor<4x2xf32> into tensor<1x4x1x2xf32>
  %kt_init = tensor.empty() : tensor<1x1x4x2xf32>
  %kt = linalg.transpose ins(%k4 : tensor<1x4x1x2xf32>) outs(%kt_init : tensor<1x1x4x2xf32>) permutation = [0, 2, 1, 3]
  %q16 = arith.truncf %qt : tensor<1x2x4x2xf32> to tensor<1x2x4x2xf16>
  %k16 = arith.truncf %kt : tensor<1x1x4x2xf32> to tensor<1x1x4x2xf16>
  %o = lpattn.attention %q16, %k16, %v
         policy = <qk = f16, score = f16, p = f16, v = f16, acc = f32, out = f32, overflow = satfinite>
         : tensor<1x2x4x2xf16>, tensor<1x1x4x2xf16>, tensor<1x1x4x2xf16> -> tensor<1x2x4x2xf32>
  return %o : tensor<1x2x4x2xf32>
}

// -----

// The weight given as B = W^T directly (no transpose op), in a
// dense_resource: W_q = W_k = 3 I (D = dModel = 2), so M = 9 I, sigma = 9;
// |q.k| <= 9e4 > 65504: scale 0.5.
// REMARK: remark: geometry scale: B_X = 100, alpha = 1, score type f16 (max 65504); head 0 (KV head 0): sigma = 9 ({{[0-9]+}} iterations), |q.k| <= 90000, logit bound 63639.6, scale 0.5; op: qk scale 0.5, logit bound 63639.6

// CHECK-LABEL: func.func @resource_weights
// CHECK: lpattn.attention
// CHECK-SAME: lpattn.qk_scale = 5.000000e-01 : f64
// CHECK-SAME: lpattn.qk_sigma = array<f64: {{9\.0[0-9]*|8\.9999[0-9]*}}>
func.func @resource_weights(%x: tensor<2x2xf32>, %v: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %w = arith.constant dense_resource<three_identity> : tensor<2x2xf32>
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<2x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<2x2xf32>) -> tensor<2x2xf32>
  %qp = linalg.matmul ins(%x, %w : tensor<2x2xf32>, tensor<2x2xf32>) outs(%acc : tensor<2x2xf32>) -> tensor<2x2xf32>
  %kp = linalg.matmul ins(%x, %w : tensor<2x2xf32>, tensor<2x2xf32>) outs(%acc : tensor<2x2xf32>) -> tensor<2x2xf32>
  %q4 = tensor.expand_shape %qp [[0, 1, 2], [3]] output_shape [1, 1, 2, 2] : tensor<2x2xf32> into tensor<1x1x2x2xf32>
  %k4 = tensor.expand_shape %kp [[0, 1, 2], [3]] output_shape [1, 1, 2, 2] : tensor<2x2xf32> into tensor<1x1x2x2xf32>
  %q = lpattn.truncf %q4 rne satfinite : tensor<1x1x2x2xf32> to tensor<1x1x2x2xf16>
  %k = lpattn.truncf %k4 rne satfinite : tensor<1x1x2x2xf32> to tensor<1x1x2x2xf16>
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f16, score = f16, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         : tensor<1x1x2x2xf16>, tensor<1x1x2x2xf16>, tensor<1x1x2x2xf32> -> tensor<1x1x2x2xf32>
  return %o : tensor<1x1x2x2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      // Four little-endian f32 after the 4-byte alignment word: 3, 0, 0, 3.
      three_identity: "0x0400000000004040000000000000000000004040"
    }
  }
#-}

// -----

// sigma from a checkpoint (lpattn.qk_sigma), constant per-tensor descales:
// |q.k| <= 1e4 * 4 fits f16, scale 1, nothing rewritten; the logit bound
// is c q_ds k_ds 4e4 = 0.5 * 2 * 0.5 * 4e4 = 2e4 (D = 4).
// REMARK: remark: geometry scale: B_X = 100, alpha = 1, score type f16 (max 65504); head 0 (KV head 0): sigma = 4, |q.k| <= 40000, logit bound 20000, scale 1; head 1 (KV head 1): sigma = 1, |q.k| <= 10000, logit bound 5000, scale 1; op: qk scale 1, logit bound 20000

// CHECK-LABEL: func.func @given_sigma_fits
// CHECK-NOT: arith.mulf
// CHECK: lpattn.attention %arg0, %arg1, %arg2
// CHECK-SAME: scale = 5.000000e-01
// CHECK-SAME: lpattn.logit_bound = 2.000000e+04 : f64
// CHECK-SAME: lpattn.qk_scale = 1.000000e+00 : f64
// CHECK-SAME: lpattn.qk_sigma = array<f64: 4.000000e+00, 1.000000e+00>
func.func @given_sigma_fits(%q: tensor<1x2x8x4xf16>, %k: tensor<1x2x8x4xf16>, %v: tensor<1x2x8x4xf16>) -> tensor<1x2x8x4xf32> {
  %q_ds = arith.constant 2.0 : f32
  %k_ds = arith.constant 0.5 : f32
  %v_ds = arith.constant 1.0 : f32
  %o = lpattn.attention %q, %k, %v descale(%q_ds, %k_ds, %v_ds)
         policy = <qk = f16, score = f16, p = f16, v = f16, acc = f32, out = f32, overflow = satfinite>
         {lpattn.qk_sigma = array<f64: 4.0, 1.0>}
         : tensor<1x2x8x4xf16>, tensor<1x2x8x4xf16>, tensor<1x2x8x4xf16> -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

// sigma from a checkpoint, FP8 operands (unchanged: the scale acts on the
// f32 sum): |q.k| <= 1.6e5 > 65504, scale 0.25. Per-head descales that are
// function arguments: the logit bound is unknown and not written.
// REMARK: remark: geometry scale: B_X = 100, alpha = 1, score type f16 (max 65504); head 0 (KV head 0): sigma = 16, |q.k| <= 160000, logit bound unknown, scale 0.25; op: qk scale 0.25, logit bound unknown (descales are not constants)

// CHECK-LABEL: func.func @given_sigma_scaled
// CHECK-NOT: arith.mulf
// CHECK: lpattn.attention %arg0, %arg1, %arg2
// CHECK-SAME: scale = 5.000000e-01
// CHECK-NOT: lpattn.logit_bound
// CHECK-SAME: lpattn.qk_scale = 2.500000e-01 : f64

// The score step: S = (f32(f16(S * 0.25)) * 4) * (c q_ds k_ds).
// TILE-LABEL: func.func @given_sigma_scaled
// TILE: linalg.generic {{.+}} attrs = {lpattn.scale = 2.500000e-01 : f64, lpattn.step = #lpattn<step score>} {
// TILE-NEXT: ^bb0(%[[S:[a-z0-9_]+]]: f32, %[[CQK:[a-z0-9_]+]]: f32, %{{.+}}: f32):
// TILE-NEXT: %[[QUARTER:.+]] = arith.constant 2.500000e-01 : f32
// TILE-NEXT: %[[SCALED:.+]] = arith.mulf %[[S]], %[[QUARTER]] : f32
// TILE-NEXT: %[[ROUNDED:.+]] = lpattn.truncf %[[SCALED]] rne satfinite : f32 to f16
// TILE-NEXT: %[[WIDE:.+]] = arith.extf %[[ROUNDED]] : f16 to f32
// TILE-NEXT: %[[FOUR:.+]] = arith.constant 4.000000e+00 : f32
// TILE-NEXT: %[[BACK:.+]] = arith.mulf %[[WIDE]], %[[FOUR]] : f32
// TILE-NEXT: %[[SCORE:.+]] = arith.mulf %[[BACK]], %[[CQK]] : f32
// TILE-NEXT: linalg.yield %[[SCORE]] : f32
func.func @given_sigma_scaled(%q: tensor<1x1x8x4xf8E4M3FN>, %k: tensor<1x1x8x4xf8E4M3FN>, %v: tensor<1x1x8x4xf8E4M3FN>,
                              %q_ds: tensor<1x1xf32>, %k_ds: tensor<1x1xf32>, %v_ds: tensor<1x1xf32>) -> tensor<1x1x8x4xf32> {
  %o = lpattn.attention %q, %k, %v descale(%q_ds, %k_ds, %v_ds : tensor<1x1xf32>)
         policy = <qk = f8E4M3FN, score = f16, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = f32, overflow = satfinite>
         {lpattn.qk_sigma = array<f64: 16.0>}
         : tensor<1x1x8x4xf8E4M3FN>, tensor<1x1x8x4xf8E4M3FN>, tensor<1x1x8x4xf8E4M3FN> -> tensor<1x1x8x4xf32>
  return %o : tensor<1x1x8x4xf32>
}

// -----

// FP8 Q and K summed in f32: the bound is far inside f32, scale 1, so a
// stored FP8 operand needs no truncf.
// REMARK: remark: geometry scale: B_X = 100, alpha = 1, score type f32 (max 3.40282e+38); head 0 (KV head 0): sigma = 1000, |q.k| <= 1e+07, logit bound 5e+06, scale 1; op: qk scale 1, logit bound 5e+06

// CHECK-LABEL: func.func @fp8_f32_score
// CHECK: lpattn.qk_scale = 1.000000e+00 : f64

// A scale of 1 leaves the score step as it was: round, then c q_ds k_ds.
// TILE-LABEL: func.func @fp8_f32_score
// TILE: linalg.generic {{.+}} attrs = {lpattn.step = #lpattn<step score>} {
// TILE-NEXT: ^bb0(%[[S:[a-z0-9_]+]]: f32, %[[CQK:[a-z0-9_]+]]: f32, %{{.+}}: f32):
// TILE-NEXT: %[[SCORE:.+]] = arith.mulf %[[S]], %[[CQK]] : f32
// TILE-NEXT: linalg.yield %[[SCORE]] : f32
func.func @fp8_f32_score(%q: tensor<1x1x8x4xf8E4M3FN>, %k: tensor<1x1x8x4xf8E4M3FN>, %v: tensor<1x1x8x4xf8E4M3FN>) -> tensor<1x1x8x4xf32> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = f32, overflow = satfinite>
         {lpattn.qk_sigma = array<f64: 1000.0>}
         : tensor<1x1x8x4xf8E4M3FN>, tensor<1x1x8x4xf8E4M3FN>, tensor<1x1x8x4xf8E4M3FN> -> tensor<1x1x8x4xf32>
  return %o : tensor<1x1x8x4xf32>
}

// -----

// Auto alpha. W_q = W_k = the all-ones row (dModel = 64, D = 1), so
// M = 1 1^T and sigma = 64; |q.k| <= 1e4 * 64 = 640000 (c = 1). alpha = 1:
// scale 0.0625 (640000 / 16 = 40000 <= 65504 < 80000). auto-alpha: RASB's
// tail bound with Nq = Nk = 4, r = D = 1, d = 64, delta = 1e-6, gamma = 2:
// alpha = sqrt(2 ln(2 * 16 / 1e-6)) / 64 = 0.0918592, alpha * 640000 =
// 58789.9 fits f16: scale 1.
// REMARK: remark: geometry scale: B_X = 100, alpha = 1, score type f16 (max 65504); head 0 (KV head 0): sigma = 64 ({{[0-9]+}} iterations), |q.k| <= 640000, logit bound 640000, scale 0.0625; op: qk scale 0.0625, logit bound 640000
// AUTO: remark: geometry scale: B_X = 100, alpha = 0.0918592 (auto), score type f16 (max 65504); head 0 (KV head 0): sigma = 64 ({{[0-9]+}} iterations), |q.k| <= 640000, logit bound 640000, scale 1; op: qk scale 1, logit bound 640000
// CHECK-LABEL: func.func @auto_alpha
// CHECK: lpattn.qk_scale = 6.250000e-02 : f64
func.func @auto_alpha(%x: tensor<4x64xf32>, %v: tensor<1x1x4x1xf16>) -> tensor<1x1x4x1xf32> {
  %w = arith.constant dense<1.0> : tensor<64x1xf32>
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<4x1xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<4x1xf32>) -> tensor<4x1xf32>
  %p = linalg.matmul ins(%x, %w : tensor<4x64xf32>, tensor<64x1xf32>) outs(%acc : tensor<4x1xf32>) -> tensor<4x1xf32>
  %p4 = tensor.expand_shape %p [[0, 1, 2], [3]] output_shape [1, 1, 4, 1] : tensor<4x1xf32> into tensor<1x1x4x1xf32>
  %q = arith.truncf %p4 : tensor<1x1x4x1xf32> to tensor<1x1x4x1xf16>
  %o = lpattn.attention %q, %q, %v
         policy = <qk = f16, score = f16, p = f16, v = f16, acc = f32, out = f32, overflow = satfinite>
         : tensor<1x1x4x1xf16>, tensor<1x1x4x1xf16>, tensor<1x1x4x1xf16> -> tensor<1x1x4x1xf32>
  return %o : tensor<1x1x4x1xf32>
}
