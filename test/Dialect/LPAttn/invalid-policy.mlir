// RUN: lpattn-opt %s --split-input-file --verify-diagnostics

// The precision policy accepts only the formats lpattn computes in, and only
// combinations some hardware path supports.

func.func @integer_type(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{precision 'qk' has unsupported type 'i8'; expected f32, f16, bf16, f8E4M3FN or f8E5M2}}
  %o = lpattn.attention %q, %k, %v policy = <qk = i8, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

// The FNUZ variant has another NaN and bias; it is not the OCP format.
func.func @fnuz(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{precision 'p' has unsupported type 'f8E4M3FNUZ'}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f8E4M3FNUZ, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @f64_out(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{precision 'out' has unsupported type 'f64'}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f64, overflow = satfinite> : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @fp8_accumulator(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{unsupported precision combination: acc = f8E4M3FN is not supported: score, acc and out must be f32, f16 or bf16}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f8E4M3FN, out = f32, overflow = satfinite> : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @f32_product_in_f16(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{unsupported precision combination: qk = f32 needs score = f32 (got f16)}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f16, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @f16_product_in_bf16(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{unsupported precision combination: qk = f16 accumulates in f32 or f16, not bf16}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f16, score = bf16, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @mixed_16bit_pv(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{unsupported precision combination: the P V product cannot mix p = bf16 and v = f16}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = bf16, v = f16, acc = f32, out = f32, overflow = satfinite> : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @narrow_acc(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{unsupported precision combination: acc = f16 must be f32 or the type of p or v (p = f8E4M3FN, v = f8E4M3FN)}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f16, out = f32, overflow = satfinite> : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

// Every field is required: precision is never implied.
func.func @missing_field(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{precision policy is missing 'overflow': every precision of an attention is explicit}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32> : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @unknown_overflow(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{expected overflow 'satfinite' or 'nonsat', got 'wrap'}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = wrap> : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @unknown_field(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{unknown precision field 'kv'; expected qk, score, p, v, acc, out or overflow}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, kv = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @duplicate_field(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{precision field 'p' is given twice}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

// A tensor is no element type.
func.func @tensor_in_policy(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{precision 'v' has unsupported type 'tensor<4xf32>'}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = tensor<4xf32>, acc = f32, out = f32, overflow = satfinite> : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}
