// RUN: lpattn-opt %s --split-input-file --verify-diagnostics

// The softmax scale c is finite and positive; tiles [Br, Bc] are positive.

func.func @zero_scale(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{softmax scale must be finite and positive, got 0}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> scale = 0.0 : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @negative_scale(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{softmax scale must be finite and positive, got -0.125}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> scale = -0.125 : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @nan_scale(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{softmax scale must be finite and positive, got nan}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> scale = 0x7FF8000000000000 : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @three_tiles(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{attribute 'tile_sizes' failed to satisfy constraint: i64 dense array attribute with exactly 2 elements}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> tiles = [16, 16, 16] : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @zero_tile(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{tile sizes must be positive, got [0, 16]}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> tiles = [0, 16] : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

// The default 1/sqrt(D) needs a static D.
func.func @dynamic_head_dim_needs_scale(%q: tensor<1x1x8x?xf32>, %k: tensor<1x1x8x?xf32>, %v: tensor<1x1x8x?xf32>) -> tensor<1x1x8x?xf32> {
  // expected-error @+1 {{'scale = ...' is required when the head dimension D of the query is not a static positive size}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<1x1x8x?xf32>, tensor<1x1x8x?xf32>, tensor<1x1x8x?xf32> -> tensor<1x1x8x?xf32>
  return %o : tensor<1x1x8x?xf32>
}
