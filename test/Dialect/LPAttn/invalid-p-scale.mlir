// RUN: lpattn-opt %s --split-input-file --verify-diagnostics

// P-Cast: P~ = cast_p(P * S) with S a power of two (exact to multiply and
// divide out) and 1 * S <= max finite of the p type (P = 1 must not saturate).

// S = 448 (the e4m3 max) is the tempting wrong choice.
func.func @not_power_of_two(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{p_scale = 448 is not a power of two: multiplying P by it and dividing it out would not be exact}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite> p_scale = 448.0 : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @saturates_e4m3(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{p_scale = 512 saturates P = 1: 1 * p_scale exceeds the max finite value 448 of p = f8E4M3FN (largest allowed power of two: 256)}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite> p_scale = 512.0 : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @saturates_e5m2(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{p_scale = 65536 saturates P = 1: 1 * p_scale exceeds the max finite value 57344 of p = f8E5M2 (largest allowed power of two: 32768)}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f8E5M2, v = f32, acc = f32, out = f32, overflow = satfinite> p_scale = 65536.0 : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @zero(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{p_scale = 0 is not a power of two}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite> p_scale = 0.0 : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @negative(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{p_scale = -256 is not a power of two}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite> p_scale = -256.0 : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @infinite(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{p_scale = inf is not a power of two}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite> p_scale = 0x7FF0000000000000 : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @nan(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{p_scale = nan is not a power of two}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite> p_scale = 0x7FF8000000000000 : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

// checkPScale allows 2^127 for p = bf16 (1 * S <= its max), but O divides
// acc by l * S: 2 keys of equal score already sum to 2^128, Inf in f32.
func.func @bf16_scale_overflows_f32_sum(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xbf16>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{p_scale = 1.70141e+38 overflows the accumulation: 8 keys of P * p_scale = 1.70141e+38 (equal scores, V = 1) sum to 1.36113e+39 > 3.40282e+38, the max finite value of acc = f32 (largest safe p_scale: 2.12676e+37)}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = bf16, v = bf16, acc = f32, out = f32, overflow = satfinite> p_scale = 1.7014118346046923e+38 : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xbf16> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

// acc = f16 holds 65504: 256 keys at S = 256 reach 65536.
func.func @f16_acc_overflows(%q: tensor<1x1x8x16xf16>, %k: tensor<1x1x256x16xf16>, %v: tensor<1x1x256x16xf16>) -> tensor<1x1x8x16xf16> {
  // expected-error @+1 {{p_scale = 256 overflows the accumulation: 256 keys of P * p_scale = 256 (equal scores, V = 1) sum to 65536 > 65504, the max finite value of acc = f16 (largest safe p_scale: 128)}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f16, score = f32, p = f16, v = f16, acc = f16, out = f16, overflow = satfinite> p_scale = 256.0 : tensor<1x1x8x16xf16>, tensor<1x1x256x16xf16>, tensor<1x1x256x16xf16> -> tensor<1x1x8x16xf16>
  return %o : tensor<1x1x8x16xf16>
}
