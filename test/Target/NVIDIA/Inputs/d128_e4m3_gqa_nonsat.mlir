func.func @d128_e4m3_gqa_nonsat(%q: tensor<1x8x384x128xf8E4M3FN>, %k: tensor<1x2x384x128xf8E4M3FN>, %v: tensor<1x2x384x128xf8E4M3FN>) -> tensor<1x8x384x128xf32> {
  %o = lpattn.attention %q, %k, %v policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = f32, overflow = nonsat> p_scale = 256.0 kv_order = forward softmax = standard causal = true tiles = [64, 128] : tensor<1x8x384x128xf8E4M3FN>, tensor<1x2x384x128xf8E4M3FN>, tensor<1x2x384x128xf8E4M3FN> -> tensor<1x8x384x128xf32>
  return %o : tensor<1x8x384x128xf32>
}
