func.func @d128_e5m2_causal(%q: tensor<2x4x500x128xf8E5M2>, %k: tensor<2x4x700x128xf8E5M2>, %v: tensor<2x4x700x128xf8E5M2>) -> tensor<2x4x500x128xbf16> {
  %o = lpattn.attention %q, %k, %v policy = <qk = f8E5M2, score = f32, p = f8E5M2, v = f8E5M2, acc = f32, out = bf16, overflow = satfinite> p_scale = 32768.0 kv_order = reverse softmax = standard causal = true tiles = [64, 128] : tensor<2x4x500x128xf8E5M2>, tensor<2x4x700x128xf8E5M2>, tensor<2x4x700x128xf8E5M2> -> tensor<2x4x500x128xbf16>
  return %o : tensor<2x4x500x128xbf16>
}
