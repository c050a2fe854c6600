// Each bad input to lpattn-geometry-scale gets one error: bad options,
// unknown or non-finite weights, no token-norm bound, auto-alpha without a
// model dimension, and malformed RASB attributes (the dialect's verifier).
// RUN: lpattn-opt %s --split-input-file --lpattn-geometry-scale=token-norm=100 --verify-diagnostics
// RUN: sed '/expected-/d' %s | not lpattn-opt --split-input-file --lpattn-geometry-scale='token-norm=100 alpha=0' 2>&1 | FileCheck %s --check-prefix=ALPHA0
// RUN: sed '/expected-/d' %s | not lpattn-opt --split-input-file --lpattn-geometry-scale='token-norm=100 alpha=-2' 2>&1 | FileCheck %s --check-prefix=ALPHANEG
// RUN: sed '/expected-/d' %s | not lpattn-opt --split-input-file --lpattn-geometry-scale='token-norm=100 alpha=0.5 auto-alpha=true' 2>&1 | FileCheck %s --check-prefix=BOTH
// RUN: sed '/expected-/d' %s | not lpattn-opt --split-input-file --lpattn-geometry-scale='token-norm=100 iterations=0' 2>&1 | FileCheck %s --check-prefix=ITER
// RUN: sed '/expected-/d' %s | not lpattn-opt --split-input-file --lpattn-geometry-scale='token-norm=100 tolerance=0' 2>&1 | FileCheck %s --check-prefix=TOL
// RUN: sed '/expected-/d' %s | not lpattn-opt --split-input-file --lpattn-geometry-scale=token-norm=-1 2>&1 | FileCheck %s --check-prefix=NORM
// RUN: sed '/expected-/d' %s | not lpattn-opt --split-input-file --lpattn-geometry-scale 2>&1 | FileCheck %s --check-prefix=NONORM
// RUN: sed '/expected-/d' %s | not lpattn-opt --split-input-file --lpattn-geometry-scale='token-norm=100 auto-alpha=true' 2>&1 | FileCheck %s --check-prefix=AUTO

// ALPHA0: lpattn-geometry-scale: alpha must be finite and positive, got 0
// ALPHANEG: lpattn-geometry-scale: alpha must be finite and positive, got -2
// BOTH: lpattn-geometry-scale: alpha and auto-alpha exclude each other
// ITER: lpattn-geometry-scale: power iteration needs at least 1 iteration, got 0
// TOL: lpattn-geometry-scale: power iteration tolerance must be finite and positive, got 0
// NORM: lpattn-geometry-scale: token-norm bound must be finite and positive, got -1
// NONORM: error: lpattn-geometry-scale: no token-norm bound: give the token-norm option
// AUTO: error: lpattn-geometry-scale: auto-alpha needs the model dimension, known only from traced weights, not from lpattn.qk_sigma

// Q and K are function arguments: nothing says what weights made them.
func.func @unknown_weights(%q: tensor<1x1x8x4xf32>, %k: tensor<1x1x8x4xf32>, %v: tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32> {
  // expected-error @+1 {{lpattn-geometry-scale: no lpattn.qk_sigma and the query weights are unknown: it is a block argument}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         : tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32> -> tensor<1x1x8x4xf32>
  return %o : tensor<1x1x8x4xf32>
}

// -----

// A projection whose weight is computed, not constant.
func.func @computed_weight(%x: tensor<2x2xf32>, %w: tensor<2x2xf32>, %v: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<2x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<2x2xf32>) -> tensor<2x2xf32>
  %p = linalg.matmul ins(%x, %w : tensor<2x2xf32>, tensor<2x2xf32>) outs(%acc : tensor<2x2xf32>) -> tensor<2x2xf32>
  %q = tensor.expand_shape %p [[0, 1, 2], [3]] output_shape [1, 1, 2, 2] : tensor<2x2xf32> into tensor<1x1x2x2xf32>
  // expected-error @+1 {{lpattn-geometry-scale: no lpattn.qk_sigma and the query weights are unknown: the weight operand of its linalg.matmul is not a constant}}
  %o = lpattn.attention %q, %q, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         : tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32> -> tensor<1x1x2x2xf32>
  return %o : tensor<1x1x2x2xf32>
}

// -----

