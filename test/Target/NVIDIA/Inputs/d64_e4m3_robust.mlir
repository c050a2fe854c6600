func.func @d64_e4m3_robust(%q: tensor<1x4x512x64xf8E4M3FN>, %k: tensor<1x4x512x64xf8E4M3FN>, %v: tensor<1x4x512x64xf8E4M3FN>) -> tensor<1x4x512x64xbf16> {
  %o = lpattn.attention %q, %k, %v policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite> p_scale = 256.0 kv_order = reverse softmax = standard causal = false tiles = [64, 64] : tensor<1x4x512x64xf8E4M3FN>, tensor<1x4x512x64xf8E4M3FN>, tensor<1x4x512x64xf8E4M3FN> -> tensor<1x4x512x64xbf16>
  return %o : tensor<1x4x512x64xbf16>
}
