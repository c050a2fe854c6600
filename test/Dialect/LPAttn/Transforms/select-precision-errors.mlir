// lpattn-select-precision's hints are declared lpattn attributes (a wrong
// kind, a bad value or a hint on another op is one error), an offset above
// the bound is one error, and so is each bad option value.
// RUN: lpattn-opt %s --split-input-file --lpattn-select-precision --verify-diagnostics
//
// RUN: sed -n '/^\/\/ OK:/,$p' %s | sed '/expected-/d' > %t.ok.mlir
// RUN: not lpattn-opt %t.ok.mlir --lpattn-select-precision=logit-bound=-2 2>&1 | FileCheck %s --check-prefix=BADBOUND
// RUN: not lpattn-opt %t.ok.mlir --lpattn-select-precision=score-offset=inf 2>&1 | FileCheck %s --check-prefix=BADOFFSET
// RUN: not lpattn-opt %t.ok.mlir --lpattn-select-precision=sink-strength=-3 2>&1 | FileCheck %s --check-prefix=BADDELTA
// RUN: not lpattn-opt %t.ok.mlir --lpattn-select-precision=sinks=0 2>&1 | FileCheck %s --check-prefix=BADSINKS
// RUN: not lpattn-opt %t.ok.mlir --lpattn-select-precision=jitter=-1 2>&1 | FileCheck %s --check-prefix=BADJITTER
// RUN: not lpattn-opt %t.ok.mlir --lpattn-select-precision=max-logit-error=0 2>&1 | FileCheck %s --check-prefix=BADTOL
// RUN: not lpattn-opt %t.ok.mlir --lpattn-select-precision="logit-bound=3 score-offset=5" 2>&1 | FileCheck %s --check-prefix=OFFSETOPT
// BADBOUND: error: lpattn-select-precision: logit-bound must be finite and >= 0, got -2 (-1: unknown)
// BADBOUND-NOT: error:
// BADOFFSET: error: lpattn-select-precision: score-offset must be finite and >= 0, got inf (-1: unknown)
// BADOFFSET-NOT: error:
// BADDELTA: error: lpattn-select-precision: sink strength must be finite and >= 0, got -3 (sink-strength = -1: unknown)
// BADDELTA-NOT: error:
// BADSINKS: error: lpattn-select-precision: number of sinks must be in [1, 1000000], got 0
// BADSINKS-NOT: error:
// BADJITTER: error: lpattn-select-precision: sink jitter must be a finite standard deviation >= 0, got -1
// BADJITTER-NOT: error:
// BADTOL: error: lpattn-select-precision: the logit error tolerance must be finite and > 0, got 0
// BADTOL-NOT: error:
// OFFSETOPT: error: lpattn-select-precision: the score offset 5 exceeds the logit bound 3 of the same scores
// OFFSETOPT-NOT: error:

func.func @negative_bound(%q: tensor<1x1x16x16xf32>, %k: tensor<1x1x16x16xf32>, %v: tensor<1x1x16x16xf32>) -> tensor<1x1x16x16xf32> {
  // expected-error @+1 {{'lpattn.logit_bound' must be finite and >= 0, got -1}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         {lpattn.logit_bound = -1.0 : f64}
         : tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32> -> tensor<1x1x16x16xf32>
  return %o : tensor<1x1x16x16xf32>
}

// -----

func.func @nan_offset(%q: tensor<1x1x16x16xf32>, %k: tensor<1x1x16x16xf32>, %v: tensor<1x1x16x16xf32>) -> tensor<1x1x16x16xf32> {
  // expected-error @+1 {{'lpattn.score_offset': the score offset must be finite and >= 0, got nan}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         {lpattn.score_offset = 0x7FF8000000000000 : f64}
         : tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32> -> tensor<1x1x16x16xf32>
  return %o : tensor<1x1x16x16xf32>
}

// -----

func.func @wrong_kind(%q: tensor<1x1x16x16xf32>, %k: tensor<1x1x16x16xf32>, %v: tensor<1x1x16x16xf32>) -> tensor<1x1x16x16xf32> {
  // expected-error @+1 {{'lpattn.logit_bound' must be an f64 float attribute, got 4.000000e+00 : f32}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         {lpattn.logit_bound = 4.0 : f32}
         : tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32> -> tensor<1x1x16x16xf32>
  return %o : tensor<1x1x16x16xf32>
}

// -----

func.func @not_on_attention(%a: f32) -> f32 {
  // expected-error @+1 {{'lpattn.score_offset' is only valid on an lpattn.attention}}
  %b = arith.addf %a, %a {lpattn.score_offset = 8.0 : f64} : f32
  return %b : f32
}

// -----

func.func @offset_above_bound(%q: tensor<1x1x16x16xf32>, %k: tensor<1x1x16x16xf32>, %v: tensor<1x1x16x16xf32>) -> tensor<1x1x16x16xf32> {
  // expected-error @+1 {{lpattn-select-precision: the score offset 20 exceeds the logit bound 10 of the same scores}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         {lpattn.logit_bound = 10.0 : f64, lpattn.score_offset = 20.0 : f64}
         : tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32> -> tensor<1x1x16x16xf32>
  return %o : tensor<1x1x16x16xf32>
}

// -----

// OK: an op without hints, for the option checks above.
func.func @ok(%q: tensor<1x1x16x16xf32>, %k: tensor<1x1x16x16xf32>, %v: tensor<1x1x16x16xf32>) -> tensor<1x1x16x16xf32> {
  // expected-remark @+1 {{selected}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         : tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32> -> tensor<1x1x16x16xf32>
  return %o : tensor<1x1x16x16xf32>
}
