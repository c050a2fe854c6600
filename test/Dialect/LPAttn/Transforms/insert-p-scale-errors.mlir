// Each rejected P scale, at tile level and at graph level.
// RUN: lpattn-opt %s --split-input-file --lpattn-tile --lpattn-insert-p-scale=scale=448 --verify-diagnostics
// RUN: not lpattn-opt %s --lpattn-tile --lpattn-insert-p-scale=scale=512 2>&1 | FileCheck %s --check-prefix=SAT
// RUN: not lpattn-opt %s --lpattn-tile --lpattn-insert-p-scale="scale=256 rescale-lag=1" 2>&1 | FileCheck %s --check-prefix=LAG
// RUN: lpattn-opt %s --lpattn-tile --lpattn-insert-p-scale="scale=128 rescale-lag=0.8" | FileCheck %s --check-prefix=LAGOK
// RUN: not lpattn-opt %s --lpattn-tile --lpattn-insert-p-scale=scale=16 --lpattn-insert-p-scale=scale=256 2>&1 | FileCheck %s --check-prefix=TWICE
// RUN: not lpattn-opt %s --lpattn-insert-p-scale=scale=512 2>&1 | FileCheck %s --check-prefix=GRAPH

// The pass and the verifier state the rule in the same words (Numerics/Rules.h).
// SAT: error: p_scale = 512 saturates P = 1: 1 * p_scale exceeds the max finite value 448 of p = f8E4M3FN (largest allowed power of two: 256)
// A running max allowed to lag by 1 (log2 units): P reaches 2, P * 256 = 512.
// LAG: error: P * S can reach 2^(8 + lag) = 512 > 448, the max finite value of p = f8E4M3FN: need 8 + lag <= log2(448) = 8.80735 (lag = 1)
// LAGOK: lpattn.scale = 1.280000e+02
// TWICE: error: P is already scaled by 16; refusing to scale it again by 256
// GRAPH: error: 'lpattn.attention' op p_scale = 512 saturates P = 1

func.func @e4m3(%q: tensor<1x1x16x16xf32>, %k: tensor<1x1x16x16xf32>, %v: tensor<1x1x16x16xf32>) -> tensor<1x1x16x16xf32> {
  // expected-error @+1 {{p_scale = 448 is not a power of two: multiplying P by it and dividing it out would not be exact}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite>
         : tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32> -> tensor<1x1x16x16xf32>
  return %o : tensor<1x1x16x16xf32>
}
