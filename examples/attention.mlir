module {
  func.func @attention(%arg0: tensor<1x8x128x64xf8E4M3FN>, %arg1: tensor<1x2x128x64xf8E4M3FN>, %arg2: tensor<1x2x128x64xf8E4M3FN>, %arg3: f32, %arg4: f32, %arg5: f32) -> tensor<1x8x128x64xbf16> {
    %0 = lpattn.attention %arg0, %arg1, %arg2 descale(%arg3, %arg4, %arg5) policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite> scale = 1.250000e-01 p_scale = 2.560000e+02 kv_order = reverse softmax = standard causal = false tiles = [64, 64] : tensor<1x8x128x64xf8E4M3FN>, tensor<1x2x128x64xf8E4M3FN>, tensor<1x2x128x64xf8E4M3FN> -> tensor<1x8x128x64xbf16>
    return %0 : tensor<1x8x128x64xbf16>
  }
}

