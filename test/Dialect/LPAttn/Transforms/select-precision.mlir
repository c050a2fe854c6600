// RUN: lpattn-opt %s --split-input-file --lpattn-select-precision --verify-diagnostics | FileCheck %s
// The options stand in for ops without hints (the expected-* lines
// stripped, so that only the diagnostics are checked).
// RUN: sed '/expected-/d' %s | lpattn-opt --split-input-file --lpattn-select-precision="logit-bound=4 sink-strength=3" 2>&1 >/dev/null | FileCheck %s --check-prefix=OPT
// The README's example: f16 Q K^T (e4m3 would move a logit by 1.68), FP8
// P V with P-Cast's safeguards.
// RUN: lpattn-opt %lpattn_src_root/examples/select-precision.mlir --lpattn-select-precision --mlir-print-op-on-diagnostic=false 2>&1 | FileCheck %s --check-prefix=EXAMPLE
// EXAMPLE: remark: selected 'f16qk-fp8pv'
// EXAMPLE-SAME: cheaper candidates rejected: fp8 (qk = f8E4M3FN: worst-case logit error 1.68
// EXAMPLE: func.func @attn(%arg0: tensor<1x8x128x64xf16>, %arg1: tensor<1x8x1024x64xf16>, %arg2: tensor<1x8x1024x64xf8E4M3FN>)
// EXAMPLE: lpattn.attention
// EXAMPLE-SAME: policy = <qk = f16, score = f16, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite>
// EXAMPLE-SAME: p_scale = 2.560000e+02 kv_order = reverse
//
// D = 64 throughout, so c = 1/8. e4m3 rounds with u = 2^-4: a logit moves
// by at most (2u + u^2) L = 0.129 L.

// L = 4: 0.52 <= 1, and the sink strength 3 is below Delta_c = 5.90 at
// S = 1: all FP8, no safeguard. The f32 arguments take the FP8 types (the
// caller's data is rounded, as lpattn-run does).
// CHECK-LABEL: func.func @fp8_plain(
// CHECK-SAME: %{{.*}}: tensor<1x1x16x64xf8E4M3FN>, %{{.*}}: tensor<1x1x256x64xf8E4M3FN>, %{{.*}}: tensor<1x1x256x64xf8E4M3FN>)
// CHECK: lpattn.attention
// CHECK-SAME: policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = f32, overflow = satfinite>
// CHECK-SAME: p_scale = 1.000000e+00 kv_order = forward softmax = standard
func.func @fp8_plain(%q: tensor<1x1x16x64xf32>, %k: tensor<1x1x256x64xf32>, %v: tensor<1x1x256x64xf32>) -> tensor<1x1x16x64xf32> {
  // expected-remark @+1 {{selected 'fp8' (qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32; both products in FP8 (twice the 16-bit rate)): qk = f8E4M3FN: worst-case logit error 0.52 = (2u + u^2) L = (2u + u^2) 4 with u = 2^-4 <= 1; p = f8E4M3FN: sink strength 3 <= collapse threshold 5.90 at p_scale = 1}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         {lpattn.logit_bound = 4.0 : f64, lpattn.sink_strength = 3.0 : f64}
         : tensor<1x1x16x64xf32>, tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32> -> tensor<1x1x16x64xf32>
  return %o : tensor<1x1x16x64xf32>
}

// OPT: remark: selected 'fp8'
// OPT-SAME: sink strength 3 <= collapse threshold 5.90

// -----

// Sink strength 9 > Delta_c = 5.90 at S = 1, but <= 11.45 at S = 256: FP8
// with P-Cast's safeguards.
// CHECK-LABEL: func.func @fp8_sinks(
// CHECK: lpattn.attention
// CHECK-SAME: policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite>
// CHECK-SAME: p_scale = 2.560000e+02 kv_order = reverse softmax = standard
func.func @fp8_sinks(%q: tensor<1x1x16x64xf32>, %k: tensor<1x1x256x64xf32>, %v: tensor<1x1x256x64xf32>) -> tensor<1x1x16x64xbf16> {
  // expected-remark @+1 {{selected 'fp8' (qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32; both products in FP8 (twice the 16-bit rate)): qk = f8E4M3FN: worst-case logit error 0.64 = (2u + u^2) L = (2u + u^2) 5 with u = 2^-4 <= 1; p = f8E4M3FN: sink strength 9 > collapse threshold 5.90 at p_scale = 1: p_scale = 256, kv_order = reverse (Delta_c = 11.45)}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = bf16, overflow = satfinite>
         {lpattn.logit_bound = 5.0 : f64, lpattn.sink_strength = 9.0 : f64}
         : tensor<1x1x16x64xf32>, tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32> -> tensor<1x1x16x64xbf16>
  return %o : tensor<1x1x16x64xbf16>
}

