// RUN: lpattn-opt --lpattn-check-sm90 --lpattn-tile-pipeline --lpattn-tile-to-sm90 %s | FileCheck %s
// RUN: lpattn-compile %s -o %t/per_head --ptxas=none
// RUN: FileCheck %s --check-prefix=JSON < %t/per_head.json

// Per-(batch, KV head) descales (FlashAttention-3's form): the tile IR reads
// them with tensor.extract at (batch, KV head) in the scf.forall body; the
// kernel takes them as pointer parameters and loads one f32 each per CTA.
// CHECK: lpattn.launch = {
// CHECK-SAME: {dtype = "f32", kind = "pointer", role = "q_ds", shape = [2, 2], strides = [2, 1]}
// CHECK-SAME: {dtype = "f32", kind = "pointer", role = "v_ds", shape = [2, 2], strides = [2, 1]}
// CHECK: llvm.func @per_head_sm90({{.*}}, %[[QDS:.*]]: !llvm.ptr<1>, %[[KDS:.*]]: !llvm.ptr<1>, %[[VDS:.*]]: !llvm.ptr<1>, %[[O:.*]]: !llvm.ptr<1>)
// The consumer: KV head = head / 2, then q_ds[b, kvh] and k_ds[b, kvh]
// multiply the softmax scale in the tile IR's order, ((c * q_ds) * k_ds).
// CHECK: setmaxnreg.inc
// CHECK: %[[KVH:.*]] = arith.divui %{{.*}}, %c2 : index
// CHECK: %[[Q_ADDR:.*]] = llvm.getelementptr %[[QDS]][%{{.*}}] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, f32
// CHECK: %[[QD:.*]] = llvm.load %[[Q_ADDR]] : !llvm.ptr<1> -> f32
// CHECK: llvm.getelementptr %[[KDS]]
// CHECK: %[[KD:.*]] = llvm.load
// CHECK: llvm.getelementptr %[[VDS]]
// CHECK: %[[VD:.*]] = llvm.load
// CHECK: %[[CQ:.*]] = arith.mulf %{{.*}}, %[[QD]] : f32
// CHECK: arith.mulf %[[CQ]], %[[KD]] : f32

// JSON: "kind": "pointer",
// JSON-NEXT: "role": "q_ds",
// JSON-NEXT: "shape": [
// JSON-NEXT: 2,
// JSON-NEXT: 2
// JSON: "descales": true

func.func @per_head(%q: tensor<2x4x128x64xf8E4M3FN>, %k: tensor<2x2x128x64xf8E4M3FN>, %v: tensor<2x2x128x64xf8E4M3FN>,
                    %qd: tensor<2x2xf32>, %kd: tensor<2x2xf32>, %vd: tensor<2x2xf32>) -> tensor<2x4x128x64xbf16> {
  %o = lpattn.attention %q, %k, %v descale(%qd, %kd, %vd : tensor<2x2xf32>) policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite> p_scale = 256.0 kv_order = reverse tiles = [64, 64] : tensor<2x4x128x64xf8E4M3FN>, tensor<2x2x128x64xf8E4M3FN>, tensor<2x2x128x64xf8E4M3FN> -> tensor<2x4x128x64xbf16>
  return %o : tensor<2x4x128x64xbf16>
}
