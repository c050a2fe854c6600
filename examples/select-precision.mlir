// lpattn-select-precision's README example: a logit bound and a sink
// strength known (from lpattn-geometry-scale and a calibration), f32 data.
func.func @attn(%q: tensor<1x8x128x64xf32>, %k: tensor<1x8x1024x64xf32>, %v: tensor<1x8x1024x64xf32>) -> tensor<1x8x128x64xbf16> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = bf16, overflow = satfinite>
         {lpattn.logit_bound = 13.0 : f64, lpattn.sink_strength = 9.0 : f64}
         : tensor<1x8x128x64xf32>, tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32> -> tensor<1x8x128x64xbf16>
  return %o : tensor<1x8x128x64xbf16>
}
