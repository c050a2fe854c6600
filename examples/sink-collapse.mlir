// A forward-order e4m3 attention with S = 1 and a sink-strength hint for
// lpattn-predict-collapse (README, "Predicting P-collapse").
func.func @attn(%q: tensor<1x8x128x128xf32>, %k: tensor<1x8x4096x128xf32>, %v: tensor<1x8x4096x128xf32>) -> tensor<1x8x128x128xf32> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite>
         {lpattn.sink_strength = 7.0 : f64}
         : tensor<1x8x128x128xf32>, tensor<1x8x4096x128xf32>, tensor<1x8x4096x128xf32> -> tensor<1x8x128x128xf32>
  return %o : tensor<1x8x128x128xf32>
}
