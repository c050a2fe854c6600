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
