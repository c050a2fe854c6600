func.func @masked(%q: tensor<1x4x256x128xf8E4M3FN>, %k: tensor<1x4x384x128xf8E4M3FN>, %v: tensor<1x4x384x128xf8E4M3FN>, %m: tensor<1x4x256x384xf32>) -> tensor<1x4x256x128xbf16> {
  %o = lpattn.attention %q, %k, %v mask(%m) policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite> p_scale = 256.0 kv_order = reverse tiles = [64, 128] : tensor<1x4x256x128xf8E4M3FN>, tensor<1x4x384x128xf8E4M3FN>, tensor<1x4x384x128xf8E4M3FN>, tensor<1x4x256x384xf32> -> tensor<1x4x256x128xbf16>
  return %o : tensor<1x4x256x128xbf16>
}
