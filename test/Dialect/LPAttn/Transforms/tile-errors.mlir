// RUN: lpattn-opt %s --split-input-file --lpattn-tile --verify-diagnostics
// RUN: not lpattn-opt %s --split-input-file --lpattn-tile=tile-q=0 2>&1 | FileCheck %s --check-prefix=OPTION
// OPTION: error: lpattn-tile: tile-q and tile-kv must be positive, got 0 and 64

// Tiling needs static shapes: sizes and the causal diagonal are compile-time.
func.func @dynamic(%q: tensor<1x1x?x16xf32>, %k: tensor<1x1x?x16xf32>, %v: tensor<1x1x?x16xf32>) -> tensor<1x1x?x16xf32> {
  // expected-error @+1 {{lpattn-tile needs static shapes, got 'tensor<1x1x?x16xf32>'}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         : tensor<1x1x?x16xf32>, tensor<1x1x?x16xf32>, tensor<1x1x?x16xf32> -> tensor<1x1x?x16xf32>
  return %o : tensor<1x1x?x16xf32>
}
