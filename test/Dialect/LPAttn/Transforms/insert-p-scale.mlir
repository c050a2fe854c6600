// RUN: lpattn-opt %s --split-input-file --lpattn-tile --lpattn-insert-p-scale | FileCheck %s
// Idempotent: a second run inserts nothing.
// RUN: lpattn-opt %s --split-input-file --lpattn-tile --lpattn-insert-p-scale > %t.once
// RUN: lpattn-opt %s --split-input-file --lpattn-tile --lpattn-insert-p-scale --lpattn-insert-p-scale > %t.twice
// RUN: diff %t.once %t.twice
// Graph level: the pass sets p_scale on the op.
// RUN: lpattn-opt %s --split-input-file --lpattn-insert-p-scale | FileCheck %s --check-prefix=GRAPH

// P~ = cast_p(P * S), S = 256 (the default for e4m3: the largest power of
// two not above 448), and O = acc / (l * S).
// CHECK-LABEL: func.func @e4m3
// CHECK:       %[[KV:.+]]:3 = scf.for
// The row sum still sees the unscaled P.
// CHECK:         %[[P:.+]] = linalg.generic {{.*}}step exp
// CHECK:         linalg.generic {{.*}} ins(%[[P]] : {{.*}}step row_sum
// P * S, exact (S is a power of two).
// CHECK:         %[[S:.+]] = arith.constant 2.560000e+02 : f32
// CHECK:         %[[PS:.+]] = linalg.generic {{.*}} ins(%[[P]], %[[S]] : tensor<16x16xf32>, f32) {{.*}} attrs = {lpattn.scale = 2.560000e+02 : f64, lpattn.step = #lpattn<step p_scale>}
// CHECK:           arith.mulf
// CHECK-NEXT:      linalg.yield
// CHECK:         lpattn.truncf %[[PS]] rne satfinite {lpattn.step = #lpattn<step p_cast>} : tensor<16x16xf32> to tensor<16x16xf8E4M3FN>
// CHECK:       }
// l * S, exact, then the usual normalization.
// CHECK:       %[[LS:.+]] = linalg.generic {{.*}} ins(%[[KV]]#1, %{{.+}} : tensor<16xf32>, f32) {{.*}}step unscale_sum
// CHECK:       linalg.generic {{.*}} ins(%[[KV]]#2, %[[LS]], %{{.+}} : {{.*}}step normalize
// GRAPH-LABEL: func.func @e4m3
// GRAPH:       p_scale = 2.560000e+02
func.func @e4m3(%q: tensor<1x1x16x16xf32>, %k: tensor<1x1x32x16xf32>, %v: tensor<1x1x32x16xf32>) -> tensor<1x1x16x16xf32> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite>
         tiles = [16, 16]
         : tensor<1x1x16x16xf32>, tensor<1x1x32x16xf32>, tensor<1x1x32x16xf32> -> tensor<1x1x16x16xf32>
  return %o : tensor<1x1x16x16xf32>
}

// -----

// e5m2: the default S is 32768 (max finite 57344).
// CHECK-LABEL: func.func @e5m2
// CHECK:       arith.constant 3.276800e+04 : f32
// CHECK:       lpattn.scale = 3.276800e+04 : f64, lpattn.step = #lpattn<step p_scale>
// GRAPH-LABEL: func.func @e5m2
// GRAPH:       p_scale = 3.276800e+04
func.func @e5m2(%q: tensor<1x1x16x16xf32>, %k: tensor<1x1x16x16xf32>, %v: tensor<1x1x16x16xf32>) -> tensor<1x1x16x16xf32> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f8E5M2, v = f32, acc = f32, out = f32, overflow = satfinite>
         : tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32> -> tensor<1x1x16x16xf32>
  return %o : tensor<1x1x16x16xf32>
}

// -----

// With no cast of P (p = f32) the scale goes in front of the PV product.
// CHECK-LABEL: func.func @no_cast
// CHECK:         %[[PS:.+]] = linalg.generic {{.*}}step p_scale
// CHECK-NOT:     lpattn.truncf
// CHECK:         linalg.matmul {lpattn.step = #lpattn<step pv_mma>} ins(%[[PS]], %{{.+}} :
func.func @no_cast(%q: tensor<1x1x16x16xf32>, %k: tensor<1x1x16x16xf32>, %v: tensor<1x1x16x16xf32>) -> tensor<1x1x16x16xf32> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         : tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32> -> tensor<1x1x16x16xf32>
  return %o : tensor<1x1x16x16xf32>
}
