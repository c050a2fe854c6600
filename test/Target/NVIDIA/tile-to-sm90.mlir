// RUN: lpattn-opt --lpattn-check-sm90 --lpattn-tile-pipeline --lpattn-tile-to-sm90 %s | FileCheck %s
// RUN: lpattn-opt --lpattn-sm90-pipeline %s | FileCheck %s --check-prefix=LLVM

// The robust FP8 attention (S = 256, reverse KV order), head dim 64, tiles
// [64, 64], in the sm_90a kernel. Its launch descriptor's kernel half:
// CHECK: module attributes {gpu.container_module, lpattn.launch = {block = [384, 1, 1], dynamic_shared_memory = 34816 : i64, grid = [4, 4, 1], kernel = "robust_sm90"
// CHECK-SAME: swizzle = "64B", tensor = "q"
// CHECK-SAME: tiles = [64, 64]
// CHECK: gpu.module @lpattn_kernels [#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">]
// CHECK: llvm.func @robust_sm90(%{{.*}}: !llvm.ptr {llvm.align = 64 : i64, llvm.byval = !llvm.array<128 x i8>, nvvm.grid_constant}
// CHECK-SAME: attributes {nvvm.kernel, nvvm.maxntid = array<i32: 384, 1, 1>}

// The producer warpgroup: Q and K/V tiles by TMA, V^T by ld/st.shared.
// CHECK: setmaxnreg.dec.sync.aligned.u32 40
// CHECK: cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::complete_tx::bytes
// CHECK: ld.shared.b32
// CHECK: st.shared.b32
// CHECK: fence.proxy.async.shared::cta
// CHECK: mbarrier.arrive.shared::cta.b64

// A consumer warpgroup: the KV loop carries m, l (2 rows each) and acc
// (64 x 64 / 128 threads = 32 values).
// CHECK: setmaxnreg.inc.sync.aligned.u32 232
// CHECK: = scf.for {{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32) : i32 {
// The reverse order comes from the tile IR's kv_index step: T - 1 - i.
// CHECK: %[[LAST:.*]] = arith.subi %{{.*}}, %{{.*}} : index
// CHECK: arith.subi %[[LAST]], %{{.*}} : index
// Q K^T: two k32 slices of shared x shared wgmma, one wait.
// CHECK: wgmma.fence.sync.aligned
// CHECK: wgmma.mma_async.sync.aligned.m64n64k32.f32.e4m3.e4m3 {$0,{{.*}}}, $32, $33, p, 1, 1;
// CHECK: wgmma.mma_async.sync.aligned.m64n64k32.f32.e4m3.e4m3
// CHECK: wgmma.commit_group.sync.aligned
// CHECK-NEXT: wgmma.wait_group.sync.aligned 0
// The row max folds the thread's keys, then a quad shuffle.
// CHECK: arith.maximumf
// CHECK: shfl.sync.bfly.b32 $0, $1, 1,
// CHECK: shfl.sync.bfly.b32 $0, $1, 2,
// exp is ex2.approx(x log2 e).
// CHECK: arith.constant 1.44269502 : f32
// CHECK: ex2.approx.ftz.f32
// The P scale step, then the cast in registers, then P~ V with A in registers.
// CHECK: arith.constant 2.560000e+02 : f32
// CHECK: cvt.rn.satfinite.e4m3x2.f32 $0, $2, $1;
// CHECK: mbarrier.try_wait.parity.shared::cta.b64
// CHECK: wgmma.mma_async.sync.aligned.m64n64k32.f32.e4m3.e4m3 {$0,{{.*}}}, {$32, $33, $34, $35}, $36, p, 1, 1;
// The accumulate step: acc * a + P~V, in f32 registers (two-level).
// CHECK: arith.addf
// CHECK: mbarrier.arrive.shared::cta.b64
// The normalize step and the store of rows < Nq.
// CHECK: arith.divf
// CHECK: lpattn.truncf {{.*}} rne satfinite : f32 to bf16
// CHECK: llvm.store {{.*}} {alignment = 4 : i64} : i32, !llvm.ptr<1>

// After lpattn-sm90-to-llvm, only LLVM and NVVM ops remain in the kernel.
// LLVM: gpu.module @lpattn_kernels
// LLVM-NOT: arith.
// LLVM-NOT: scf.
// LLVM-NOT: lpattn.truncf
// LLVM: llvm.return

func.func @robust(%q: tensor<1x4x512x64xf8E4M3FN>, %k: tensor<1x4x512x64xf8E4M3FN>, %v: tensor<1x4x512x64xf8E4M3FN>) -> tensor<1x4x512x64xbf16> {
  %o = lpattn.attention %q, %k, %v policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite> p_scale = 256.0 kv_order = reverse softmax = standard causal = false tiles = [64, 64] : tensor<1x4x512x64xf8E4M3FN>, tensor<1x4x512x64xf8E4M3FN>, tensor<1x4x512x64xf8E4M3FN> -> tensor<1x4x512x64xbf16>
  return %o : tensor<1x4x512x64xbf16>
}
