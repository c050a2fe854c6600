// RUN: lpattn-opt %s --lpattn-raise-attention --split-input-file | FileCheck %s

// torch-mlir's form: 3-D batch_matmul over [B*H, N, D], K transposed by a
// linalg.transpose, the scale multiplied on the f16 scores, the softmax in
// f32 between extf and truncf. [B*H, N, D] is raised as B = 1, H = B*H.

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @bmm_softmax_f16(%q: tensor<4x16x8xf16>, %k: tensor<4x16x8xf16>, %v: tensor<4x16x8xf16>) -> tensor<4x16x8xf16> {
  %zero = arith.constant 0.0 : f16
  %c = arith.constant 0.353515625 : f16
  %kt_init = tensor.empty() : tensor<4x8x16xf16>
  %kt = linalg.transpose ins(%k : tensor<4x16x8xf16>) outs(%kt_init : tensor<4x8x16xf16>) permutation = [0, 2, 1]
  %s_init = tensor.empty() : tensor<4x16x16xf16>
  %s_zero = linalg.fill ins(%zero : f16) outs(%s_init : tensor<4x16x16xf16>) -> tensor<4x16x16xf16>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x16x8xf16>, tensor<4x8x16xf16>) outs(%s_zero : tensor<4x16x16xf16>) -> tensor<4x16x16xf16>
  %scaled = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x16x16xf16>) outs(%s_init : tensor<4x16x16xf16>) {
  ^bb0(%x: f16, %o: f16):
    %y = arith.mulf %x, %c : f16
    linalg.yield %y : f16
  } -> tensor<4x16x16xf16>
  %w_init = tensor.empty() : tensor<4x16x16xf32>
  %wide = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%scaled : tensor<4x16x16xf16>) outs(%w_init : tensor<4x16x16xf32>) {
  ^bb0(%x: f16, %o: f32):
    %y = arith.extf %x : f16 to f32
    linalg.yield %y : f32
  } -> tensor<4x16x16xf32>
  %sm = linalg.softmax dimension(2) ins(%wide : tensor<4x16x16xf32>) outs(%w_init : tensor<4x16x16xf32>) -> tensor<4x16x16xf32>
  %p = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%sm : tensor<4x16x16xf32>) outs(%s_init : tensor<4x16x16xf16>) {
  ^bb0(%x: f32, %o: f16):
    %y = arith.truncf %x : f32 to f16
    linalg.yield %y : f16
  } -> tensor<4x16x16xf16>
  %o_init = tensor.empty() : tensor<4x16x8xf16>
  %o_zero = linalg.fill ins(%zero : f16) outs(%o_init : tensor<4x16x8xf16>) -> tensor<4x16x8xf16>
  %o = linalg.batch_matmul ins(%p, %v : tensor<4x16x16xf16>, tensor<4x16x8xf16>) outs(%o_zero : tensor<4x16x8xf16>) -> tensor<4x16x8xf16>
  return %o : tensor<4x16x8xf16>
}