// A NaN in the (shared) weight: an error naming head, matrix, row, column.
func.func @nan_weight(%x: tensor<2x2xf32>, %v: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %w = arith.constant dense<[[1.0, 0x7FC00000], [0.0, 1.0]]> : tensor<2x2xf32>
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<2x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<2x2xf32>) -> tensor<2x2xf32>
  %p = linalg.matmul ins(%x, %w : tensor<2x2xf32>, tensor<2x2xf32>) outs(%acc : tensor<2x2xf32>) -> tensor<2x2xf32>
  %q = tensor.expand_shape %p [[0, 1, 2], [3]] output_shape [1, 1, 2, 2] : tensor<2x2xf32> into tensor<1x1x2x2xf32>
  // B = W^T holds the NaN at [0, 1], so W at row 1, column 0.
  // expected-error @+1 {{lpattn-geometry-scale: query head 0 (KV head 0): query weight has a non-finite value (nan) at row 1, column 0}}
  %o = lpattn.attention %q, %q, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         : tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32> -> tensor<1x1x2x2xf32>
  return %o : tensor<1x1x2x2xf32>
}

// -----

// Valid for the first RUN line (a remark); the NONORM and AUTO runs need it:
// sigma is known, but there is no token norm, or no model dimension.
func.func @checkpoint_sigma(%q: tensor<1x1x8x4xf32>, %k: tensor<1x1x8x4xf32>, %v: tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32> {
  // expected-remark @+1 {{geometry scale: B_X = 100, alpha = 1}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         {lpattn.qk_sigma = array<f64: 2.0>}
         : tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32> -> tensor<1x1x8x4xf32>
  return %o : tensor<1x1x8x4xf32>
}

// -----

func.func @sigma_count(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'lpattn.qk_sigma' has 1 values; the op has 2 query heads}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         {lpattn.qk_sigma = array<f64: 1.0>}
         : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @sigma_negative(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'lpattn.qk_sigma' of query head 1 must be finite and >= 0, got -1}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         {lpattn.qk_sigma = array<f64: 1.0, -1.0>}
         : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @sigma_kind(%q: tensor<1x1x8x4xf32>, %k: tensor<1x1x8x4xf32>, %v: tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32> {
  // expected-error @+1 {{'lpattn.qk_sigma' must be an array<f64: ...> attribute, got 1.000000e+00 : f64}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         {lpattn.qk_sigma = 1.0 : f64}
         : tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32> -> tensor<1x1x8x4xf32>
  return %o : tensor<1x1x8x4xf32>
}

// -----

func.func @rope_safe_without_sigma(%q: tensor<1x1x8x4xf32>, %k: tensor<1x1x8x4xf32>, %v: tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32> {
  // expected-error @+1 {{'lpattn.qk_sigma_rope_safe' qualifies 'lpattn.qk_sigma', which the op does not have}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         {lpattn.qk_sigma_rope_safe}
         : tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32> -> tensor<1x1x8x4xf32>
  return %o : tensor<1x1x8x4xf32>
}

// -----

func.func @rope_safe_kind(%q: tensor<1x1x8x4xf32>, %k: tensor<1x1x8x4xf32>, %v: tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32> {
  // expected-error @+1 {{'lpattn.qk_sigma_rope_safe' must be a unit attribute}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         {lpattn.qk_sigma = array<f64: 1.0>, lpattn.qk_sigma_rope_safe = true}
         : tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32> -> tensor<1x1x8x4xf32>
  return %o : tensor<1x1x8x4xf32>
}

// -----

func.func @scale_not_power_of_two(%q: tensor<1x1x8x4xf32>, %k: tensor<1x1x8x4xf32>, %v: tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32> {
  // expected-error @+1 {{'lpattn.qk_scale' must be a power of two <= 1, got 0.3}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         {lpattn.qk_scale = 0.3 : f64}
         : tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32> -> tensor<1x1x8x4xf32>
  return %o : tensor<1x1x8x4xf32>
}

// -----

func.func @scale_above_one(%q: tensor<1x1x8x4xf32>, %k: tensor<1x1x8x4xf32>, %v: tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32> {
  // expected-error @+1 {{'lpattn.qk_scale' must be a power of two <= 1, got 2}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         {lpattn.qk_scale = 2.0 : f64}
         : tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32> -> tensor<1x1x8x4xf32>
  return %o : tensor<1x1x8x4xf32>
}

// -----

func.func @bound_negative(%q: tensor<1x1x8x4xf32>, %k: tensor<1x1x8x4xf32>, %v: tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32> {
  // expected-error @+1 {{'lpattn.logit_bound' must be finite and >= 0, got -5}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         {lpattn.logit_bound = -5.0 : f64}
         : tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32> -> tensor<1x1x8x4xf32>
  return %o : tensor<1x1x8x4xf32>
}

// -----

func.func @bound_elsewhere(%a: f32) -> f32 {
  // expected-error @+1 {{'lpattn.logit_bound' is only valid on an lpattn.attention}}
  %b = arith.addf %a, %a {lpattn.logit_bound = 1.0 : f64} : f32
  return %b : f32
}
