// RUN: lpattn-opt %s --lpattn-tile --lpattn-count-collapse=sink-keys=4 | FileCheck %s

// After the P cast, per KV tile: collapsed += #(P > 0 and P~ = 0) and
// positive += #(P > 0), over keys >= 4, into a memref<2xi64> argument.
// CHECK-LABEL: func.func @attn
// CHECK-SAME:  %[[STATS:[a-z0-9]+]]: memref<2xi64>
// CHECK:       %[[P:.+]] = linalg.generic {{.*}}step exp
// CHECK:       %[[PT:.+]] = lpattn.truncf %[[P]]
// CHECK:       %[[C:.+]]:2 = linalg.generic {{.*}}["reduction", "reduction"]{{.*}} ins(%[[P]], %[[PT]] : tensor<16x16xf32>, tensor<16x16xf8E4M3FN>) outs(%{{.+}}, %{{.+}} : tensor<i64>, tensor<i64>)
// CHECK:         linalg.index 1
// CHECK:         arith.cmpi sge
// CHECK:         arith.cmpf ogt
// CHECK:         arith.extf %{{.+}} : f8E4M3FN to f32
// CHECK:         arith.cmpf oeq
// CHECK:       tensor.extract %[[C]]#0[]
// CHECK:       memref.load %[[STATS]]
// CHECK:       memref.store %{{.+}}, %[[STATS]]
func.func @attn(%q: tensor<1x1x16x16xf32>, %k: tensor<1x1x32x16xf32>, %v: tensor<1x1x32x16xf32>) -> tensor<1x1x16x16xf32> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite>
         tiles = [16, 16]
         : tensor<1x1x16x16xf32>, tensor<1x1x32x16xf32>, tensor<1x1x32x16xf32> -> tensor<1x1x16x16xf32>
  return %o : tensor<1x1x16x16xf32>
}
