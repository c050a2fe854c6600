// lpattn-geometry-scale with and without `rope`: the same traced weights
// give sigma = ||W_q^T W_k||_2 without it and the RoPE-safe
// ||W_q||_2 ||W_k||_2 with it (numbers worked out by hand below); a given
// lpattn.qk_sigma must be marked lpattn.qk_sigma_rope_safe for rope=true.
// RUN: lpattn-opt %s --split-input-file --lpattn-geometry-scale=token-norm=100 -o /dev/null 2>&1 | FileCheck %s --check-prefix=PLAIN
// RUN: lpattn-opt %s --split-input-file --lpattn-geometry-scale=token-norm=100 2>/dev/null | FileCheck %s --check-prefix=PLAIN-IR
// RUN: not lpattn-opt %s --split-input-file --lpattn-geometry-scale='token-norm=100 rope=true' -o /dev/null 2>&1 | FileCheck %s --check-prefix=ROPE
// RUN: not lpattn-opt %s --split-input-file --lpattn-geometry-scale='token-norm=100 rope=true' 2>/dev/null | FileCheck %s --check-prefix=ROPE-IR

// RoPE's worst case (D = dModel = 2, one head): q = (30 x_0, 0) and
// k = (0, 2 x'_1) are orthogonal for all tokens, so W_q^T W_k = 0 and
// sigma = 0; RoPE turning k by theta gives q . R k = -60 sin(theta) x_0 x'_1,
// up to 60 ||x|| ||x'||, which the RoPE-safe sigma ||W_q|| ||W_k|| = 30 * 2
// = 60 bounds. B_X = 100: |q.k| <= 1e4 * 60 = 6e5; f16's 65504 needs the
// scale 1/16 (6e5 / 16 = 37500, 6e5 / 8 = 75000); the logit bound is
// 6e5 / sqrt(2) = 424264 (c = 1/sqrt(2)).
// PLAIN: remark: geometry scale: {{.*}} head 0 (KV head 0): sigma = 0 (1 iterations), |q.k| <= 0, logit bound 0, scale 1; op: qk scale 1, logit bound 0; sigma = ||W_q^T W_k||_2 (no RoPE)
// ROPE: remark: geometry scale: {{.*}} head 0 (KV head 0): sigma = 60 ({{[0-9]+}} iterations), |q.k| <= 600000, logit bound 424264, scale 0.0625; op: qk scale 0.0625, logit bound 424264; sigma = ||W_q||_2 ||W_k||_2 (RoPE-safe)

// PLAIN-IR-LABEL: func.func @orthogonal_planes
// PLAIN-IR: lpattn.attention
// PLAIN-IR-SAME: lpattn.qk_scale = 1.000000e+00 : f64
// PLAIN-IR-SAME: lpattn.qk_sigma = array<f64: 0.000000e+00>}
// ROPE-IR-LABEL: func.func @orthogonal_planes
// ROPE-IR: lpattn.attention
// ROPE-IR-SAME: lpattn.qk_scale = 6.250000e-02 : f64
// ROPE-IR-SAME: lpattn.qk_sigma = array<f64: {{6\.0+e\+01|60\.0[0-9]*|59\.9999[0-9]*}}>, lpattn.qk_sigma_rope_safe}
func.func @orthogonal_planes(%x: tensor<4x2xf32>, %v: tensor<1x1x4x2xf16>) -> tensor<1x1x4x2xf32> {
  // B = W^T, [dModel, D]: W_q = diag(30, 0), W_k = diag(0, 2).
  %bq = arith.constant dense<[[30.0, 0.0], [0.0, 0.0]]> : tensor<2x2xf32>
  %bk = arith.constant dense<[[0.0, 0.0], [0.0, 2.0]]> : tensor<2x2xf32>
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<4x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<4x2xf32>) -> tensor<4x2xf32>
  %qp = linalg.matmul ins(%x, %bq : tensor<4x2xf32>, tensor<2x2xf32>) outs(%acc : tensor<4x2xf32>) -> tensor<4x2xf32>
  %kp = linalg.matmul ins(%x, %bk : tensor<4x2xf32>, tensor<2x2xf32>) outs(%acc : tensor<4x2xf32>) -> tensor<4x2xf32>
  %q4 = tensor.expand_shape %qp [[0, 1, 2], [3]] output_shape [1, 1, 4, 2] : tensor<4x2xf32> into tensor<1x1x4x2xf32>
  %k4 = tensor.expand_shape %kp [[0, 1, 2], [3]] output_shape [1, 1, 4, 2] : tensor<4x2xf32> into tensor<1x1x4x2xf32>
  %q16 = arith.truncf %q4 : tensor<1x1x4x2xf32> to tensor<1x1x4x2xf16>
  %k16 = arith.truncf %k4 : tensor<1x1x4x2xf32> to tensor<1x1x4x2xf16>
  %o = lpattn.attention %q16, %k16, %v
         policy = <qk = f16, score = f16, p = f16, v = f16, acc = f32, out = f32, overflow = satfinite>
         : tensor<1x1x4x2xf16>, tensor<1x1x4x2xf16>, tensor<1x1x4x2xf16> -> tensor<1x1x4x2xf32>
  return %o : tensor<1x1x4x2xf32>
}

// -----

