// RUN: lpattn-opt %s --split-input-file | FileCheck %s
// RUN: lpattn-opt %s --split-input-file | lpattn-opt --split-input-file | FileCheck %s

// The FP8 policy of FlashAttention-3 with the P-Cast safeguards: every
// attribute is printed, nothing about precision is implied.
// CHECK-LABEL: func.func @fp8_robust
// CHECK:       lpattn.attention %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}} descale(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}})
// CHECK-SAME:    policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite>
// CHECK-SAME:    scale = 1.250000e-01 p_scale = 2.560000e+02
// CHECK-SAME:    kv_order = reverse softmax = standard causal = false tiles = [64, 64]
// CHECK-SAME:    : tensor<1x8x128x64xf8E4M3FN>, tensor<1x2x128x64xf8E4M3FN>, tensor<1x2x128x64xf8E4M3FN> -> tensor<1x8x128x64xbf16>
func.func @fp8_robust(%q: tensor<1x8x128x64xf8E4M3FN>, %k: tensor<1x2x128x64xf8E4M3FN>,
                      %v: tensor<1x2x128x64xf8E4M3FN>, %qd: f32, %kd: f32, %vd: f32)
    -> tensor<1x8x128x64xbf16> {
  %o = lpattn.attention %q, %k, %v descale(%qd, %kd, %vd)
         policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite>
         scale = 0.125 p_scale = 256.0 kv_order = reverse softmax = standard causal = false tiles = [64, 64]
         : tensor<1x8x128x64xf8E4M3FN>, tensor<1x2x128x64xf8E4M3FN>, tensor<1x2x128x64xf8E4M3FN> -> tensor<1x8x128x64xbf16>
  return %o : tensor<1x8x128x64xbf16>
}

// -----

// The P-Cast isolating setting: Q/K/V in f32, only P is cast to e4m3.
// CHECK-LABEL: func.func @isolating_p_cast
// CHECK:       policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite>
// CHECK-SAME:  p_scale = 1.600000e+01 kv_order = forward
func.func @isolating_p_cast(%q: tensor<1x1x16x64xf32>, %k: tensor<1x1x1024x64xf32>,
                            %v: tensor<1x1x1024x64xf32>) -> tensor<1x1x16x64xf32> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite>
         p_scale = 16.0 kv_order = forward
         : tensor<1x1x16x64xf32>, tensor<1x1x1024x64xf32>, tensor<1x1x1024x64xf32> -> tensor<1x1x16x64xf32>
  return %o : tensor<1x1x16x64xf32>
}

// -----

// e5m2 allows S up to 32768 (max finite 57344); NaN-on-overflow casts.
// CHECK-LABEL: func.func @e5m2_nonsat
// CHECK:       p = f8E5M2, v = f8E5M2, acc = f32, out = f16, overflow = nonsat>
// CHECK-SAME:  p_scale = 3.276800e+04
func.func @e5m2_nonsat(%q: tensor<2x4x32x128xf8E5M2>, %k: tensor<2x4x32x128xf8E5M2>,
                       %v: tensor<2x4x32x128xf8E5M2>) -> tensor<2x4x32x128xf16> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f8E5M2, score = f32, p = f8E5M2, v = f8E5M2, acc = f32, out = f16, overflow = nonsat>
         p_scale = 32768.0
         : tensor<2x4x32x128xf8E5M2>, tensor<2x4x32x128xf8E5M2>, tensor<2x4x32x128xf8E5M2> -> tensor<2x4x32x128xf16>
  return %o : tensor<2x4x32x128xf16>
}

// -----

// LPTF: all-bf16 arithmetic with the bias-corrected softmax.
// CHECK-LABEL: func.func @bf16_bias_corrected
// CHECK:       policy = <qk = bf16, score = bf16, p = bf16, v = bf16, acc = bf16, out = bf16, overflow = satfinite>
// CHECK-SAME:  softmax = bias_corrected(beta = 2.000000e+00, tol = 1.000000e-03)
func.func @bf16_bias_corrected(%q: tensor<1x1x64x32xbf16>, %k: tensor<1x1x64x32xbf16>,
                               %v: tensor<1x1x64x32xbf16>) -> tensor<1x1x64x32xbf16> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = bf16, score = bf16, p = bf16, v = bf16, acc = bf16, out = bf16, overflow = satfinite>
         softmax = bias_corrected
         : tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16> -> tensor<1x1x64x32xbf16>
  return %o : tensor<1x1x64x32xbf16>
}

// -----

// PASA: fp16 score tiles with an explicit shift beta.
// CHECK-LABEL: func.func @fp16_pasa
// CHECK:       score = f16
// CHECK-SAME:  softmax = pasa(beta = 7.500000e-01)
func.func @fp16_pasa(%q: tensor<1x2x64x64xf16>, %k: tensor<1x2x64x64xf16>,
                     %v: tensor<1x2x64x64xf16>) -> tensor<1x2x64x64xf16> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f16, score = f16, p = f16, v = f16, acc = f32, out = f16, overflow = satfinite>
         softmax = pasa(beta = 0.75)
         : tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16> -> tensor<1x2x64x64xf16>
  return %o : tensor<1x2x64x64xf16>
}

// -----

