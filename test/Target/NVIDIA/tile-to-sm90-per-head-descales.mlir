// RUN: not lpattn-opt --lpattn-tile-pipeline --lpattn-tile-to-sm90 %s 2>&1 | FileCheck %s
// The tile IR of per-(batch, KV head) descales (tensor.extract of the three
// tensor<B x Hkv x f32> arguments in the scf.forall body) is not mapped to
// the sm_90a kernel yet: one error, not a kernel with scalar descales.
// CHECK: error: lpattn-tile-to-sm90: per-(batch, KV head) descales (tensor<B x Hkv x f32>) are not mapped to the kernel yet; expects f32 scalar descales

func.func @per_head(%q: tensor<1x4x128x64xf8E4M3FN>, %k: tensor<1x2x128x64xf8E4M3FN>, %v: tensor<1x2x128x64xf8E4M3FN>,
                    %qd: tensor<1x2xf32>, %kd: tensor<1x2xf32>, %vd: tensor<1x2xf32>) -> tensor<1x4x128x64xbf16> {
  %o = lpattn.attention %q, %k, %v descale(%qd, %kd, %vd : tensor<1x2xf32>) policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite> p_scale = 256.0 kv_order = reverse tiles = [64, 64] : tensor<1x4x128x64xf8E4M3FN>, tensor<1x2x128x64xf8E4M3FN>, tensor<1x2x128x64xf8E4M3FN> -> tensor<1x4x128x64xbf16>
  return %o : tensor<1x4x128x64xbf16>
}
