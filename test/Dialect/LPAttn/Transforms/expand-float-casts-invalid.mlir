// RUN: lpattn-opt %s --lpattn-expand-float-casts -split-input-file -verify-diagnostics

// Tensors must be bufferized and vectorized before the expansion.
func.func @truncf_tensor(%x: tensor<4xf32>) -> tensor<4xf8E4M3FN> {
  // expected-error @+1 {{'lpattn.truncf' op cannot be expanded into integer arithmetic (supported: lpattn.truncf and arith.truncf from f32, arith.extf from FP8, on scalars and vectors; bufferize and vectorize tensors first)}}
  %y = lpattn.truncf %x rne satfinite : tensor<4xf32> to tensor<4xf8E4M3FN>
  return %y : tensor<4xf8E4M3FN>
}

// -----

func.func @extf_tensor(%x: tensor<4xf8E5M2>) -> tensor<4xf32> {
  // expected-error @+1 {{'arith.extf' op cannot be expanded into integer arithmetic}}
  %y = arith.extf %x : tensor<4xf8E5M2> to tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// Only f32 sources: rounding f16 to FP8 directly is not expanded.
func.func @truncf_from_f16(%x: f16) -> f8E4M3FN {
  // expected-error @+1 {{'arith.truncf' op cannot be expanded into integer arithmetic}}
  %y = arith.truncf %x : f16 to f8E4M3FN
  return %y : f8E4M3FN
}
