// The tile-level protocol (lpattn.step, lpattn.kv_loop, lpattn.kv_order,
// lpattn.policy, declared in LPAttnBase.td) survives the upstream cleanups
// and bufferization, so the safeguard passes still find their anchors.
// RUN: lpattn-opt %s --lpattn-tile --canonicalize --cse --lpattn-robust-fp8 | FileCheck %s
// RUN: lpattn-opt %s --lpattn-tile --lpattn-cpu-matmul-layout --convert-elementwise-to-linalg --one-shot-bufferize="bufferize-function-boundaries allow-return-allocs-from-loops" | FileCheck %s --check-prefix=BUF

// After canonicalize + cse, lpattn-robust-fp8 still rewrites the KV loop.
// CHECK-LABEL: func.func @attention
// CHECK:         scf.for
// CHECK:           arith.subi {{.*}} {lpattn.step = #lpattn<step kv_index>}
// CHECK:           arith.muli {{.*}} {lpattn.step = #lpattn<step kv_offset>}
// CHECK:           linalg.generic {{.*}}lpattn.scale = 2.560000e+02 : f64, lpattn.step = #lpattn<step p_scale>
// CHECK:           lpattn.truncf {{.*}} {lpattn.step = #lpattn<step p_cast>}
// CHECK:         } {lpattn.kv_loop, lpattn.kv_order = #lpattn<kv_order reverse>, lpattn.policy = #lpattn.precision<
// CHECK:         lpattn.step = #lpattn<step unscale_sum>

// On buffers, the steps and the KV loop are still tagged.
// BUF-LABEL: func.func @attention
// BUF:         scf.for
// BUF:           lpattn.step = #lpattn<step qk_mma>
// BUF:           lpattn.step = #lpattn<step p_cast>
// BUF:           lpattn.step = #lpattn<step pv_mma>
// BUF:         } {lpattn.kv_loop, lpattn.kv_order = #lpattn<kv_order forward>
// BUF:         lpattn.step = #lpattn<step normalize>

func.func @attention(%q: tensor<1x1x64x16xf8E4M3FN>, %k: tensor<1x1x128x16xf8E4M3FN>, %v: tensor<1x1x128x16xf8E4M3FN>) -> tensor<1x1x64x16xbf16> {
  %o = lpattn.attention %q, %k, %v policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite> tiles = [32, 32] : tensor<1x1x64x16xf8E4M3FN>, tensor<1x1x128x16xf8E4M3FN>, tensor<1x1x128x16xf8E4M3FN> -> tensor<1x1x64x16xbf16>
  return %o : tensor<1x1x64x16xbf16>
}
