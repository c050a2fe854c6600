// RUN: not lpattn-opt %s --lpattn-tile --lpattn-bias-corrected-softmax=beta=1 2>&1 | FileCheck %s --check-prefix=BETA
// RUN: not lpattn-opt %s --lpattn-tile --lpattn-bias-corrected-softmax --lpattn-bias-corrected-softmax=beta=4 2>&1 | FileCheck %s --check-prefix=TWICE
// RUN: not lpattn-opt %s --lpattn-pasa-shift --lpattn-bias-corrected-softmax 2>&1 | FileCheck %s --check-prefix=CONFLICT
// RUN: not lpattn-opt %s --lpattn-bias-corrected-softmax=tol=2 2>&1 | FileCheck %s --check-prefix=TOL

// beta = 1 would leave tied maxima at P = 1.
// BETA: error: bias_corrected beta must be in (1, 1e6), got 1
// TWICE: error: the bias-corrected softmax is already applied with other parameters
// CONFLICT: error: 'lpattn.attention' op already uses the PASA softmax; the bias-corrected softmax would replace it
// TOL: error: bias_corrected tol must be in [0, 1), got 2

func.func @f(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = bf16, v = f32, acc = f32, out = f32, overflow = satfinite>
         : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}