// OPT: remark: selected 'fp8'
// OPT-SAME: sink strength 9 > collapse threshold 5.90

// -----

// L = 12: e4m3 Q/K could move a logit by 1.55 > 1. f16 Q/K with an f16
// score tile: raw scores up to 12 / (1/8) = 96 fit, error 0.02. P stays FP8.
// CHECK-LABEL: func.func @f16_qk(
// CHECK-SAME: tensor<1x1x16x64xf16>, %{{.*}}: tensor<1x1x256x64xf16>, %{{.*}}: tensor<1x1x256x64xf8E4M3FN>)
// CHECK: lpattn.attention
// CHECK-SAME: policy = <qk = f16, score = f16, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = f32, overflow = satfinite>
// CHECK-SAME: p_scale = 1.000000e+00 kv_order = forward softmax = standard
func.func @f16_qk(%q: tensor<1x1x16x64xf32>, %k: tensor<1x1x256x64xf32>, %v: tensor<1x1x256x64xf32>) -> tensor<1x1x16x64xf32> {
  // expected-remark @+1 {{selected 'f16qk-fp8pv' (qk = f16, score = f16, p = f8E4M3FN, v = f8E4M3FN, acc = f32; Q K^T in f16 with an f16 score tile, P V in FP8): score = f16: raw scores up to L / c = 12 / 0.125 = 96.00 <= 65504; qk = f16: worst-case logit error 0.02 = (2u + u^2) L = (2u + u^2) 12 with u = 2^-11, + 2^-11 12 for the f16 tile <= 1; p = f8E4M3FN: sink strength 3 <= collapse threshold 5.90 at p_scale = 1; cheaper candidates rejected: fp8 (qk = f8E4M3FN: worst-case logit error 1.55 = (2u + u^2) L = (2u + u^2) 12 with u = 2^-4 > 1)}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         {lpattn.logit_bound = 12.0 : f64, lpattn.sink_strength = 3.0 : f64}
         : tensor<1x1x16x64xf32>, tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32> -> tensor<1x1x16x64xf32>
  return %o : tensor<1x1x16x64xf32>
}

// -----

// A common offset O = 10000 of scores bounded by L = 10020: f16 raw scores
// up to 80160 would overflow; PASA leaves (L - O) / c = 160. The Q/K
// rounding error scales with L - O = 20 (the offset's rounding is shared by
// the row): 2.58 for e4m3, 0.03 for f16.
// CHECK-LABEL: func.func @pasa(
// CHECK: lpattn.attention
// CHECK-SAME: policy = <qk = f16, score = f16, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = f32, overflow = nonsat>
// CHECK-SAME: softmax = pasa(beta = 1.000000e+00)
func.func @pasa(%q: tensor<1x1x16x64xf32>, %k: tensor<1x1x256x64xf32>, %v: tensor<1x1x256x64xf32>) -> tensor<1x1x16x64xf32> {
  // expected-remark @+1 {{score = f16: raw scores up to L / c = 10020 / 0.125 = 80160.00 > 65504: softmax = pasa, which removes the common offset O = 10000 and leaves (L - O) / c = 160.00; qk = f16: worst-case logit error 0.03 = (2u + u^2) (L - O) = (2u + u^2) 20 with u = 2^-11, + 2^-11 20 for the f16 tile <= 1; p = f8E4M3FN: sink strength 0 <= collapse threshold 5.90 at p_scale = 1; cheaper candidates rejected: fp8 (qk = f8E4M3FN: worst-case logit error 2.58 = (2u + u^2) (L - O) = (2u + u^2) 20 with u = 2^-4 > 1)}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = nonsat>
         {lpattn.logit_bound = 10020.0 : f64, lpattn.score_offset = 10000.0 : f64, lpattn.sink_strength = 0.0 : f64}
         : tensor<1x1x16x64xf32>, tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32> -> tensor<1x1x16x64xf32>
  return %o : tensor<1x1x16x64xf32>
}

// -----

