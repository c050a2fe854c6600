// RUN: lpattn-opt %s --split-input-file --verify-diagnostics

// The generic form bypasses the custom parser, so the verifier alone must
// catch what the parser would have filled in or rejected.

func.func @descale_count(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>, %d: f32) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{expects 0 or 3 descales (q, k, v), got 2}}
  %o = "lpattn.attention"(%q, %k, %v, %d, %d) <{causal = false, kv_order = #lpattn<kv_order forward>, operandSegmentSizes = array<i32: 1, 1, 1, 0, 2>, p_scale = 1.0 : f64, policy = #lpattn.precision<qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>, softmax = #lpattn.softmax<standard>, softmax_scale = 0.25 : f32}> : (tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, f32, f32) -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @missing_policy_attr(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{requires attribute 'policy'}}
  %o = "lpattn.attention"(%q, %k, %v) <{causal = false, kv_order = #lpattn<kv_order forward>, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>, p_scale = 1.0 : f64, softmax = #lpattn.softmax<standard>, softmax_scale = 0.25 : f32}> : (tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @bias_corrected_without_beta(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // The softmax attribute verifies its own parameters (Numerics/Rules.h).
  // expected-error @+1 {{bias_corrected beta must be in (1, 1e6), got 0.5}}
  %o = "lpattn.attention"(%q, %k, %v) <{causal = false, kv_order = #lpattn<kv_order forward>, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>, p_scale = 1.0 : f64, policy = #lpattn.precision<qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>, softmax = #lpattn.softmax<bias_corrected(beta = 0.5, tol = 1.0e-3)>, softmax_scale = 0.25 : f32}> : (tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @bias_corrected_without_tol(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{softmax = standard takes no beta}}
  %o = "lpattn.attention"(%q, %k, %v) <{causal = false, kv_order = #lpattn<kv_order forward>, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>, p_scale = 1.0 : f64, policy = #lpattn.precision<qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>, softmax = #lpattn.softmax<standard(beta = 2.0)>, softmax_scale = 0.25 : f32}> : (tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @p_scale_wrong_kind(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{Invalid attribute `p_scale` in property conversion: "256"}}
  %o = "lpattn.attention"(%q, %k, %v) <{causal = false, kv_order = #lpattn<kv_order forward>, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>, p_scale = "256", policy = #lpattn.precision<qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>, softmax = #lpattn.softmax<standard>, softmax_scale = 0.25 : f32}> : (tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @kv_order_as_int(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{Invalid attribute `kv_order` in property conversion: 1 : i32}}
  %o = "lpattn.attention"(%q, %k, %v) <{causal = false, kv_order = 1 : i32, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>, p_scale = 1.0 : f64, policy = #lpattn.precision<qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>, softmax = #lpattn.softmax<standard>, softmax_scale = 0.25 : f32}> : (tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @segment_sizes_lie(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{operand count (3) does not match with the total size (4) specified in attribute 'operandSegmentSizes'}}
  %o = "lpattn.attention"(%q, %k, %v) <{causal = false, kv_order = #lpattn<kv_order forward>, operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>, p_scale = 1.0 : f64, policy = #lpattn.precision<qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>, softmax = #lpattn.softmax<standard>, softmax_scale = 0.25 : f32}> : (tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

// Mixed descale forms in the generic form: the verifier, not the parser.
func.func @descales_mixed_generic(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>, %d: f32, %t: tensor<1x1xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{descales must be all f32 scalars (per tensor) or all tensor<B x Hkv x f32> (per batch and KV head), got tensor<1x1xf32>, tensor<1x1xf32>, f32}}
  %o = "lpattn.attention"(%q, %k, %v, %t, %t, %d) <{causal = false, kv_order = #lpattn<kv_order forward>, operandSegmentSizes = array<i32: 1, 1, 1, 0, 3>, p_scale = 1.0 : f64, policy = #lpattn.precision<qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>, softmax = #lpattn.softmax<standard>, softmax_scale = 0.25 : f32}> : (tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1xf32>, tensor<1x1xf32>, f32) -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}
