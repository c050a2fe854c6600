// RUN: lpattn-opt %s --split-input-file --verify-diagnostics

// Every f64 attribute the lowering turns into an f32 constant (p_scale,
// scale, beta, tol) must mean in f32 what it says: p_scale exactly (it is
// multiplied in and divided out), the others within an f32 rounding, and
// none may become 0, a subnormal, Inf or NaN. One case per way f32 changes
// a value.

// 2^-200 is a power of two in f64 but 0 in f32: the lowering multiplies P
// by an f32 constant, so the run would return all zeros.
func.func @p_scale_zero_in_f32(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{p_scale = 6.22302e-61 is not an exact, finite, non-zero f32 value, the arithmetic the lowering uses: it underflows f32 and would become 0}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite> p_scale = 6.223015277861142e-61 : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

// 2^-140 is an f32 subnormal: P * S would round.
func.func @p_scale_subnormal_in_f32(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{p_scale = 7.17465e-43 is not an exact, finite, non-zero f32 value, the arithmetic the lowering uses: it is below the smallest normal f32 (1.17549e-38) and would lose precision}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite> p_scale = 7.174648137343064e-43 : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

// 2^200 is Inf in f32 (and would saturate P anyway: the f32 rule comes first).
func.func @p_scale_inf_in_f32(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{p_scale = 1.60694e+60 is not an exact, finite, non-zero f32 value, the arithmetic the lowering uses: it overflows f32 (max 3.40282e+38) and would become inf}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite> p_scale = 1.6069380442589903e60 : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

// The softmax scale is an f32 attribute: the parser refuses what rounding
// would turn into 0 (the verifier would only see the 0).
func.func @scale_zero_in_f32(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{scale = 1e-50 is not representable in f32, the arithmetic the lowering uses: it underflows f32 and would become 0}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite> scale = 1.0e-50 : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @scale_inf_in_f32(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{scale = 1e+39 is not representable in f32, the arithmetic the lowering uses: it overflows f32 (max 3.40282e+38) and would become inf}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite> scale = 1.0e39 : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

// beta - 1 and tol become f32 constants of the bias correction.
func.func @beta_inf_in_f32(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{bias_corrected beta = 1e+300 is not representable in f32, the arithmetic the lowering uses: it overflows f32 (max 3.40282e+38) and would become inf}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite> softmax = bias_corrected(beta = 1.0e300, tol = 1.0e-3) : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @tol_zero_in_f32(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{bias_corrected tol = 1e-50 is not representable in f32, the arithmetic the lowering uses: it underflows f32 and would become 0}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite> softmax = bias_corrected(beta = 2.0, tol = 1.0e-50) : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @pasa_beta_subnormal_in_f32(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{pasa beta = 1e-40 is not representable in f32, the arithmetic the lowering uses: it is below the smallest normal f32 (1.17549e-38) and would lose precision (becoming 9.99995e-41)}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite> softmax = pasa(beta = 1.0e-40) : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @beta_nan(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{pasa beta = nan is not representable in f32, the arithmetic the lowering uses: it is NaN}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite> softmax = pasa(beta = 0x7FF8000000000000) : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

// The generic form reaches the verifier without the custom parser.
func.func @generic_p_scale(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{p_scale = 6.22302e-61 is not an exact, finite, non-zero f32 value}}
  %o = "lpattn.attention"(%q, %k, %v) <{causal = false, kv_order = #lpattn<kv_order forward>, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>, p_scale = 6.223015277861142e-61 : f64, policy = #lpattn.precision<qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite>, softmax = #lpattn.softmax<standard>, softmax_scale = 0.25 : f32}> : (tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @generic_subnormal_scale(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{scale = 9.99995e-41 is not representable in f32, the arithmetic the lowering uses: it is below the smallest normal f32}}
  %o = "lpattn.attention"(%q, %k, %v) <{causal = false, kv_order = #lpattn<kv_order forward>, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>, p_scale = 1.0 : f64, policy = #lpattn.precision<qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite>, softmax = #lpattn.softmax<standard>, softmax_scale = 1.0e-40 : f32}> : (tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}
