// RUN: lpattn-opt %s --lpattn-raise-attention --split-input-file | FileCheck %s

// torch-mlir's form: 3-D batch_matmul over [B*H, N, D], K transposed by a
// linalg.transpose, the scale multiplied on the f16 scores, the softmax in
// f32 between extf and truncf. [B*H, N, D] is raised as B = 1, H = B*H.

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @bmm_softmax_f16(
// CHECK-SAME: %[[Q:[^:]+]]: tensor<4x16x8xf16>, %[[K:[^:]+]]: tensor<4x16x8xf16>, %[[V:[^:]+]]: tensor<4x16x8xf16>
// CHECK-NOT: linalg.
// CHECK-DAG: %[[Q4:.*]] = tensor.expand_shape %[[Q]] {{\[}}[0, 1], [2], [3]] output_shape [1, 4, 16, 8]
// CHECK-DAG: %[[K4:.*]] = tensor.expand_shape %[[K]] {{\[}}[0, 1], [2], [3]]
// CHECK-DAG: %[[V4:.*]] = tensor.expand_shape %[[V]] {{\[}}[0, 1], [2], [3]]
// CHECK: %[[O:.*]] = lpattn.attention %[[Q4]], %[[K4]], %[[V4]] policy = <qk = f16, score = f16, p = f16, v = f16, acc = f16, out = f16, overflow = nonsat> scale = 0.353515625 {{.*}} causal = false : {{.*}} -> tensor<1x4x16x8xf16>
// CHECK-NOT: linalg.
// CHECK: %[[R:.*]] = tensor.collapse_shape %[[O]] {{\[}}[0, 1], [2], [3]] : tensor<1x4x16x8xf16> into tensor<4x16x8xf16>
// CHECK: return %[[R]]
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

// -----

// Einsum-style generics on [B, N, H, D] operands (K read through its map, not
// transposed), f16 inputs summed in f32, the scale as a divide, an additive
// [Nq, Nk] mask broadcast over B and H, the decomposed softmax, P rounded to
// f16 before P V, the result in [B, N, H, Dv].

#q_bnhd = affine_map<(b, h, i, j, d) -> (b, i, h, d)>
#k_bnhd = affine_map<(b, h, i, j, d) -> (b, j, h, d)>
#s_bhij = affine_map<(b, h, i, j, d) -> (b, h, i, j)>
#id4 = affine_map<(b, h, i, j) -> (b, h, i, j)>
#row = affine_map<(b, h, i, j) -> (b, h, i)>
#mask_ij = affine_map<(b, h, i, j) -> (i, j)>
#p_bhij = affine_map<(b, h, i, e, j) -> (b, h, i, j)>
#v_bnhd = affine_map<(b, h, i, e, j) -> (b, j, h, e)>
#o_bnhd = affine_map<(b, h, i, e, j) -> (b, i, h, e)>
// CHECK-LABEL: func.func @einsum_bnhd_mask(
// CHECK-SAME: %[[Q:[^:]+]]: tensor<2x16x2x8xf16>, %[[K:[^:]+]]: tensor<2x16x2x8xf16>, %[[V:[^:]+]]: tensor<2x16x2x8xf16>, %[[M:[^:]+]]: tensor<16x16xf32>
// CHECK-NOT: linalg.generic
// CHECK: %[[QT:.*]] = linalg.transpose ins(%[[Q]] : tensor<2x16x2x8xf16>) outs({{.*}} : tensor<2x2x16x8xf16>) permutation = [0, 2, 1, 3]
// CHECK: %[[KT:.*]] = linalg.transpose ins(%[[K]] {{.*}} permutation = [0, 2, 1, 3]
// CHECK: %[[VT:.*]] = linalg.transpose ins(%[[V]] {{.*}} permutation = [0, 2, 1, 3]
// CHECK: %[[M4:.*]] = tensor.expand_shape %[[M]] {{\[}}[0, 1, 2], [3]] output_shape [1, 1, 16, 16]
// CHECK: %[[O:.*]] = lpattn.attention %[[QT]], %[[KT]], %[[VT]] mask(%[[M4]]) policy = <qk = f16, score = f32, p = f16, v = f16, acc = f32, out = f32, overflow = nonsat> scale = 2.500000e-01 {{.*}} causal = false
// CHECK: %[[R:.*]] = linalg.transpose ins(%[[O]] : tensor<2x2x16x8xf32>) outs({{.*}} : tensor<2x16x2x8xf32>) permutation = [0, 2, 1, 3]
// CHECK-NOT: linalg.generic
// CHECK: return %[[R]]
func.func @einsum_bnhd_mask(%q: tensor<2x16x2x8xf16>, %k: tensor<2x16x2x8xf16>, %v: tensor<2x16x2x8xf16>, %mask: tensor<16x16xf32>) -> tensor<2x16x2x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %four = arith.constant 4.0 : f32
  %s_init = tensor.empty() : tensor<2x2x16x16xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<2x2x16x16xf32>) -> tensor<2x2x16x16xf32>
  %s = linalg.generic {indexing_maps = [#q_bnhd, #k_bnhd, #s_bhij], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x16x2x8xf16>, tensor<2x16x2x8xf16>) outs(%s_zero : tensor<2x2x16x16xf32>) {
  ^bb0(%a: f16, %b: f16, %acc: f32):
    %a32 = arith.extf %a : f16 to f32
    %b32 = arith.extf %b : f16 to f32
    %m = arith.mulf %a32, %b32 : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2x16x16xf32>
  %scaled = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<2x2x16x16xf32>) outs(%s_init : tensor<2x2x16x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.divf %x, %four : f32
    linalg.yield %y : f32
  } -> tensor<2x2x16x16xf32>
  %masked = linalg.generic {indexing_maps = [#id4, #mask_ij, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scaled, %mask : tensor<2x2x16x16xf32>, tensor<16x16xf32>) outs(%s_init : tensor<2x2x16x16xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<2x2x16x16xf32>
  %r_init = tensor.empty() : tensor<2x2x16xf32>
  %max_init = linalg.fill ins(%ninf : f32) outs(%r_init : tensor<2x2x16xf32>) -> tensor<2x2x16xf32>
  %max = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%masked : tensor<2x2x16x16xf32>) outs(%max_init : tensor<2x2x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.maximumf %x, %o : f32
    linalg.yield %y : f32
  } -> tensor<2x2x16xf32>
  %e = linalg.generic {indexing_maps = [#id4, #row, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%masked, %max : tensor<2x2x16x16xf32>, tensor<2x2x16xf32>) outs(%s_init : tensor<2x2x16x16xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %d = arith.subf %x, %m : f32
    %y = math.exp %d : f32
    linalg.yield %y : f32
  } -> tensor<2x2x16x16xf32>
  %sum_init = linalg.fill ins(%zero : f32) outs(%r_init : tensor<2x2x16xf32>) -> tensor<2x2x16xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%e : tensor<2x2x16x16xf32>) outs(%sum_init : tensor<2x2x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.addf %x, %o : f32
    linalg.yield %y : f32
  } -> tensor<2x2x16xf32>
  %sm = linalg.generic {indexing_maps = [#id4, #row, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%e, %sum : tensor<2x2x16x16xf32>, tensor<2x2x16xf32>) outs(%s_init : tensor<2x2x16x16xf32>) {
  ^bb0(%x: f32, %l: f32, %o: f32):
    %y = arith.divf %x, %l : f32
    linalg.yield %y : f32
  } -> tensor<2x2x16x16xf32>
  %p_init = tensor.empty() : tensor<2x2x16x16xf16>
  %p = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%sm : tensor<2x2x16x16xf32>) outs(%p_init : tensor<2x2x16x16xf16>) {
  ^bb0(%x: f32, %o: f16):
    %y = arith.truncf %x : f32 to f16
    linalg.yield %y : f16
  } -> tensor<2x2x16x16xf16>
  %o_init = tensor.empty() : tensor<2x16x2x8xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<2x16x2x8xf32>) -> tensor<2x16x2x8xf32>
  %o = linalg.generic {indexing_maps = [#p_bhij, #v_bnhd, #o_bnhd], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %v : tensor<2x2x16x16xf16>, tensor<2x16x2x8xf16>) outs(%o_zero : tensor<2x16x2x8xf32>) {
  ^bb0(%a: f16, %b: f16, %acc: f32):
    %a32 = arith.extf %a : f16 to f32
    %b32 = arith.extf %b : f16 to f32
    %m = arith.mulf %a32, %b32 : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x16x2x8xf32>
  return %o : tensor<2x16x2x8xf32>
}

// -----

// GQA as torch's repeat_kv (broadcast + collapse_shape of K and V), the scale
// on Q (a power of two: exact in bf16), a causal select of -inf on
// linalg.index (key > query), QK^T by indexing maps, and P V in the
// transposed form Vᵀ Pᵀ.

#id4 = affine_map<(b, h, i, j) -> (b, h, i, j)>
#q_map = affine_map<(b, h, i, j, d) -> (b, h, i, d)>
#k_map = affine_map<(b, h, i, j, d) -> (b, h, j, d)>
#s_map = affine_map<(b, h, i, j, d) -> (b, h, i, j)>
#vt_map = affine_map<(b, h, e, i, j) -> (b, h, e, j)>
#pt_map = affine_map<(b, h, e, i, j) -> (b, h, j, i)>
#ot_map = affine_map<(b, h, e, i, j) -> (b, h, e, i)>
// CHECK-LABEL: func.func @gqa_causal_vt_pt(
// CHECK-SAME: %[[Q:[^:]+]]: tensor<1x4x8x16xbf16>, %[[K:[^:]+]]: tensor<1x2x8x16xbf16>, %[[V:[^:]+]]: tensor<1x2x8x16xbf16>
// CHECK-NOT: linalg.
// CHECK: %[[O:.*]] = lpattn.attention %[[Q]], %[[K]], %[[V]] policy = <qk = bf16, score = f32, p = bf16, v = bf16, acc = f32, out = f32, overflow = nonsat> scale = 2.500000e-01 {{.*}} causal = true : tensor<1x4x8x16xbf16>, tensor<1x2x8x16xbf16>, tensor<1x2x8x16xbf16> -> tensor<1x4x8x16xf32>
// CHECK: %[[R:.*]] = linalg.transpose ins(%[[O]] : tensor<1x4x8x16xf32>) outs({{.*}} : tensor<1x4x16x8xf32>) permutation = [0, 1, 3, 2]
// CHECK-NOT: linalg.
// CHECK-NOT: tensor.collapse_shape
// CHECK: return %[[R]]
func.func @gqa_causal_vt_pt(%q: tensor<1x4x8x16xbf16>, %k: tensor<1x2x8x16xbf16>, %v: tensor<1x2x8x16xbf16>) -> tensor<1x4x16x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %quarter = arith.constant 0.25 : bf16
  %q_init = tensor.empty() : tensor<1x4x8x16xbf16>
  %qs = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%q : tensor<1x4x8x16xbf16>) outs(%q_init : tensor<1x4x8x16xbf16>) {
  ^bb0(%x: bf16, %o: bf16):
    %y = arith.mulf %x, %quarter : bf16
    linalg.yield %y : bf16
  } -> tensor<1x4x8x16xbf16>
  %rep_init = tensor.empty() : tensor<1x2x2x8x16xbf16>
  %k5 = linalg.broadcast ins(%k : tensor<1x2x8x16xbf16>) outs(%rep_init : tensor<1x2x2x8x16xbf16>) dimensions = [2]
  %kr = tensor.collapse_shape %k5 [[0], [1, 2], [3], [4]] : tensor<1x2x2x8x16xbf16> into tensor<1x4x8x16xbf16>
  %v5 = linalg.broadcast ins(%v : tensor<1x2x8x16xbf16>) outs(%rep_init : tensor<1x2x2x8x16xbf16>) dimensions = [2]
  %vr = tensor.collapse_shape %v5 [[0], [1, 2], [3], [4]] : tensor<1x2x2x8x16xbf16> into tensor<1x4x8x16xbf16>
  %s_init = tensor.empty() : tensor<1x4x8x8xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %s = linalg.generic {indexing_maps = [#q_map, #k_map, #s_map], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%qs, %kr : tensor<1x4x8x16xbf16>, tensor<1x4x8x16xbf16>) outs(%s_zero : tensor<1x4x8x8xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %a32 = arith.extf %a : bf16 to f32
    %b32 = arith.extf %b : bf16 to f32
    %m = arith.mulf %a32, %b32 : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x4x8x8xf32>
  %causal = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<1x4x8x8xf32>) outs(%s_init : tensor<1x4x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %future = arith.cmpi ugt, %j, %i : index
    %y = arith.select %future, %ninf, %x : f32
    linalg.yield %y : f32
  } -> tensor<1x4x8x8xf32>
  %sm = linalg.softmax dimension(3) ins(%causal : tensor<1x4x8x8xf32>) outs(%s_init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %p_init = tensor.empty() : tensor<1x4x8x8xbf16>
  %p = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%sm : tensor<1x4x8x8xf32>) outs(%p_init : tensor<1x4x8x8xbf16>) {
  ^bb0(%x: f32, %o: bf16):
    %y = arith.truncf %x : f32 to bf16
    linalg.yield %y : bf16
  } -> tensor<1x4x8x8xbf16>
  %pt_init = tensor.empty() : tensor<1x4x8x8xbf16>
  %pt = linalg.transpose ins(%p : tensor<1x4x8x8xbf16>) outs(%pt_init : tensor<1x4x8x8xbf16>) permutation = [0, 1, 3, 2]
  %vt_init = tensor.empty() : tensor<1x4x16x8xbf16>
  %vt = linalg.transpose ins(%vr : tensor<1x4x8x16xbf16>) outs(%vt_init : tensor<1x4x16x8xbf16>) permutation = [0, 1, 3, 2]
  %ot_init = tensor.empty() : tensor<1x4x16x8xf32>
  %ot_zero = linalg.fill ins(%zero : f32) outs(%ot_init : tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32>
  %ot = linalg.generic {indexing_maps = [#vt_map, #pt_map, #ot_map], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%vt, %pt : tensor<1x4x16x8xbf16>, tensor<1x4x8x8xbf16>) outs(%ot_zero : tensor<1x4x16x8xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %a32 = arith.extf %a : bf16 to f32
    %b32 = arith.extf %b : bf16 to f32
    %m = arith.mulf %a32, %b32 : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x4x16x8xf32>
  return %ot : tensor<1x4x16x8xf32>
}

// -----

// One head in f32: linalg.matmul with indexing maps reading K as [Nk, D],
// Nq = 4 < Nk = 8 and a bottom-right causal mask (key <= query + 4) kept by
// the select's true side.

#mq = affine_map<(i, j, d) -> (i, d)>
#mk = affine_map<(i, j, d) -> (j, d)>
#ms = affine_map<(i, j, d) -> (i, j)>
#id2 = affine_map<(i, j) -> (i, j)>
// CHECK-LABEL: func.func @matmul_bottom_right_causal(
// CHECK-NOT: linalg.
// CHECK: lpattn.attention {{.*}} policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = nonsat> scale = 2.500000e-01 {{.*}} causal = true : tensor<1x1x4x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x4x16xf32>
// CHECK: tensor.collapse_shape {{.*}} {{\[}}[0, 1, 2], [3]] : tensor<1x1x4x16xf32> into tensor<4x16xf32>
// CHECK-NOT: linalg.
func.func @matmul_bottom_right_causal(%q: tensor<4x16xf32>, %k: tensor<8x16xf32>, %v: tensor<8x16xf32>) -> tensor<4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %lowest = arith.constant -3.40282347E+38 : f32
  %c = arith.constant 0.25 : f32
  %c4 = arith.constant 4 : index
  %s_init = tensor.empty() : tensor<4x8xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<4x8xf32>) -> tensor<4x8xf32>
  %s = linalg.matmul indexing_maps = [#mq, #mk, #ms] ins(%q, %k : tensor<4x16xf32>, tensor<8x16xf32>) outs(%s_zero : tensor<4x8xf32>) -> tensor<4x8xf32>
  %masked = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%s : tensor<4x8xf32>) outs(%s_init : tensor<4x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %shifted = arith.addi %i, %c4 : index
    %visible = arith.cmpi sle, %j, %shifted : index
    %scaled = arith.mulf %x, %c : f32
    %y = arith.select %visible, %scaled, %lowest : f32
    linalg.yield %y : f32
  } -> tensor<4x8xf32>
  %sm = linalg.softmax dimension(1) ins(%masked : tensor<4x8xf32>) outs(%s_init : tensor<4x8xf32>) -> tensor<4x8xf32>
  %o_init = tensor.empty() : tensor<4x16xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<4x16xf32>) -> tensor<4x16xf32>
  %o = linalg.matmul ins(%sm, %v : tensor<4x8xf32>, tensor<8x16xf32>) outs(%o_zero : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %o : tensor<4x16xf32>
}

// -----

// K passed pre-transposed ([B*H, D, Nk]), scale, f16 mask and a causal
// select fused into one generic (query >= key: top-left, equal to the op's
// bottom-right since Nq = Nk), P kept in f32 for P V on f32 V.

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @pre_transposed_k_fused(
// CHECK-SAME: %[[Q:[^:]+]]: tensor<2x8x4xf32>, %[[KT:[^:]+]]: tensor<2x4x8xf32>, %[[V:[^:]+]]: tensor<2x8x4xf32>, %[[M:[^:]+]]: tensor<2x8x8xf16>
// CHECK: %[[K:.*]] = linalg.transpose ins(%[[KT]] : tensor<2x4x8xf32>) outs({{.*}} : tensor<2x8x4xf32>) permutation = [0, 2, 1]
// CHECK: %[[K4:.*]] = tensor.expand_shape %[[K]]
// CHECK: %[[M4:.*]] = tensor.expand_shape %[[M]] {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 8, 8]
// CHECK: %[[MF:.*]] = arith.extf %[[M4]] : tensor<1x2x8x8xf16> to tensor<1x2x8x8xf32>
// CHECK: lpattn.attention {{.*}}, %[[K4]], {{.*}} mask(%[[MF]]) policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = nonsat> scale = 1.250000e-01 {{.*}} causal = true
// CHECK-NOT: linalg.softmax
func.func @pre_transposed_k_fused(%q: tensor<2x8x4xf32>, %kt: tensor<2x4x8xf32>, %v: tensor<2x8x4xf32>, %mask: tensor<2x8x8xf16>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.125 : f32
  %s_init = tensor.empty() : tensor<2x8x8xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x8x4xf32>, tensor<2x4x8xf32>) outs(%s_zero : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %x = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<2x8x8xf32>, tensor<2x8x8xf16>) outs(%s_init : tensor<2x8x8xf32>) {
  ^bb0(%in: f32, %m: f16, %out: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %m32 = arith.extf %m : f16 to f32
    %scaled = arith.mulf %in, %c : f32
    %masked = arith.addf %scaled, %m32 : f32
    %visible = arith.cmpi sge, %i, %j : index
    %y = arith.select %visible, %masked, %ninf : f32
    linalg.yield %y : f32
  } -> tensor<2x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%x : tensor<2x8x8xf32>) outs(%s_init : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %o_init = tensor.empty() : tensor<2x8x4xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%o_zero : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// GQA as torch-mlir writes repeat_kv: tensor.expand_shape to [B, Hkv, 1, N, D],
// a copying generic that reads the unit dim at 0, collapse_shape (Hkv, G).
// V as linalg.broadcast; no scale (1). Both become KV heads of the op.

#id4 = affine_map<(b, h, i, j) -> (b, h, i, j)>
#rep_src = affine_map<(b, h, g, n, d) -> (b, h, 0, n, d)>
#rep_dst = affine_map<(b, h, g, n, d) -> (b, h, g, n, d)>
#q_map = affine_map<(b, h, i, j, d) -> (b, h, i, d)>
#k_map = affine_map<(b, h, i, j, d) -> (b, h, j, d)>
#s_map = affine_map<(b, h, i, j, d) -> (b, h, i, j)>
#p_map = affine_map<(b, h, i, e, j) -> (b, h, i, j)>
#v_map = affine_map<(b, h, i, e, j) -> (b, h, j, e)>
#o_map = affine_map<(b, h, i, e, j) -> (b, h, i, e)>
// CHECK-LABEL: func.func @gqa_expand_generic(
// CHECK-SAME: %[[Q:[^:]+]]: tensor<1x4x8x16xf16>, %[[K:[^:]+]]: tensor<1x2x8x16xf16>, %[[V:[^:]+]]: tensor<1x2x8x16xf16>
// CHECK-NOT: linalg.
// CHECK: lpattn.attention %[[Q]], %[[K]], %[[V]] policy = <qk = f16, score = f16, p = f16, v = f16, acc = f16, out = f16, overflow = nonsat> scale = 1.000000e+00 {{.*}} : tensor<1x4x8x16xf16>, tensor<1x2x8x16xf16>, tensor<1x2x8x16xf16> -> tensor<1x4x8x16xf16>
// CHECK-NOT: tensor.expand_shape
// CHECK-NOT: linalg.
func.func @gqa_expand_generic(%q: tensor<1x4x8x16xf16>, %k: tensor<1x2x8x16xf16>, %v: tensor<1x2x8x16xf16>) -> tensor<1x4x8x16xf16> {
  %zero = arith.constant 0.0 : f16
  %k1 = tensor.expand_shape %k [[0], [1, 2], [3], [4]] output_shape [1, 2, 1, 8, 16] : tensor<1x2x8x16xf16> into tensor<1x2x1x8x16xf16>
  %rep_init = tensor.empty() : tensor<1x2x2x8x16xf16>
  %k5 = linalg.generic {indexing_maps = [#rep_src, #rep_dst], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%k1 : tensor<1x2x1x8x16xf16>) outs(%rep_init : tensor<1x2x2x8x16xf16>) {
  ^bb0(%x: f16, %o: f16):
    linalg.yield %x : f16
  } -> tensor<1x2x2x8x16xf16>
  %kr = tensor.collapse_shape %k5 [[0], [1, 2], [3], [4]] : tensor<1x2x2x8x16xf16> into tensor<1x4x8x16xf16>
  %v5 = linalg.broadcast ins(%v : tensor<1x2x8x16xf16>) outs(%rep_init : tensor<1x2x2x8x16xf16>) dimensions = [2]
  %vr = tensor.collapse_shape %v5 [[0], [1, 2], [3], [4]] : tensor<1x2x2x8x16xf16> into tensor<1x4x8x16xf16>
  %s_init = tensor.empty() : tensor<1x4x8x8xf16>
  %s_zero = linalg.fill ins(%zero : f16) outs(%s_init : tensor<1x4x8x8xf16>) -> tensor<1x4x8x8xf16>
  %s = linalg.generic {indexing_maps = [#q_map, #k_map, #s_map], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kr : tensor<1x4x8x16xf16>, tensor<1x4x8x16xf16>) outs(%s_zero : tensor<1x4x8x8xf16>) {
  ^bb0(%a: f16, %b: f16, %acc: f16):
    %m = arith.mulf %a, %b : f16
    %r = arith.addf %acc, %m : f16
    linalg.yield %r : f16
  } -> tensor<1x4x8x8xf16>
  %p = linalg.softmax dimension(3) ins(%s : tensor<1x4x8x8xf16>) outs(%s_init : tensor<1x4x8x8xf16>) -> tensor<1x4x8x8xf16>
  %o_init = tensor.empty() : tensor<1x4x8x16xf16>
  %o_zero = linalg.fill ins(%zero : f16) outs(%o_init : tensor<1x4x8x16xf16>) -> tensor<1x4x8x16xf16>
  %o = linalg.generic {indexing_maps = [#p_map, #v_map, #o_map], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %vr : tensor<1x4x8x8xf16>, tensor<1x4x8x16xf16>) outs(%o_zero : tensor<1x4x8x16xf16>) {
  ^bb0(%a: f16, %b: f16, %acc: f16):
    %m = arith.mulf %a, %b : f16
    %r = arith.addf %acc, %m : f16
    linalg.yield %r : f16
  } -> tensor<1x4x8x16xf16>
  return %o : tensor<1x4x8x16xf16>
}

// -----


// K repeated as the op's GQA, V head-minor ((G, Hkv): query head h reads KV
// head h % Hkv), which is not: K and V must share Hkv, so the op gets both
// repeated (Hkv = Hq), still the same attention.

#id4 = affine_map<(b, h, i, j) -> (b, h, i, j)>
#rep_src = affine_map<(b, h, g, n, d) -> (b, h, 0, n, d)>
#rep_dst = affine_map<(b, h, g, n, d) -> (b, h, g, n, d)>
#q_map = affine_map<(b, h, i, j, d) -> (b, h, i, d)>
#k_map = affine_map<(b, h, i, j, d) -> (b, h, j, d)>
#s_map = affine_map<(b, h, i, j, d) -> (b, h, i, j)>
#p_map = affine_map<(b, h, i, e, j) -> (b, h, i, j)>
#v_map = affine_map<(b, h, i, e, j) -> (b, h, j, e)>
#o_map = affine_map<(b, h, i, e, j) -> (b, h, i, e)>
// CHECK-LABEL: func.func @gqa_head_minor_value(
// CHECK-SAME: %[[Q:[^:]+]]: tensor<1x4x8x16xf16>
// CHECK: %[[KR:.*]] = tensor.collapse_shape
// CHECK: %[[VB:.*]] = linalg.broadcast {{.*}} dimensions = [1]
// CHECK: %[[VR:.*]] = tensor.collapse_shape %[[VB]]
// CHECK: lpattn.attention %[[Q]], %[[KR]], %[[VR]] policy = <qk = f16, score = f16, p = f16, v = f16, acc = f16, out = f16, overflow = nonsat> scale = 1.000000e+00 {{.*}} : tensor<1x4x8x16xf16>, tensor<1x4x8x16xf16>, tensor<1x4x8x16xf16> -> tensor<1x4x8x16xf16>
func.func @gqa_head_minor_value(%q: tensor<1x4x8x16xf16>, %k: tensor<1x2x8x16xf16>, %v: tensor<1x2x8x16xf16>) -> tensor<1x4x8x16xf16> {
  %zero = arith.constant 0.0 : f16
  %k1 = tensor.expand_shape %k [[0], [1, 2], [3], [4]] output_shape [1, 2, 1, 8, 16] : tensor<1x2x8x16xf16> into tensor<1x2x1x8x16xf16>
  %rep_init = tensor.empty() : tensor<1x2x2x8x16xf16>
  %k5 = linalg.generic {indexing_maps = [#rep_src, #rep_dst], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%k1 : tensor<1x2x1x8x16xf16>) outs(%rep_init : tensor<1x2x2x8x16xf16>) {
  ^bb0(%x: f16, %o: f16):
    linalg.yield %x : f16
  } -> tensor<1x2x2x8x16xf16>
  %kr = tensor.collapse_shape %k5 [[0], [1, 2], [3], [4]] : tensor<1x2x2x8x16xf16> into tensor<1x4x8x16xf16>
  %v5 = linalg.broadcast ins(%v : tensor<1x2x8x16xf16>) outs(%rep_init : tensor<1x2x2x8x16xf16>) dimensions = [1]
  %vr = tensor.collapse_shape %v5 [[0], [1, 2], [3], [4]] : tensor<1x2x2x8x16xf16> into tensor<1x4x8x16xf16>
  %s_init = tensor.empty() : tensor<1x4x8x8xf16>
  %s_zero = linalg.fill ins(%zero : f16) outs(%s_init : tensor<1x4x8x8xf16>) -> tensor<1x4x8x8xf16>
  %s = linalg.generic {indexing_maps = [#q_map, #k_map, #s_map], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kr : tensor<1x4x8x16xf16>, tensor<1x4x8x16xf16>) outs(%s_zero : tensor<1x4x8x8xf16>) {
  ^bb0(%a: f16, %b: f16, %acc: f16):
    %m = arith.mulf %a, %b : f16
    %r = arith.addf %acc, %m : f16
    linalg.yield %r : f16
  } -> tensor<1x4x8x8xf16>
  %p = linalg.softmax dimension(3) ins(%s : tensor<1x4x8x8xf16>) outs(%s_init : tensor<1x4x8x8xf16>) -> tensor<1x4x8x8xf16>
  %o_init = tensor.empty() : tensor<1x4x8x16xf16>
  %o_zero = linalg.fill ins(%zero : f16) outs(%o_init : tensor<1x4x8x16xf16>) -> tensor<1x4x8x16xf16>
  %o = linalg.generic {indexing_maps = [#p_map, #v_map, #o_map], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %vr : tensor<1x4x8x8xf16>, tensor<1x4x8x16xf16>) outs(%o_zero : tensor<1x4x8x16xf16>) {
  ^bb0(%a: f16, %b: f16, %acc: f16):
    %m = arith.mulf %a, %b : f16
    %r = arith.addf %acc, %m : f16
    linalg.yield %r : f16
  } -> tensor<1x4x8x16xf16>
  return %o : tensor<1x4x8x16xf16>
}

// -----

// StableHLO's causal mask lowered to linalg: two iota tensors (i64), their
// comparison as an i1 tensor, and a select generic reading it; with
// Nq = Nk = 8 the top-left mask (row >= col) is the op's causal.

#id2 = affine_map<(i, j) -> (i, j)>
#id3 = affine_map<(b, i, j) -> (b, i, j)>
#ij = affine_map<(b, i, j) -> (i, j)>
// CHECK-LABEL: func.func @iota_causal(
// CHECK-NOT: linalg.generic
// CHECK: lpattn.attention {{.*}} policy = <qk = f16, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = nonsat> scale = 1.000000e+00 {{.*}} causal = true
// CHECK-NOT: linalg.generic
func.func @iota_causal(%q: tensor<2x8x4xf16>, %k: tensor<2x8x4xf16>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %idx_init = tensor.empty() : tensor<8x8xi64>
  %rows = linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]} outs(%idx_init : tensor<8x8xi64>) {
  ^bb0(%o: i64):
    %i = linalg.index 0 : index
    %i64 = arith.index_cast %i : index to i64
    linalg.yield %i64 : i64
  } -> tensor<8x8xi64>
  %cols = linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]} outs(%idx_init : tensor<8x8xi64>) {
  ^bb0(%o: i64):
    %j = linalg.index 1 : index
    %j64 = arith.index_cast %j : index to i64
    linalg.yield %j64 : i64
  } -> tensor<8x8xi64>
  %cond_init = tensor.empty() : tensor<8x8xi1>
  %visible = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%rows, %cols : tensor<8x8xi64>, tensor<8x8xi64>) outs(%cond_init : tensor<8x8xi1>) {
  ^bb0(%r: i64, %c: i64, %o: i1):
    %ge = arith.cmpi sge, %r, %c : i64
    linalg.yield %ge : i1
  } -> tensor<8x8xi1>
  %s_init = tensor.empty() : tensor<2x8x8xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %kt_init = tensor.empty() : tensor<2x4x8xf16>
  %kt = linalg.transpose ins(%k : tensor<2x8x4xf16>) outs(%kt_init : tensor<2x4x8xf16>) permutation = [0, 2, 1]
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x8x4xf16>, tensor<2x4x8xf16>) outs(%s_zero : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %x = linalg.generic {indexing_maps = [#ij, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%visible, %s : tensor<8x8xi1>, tensor<2x8x8xf32>) outs(%s_init : tensor<2x8x8xf32>) {
  ^bb0(%keep: i1, %in: f32, %out: f32):
    %y = arith.select %keep, %in, %ninf : f32
    linalg.yield %y : f32
  } -> tensor<2x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%x : tensor<2x8x8xf32>) outs(%s_init : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %o_init = tensor.empty() : tensor<2x8x4xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%o_zero : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// Roundings on the way: the f32 scores of f16 inputs rounded to f16 before
// the softmax (score = f16), P rounded to bf16 and widened back to f32 for a
// P V product in f32 (p = bf16: the narrowest type P passed through).

#id3 = affine_map<(b, i, j) -> (b, i, j)>
// CHECK-LABEL: func.func @rounded_scores_and_p(
// CHECK: lpattn.attention {{.*}} policy = <qk = f16, score = f16, p = bf16, v = f32, acc = f32, out = f32, overflow = nonsat> scale = 1.000000e+00
// CHECK-NOT: linalg.softmax
func.func @rounded_scores_and_p(%q: tensor<2x8x4xf16>, %kt: tensor<2x4x8xf16>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %s_init = tensor.empty() : tensor<2x8x8xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x8x4xf16>, tensor<2x4x8xf16>) outs(%s_zero : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s16 = arith.truncf %s : tensor<2x8x8xf32> to tensor<2x8x8xf16>
  %h_init = tensor.empty() : tensor<2x8x8xf16>
  %sm = linalg.softmax dimension(2) ins(%s16 : tensor<2x8x8xf16>) outs(%h_init : tensor<2x8x8xf16>) -> tensor<2x8x8xf16>
  %sm32 = arith.extf %sm : tensor<2x8x8xf16> to tensor<2x8x8xf32>
  %pb = arith.truncf %sm32 : tensor<2x8x8xf32> to tensor<2x8x8xbf16>
  %p = arith.extf %pb : tensor<2x8x8xbf16> to tensor<2x8x8xf32>
  %o_init = tensor.empty() : tensor<2x8x4xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%o_zero : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}
