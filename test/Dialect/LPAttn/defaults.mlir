// RUN: lpattn-opt %s --split-input-file | FileCheck %s

// Omitted clauses are filled with their documented defaults and then
// printed, so that the IR after parsing states every numerics choice.

// softmax scale c = 1/sqrt(D) = 1/sqrt(64); S = 1; forward; standard softmax.
// CHECK-LABEL: func.func @all_defaults
// CHECK:       scale = 1.250000e-01 p_scale = 1.000000e+00 kv_order = forward softmax = standard causal = false :
// CHECK-NOT:   tiles
func.func @all_defaults(%q: tensor<1x1x8x64xf32>, %k: tensor<1x1x8x64xf32>, %v: tensor<1x1x8x64xf32>) -> tensor<1x1x8x64xf32> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         : tensor<1x1x8x64xf32>, tensor<1x1x8x64xf32>, tensor<1x1x8x64xf32> -> tensor<1x1x8x64xf32>
  return %o : tensor<1x1x8x64xf32>
}

// -----

// LPTF defaults: beta = 2 (m' = 2m for m > 0), tol = 1e-3.
// CHECK-LABEL: func.func @bias_corrected_defaults
// CHECK:       softmax = bias_corrected(beta = 2.000000e+00, tol = 1.000000e-03)
func.func @bias_corrected_defaults(%q: tensor<1x1x8x64xbf16>, %k: tensor<1x1x8x64xbf16>, %v: tensor<1x1x8x64xbf16>) -> tensor<1x1x8x64xbf16> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = bf16, score = f32, p = bf16, v = bf16, acc = f32, out = bf16, overflow = satfinite>
         softmax = bias_corrected
         : tensor<1x1x8x64xbf16>, tensor<1x1x8x64xbf16>, tensor<1x1x8x64xbf16> -> tensor<1x1x8x64xbf16>
  return %o : tensor<1x1x8x64xbf16>
}

// -----

// A given beta keeps the default tol.
// CHECK-LABEL: func.func @bias_corrected_beta_only
// CHECK:       softmax = bias_corrected(beta = 3.000000e+00, tol = 1.000000e-03)
func.func @bias_corrected_beta_only(%q: tensor<1x1x8x64xbf16>, %k: tensor<1x1x8x64xbf16>, %v: tensor<1x1x8x64xbf16>) -> tensor<1x1x8x64xbf16> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = bf16, score = f32, p = bf16, v = bf16, acc = f32, out = bf16, overflow = satfinite>
         softmax = bias_corrected(beta = 3.0)
         : tensor<1x1x8x64xbf16>, tensor<1x1x8x64xbf16>, tensor<1x1x8x64xbf16> -> tensor<1x1x8x64xbf16>
  return %o : tensor<1x1x8x64xbf16>
}

// -----

// PASA default: the full pseudo-average shift, beta = 1.
// CHECK-LABEL: func.func @pasa_defaults
// CHECK:       softmax = pasa(beta = 1.000000e+00) causal = false
func.func @pasa_defaults(%q: tensor<1x1x8x64xf16>, %k: tensor<1x1x8x64xf16>, %v: tensor<1x1x8x64xf16>) -> tensor<1x1x8x64xf16> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f16, score = f16, p = f16, v = f16, acc = f32, out = f16, overflow = satfinite>
         softmax = pasa
         : tensor<1x1x8x64xf16>, tensor<1x1x8x64xf16>, tensor<1x1x8x64xf16> -> tensor<1x1x8x64xf16>
  return %o : tensor<1x1x8x64xf16>
}
