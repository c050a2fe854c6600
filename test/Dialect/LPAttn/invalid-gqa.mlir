// RUN: lpattn-opt %s --split-input-file --verify-diagnostics

// GQA/MQA: query head h reads KV head h / (Hq / Hkv), so Hq must be a
// multiple of Hkv.

func.func @gqa_not_multiple(%q: tensor<1x6x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x16xf32>) -> tensor<1x6x8x16xf32> {
  // expected-error @+1 {{query heads Hq = 6 must be a multiple of KV heads Hkv = 4 (GQA/MQA)}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<1x6x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32> -> tensor<1x6x8x16xf32>
  return %o : tensor<1x6x8x16xf32>
}

// -----

// More KV heads than query heads is not GQA either.
func.func @more_kv_heads(%q: tensor<1x2x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x16xf32>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{query heads Hq = 2 must be a multiple of KV heads Hkv = 4 (GQA/MQA)}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<1x2x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32> -> tensor<1x2x8x16xf32>
  return %o : tensor<1x2x8x16xf32>
}
