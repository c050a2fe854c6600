// RUN: lpattn-opt %s --split-input-file --verify-diagnostics

// The additive mask is [B or 1, Hq or 1, Nq, Nk] in f32: it is added to
// the f32 scores before the row max.

func.func @mask_f16(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x12x16xf32>, %v: tensor<2x4x12x16xf32>, %m: tensor<1x1x8x12xf16>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{mask element type must be f32 (it is added to the f32 scores), got 'f16'}}
  %o = lpattn.attention %q, %k, %v mask(%m) policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<2x4x8x16xf32>, tensor<2x4x12x16xf32>, tensor<2x4x12x16xf32>, tensor<1x1x8x12xf16> -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

func.func @mask_rows(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x12x16xf32>, %v: tensor<2x4x12x16xf32>, %m: tensor<1x1x12x12xf32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{query sequence length Nq mismatch: mask [B, Hq, Nq, Nk] has 12 but query has 8}}
  %o = lpattn.attention %q, %k, %v mask(%m) policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<2x4x8x16xf32>, tensor<2x4x12x16xf32>, tensor<2x4x12x16xf32>, tensor<1x1x12x12xf32> -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

func.func @mask_cols(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x12x16xf32>, %v: tensor<2x4x12x16xf32>, %m: tensor<1x1x8x8xf32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{key sequence length Nk mismatch: mask [B, Hq, Nq, Nk] has 8 but key has 12}}
  %o = lpattn.attention %q, %k, %v mask(%m) policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<2x4x8x16xf32>, tensor<2x4x12x16xf32>, tensor<2x4x12x16xf32>, tensor<1x1x8x8xf32> -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

func.func @mask_batch(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x12x16xf32>, %v: tensor<2x4x12x16xf32>, %m: tensor<3x1x8x12xf32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{mask batch size B must be 1 or 2, got 3}}
  %o = lpattn.attention %q, %k, %v mask(%m) policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<2x4x8x16xf32>, tensor<2x4x12x16xf32>, tensor<2x4x12x16xf32>, tensor<3x1x8x12xf32> -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

func.func @mask_heads(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x12x16xf32>, %v: tensor<2x4x12x16xf32>, %m: tensor<1x2x8x12xf32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{mask query head count Hq must be 1 or 4, got 2}}
  %o = lpattn.attention %q, %k, %v mask(%m) policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<2x4x8x16xf32>, tensor<2x4x12x16xf32>, tensor<2x4x12x16xf32>, tensor<1x2x8x12xf32> -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// With a single query head the mask's head dimension has one valid size.
func.func @mask_heads_single(%q: tensor<2x1x8x16xf32>, %k: tensor<2x1x12x16xf32>, %v: tensor<2x1x12x16xf32>, %m: tensor<1x2x8x12xf32>) -> tensor<2x1x8x16xf32> {
  // expected-error @+1 {{mask query head count Hq must be 1, got 2}}
  %o = lpattn.attention %q, %k, %v mask(%m) policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<2x1x8x16xf32>, tensor<2x1x12x16xf32>, tensor<2x1x12x16xf32>, tensor<1x2x8x12xf32> -> tensor<2x1x8x16xf32>
  return %o : tensor<2x1x8x16xf32>
}