// The same without the offset: f16 scores would overflow and nothing can
// shift them; bf16 Q/K with f32 scores move a logit by up to
// (2^-7 + 2^-16) 10020 = 78.43 > 1: the f32 Q K^T (error 0.001).
// CHECK-LABEL: func.func @no_offset(
// CHECK: lpattn.attention
// CHECK-SAME: policy = <qk = f32, score = f32, p = bf16, v = bf16, acc = f32, out = f32, overflow = nonsat>
func.func @no_offset(%q: tensor<1x1x16x64xf32>, %k: tensor<1x1x256x64xf32>, %v: tensor<1x1x256x64xf32>) -> tensor<1x1x16x64xf32> {
  // expected-remark @+1 {{f16qk-fp8pv (score = f16: raw scores up to L / c = 10020 / 0.125 = 80160.00 > 65504 and no score offset is known for PASA (lpattn.score_offset or score-offset)); bf16qk-fp8pv (qk = bf16: worst-case logit error 78.43 = (2u + u^2) L = (2u + u^2) 10020 with u = 2^-8 > 1)}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = nonsat>
         {lpattn.logit_bound = 10020.0 : f64, lpattn.sink_strength = 0.0 : f64}
         : tensor<1x1x16x64xf32>, tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32> -> tensor<1x1x16x64xf32>
  return %o : tensor<1x1x16x64xf32>
}

// -----

// Sink strength 14 > Delta_c = 11.45 even at S = 256: no FP8 P. f16 P
// collapses only above 16.30 at S = 1.
// CHECK-LABEL: func.func @p_f16(
// CHECK: lpattn.attention
// CHECK-SAME: policy = <qk = f16, score = f16, p = f16, v = f16, acc = f32, out = f32, overflow = satfinite>
// CHECK-SAME: p_scale = 1.000000e+00 kv_order = forward
func.func @p_f16(%q: tensor<1x1x16x64xf32>, %k: tensor<1x1x256x64xf32>, %v: tensor<1x1x256x64xf32>) -> tensor<1x1x16x64xf32> {
  // expected-remark @+1 {{p = f16: sink strength 14 <= collapse threshold 16.30 at p_scale = 1; cheaper candidates rejected: fp8 (qk = f8E4M3FN: worst-case logit error 2.06 = (2u + u^2) L = (2u + u^2) 16 with u = 2^-4 > 1; p = f8E4M3FN: sink strength 14 > collapse threshold 11.45 even at p_scale = 256); f16qk-fp8pv (p = f8E4M3FN: sink strength 14 > collapse threshold 11.45 even at p_scale = 256)}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         {lpattn.logit_bound = 16.0 : f64, lpattn.sink_strength = 14.0 : f64}
         : tensor<1x1x16x64xf32>, tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32> -> tensor<1x1x16x64xf32>
  return %o : tensor<1x1x16x64xf32>
}

// -----

// Nothing known: no FP8 Q/K and no f16 score tile without a logit bound;
// P-Cast's safeguards, since the sink strength is unknown too.
// CHECK-LABEL: func.func @unknown(
// CHECK: lpattn.attention
// CHECK-SAME: policy = <qk = bf16, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = f32, overflow = satfinite>
// CHECK-SAME: p_scale = 2.560000e+02 kv_order = reverse
func.func @unknown(%q: tensor<1x1x16x64xf32>, %k: tensor<1x1x256x64xf32>, %v: tensor<1x1x256x64xf32>) -> tensor<1x1x16x64xf32> {
  // expected-remark @+1 {{selected 'bf16qk-fp8pv' (qk = bf16, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32; Q K^T in bf16 with an f32 score tile, P V in FP8): qk = bf16, score = f32: logit bound unknown, so nothing is assumed about the scores: bf16 keeps f32's exponent range and the f32 score tile cannot overflow; p = f8E4M3FN: sink strength unknown, so p_scale = 256, kv_order = reverse (Delta_c = 11.45), which cost one multiply; cheaper candidates rejected: fp8 (qk = f8E4M3FN needs a logit bound, and none is known (lpattn.logit_bound or logit-bound)); f16qk-fp8pv (score = f16 needs a logit bound, and none is known (lpattn.logit_bound or logit-bound))}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         : tensor<1x1x16x64xf32>, tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32> -> tensor<1x1x16x64xf32>
  return %o : tensor<1x1x16x64xf32>
}

// With logit-bound=4 sink-strength=3 from the options: all FP8.
// OPT: remark: selected 'fp8'
// OPT-SAME: (2u + u^2) 4 with u = 2^-4 <= 1; p = f8E4M3FN: sink strength 3 <= collapse threshold 5.90

// -----

