// RUN: lpattn-opt %s --split-input-file --verify-diagnostics

// Layout Q [B, Hq, Nq, D], K [B, Hkv, Nk, D], V [B, Hkv, Nk, Dv]: each
// mismatch gets its own diagnostic naming both sides.

func.func @batch_q_k(%q: tensor<2x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{batch size B mismatch: query [B, Hq, Nq, D] has 2 but key [B, Hkv, Nk, D] has 1}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<2x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

func.func @batch_k_v(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<3x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{batch size B mismatch: key has 1 but value has 3}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<3x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

func.func @head_dim(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x32xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{head dimension D mismatch: query has 16 but key has 32}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<1x4x8x16xf32>, tensor<1x2x8x32xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

func.func @key_length(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x9x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{key sequence length Nk mismatch: key has 8 but value has 9}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x9x16xf32> -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

func.func @kv_heads(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{KV head count Hkv mismatch: key has 2 but value has 4}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x4x8x16xf32> -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

// The result is [B, Hq, Nq, Dv]: Dv comes from V, not from Q.
func.func @result_dv(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x32xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{value head dimension Dv mismatch: result has 16 but value has 32}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x32xf32> -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

func.func @result_heads(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{query head count Hq mismatch: result has 2 but query has 4}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x2x8x16xf32>
  return %o : tensor<1x2x8x16xf32>
}

// -----

func.func @result_rows(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x7x16xf32> {
  // expected-error @+1 {{query sequence length Nq mismatch: result has 7 but query has 8}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x7x16xf32>
  return %o : tensor<1x4x7x16xf32>
}

// -----

// An empty key sequence has no softmax: rejected, not a division by zero.
func.func @zero_keys(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x0x16xf32>, %v: tensor<1x2x0x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{key has a zero-sized dimension ('tensor<1x2x0x16xf32>'); every dimension must be positive}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<1x4x8x16xf32>, tensor<1x2x0x16xf32>, tensor<1x2x0x16xf32> -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

func.func @rank3(%q: tensor<4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{operand #0 must be 4D tensor of floating-point values, but got 'tensor<4x8x16xf32>'}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> scale = 0.25 : tensor<4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

func.func @integer_keys(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xi8>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{operand #1 must be 4D tensor of floating-point values, but got 'tensor<1x2x8x16xi8>'}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<1x4x8x16xf32>, tensor<1x2x8x16xi8>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

// Descales: all three f32 scalars (per tensor) or all three [B, Hkv] f32
// tensors (per batch and KV head, B of the query, Hkv of the key).

func.func @descales_mixed(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x8x16xf32>, %v: tensor<2x2x8x16xf32>, %d: f32, %t: tensor<2x2xf32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{descales must be all f32 scalars (per tensor) or all tensor<B x Hkv x f32> (per batch and KV head), got f32, tensor<2x2xf32>, f32}}
  %o = lpattn.attention %q, %k, %v descale(%d, %t, %d : f32, tensor<2x2xf32>, f32) policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<2x4x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32> -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

func.func @descale_batch(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x8x16xf32>, %v: tensor<2x2x8x16xf32>, %t: tensor<1x2xf32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{per-(batch, KV head) descale q_ds has type 'tensor<1x2xf32>', but it must be [B, Hkv] = [2, 2] (B of the query, Hkv of the key), i.e. tensor<2x2xf32>}}
  %o = lpattn.attention %q, %k, %v descale(%t, %t, %t : tensor<1x2xf32>) policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<2x4x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32> -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// Per KV head, not per query head: [B, Hq] is refused (here for k_ds).
func.func @descale_query_heads(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x8x16xf32>, %v: tensor<2x2x8x16xf32>, %t: tensor<2x2xf32>, %h: tensor<2x4xf32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{per-(batch, KV head) descale k_ds has type 'tensor<2x4xf32>', but it must be [B, Hkv] = [2, 2] (B of the query, Hkv of the key), i.e. tensor<2x2xf32>}}
  %o = lpattn.attention %q, %k, %v descale(%t, %h, %t : tensor<2x2xf32>, tensor<2x4xf32>, tensor<2x2xf32>) policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<2x4x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32> -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

func.func @descale_rank(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x8x16xf32>, %v: tensor<2x2x8x16xf32>, %t: tensor<2x2xf32>, %r: tensor<2x2x1xf32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{per-(batch, KV head) descale v_ds has type 'tensor<2x2x1xf32>', but it must be [B, Hkv] = [2, 2] (B of the query, Hkv of the key), i.e. tensor<2x2xf32>}}
  %o = lpattn.attention %q, %k, %v descale(%t, %t, %r : tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2x1xf32>) policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<2x4x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32> -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

func.func @descale_tensor_not_f32(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x8x16xf32>, %v: tensor<2x2x8x16xf32>, %t: tensor<2x2xf16>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{operand #3 must be variadic of f32 or a [B, Hkv] tensor of f32, but got 'tensor<2x2xf16>'}}
  %o = lpattn.attention %q, %k, %v descale(%t, %t, %t : tensor<2x2xf16>) policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<2x4x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32> -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}
