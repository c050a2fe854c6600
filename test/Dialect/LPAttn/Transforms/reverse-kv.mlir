// RUN: lpattn-opt %s --split-input-file --lpattn-tile --lpattn-reverse-kv | FileCheck %s
// RUN: lpattn-opt %s --split-input-file --lpattn-tile --lpattn-reverse-kv > %t.once
// RUN: lpattn-opt %t.once --split-input-file --lpattn-reverse-kv > %t.twice
// RUN: diff %t.once %t.twice
// RUN: lpattn-opt %s --split-input-file --lpattn-reverse-kv | FileCheck %s --check-prefix=GRAPH

// KV tile j = (T - 1) - t: the sink tile (j = 0) is visited last. With
// causal, T is the number of visible tiles of this query tile, so reverse
// order starts at the diagonal tile. Ragged last tile and GQA unchanged.
// CHECK-LABEL: func.func @causal_ragged_gqa
// CHECK:       %[[KVH:.+]] = arith.divui
// CHECK:       %[[T:.+]] = arith.minsi
// CHECK:       scf.for %[[IV:.+]] = %{{.+}} to %[[T]] step
// CHECK-NEXT:    %[[ONE:.+]] = arith.constant 1 : index
// CHECK-NEXT:    %[[LAST:.+]] = arith.subi %[[T]], %[[ONE]] : index
// CHECK-NEXT:    %[[J:.+]] = arith.subi %[[LAST]], %[[IV]] {lpattn.step = #lpattn<step kv_index>} : index
// The tile offset, its ragged size and the causal mask all use j.
// CHECK-NEXT:    %{{.+}} = arith.constant
// CHECK-NEXT:    %[[COL0:.+]] = arith.muli %[[J]], %{{.+}} : index
// CHECK:         tensor.extract_slice %{{.+}}[%{{.+}}, %[[KVH]], %[[COL0]], 0]
// CHECK:         linalg.generic {{.*}}step mask
// CHECK:           arith.addi %[[COL0]]
// CHECK:       } {lpattn.kv_loop, lpattn.kv_order = #lpattn<kv_order reverse>
// GRAPH-LABEL: func.func @causal_ragged_gqa
// GRAPH:       kv_order = reverse
func.func @causal_ragged_gqa(%q: tensor<1x4x10x16xf32>, %k: tensor<1x2x14x16xf32>, %v: tensor<1x2x14x16xf32>) -> tensor<1x4x10x16xf32> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite>
         causal = true tiles = [4, 4]
         : tensor<1x4x10x16xf32>, tensor<1x2x14x16xf32>, tensor<1x2x14x16xf32> -> tensor<1x4x10x16xf32>
  return %o : tensor<1x4x10x16xf32>
}
