// RUN: lpattn-opt --lpattn-check-sm90 --lpattn-tile-pipeline --lpattn-tile-to-sm90 %s | FileCheck %s

// An additive mask [B|1, Hq|1, Nq, Nk] (here broadcast over batch and heads):
// a pointer parameter after v (KernelABI.h's order); the tile IR's mask step
// adds the mask tile, which the kernel reads with one f32 load per element at
// (row0 + row, col0 + key), clamped into the tensor.
// CHECK: lpattn.launch = {
// CHECK-SAME: {dtype = "f32", kind = "pointer", role = "mask", shape = [1, 1, 128, 192], strides = [24576, 24576, 192, 1]}
// CHECK-SAME: signature = {descales = false, mask = true, stats = false}
// CHECK: llvm.func @masked_sm90(%{{.*}}: !llvm.ptr {{.*}}, %{{.*}}: !llvm.ptr {{.*}}, %{{.*}}: !llvm.ptr {{.*}}, %[[MASK:.*]]: !llvm.ptr<1>, %[[O:.*]]: !llvm.ptr<1>)
// CHECK: setmaxnreg.inc
// CHECK: wgmma.mma_async.sync.aligned.m64n64k32.f32.e4m3.e4m3
// CHECK: arith.minui %{{.*}}, %c127_i32 : i32
// CHECK: arith.minui %{{.*}}, %c191_i32 : i32
// CHECK: %[[ADDR:.*]] = llvm.getelementptr %[[MASK]][%{{.*}}] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, f32
// CHECK: %[[M:.*]] = llvm.load %[[ADDR]] : !llvm.ptr<1> -> f32
// CHECK: arith.addf %{{.*}}, %[[M]] : f32
// CHECK: arith.maximumf

func.func @masked(%q: tensor<2x2x128x64xf8E4M3FN>, %k: tensor<2x2x192x64xf8E4M3FN>, %v: tensor<2x2x192x64xf8E4M3FN>, %m: tensor<1x1x128x192xf32>) -> tensor<2x2x128x64xbf16> {
  %o = lpattn.attention %q, %k, %v mask(%m) policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite> tiles = [64, 64] : tensor<2x2x128x64xf8E4M3FN>, tensor<2x2x192x64xf8E4M3FN>, tensor<2x2x192x64xf8E4M3FN>, tensor<1x1x128x192xf32> -> tensor<2x2x128x64xbf16>
  return %o : tensor<2x2x128x64xbf16>
}