// Both non-zero: W_q = diag(3, 4), W_k rows (0, 2) and (1, 0).
// W_q^T W_k = 3 e0 (0, 2)^T + 4 e1 (1, 0)^T = [[0, 6], [4, 0]]: sigma = 6,
// |q.k| <= 6e4 fits f16 (scale 1), logit bound 6e4 / sqrt(2) = 42426.4.
// RoPE-safe: ||W_q|| = 4, ||W_k|| = 2, sigma = 8, |q.k| <= 8e4 > 65504:
// scale 0.5, logit bound 8e4 / sqrt(2) = 56568.5.
// PLAIN: remark: geometry scale: {{.*}} head 0 (KV head 0): sigma = 6 ({{[0-9]+}} iterations), |q.k| <= 60000, logit bound 42426.4, scale 1; op: qk scale 1, logit bound 42426.4; sigma = ||W_q^T W_k||_2 (no RoPE)
// ROPE: remark: geometry scale: {{.*}} head 0 (KV head 0): sigma = 8 ({{[0-9]+}} iterations), |q.k| <= 80000, logit bound 56568.5, scale 0.5; op: qk scale 0.5, logit bound 56568.5; sigma = ||W_q||_2 ||W_k||_2 (RoPE-safe)

// PLAIN-IR-LABEL: func.func @both_nonzero
// PLAIN-IR: lpattn.attention
// PLAIN-IR-SAME: lpattn.qk_sigma = array<f64: {{6\.0[0-9]*(e\+00)?|5\.9999[0-9]*}}>}
// ROPE-IR-LABEL: func.func @both_nonzero
// ROPE-IR: lpattn.qk_scale = 5.000000e-01 : f64
// ROPE-IR-SAME: lpattn.qk_sigma = array<f64: {{8\.0[0-9]*(e\+00)?|7\.9999[0-9]*}}>, lpattn.qk_sigma_rope_safe}
func.func @both_nonzero(%x: tensor<4x2xf32>, %v: tensor<1x1x4x2xf16>) -> tensor<1x1x4x2xf32> {
  // B = W^T: W_q^T = diag(3, 4); W_k = [[0, 2], [1, 0]], W_k^T = [[0, 1], [2, 0]].
  %bq = arith.constant dense<[[3.0, 0.0], [0.0, 4.0]]> : tensor<2x2xf32>
  %bk = arith.constant dense<[[0.0, 1.0], [2.0, 0.0]]> : tensor<2x2xf32>
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<4x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<4x2xf32>) -> tensor<4x2xf32>
  %qp = linalg.matmul ins(%x, %bq : tensor<4x2xf32>, tensor<2x2xf32>) outs(%acc : tensor<4x2xf32>) -> tensor<4x2xf32>
  %kp = linalg.matmul ins(%x, %bk : tensor<4x2xf32>, tensor<2x2xf32>) outs(%acc : tensor<4x2xf32>) -> tensor<4x2xf32>
  %q4 = tensor.expand_shape %qp [[0, 1, 2], [3]] output_shape [1, 1, 4, 2] : tensor<4x2xf32> into tensor<1x1x4x2xf32>
  %k4 = tensor.expand_shape %kp [[0, 1, 2], [3]] output_shape [1, 1, 4, 2] : tensor<4x2xf32> into tensor<1x1x4x2xf32>
  %q16 = arith.truncf %q4 : tensor<1x1x4x2xf32> to tensor<1x1x4x2xf16>
  %k16 = arith.truncf %k4 : tensor<1x1x4x2xf32> to tensor<1x1x4x2xf16>
  %o = lpattn.attention %q16, %k16, %v
         policy = <qk = f16, score = f16, p = f16, v = f16, acc = f32, out = f32, overflow = satfinite>
         : tensor<1x1x4x2xf16>, tensor<1x1x4x2xf16>, tensor<1x1x4x2xf16> -> tensor<1x1x4x2xf32>
  return %o : tensor<1x1x4x2xf32>
}

// -----

// A given sigma marked RoPE-safe (lpattn-calibrate --rope=on) serves both.
// PLAIN: remark: geometry scale: {{.*}} head 0 (KV head 0): sigma = 2, {{.*}}; sigma = ||W_q||_2 ||W_k||_2 (RoPE-safe)
// ROPE: remark: geometry scale: {{.*}} head 0 (KV head 0): sigma = 2, {{.*}}; sigma = ||W_q||_2 ||W_k||_2 (RoPE-safe)
func.func @given_rope_safe(%q: tensor<1x1x8x4xf16>, %k: tensor<1x1x8x4xf16>, %v: tensor<1x1x8x4xf16>) -> tensor<1x1x8x4xf32> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f16, score = f16, p = f16, v = f16, acc = f32, out = f32, overflow = satfinite>
         {lpattn.qk_sigma = array<f64: 2.0>, lpattn.qk_sigma_rope_safe}
         : tensor<1x1x8x4xf16>, tensor<1x1x8x4xf16>, tensor<1x1x8x4xf16> -> tensor<1x1x8x4xf32>
  return %o : tensor<1x1x8x4xf32>
}

// -----

// An unmarked given sigma is ||W_q^T W_k||_2: fine without rope, an error
// with it.
// PLAIN: remark: geometry scale: {{.*}} head 0 (KV head 0): sigma = 3, {{.*}}; sigma = ||W_q^T W_k||_2 (no RoPE)
// ROPE: error: lpattn-geometry-scale: rope is set but lpattn.qk_sigma is not marked lpattn.qk_sigma_rope_safe: ||W_q^T W_k||_2 does not bound RoPE-rotated logits; give ||W_q||_2 ||W_k||_2 per head with that mark (lpattn-calibrate --rope=on)
func.func @given_plain(%q: tensor<1x1x8x4xf16>, %k: tensor<1x1x8x4xf16>, %v: tensor<1x1x8x4xf16>) -> tensor<1x1x8x4xf32> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f16, score = f16, p = f16, v = f16, acc = f32, out = f32, overflow = satfinite>
         {lpattn.qk_sigma = array<f64: 3.0>}
         : tensor<1x1x8x4xf16>, tensor<1x1x8x4xf16>, tensor<1x1x8x4xf16> -> tensor<1x1x8x4xf32>
  return %o : tensor<1x1x8x4xf32>
}
