// RUN: lpattn-opt %s --split-input-file --verify-diagnostics

// Malformed tile-level tags are verifier errors, never silently skipped
// rewrites (LPAttnDialect::verifyOperationAttribute).

func.func @step_not_a_step(%a: index, %b: index) -> index {
  // expected-error @+1 {{'lpattn.step' must be a #lpattn<step ...> attribute, got 3 : i32}}
  %c = arith.addi %a, %b {lpattn.step = 3 : i32} : index
  return %c : index
}

// -----

func.func @kv_loop_not_a_loop(%a: index, %b: index) -> index {
  // expected-error @+1 {{'lpattn.kv_loop' marks the loop over KV tiles; 'arith.addi' is not a loop}}
  %c = arith.addi %a, %b {lpattn.kv_loop} : index
  return %c : index
}

// -----

func.func @kv_loop_without_policy(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{KV loop has no 'lpattn.policy'}}
  scf.for %i = %c0 to %n step %c1 {
  } {lpattn.kv_loop, lpattn.kv_order = #lpattn<kv_order forward>}
  return
}

// -----

func.func @kv_order_off_loop(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // A kv_order without the kv_loop marker is one tag doing another's job.
  // expected-error @+1 {{'lpattn.kv_order' is only valid on a KV loop (lpattn.kv_loop)}}
  scf.for %i = %c0 to %n step %c1 {
  } {lpattn.kv_order = #lpattn<kv_order reverse>}
  return
}

// -----

func.func @kv_order_wrong_kind(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{'lpattn.kv_order' must be a #lpattn<kv_order ...> attribute, got "reverse"}}
  scf.for %i = %c0 to %n step %c1 {
  } {lpattn.kv_loop, lpattn.kv_order = "reverse", lpattn.policy = #lpattn.precision<qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>}
  return
}

// -----

func.func @scale_not_power_of_two(%a: f32, %b: f32) -> f32 {
  // expected-error @+1 {{'lpattn.scale' = 448 is not a power of two}}
  %c = arith.mulf %a, %b {lpattn.scale = 448.0 : f64, lpattn.step = #lpattn<step p_scale>} : f32
  return %c : f32
}

// -----

func.func @scale_untagged(%a: f32, %b: f32) -> f32 {
  // expected-error @+1 {{'lpattn.scale' is only valid on a tagged step (lpattn.step)}}
  %c = arith.mulf %a, %b {lpattn.scale = 256.0 : f64} : f32
  return %c : f32
}

// -----

func.func @beta_not_f64(%a: f32, %b: f32) -> f32 {
  // expected-error @+1 {{'lpattn.beta' must be an f64 float attribute, got 2.000000e+00 : f32}}
  %c = arith.mulf %a, %b {lpattn.beta = 2.0 : f32, lpattn.step = #lpattn<step bias_correct>} : f32
  return %c : f32
}

// -----

func.func @unknown(%a: f32, %b: f32) -> f32 {
  // expected-error @+1 {{unknown lpattn attribute 'lpattn.stepp'}}
  %c = arith.mulf %a, %b {lpattn.stepp = #lpattn<step exp>} : f32
  return %c : f32
}
