// RUN: lpattn-opt --lpattn-check-sm90 --split-input-file --verify-diagnostics %s

func.func @bf16(%q: tensor<1x1x128x64xbf16>, %k: tensor<1x1x128x64xbf16>, %v: tensor<1x1x128x64xbf16>) -> tensor<1x1x128x64xbf16> {
  // expected-error @+1 {{cannot run on sm_90a: qk, p and v must be f8E4M3FN or f8E5M2 (the wgmma FP8 forms), got qk = 'bf16', p = 'bf16', v = 'bf16'}}
  %o = lpattn.attention %q, %k, %v policy = <qk = bf16, score = f32, p = bf16, v = bf16, acc = f32, out = bf16, overflow = satfinite> : tensor<1x1x128x64xbf16>, tensor<1x1x128x64xbf16>, tensor<1x1x128x64xbf16> -> tensor<1x1x128x64xbf16>
  return %o : tensor<1x1x128x64xbf16>
}

// -----

func.func @score_f16(%q: tensor<1x1x128x64xf8E4M3FN>, %k: tensor<1x1x128x64xf8E4M3FN>, %v: tensor<1x1x128x64xf8E4M3FN>) -> tensor<1x1x128x64xbf16> {
  // expected-error @+1 {{score and acc must be f32 (wgmma accumulates in f32), got score = 'f16', acc = 'f32'}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f8E4M3FN, score = f16, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite> : tensor<1x1x128x64xf8E4M3FN>, tensor<1x1x128x64xf8E4M3FN>, tensor<1x1x128x64xf8E4M3FN> -> tensor<1x1x128x64xbf16>
  return %o : tensor<1x1x128x64xbf16>
}

// -----

func.func @head_dim_96(%q: tensor<1x1x128x96xf8E4M3FN>, %k: tensor<1x1x128x96xf8E4M3FN>, %v: tensor<1x1x128x96xf8E4M3FN>) -> tensor<1x1x128x96xbf16> {
  // expected-error @+1 {{head dim must be 64, 128 or 256, got 96}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite> : tensor<1x1x128x96xf8E4M3FN>, tensor<1x1x128x96xf8E4M3FN>, tensor<1x1x128x96xf8E4M3FN> -> tensor<1x1x128x96xbf16>
  return %o : tensor<1x1x128x96xbf16>
}

// -----

func.func @pasa(%q: tensor<1x1x128x64xf8E4M3FN>, %k: tensor<1x1x128x64xf8E4M3FN>, %v: tensor<1x1x128x64xf8E4M3FN>) -> tensor<1x1x128x64xbf16> {
  // expected-error @+1 {{the PASA softmax shifts K tiles in shared memory, which the kernel does not do yet (CPU only)}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite> softmax = pasa : tensor<1x1x128x64xf8E4M3FN>, tensor<1x1x128x64xf8E4M3FN>, tensor<1x1x128x64xf8E4M3FN> -> tensor<1x1x128x64xbf16>
  return %o : tensor<1x1x128x64xbf16>
}

// -----

func.func @tile_q(%q: tensor<1x1x128x64xf8E4M3FN>, %k: tensor<1x1x128x64xf8E4M3FN>, %v: tensor<1x1x128x64xf8E4M3FN>) -> tensor<1x1x128x64xbf16> {
  // expected-error @+1 {{tile-q must be 64 (one warpgroup's wgmma M), got 128}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite> tiles = [128, 64] : tensor<1x1x128x64xf8E4M3FN>, tensor<1x1x128x64xf8E4M3FN>, tensor<1x1x128x64xf8E4M3FN> -> tensor<1x1x128x64xbf16>
  return %o : tensor<1x1x128x64xbf16>
}

// -----

func.func @tile_kv(%q: tensor<1x1x128x64xf8E4M3FN>, %k: tensor<1x1x128x64xf8E4M3FN>, %v: tensor<1x1x128x64xf8E4M3FN>) -> tensor<1x1x128x64xbf16> {
  // expected-error @+1 {{tile-kv must be 64 or 128, got 32}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite> tiles = [64, 32] : tensor<1x1x128x64xf8E4M3FN>, tensor<1x1x128x64xf8E4M3FN>, tensor<1x1x128x64xf8E4M3FN> -> tensor<1x1x128x64xbf16>
  return %o : tensor<1x1x128x64xbf16>
}

// -----

func.func @d256_tile_kv_128(%q: tensor<1x1x128x256xf8E4M3FN>, %k: tensor<1x1x128x256xf8E4M3FN>, %v: tensor<1x1x128x256xf8E4M3FN>) -> tensor<1x1x128x256xbf16> {
  // expected-error @+1 {{tile-kv must be 64 for head dim 256 (S, P and O must fit a consumer's 232 registers), got 128}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite> tiles = [64, 128] : tensor<1x1x128x256xf8E4M3FN>, tensor<1x1x128x256xf8E4M3FN>, tensor<1x1x128x256xf8E4M3FN> -> tensor<1x1x128x256xbf16>
  return %o : tensor<1x1x128x256xbf16>
}

// -----

func.func @short(%q: tensor<1x1x32x64xf8E4M3FN>, %k: tensor<1x1x128x64xf8E4M3FN>, %v: tensor<1x1x128x64xf8E4M3FN>) -> tensor<1x1x32x64xbf16> {
  // expected-error @+1 {{needs at least 64 queries and tile-kv (64) keys, got Nq = 32, Nk = 128 (pad, or run it on the CPU)}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite> : tensor<1x1x32x64xf8E4M3FN>, tensor<1x1x128x64xf8E4M3FN>, tensor<1x1x128x64xf8E4M3FN> -> tensor<1x1x32x64xbf16>
  return %o : tensor<1x1x32x64xbf16>
}