// Causal with an additive mask broadcast over batch and heads, Nq != Nk
// (bottom-right aligned), and Dv != D.
// CHECK-LABEL: func.func @causal_masked
// CHECK:       lpattn.attention %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}} mask(%{{[a-z0-9]+}})
// CHECK-SAME:  causal = true
// CHECK-SAME:  : tensor<2x8x16x64xf32>, tensor<2x8x48x64xf32>, tensor<2x8x48x32xf32>, tensor<1x1x16x48xf32> -> tensor<2x8x16x32xf32>
func.func @causal_masked(%q: tensor<2x8x16x64xf32>, %k: tensor<2x8x48x64xf32>,
                         %v: tensor<2x8x48x32xf32>, %m: tensor<1x1x16x48xf32>)
    -> tensor<2x8x16x32xf32> {
  %o = lpattn.attention %q, %k, %v mask(%m)
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         causal = true
         : tensor<2x8x16x64xf32>, tensor<2x8x48x64xf32>, tensor<2x8x48x32xf32>, tensor<1x1x16x48xf32> -> tensor<2x8x16x32xf32>
  return %o : tensor<2x8x16x32xf32>
}

// -----

// MQA (one KV head) with dynamic sequence lengths; the scale must then be
// explicit only if D were dynamic. The omitted clauses print their
// defaults: scale 1/sqrt(128) rounded to f32, S = 1, forward, standard.
// CHECK-LABEL: func.func @mqa_dynamic
// CHECK:       scale = 0.0883883461 p_scale = 1.000000e+00 kv_order = forward softmax = standard causal = false :
// CHECK-SAME:  tensor<?x16x?x128xf16>, tensor<?x1x?x128xf16>, tensor<?x1x?x128xf16> -> tensor<?x16x?x128xf16>
func.func @mqa_dynamic(%q: tensor<?x16x?x128xf16>, %k: tensor<?x1x?x128xf16>,
                       %v: tensor<?x1x?x128xf16>) -> tensor<?x16x?x128xf16> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f16, score = f32, p = f16, v = f16, acc = f32, out = f16, overflow = satfinite>
         : tensor<?x16x?x128xf16>, tensor<?x1x?x128xf16>, tensor<?x1x?x128xf16> -> tensor<?x16x?x128xf16>
  return %o : tensor<?x16x?x128xf16>
}

// -----

// Discardable attributes survive next to the inherent ones.
// CHECK-LABEL: func.func @extra_attrs
// CHECK:       causal = false {user.note = "layer 3"} :
func.func @extra_attrs(%q: tensor<1x1x8x8xf32>, %k: tensor<1x1x8x8xf32>,
                       %v: tensor<1x1x8x8xf32>) -> tensor<1x1x8x8xf32> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         {user.note = "layer 3"}
         : tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32> -> tensor<1x1x8x8xf32>
  return %o : tensor<1x1x8x8xf32>
}

// -----

// Per-(batch, KV head) descales, as FlashAttention-3 takes them: three
// tensor<B x Hkv x f32>, their type written once.
// CHECK-LABEL: func.func @per_head_descales
// CHECK:       lpattn.attention %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}} descale(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}} : tensor<2x2xf32>) policy =
// CHECK-SAME:    : tensor<2x8x128x64xf8E4M3FN>, tensor<2x2x128x64xf8E4M3FN>, tensor<2x2x128x64xf8E4M3FN> -> tensor<2x8x128x64xbf16>
func.func @per_head_descales(%q: tensor<2x8x128x64xf8E4M3FN>, %k: tensor<2x2x128x64xf8E4M3FN>,
                             %v: tensor<2x2x128x64xf8E4M3FN>, %qd: tensor<2x2xf32>,
                             %kd: tensor<2x2xf32>, %vd: tensor<2x2xf32>) -> tensor<2x8x128x64xbf16> {
  %o = lpattn.attention %q, %k, %v descale(%qd, %kd, %vd : tensor<2x2xf32>)
         policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite>
         p_scale = 256.0 kv_order = reverse
         : tensor<2x8x128x64xf8E4M3FN>, tensor<2x2x128x64xf8E4M3FN>, tensor<2x2x128x64xf8E4M3FN> -> tensor<2x8x128x64xbf16>
  return %o : tensor<2x8x128x64xbf16>
}

// -----

// The per-tensor form may spell its f32 type, once or for each; it prints
// without it. Dynamic B: a descale tensor with ? (or a static size) fits.
// CHECK-LABEL: func.func @descale_types_spelled
// CHECK:       descale(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}) policy =
// CHECK:       descale(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}) policy =
// CHECK:       descale(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}} : tensor<?x2xf32>) policy =
func.func @descale_types_spelled(%q: tensor<?x4x8x16xf32>, %k: tensor<?x2x8x16xf32>,
                                 %v: tensor<?x2x8x16xf32>, %d: f32, %t: tensor<?x2xf32>)
    -> (tensor<?x4x8x16xf32>, tensor<?x4x8x16xf32>, tensor<?x4x8x16xf32>) {
  %o1 = lpattn.attention %q, %k, %v descale(%d, %d, %d : f32)
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         : tensor<?x4x8x16xf32>, tensor<?x2x8x16xf32>, tensor<?x2x8x16xf32> -> tensor<?x4x8x16xf32>
  %o2 = lpattn.attention %q, %k, %v descale(%d, %d, %d : f32, f32, f32)
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         : tensor<?x4x8x16xf32>, tensor<?x2x8x16xf32>, tensor<?x2x8x16xf32> -> tensor<?x4x8x16xf32>
  %o3 = lpattn.attention %q, %k, %v descale(%t, %t, %t : tensor<?x2xf32>)
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         : tensor<?x4x8x16xf32>, tensor<?x2x8x16xf32>, tensor<?x2x8x16xf32> -> tensor<?x4x8x16xf32>
  return %o1, %o2, %o3 : tensor<?x4x8x16xf32>, tensor<?x4x8x16xf32>, tensor<?x4x8x16xf32>
}
