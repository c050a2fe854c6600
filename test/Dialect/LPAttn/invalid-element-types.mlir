// RUN: lpattn-opt %s --split-input-file --verify-diagnostics

// Operand and result element types must be the ones the policy declares:
// the op never converts its inputs implicitly.

func.func @query_type(%q: tensor<1x1x8x16xf16>, %k: tensor<1x1x8x16xf8E4M3FN>, %v: tensor<1x1x8x16xf8E4M3FN>) -> tensor<1x1x8x16xbf16> {
  // expected-error @+1 {{query element type 'f16' disagrees with the policy's qk = 'f8E4M3FN'}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite> : tensor<1x1x8x16xf16>, tensor<1x1x8x16xf8E4M3FN>, tensor<1x1x8x16xf8E4M3FN> -> tensor<1x1x8x16xbf16>
  return %o : tensor<1x1x8x16xbf16>
}

// -----

func.func @key_type(%q: tensor<1x1x8x16xf8E4M3FN>, %k: tensor<1x1x8x16xf8E5M2>, %v: tensor<1x1x8x16xf8E4M3FN>) -> tensor<1x1x8x16xbf16> {
  // expected-error @+1 {{key element type 'f8E5M2' disagrees with the policy's qk = 'f8E4M3FN'}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite> : tensor<1x1x8x16xf8E4M3FN>, tensor<1x1x8x16xf8E5M2>, tensor<1x1x8x16xf8E4M3FN> -> tensor<1x1x8x16xbf16>
  return %o : tensor<1x1x8x16xbf16>
}

// -----

func.func @value_type(%q: tensor<1x1x8x16xf8E4M3FN>, %k: tensor<1x1x8x16xf8E4M3FN>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xbf16> {
  // expected-error @+1 {{value element type 'f32' disagrees with the policy's v = 'f8E4M3FN'}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite> : tensor<1x1x8x16xf8E4M3FN>, tensor<1x1x8x16xf8E4M3FN>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xbf16>
  return %o : tensor<1x1x8x16xbf16>
}

// -----

func.func @result_type(%q: tensor<1x1x8x16xf8E4M3FN>, %k: tensor<1x1x8x16xf8E4M3FN>, %v: tensor<1x1x8x16xf8E4M3FN>) -> tensor<1x1x8x16xf16> {
  // expected-error @+1 {{result element type 'f16' disagrees with the policy's out = 'bf16'}}
  %o = lpattn.attention %q, %k, %v policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite> : tensor<1x1x8x16xf8E4M3FN>, tensor<1x1x8x16xf8E4M3FN>, tensor<1x1x8x16xf8E4M3FN> -> tensor<1x1x8x16xf16>
  return %o : tensor<1x1x8x16xf16>
}