// Beyond every candidate: L = 1e8 moves an f32-rounded logit by 11.92 > 1.
// The most precise candidate, with a warning.
// CHECK-LABEL: func.func @unsafe(
// CHECK: lpattn.attention
// CHECK-SAME: policy = <qk = f32, score = f32, p = bf16, v = bf16
func.func @unsafe(%q: tensor<1x1x16x64xf32>, %k: tensor<1x1x256x64xf32>, %v: tensor<1x1x256x64xf32>) -> tensor<1x1x16x64xf32> {
  // expected-warning @+1 {{no candidate policy is safe; selected 'f32qk-bf16pv' (qk = f32, score = f32, p = bf16, v = bf16, acc = f32; Q K^T in f32 (no low-precision tensor-core rate), P V in bf16): qk = f32: worst-case logit error 11.92 = (2u + u^2) L = (2u + u^2) 1e+08 with u = 2^-24 > 1; p = bf16: sink strength 1 <= collapse threshold 91.85 at p_scale = 1}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         {lpattn.logit_bound = 1.0e8 : f64, lpattn.sink_strength = 1.0 : f64}
         : tensor<1x1x16x64xf32>, tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32> -> tensor<1x1x16x64xf32>
  return %o : tensor<1x1x16x64xf32>
}

// -----

// Operands that are not retypable arguments are converted in the IR: Q is
// computed, K and V (bf16) are also returned, so they stay bf16; each is
// widened to f32 exactly and rounded once.
// CHECK-LABEL: func.func @converted(
// CHECK-SAME: %[[Q:.*]]: tensor<1x1x16x64xbf16>, %[[K:.*]]: tensor<1x1x256x64xbf16>, %[[V:.*]]: tensor<1x1x256x64xbf16>)
// CHECK: %[[Q2:.*]] = arith.addf %[[Q]], %[[Q]]
// CHECK: %[[QW:.*]] = arith.extf %[[Q2]] : tensor<1x1x16x64xbf16> to tensor<1x1x16x64xf32>
// CHECK: %[[Q8:.*]] = lpattn.truncf %[[QW]] rne satfinite : tensor<1x1x16x64xf32> to tensor<1x1x16x64xf8E4M3FN>
// CHECK: %[[KW:.*]] = arith.extf %[[K]] : tensor<1x1x256x64xbf16> to tensor<1x1x256x64xf32>
// CHECK: %[[K8:.*]] = lpattn.truncf %[[KW]] rne satfinite : tensor<1x1x256x64xf32> to tensor<1x1x256x64xf8E4M3FN>
// CHECK: %[[VW:.*]] = arith.extf %[[V]]
// CHECK: %[[V8:.*]] = lpattn.truncf %[[VW]]
// CHECK: lpattn.attention %[[Q8]], %[[K8]], %[[V8]]
func.func @converted(%q: tensor<1x1x16x64xbf16>, %k: tensor<1x1x256x64xbf16>, %v: tensor<1x1x256x64xbf16>) -> (tensor<1x1x16x64xf32>, tensor<1x1x256x64xbf16>, tensor<1x1x256x64xbf16>) {
  %q2 = arith.addf %q, %q : tensor<1x1x16x64xbf16>
  // expected-remark @+1 {{selected 'fp8'}}
  %o = lpattn.attention %q2, %k, %v
         policy = <qk = bf16, score = f32, p = bf16, v = bf16, acc = f32, out = f32, overflow = satfinite>
         {lpattn.logit_bound = 2.0 : f64, lpattn.sink_strength = 1.0 : f64}
         : tensor<1x1x16x64xbf16>, tensor<1x1x256x64xbf16>, tensor<1x1x256x64xbf16> -> tensor<1x1x16x64xf32>
  return %o, %k, %v : tensor<1x1x16x64xf32>, tensor<1x1x256x64xbf16>, tensor<1x1x256x64xbf16>
}

// -----

// A RASB-sized bound (SmolLM2-135M's layer 0: 7555.67) and no sink hint:
// only the f32 Q K^T is safe; P in bf16 gets S = 1 (bf16's default: its
// range is f32's, and bf16's largest power of two 2^127 overflows l * S,
// NaN on the CPU, now a verifier error). Delta_c = 92.88 + ln 1 - 1.03.
// CHECK-LABEL: func.func @rasb_bound(
// CHECK: lpattn.attention
// CHECK-SAME: policy = <qk = f32, score = f32, p = bf16, v = bf16, acc = f32, out = f32, overflow = satfinite>
// CHECK-SAME: p_scale = 1.000000e+00 kv_order = reverse
func.func @rasb_bound(%q: tensor<1x9x16x64xf32>, %k: tensor<1x3x256x64xf32>, %v: tensor<1x3x256x64xf32>) -> tensor<1x9x16x64xf32> {
  // expected-remark @+1 {{p = bf16: sink strength unknown, so p_scale = 1, kv_order = reverse (Delta_c = 91.85), which costs nothing}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         {lpattn.logit_bound = 7555.67 : f64}
         : tensor<1x9x16x64xf32>, tensor<1x3x256x64xf32>, tensor<1x3x256x64xf32> -> tensor<1x9x16x64xf32>
  return %o : tensor<1x9x16x64xf32>
}
