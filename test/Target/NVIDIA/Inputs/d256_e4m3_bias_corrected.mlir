func.func @d256_e4m3_bias_corrected(%q: tensor<1x2x256x256xf8E4M3FN>, %k: tensor<1x2x300x256xf8E4M3FN>, %v: tensor<1x2x300x256xf8E4M3FN>) -> tensor<1x2x256x256xf16> {
  %o = lpattn.attention %q, %k, %v policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = f16, overflow = satfinite> p_scale = 1.0 kv_order = forward softmax = bias_corrected causal = false tiles = [64, 64] : tensor<1x2x256x256xf8E4M3FN>, tensor<1x2x300x256xf8E4M3FN>, tensor<1x2x300x256xf8E4M3FN> -> tensor<1x2x256x256xf16>
  return %o : tensor<1x2x256x256xf16>
}
