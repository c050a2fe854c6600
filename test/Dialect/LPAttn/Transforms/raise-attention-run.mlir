// Raising preserves meaning: the linalg attentions below run as they are
// and after lpattn-raise-attention (through lpattn.attention and its CPU
// lowering) on the same inputs, and their printed outputs must agree.
// REQUIRES: mlir-runner
// RUN: lpattn-opt %s --lpattn-raise-attention | FileCheck %s --check-prefix=RAISED
// RUN: %upstream_mlir_opt %s --transform-preload-library=transform-library-paths=%S/Inputs/decompose-softmax.mlir --transform-interpreter \
// RUN:   | lpattn-opt --lpattn-cpu-pipeline | %mlir_runner > %t.linalg
// RUN: lpattn-opt %s --lpattn-raise-attention --lpattn-cpu-pipeline | %mlir_runner > %t.raised
// RUN: %python %S/Inputs/compare-printed-memrefs.py %t.linalg %t.raised 1e-5 1e-5 5e-3 1e-5 | FileCheck %s
//
// Tolerances (absolute; every output is below 2 in magnitude): attn_a,
// attn_b and attn_d are f32 throughout, and the op's tiled online softmax differs from
// the row softmax only in rounding order: a few f32 ulps (printMemrefF32
// prints 6 digits). attn_c is f16: linalg rounds the Q K^T sum to f16 after
// every multiply-add and the scaled scores again, the op sums in f32 and
// rounds once (score = f16); its outputs are f16 (ulp 2^-10 in [1, 2)), so
// an f16 ulp of a score here and there shows as one or two output ulps:
// 5e-3 is five. Dropping the scale, the mask or the causal flag from the
// raised ops moves the outputs by 0.04 to 1.1 (tried by hand).

// Every attention was raised, with what it states.
// RAISED-LABEL: func.func @attn_a(
// RAISED: lpattn.attention {{.*}} mask({{.*}}) policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = nonsat> scale = 0.333333343 {{.*}} causal = false
// RAISED-NOT: linalg.softmax
// RAISED-LABEL: func.func @attn_b(
// RAISED: lpattn.attention {{.*}} scale = 0.699999988 {{.*}} causal = true : tensor<1x4x4x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>
// RAISED-LABEL: func.func @attn_c(
// RAISED: lpattn.attention {{.*}} policy = <qk = f16, score = f16, p = f16, v = f16, acc = f16, out = f16, overflow = nonsat> scale = 5.000000e-01 {{.*}} causal = false
// RAISED-LABEL: func.func @attn_d(
// RAISED: lpattn.attention {{.*}} scale = 4.000000e-01 {{.*}} causal = true : tensor<1x2x4x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>
// RAISED-LABEL: func.func @main(
// RAISED-NOT: lpattn.attention

// CHECK: memref 0: ok: 64 values
// CHECK: memref 1: ok: 128 values
// CHECK: memref 2: ok: 128 values
// CHECK: memref 3: ok: 64 values

#id4 = affine_map<(b, h, i, j) -> (b, h, i, j)>
#row = affine_map<(b, h, i, j) -> (b, h, i)>
#row_keepdim = affine_map<(b, h, i, j) -> (b, h, i, 0)>

// f32, [B, N, H, D], einsum generics, scale as a divide by 3, an additive
// [Nq, Nk] mask, the decomposed softmax (sub and exp as separate generics,
// the max kept as [B, H, N, 1] as torch's keepdim writes it).
#q_bnhd = affine_map<(b, h, i, j, d) -> (b, i, h, d)>
#k_bnhd = affine_map<(b, h, i, j, d) -> (b, j, h, d)>
#s_bhij = affine_map<(b, h, i, j, d) -> (b, h, i, j)>
#mask_ij = affine_map<(b, h, i, j) -> (i, j)>
#p_bhij = affine_map<(b, h, i, e, j) -> (b, h, i, j)>
#v_bnhd = affine_map<(b, h, i, e, j) -> (b, j, h, e)>
#o_bnhd = affine_map<(b, h, i, e, j) -> (b, i, h, e)>
func.func @attn_a(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %mask: tensor<8x8xf32>) -> tensor<1x8x2x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %three = arith.constant 3.0 : f32
  %s_init = tensor.empty() : tensor<1x2x8x8xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %s = linalg.generic {indexing_maps = [#q_bnhd, #k_bnhd, #s_bhij], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>) outs(%s_zero : tensor<1x2x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8x8xf32>
  %scaled = linalg.generic {indexing_maps = [#id4, #mask_ij, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<1x2x8x8xf32>, tensor<8x8xf32>) outs(%s_init : tensor<1x2x8x8xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %d = arith.divf %x, %three : f32
    %y = arith.addf %d, %m : f32
    linalg.yield %y : f32
  } -> tensor<1x2x8x8xf32>
  %r_init = tensor.empty() : tensor<1x2x8xf32>
  %max_init = linalg.fill ins(%ninf : f32) outs(%r_init : tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
  %max = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%scaled : tensor<1x2x8x8xf32>) outs(%max_init : tensor<1x2x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.maximumf %x, %o : f32
    linalg.yield %y : f32
  } -> tensor<1x2x8xf32>
  %max_keepdim = tensor.expand_shape %max [[0], [1], [2, 3]] output_shape [1, 2, 8, 1] : tensor<1x2x8xf32> into tensor<1x2x8x1xf32>
  %shifted = linalg.generic {indexing_maps = [#id4, #row_keepdim, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scaled, %max_keepdim : tensor<1x2x8x8xf32>, tensor<1x2x8x1xf32>) outs(%s_init : tensor<1x2x8x8xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %y = arith.subf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<1x2x8x8xf32>
  %e = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%shifted : tensor<1x2x8x8xf32>) outs(%s_init : tensor<1x2x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = math.exp %x : f32
    linalg.yield %y : f32
  } -> tensor<1x2x8x8xf32>
  %sum_init = linalg.fill ins(%zero : f32) outs(%r_init : tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%e : tensor<1x2x8x8xf32>) outs(%sum_init : tensor<1x2x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.addf %x, %o : f32
    linalg.yield %y : f32
  } -> tensor<1x2x8xf32>
  %p = linalg.generic {indexing_maps = [#id4, #row, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%e, %sum : tensor<1x2x8x8xf32>, tensor<1x2x8xf32>) outs(%s_init : tensor<1x2x8x8xf32>) {
  ^bb0(%x: f32, %l: f32, %o: f32):
    %y = arith.divf %x, %l : f32
    linalg.yield %y : f32
  } -> tensor<1x2x8x8xf32>
  %o_init = tensor.empty() : tensor<1x8x2x4xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<1x8x2x4xf32>) -> tensor<1x8x2x4xf32>
  %o = linalg.generic {indexing_maps = [#p_bhij, #v_bnhd, #o_bnhd], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %v : tensor<1x2x8x8xf32>, tensor<1x8x2x4xf32>) outs(%o_zero : tensor<1x8x2x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x8x2x4xf32>
  return %o : tensor<1x8x2x4xf32>
}

// f32, GQA (repeat_kv), the scale 0.7 on Q, a bottom-right causal select
// with Nq = 4 < Nk = 8 (key <= query + 4), linalg.softmax, and Vᵀ Pᵀ.
#q_map = affine_map<(b, h, i, j, d) -> (b, h, i, d)>
#k_map = affine_map<(b, h, i, j, d) -> (b, h, j, d)>
#s_map = affine_map<(b, h, i, j, d) -> (b, h, i, j)>
#vt_map = affine_map<(b, h, e, i, j) -> (b, h, e, j)>
#pt_map = affine_map<(b, h, e, i, j) -> (b, h, j, i)>
#ot_map = affine_map<(b, h, e, i, j) -> (b, h, e, i)>
func.func @attn_b(%q: tensor<1x4x4x8xf32>, %k: tensor<1x2x8x8xf32>, %v: tensor<1x2x8x8xf32>) -> tensor<1x4x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.7 : f32
  %c4 = arith.constant 4 : index
  %q_init = tensor.empty() : tensor<1x4x4x8xf32>
  %qs = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%q : tensor<1x4x4x8xf32>) outs(%q_init : tensor<1x4x4x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %c : f32
    linalg.yield %y : f32
  } -> tensor<1x4x4x8xf32>
  %rep_init = tensor.empty() : tensor<1x2x2x8x8xf32>
  %k5 = linalg.broadcast ins(%k : tensor<1x2x8x8xf32>) outs(%rep_init : tensor<1x2x2x8x8xf32>) dimensions = [2]
  %kr = tensor.collapse_shape %k5 [[0], [1, 2], [3], [4]] : tensor<1x2x2x8x8xf32> into tensor<1x4x8x8xf32>
  %v5 = linalg.broadcast ins(%v : tensor<1x2x8x8xf32>) outs(%rep_init : tensor<1x2x2x8x8xf32>) dimensions = [2]
  %vr = tensor.collapse_shape %v5 [[0], [1, 2], [3], [4]] : tensor<1x2x2x8x8xf32> into tensor<1x4x8x8xf32>
  %s_init = tensor.empty() : tensor<1x4x4x8xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  %s = linalg.generic {indexing_maps = [#q_map, #k_map, #s_map], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%qs, %kr : tensor<1x4x4x8xf32>, tensor<1x4x8x8xf32>) outs(%s_zero : tensor<1x4x4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x4x4x8xf32>
  %causal = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<1x4x4x8xf32>) outs(%s_init : tensor<1x4x4x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %last = arith.addi %i, %c4 : index
    %visible = arith.cmpi sle, %j, %last : index
    %y = arith.select %visible, %x, %ninf : f32
    linalg.yield %y : f32
  } -> tensor<1x4x4x8xf32>
  %p = linalg.softmax dimension(3) ins(%causal : tensor<1x4x4x8xf32>) outs(%s_init : tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  %pt_init = tensor.empty() : tensor<1x4x8x4xf32>
  %pt = linalg.transpose ins(%p : tensor<1x4x4x8xf32>) outs(%pt_init : tensor<1x4x8x4xf32>) permutation = [0, 1, 3, 2]
  %vt_init = tensor.empty() : tensor<1x4x8x8xf32>
  %vt = linalg.transpose ins(%vr : tensor<1x4x8x8xf32>) outs(%vt_init : tensor<1x4x8x8xf32>) permutation = [0, 1, 3, 2]
  %ot_init = tensor.empty() : tensor<1x4x8x4xf32>
  %ot_zero = linalg.fill ins(%zero : f32) outs(%ot_init : tensor<1x4x8x4xf32>) -> tensor<1x4x8x4xf32>
  %ot = linalg.generic {indexing_maps = [#vt_map, #pt_map, #ot_map], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%vt, %pt : tensor<1x4x8x8xf32>, tensor<1x4x8x4xf32>) outs(%ot_zero : tensor<1x4x8x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x4x8x4xf32>
  return %ot : tensor<1x4x8x4xf32>
}

// f16, torch-mlir's 3-D batch_matmul with K transposed by linalg.transpose,
// the scale 0.5 on the f16 scores, extf / linalg.softmax / truncf on tensors.
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @attn_c(%q: tensor<2x8x8xf16>, %k: tensor<2x8x8xf16>, %v: tensor<2x8x8xf16>) -> tensor<2x8x8xf16> {
  %zero = arith.constant 0.0 : f16
  %c = arith.constant 0.5 : f16
  %kt_init = tensor.empty() : tensor<2x8x8xf16>
  %kt = linalg.transpose ins(%k : tensor<2x8x8xf16>) outs(%kt_init : tensor<2x8x8xf16>) permutation = [0, 2, 1]
  %s_init = tensor.empty() : tensor<2x8x8xf16>
  %s_zero = linalg.fill ins(%zero : f16) outs(%s_init : tensor<2x8x8xf16>) -> tensor<2x8x8xf16>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x8x8xf16>, tensor<2x8x8xf16>) outs(%s_zero : tensor<2x8x8xf16>) -> tensor<2x8x8xf16>
  %scaled = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x8x8xf16>) outs(%s_init : tensor<2x8x8xf16>) {
  ^bb0(%x: f16, %o: f16):
    %y = arith.mulf %x, %c : f16
    linalg.yield %y : f16
  } -> tensor<2x8x8xf16>
  %wide = arith.extf %scaled : tensor<2x8x8xf16> to tensor<2x8x8xf32>
  %w_init = tensor.empty() : tensor<2x8x8xf32>
  %sm = linalg.softmax dimension(2) ins(%wide : tensor<2x8x8xf32>) outs(%w_init : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %p = arith.truncf %sm : tensor<2x8x8xf32> to tensor<2x8x8xf16>
  %o_init = tensor.empty() : tensor<2x8x8xf16>
  %o_zero = linalg.fill ins(%zero : f16) outs(%o_init : tensor<2x8x8xf16>) -> tensor<2x8x8xf16>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf16>, tensor<2x8x8xf16>) outs(%o_zero : tensor<2x8x8xf16>) -> tensor<2x8x8xf16>
  return %o : tensor<2x8x8xf16>
}

// f32, StableHLO's causal mask: iota tensors, an i1 comparison generic
// (key <= query + 4, bottom-right with Nq = 4 < Nk = 8) and a select
// generic; 3-D batch_matmul with K transposed.
#id2 = affine_map<(i, j) -> (i, j)>
#ij = affine_map<(b, i, j) -> (i, j)>
func.func @attn_d(%q: tensor<2x4x8xf32>, %k: tensor<2x8x8xf32>, %v: tensor<2x8x8xf32>) -> tensor<2x4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.4 : f32
  %four = arith.constant 4 : i64
  %idx_init = tensor.empty() : tensor<4x8xi64>
  %rows = linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]} outs(%idx_init : tensor<4x8xi64>) {
  ^bb0(%o: i64):
    %i = linalg.index 0 : index
    %i64 = arith.index_cast %i : index to i64
    linalg.yield %i64 : i64
  } -> tensor<4x8xi64>
  %cols = linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]} outs(%idx_init : tensor<4x8xi64>) {
  ^bb0(%o: i64):
    %j = linalg.index 1 : index
    %j64 = arith.index_cast %j : index to i64
    linalg.yield %j64 : i64
  } -> tensor<4x8xi64>
  %cond_init = tensor.empty() : tensor<4x8xi1>
  %visible = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%rows, %cols : tensor<4x8xi64>, tensor<4x8xi64>) outs(%cond_init : tensor<4x8xi1>) {
  ^bb0(%r: i64, %col: i64, %o: i1):
    %last = arith.addi %r, %four : i64
    %le = arith.cmpi sle, %col, %last : i64
    linalg.yield %le : i1
  } -> tensor<4x8xi1>
  %kt_init = tensor.empty() : tensor<2x8x8xf32>
  %kt = linalg.transpose ins(%k : tensor<2x8x8xf32>) outs(%kt_init : tensor<2x8x8xf32>) permutation = [0, 2, 1]
  %s_init = tensor.empty() : tensor<2x4x8xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x4x8xf32>, tensor<2x8x8xf32>) outs(%s_zero : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %x = linalg.generic {indexing_maps = [#ij, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%visible, %s : tensor<4x8xi1>, tensor<2x4x8xf32>) outs(%s_init : tensor<2x4x8xf32>) {
  ^bb0(%keep: i1, %in: f32, %out: f32):
    %scaled = arith.mulf %in, %c : f32
    %y = arith.select %keep, %scaled, %ninf : f32
    linalg.yield %y : f32
  } -> tensor<2x4x8xf32>
  %p = linalg.softmax dimension(2) ins(%x : tensor<2x4x8xf32>) outs(%s_init : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %o_init = tensor.empty() : tensor<2x4x8xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x4x8xf32>, tensor<2x8x8xf32>) outs(%o_zero : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %o : tensor<2x4x8xf32>
}

// Inputs from sin() of a linear combination of the indices: deterministic
// and varied (generated here rather than as constants).
func.func @main() {
  %qa_init = tensor.empty() : tensor<1x8x2x4xf32>
  %qa_f32 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%qa_init : tensor<1x8x2x4xf32>) {
  ^bb0(%out: f32):
    %i0 = linalg.index 0 : index
    %w0 = arith.constant 7 : index
    %t0 = arith.muli %i0, %w0 : index
    %i1 = linalg.index 1 : index
    %w1 = arith.constant 13 : index
    %t1 = arith.muli %i1, %w1 : index
    %a1 = arith.addi %t0, %t1 : index
    %i2 = linalg.index 2 : index
    %w2 = arith.constant 5 : index
    %t2 = arith.muli %i2, %w2 : index
    %a2 = arith.addi %a1, %t2 : index
    %i3 = linalg.index 3 : index
    %w3 = arith.constant 11 : index
    %t3 = arith.muli %i3, %w3 : index
    %a3 = arith.addi %a2, %t3 : index
    %n = arith.index_cast %a3 : index to i32
    %x = arith.sitofp %n : i32 to f32
    %freq = arith.constant 0.61 : f32
    %phase = arith.constant 0.3 : f32
    %amp = arith.constant 1.5 : f32
    %fx = arith.mulf %x, %freq : f32
    %px = arith.addf %fx, %phase : f32
    %s = math.sin %px : f32
    %v = arith.mulf %s, %amp : f32
    linalg.yield %v : f32
  } -> tensor<1x8x2x4xf32>
  %ka_init = tensor.empty() : tensor<1x8x2x4xf32>
  %ka_f32 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%ka_init : tensor<1x8x2x4xf32>) {
  ^bb0(%out: f32):
    %i0 = linalg.index 0 : index
    %w0 = arith.constant 7 : index
    %t0 = arith.muli %i0, %w0 : index
    %i1 = linalg.index 1 : index
    %w1 = arith.constant 13 : index
    %t1 = arith.muli %i1, %w1 : index
    %a1 = arith.addi %t0, %t1 : index
    %i2 = linalg.index 2 : index
    %w2 = arith.constant 5 : index
    %t2 = arith.muli %i2, %w2 : index
    %a2 = arith.addi %a1, %t2 : index
    %i3 = linalg.index 3 : index
    %w3 = arith.constant 11 : index
    %t3 = arith.muli %i3, %w3 : index
    %a3 = arith.addi %a2, %t3 : index
    %n = arith.index_cast %a3 : index to i32
    %x = arith.sitofp %n : i32 to f32
    %freq = arith.constant 0.61 : f32
    %phase = arith.constant 1.1 : f32
    %amp = arith.constant 1.5 : f32
    %fx = arith.mulf %x, %freq : f32
    %px = arith.addf %fx, %phase : f32
    %s = math.sin %px : f32
    %v = arith.mulf %s, %amp : f32
    linalg.yield %v : f32
  } -> tensor<1x8x2x4xf32>
  %va_init = tensor.empty() : tensor<1x8x2x4xf32>
  %va_f32 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%va_init : tensor<1x8x2x4xf32>) {
  ^bb0(%out: f32):
    %i0 = linalg.index 0 : index
    %w0 = arith.constant 7 : index
    %t0 = arith.muli %i0, %w0 : index
    %i1 = linalg.index 1 : index
    %w1 = arith.constant 13 : index
    %t1 = arith.muli %i1, %w1 : index
    %a1 = arith.addi %t0, %t1 : index
    %i2 = linalg.index 2 : index
    %w2 = arith.constant 5 : index
    %t2 = arith.muli %i2, %w2 : index
    %a2 = arith.addi %a1, %t2 : index
    %i3 = linalg.index 3 : index
    %w3 = arith.constant 11 : index
    %t3 = arith.muli %i3, %w3 : index
    %a3 = arith.addi %a2, %t3 : index
    %n = arith.index_cast %a3 : index to i32
    %x = arith.sitofp %n : i32 to f32
    %freq = arith.constant 0.61 : f32
    %phase = arith.constant 2.2 : f32
    %amp = arith.constant 1.0 : f32
    %fx = arith.mulf %x, %freq : f32
    %px = arith.addf %fx, %phase : f32
    %s = math.sin %px : f32
    %v = arith.mulf %s, %amp : f32
    linalg.yield %v : f32
  } -> tensor<1x8x2x4xf32>
  %ma_init = tensor.empty() : tensor<8x8xf32>
  %ma_f32 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%ma_init : tensor<8x8xf32>) {
  ^bb0(%out: f32):
    %i0 = linalg.index 0 : index
    %w0 = arith.constant 7 : index
    %t0 = arith.muli %i0, %w0 : index
    %i1 = linalg.index 1 : index
    %w1 = arith.constant 13 : index
    %t1 = arith.muli %i1, %w1 : index
    %a1 = arith.addi %t0, %t1 : index
    %n = arith.index_cast %a1 : index to i32
    %x = arith.sitofp %n : i32 to f32
    %freq = arith.constant 0.61 : f32
    %phase = arith.constant 0.7 : f32
    %amp = arith.constant 3.0 : f32
    %fx = arith.mulf %x, %freq : f32
    %px = arith.addf %fx, %phase : f32
    %s = math.sin %px : f32
    %v = arith.mulf %s, %amp : f32
    linalg.yield %v : f32
  } -> tensor<8x8xf32>
  %oa = call @attn_a(%qa_f32, %ka_f32, %va_f32, %ma_f32) : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<8x8xf32>) -> tensor<1x8x2x4xf32>
  %oa_buf = bufferization.to_buffer %oa : tensor<1x8x2x4xf32> to memref<1x8x2x4xf32>
  %oa_any = memref.cast %oa_buf : memref<1x8x2x4xf32> to memref<*xf32>
  call @printMemrefF32(%oa_any) : (memref<*xf32>) -> ()
  %qb_init = tensor.empty() : tensor<1x4x4x8xf32>
  %qb_f32 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%qb_init : tensor<1x4x4x8xf32>) {
  ^bb0(%out: f32):
    %i0 = linalg.index 0 : index
    %w0 = arith.constant 7 : index
    %t0 = arith.muli %i0, %w0 : index
    %i1 = linalg.index 1 : index
    %w1 = arith.constant 13 : index
    %t1 = arith.muli %i1, %w1 : index
    %a1 = arith.addi %t0, %t1 : index
    %i2 = linalg.index 2 : index
    %w2 = arith.constant 5 : index
    %t2 = arith.muli %i2, %w2 : index
    %a2 = arith.addi %a1, %t2 : index
    %i3 = linalg.index 3 : index
    %w3 = arith.constant 11 : index
    %t3 = arith.muli %i3, %w3 : index
    %a3 = arith.addi %a2, %t3 : index
    %n = arith.index_cast %a3 : index to i32
    %x = arith.sitofp %n : i32 to f32
    %freq = arith.constant 0.61 : f32
    %phase = arith.constant 0.9 : f32
    %amp = arith.constant 1.5 : f32
    %fx = arith.mulf %x, %freq : f32
    %px = arith.addf %fx, %phase : f32
    %s = math.sin %px : f32
    %v = arith.mulf %s, %amp : f32
    linalg.yield %v : f32
  } -> tensor<1x4x4x8xf32>
  %kb_init = tensor.empty() : tensor<1x2x8x8xf32>
  %kb_f32 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%kb_init : tensor<1x2x8x8xf32>) {
  ^bb0(%out: f32):
    %i0 = linalg.index 0 : index
    %w0 = arith.constant 7 : index
    %t0 = arith.muli %i0, %w0 : index
    %i1 = linalg.index 1 : index
    %w1 = arith.constant 13 : index
    %t1 = arith.muli %i1, %w1 : index
    %a1 = arith.addi %t0, %t1 : index
    %i2 = linalg.index 2 : index
    %w2 = arith.constant 5 : index
    %t2 = arith.muli %i2, %w2 : index
    %a2 = arith.addi %a1, %t2 : index
    %i3 = linalg.index 3 : index
    %w3 = arith.constant 11 : index
    %t3 = arith.muli %i3, %w3 : index
    %a3 = arith.addi %a2, %t3 : index
    %n = arith.index_cast %a3 : index to i32
    %x = arith.sitofp %n : i32 to f32
    %freq = arith.constant 0.61 : f32
    %phase = arith.constant 1.7 : f32
    %amp = arith.constant 1.5 : f32
    %fx = arith.mulf %x, %freq : f32
    %px = arith.addf %fx, %phase : f32
    %s = math.sin %px : f32
    %v = arith.mulf %s, %amp : f32
    linalg.yield %v : f32
  } -> tensor<1x2x8x8xf32>
  %vb_init = tensor.empty() : tensor<1x2x8x8xf32>
  %vb_f32 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%vb_init : tensor<1x2x8x8xf32>) {
  ^bb0(%out: f32):
    %i0 = linalg.index 0 : index
    %w0 = arith.constant 7 : index
    %t0 = arith.muli %i0, %w0 : index
    %i1 = linalg.index 1 : index
    %w1 = arith.constant 13 : index
    %t1 = arith.muli %i1, %w1 : index
    %a1 = arith.addi %t0, %t1 : index
    %i2 = linalg.index 2 : index
    %w2 = arith.constant 5 : index
    %t2 = arith.muli %i2, %w2 : index
    %a2 = arith.addi %a1, %t2 : index
    %i3 = linalg.index 3 : index
    %w3 = arith.constant 11 : index
    %t3 = arith.muli %i3, %w3 : index
    %a3 = arith.addi %a2, %t3 : index
    %n = arith.index_cast %a3 : index to i32
    %x = arith.sitofp %n : i32 to f32
    %freq = arith.constant 0.61 : f32
    %phase = arith.constant 2.9 : f32
    %amp = arith.constant 1.0 : f32
    %fx = arith.mulf %x, %freq : f32
    %px = arith.addf %fx, %phase : f32
    %s = math.sin %px : f32
    %v = arith.mulf %s, %amp : f32
    linalg.yield %v : f32
  } -> tensor<1x2x8x8xf32>
  %ob = call @attn_b(%qb_f32, %kb_f32, %vb_f32) : (tensor<1x4x4x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>) -> tensor<1x4x8x4xf32>
  %ob_buf = bufferization.to_buffer %ob : tensor<1x4x8x4xf32> to memref<1x4x8x4xf32>
  %ob_any = memref.cast %ob_buf : memref<1x4x8x4xf32> to memref<*xf32>
  call @printMemrefF32(%ob_any) : (memref<*xf32>) -> ()
  %qc_init = tensor.empty() : tensor<2x8x8xf32>
  %qc_f32 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} outs(%qc_init : tensor<2x8x8xf32>) {
  ^bb0(%out: f32):
    %i0 = linalg.index 0 : index
    %w0 = arith.constant 7 : index
    %t0 = arith.muli %i0, %w0 : index
    %i1 = linalg.index 1 : index
    %w1 = arith.constant 13 : index
    %t1 = arith.muli %i1, %w1 : index
    %a1 = arith.addi %t0, %t1 : index
    %i2 = linalg.index 2 : index
    %w2 = arith.constant 5 : index
    %t2 = arith.muli %i2, %w2 : index
    %a2 = arith.addi %a1, %t2 : index
    %n = arith.index_cast %a2 : index to i32
    %x = arith.sitofp %n : i32 to f32
    %freq = arith.constant 0.61 : f32
    %phase = arith.constant 0.2 : f32
    %amp = arith.constant 1.5 : f32
    %fx = arith.mulf %x, %freq : f32
    %px = arith.addf %fx, %phase : f32
    %s = math.sin %px : f32
    %v = arith.mulf %s, %amp : f32
    linalg.yield %v : f32
  } -> tensor<2x8x8xf32>
  %qc = arith.truncf %qc_f32 : tensor<2x8x8xf32> to tensor<2x8x8xf16>
  %kc_init = tensor.empty() : tensor<2x8x8xf32>
  %kc_f32 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} outs(%kc_init : tensor<2x8x8xf32>) {
  ^bb0(%out: f32):
    %i0 = linalg.index 0 : index
    %w0 = arith.constant 7 : index
    %t0 = arith.muli %i0, %w0 : index
    %i1 = linalg.index 1 : index
    %w1 = arith.constant 13 : index
    %t1 = arith.muli %i1, %w1 : index
    %a1 = arith.addi %t0, %t1 : index
    %i2 = linalg.index 2 : index
    %w2 = arith.constant 5 : index
    %t2 = arith.muli %i2, %w2 : index
    %a2 = arith.addi %a1, %t2 : index
    %n = arith.index_cast %a2 : index to i32
    %x = arith.sitofp %n : i32 to f32
    %freq = arith.constant 0.61 : f32
    %phase = arith.constant 1.4 : f32
    %amp = arith.constant 1.5 : f32
    %fx = arith.mulf %x, %freq : f32
    %px = arith.addf %fx, %phase : f32
    %s = math.sin %px : f32
    %v = arith.mulf %s, %amp : f32
    linalg.yield %v : f32
  } -> tensor<2x8x8xf32>
  %kc = arith.truncf %kc_f32 : tensor<2x8x8xf32> to tensor<2x8x8xf16>
  %vc_init = tensor.empty() : tensor<2x8x8xf32>
  %vc_f32 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} outs(%vc_init : tensor<2x8x8xf32>) {
  ^bb0(%out: f32):
    %i0 = linalg.index 0 : index
    %w0 = arith.constant 7 : index
    %t0 = arith.muli %i0, %w0 : index
    %i1 = linalg.index 1 : index
    %w1 = arith.constant 13 : index
    %t1 = arith.muli %i1, %w1 : index
    %a1 = arith.addi %t0, %t1 : index
    %i2 = linalg.index 2 : index
    %w2 = arith.constant 5 : index
    %t2 = arith.muli %i2, %w2 : index
    %a2 = arith.addi %a1, %t2 : index
    %n = arith.index_cast %a2 : index to i32
    %x = arith.sitofp %n : i32 to f32
    %freq = arith.constant 0.61 : f32
    %phase = arith.constant 2.6 : f32
    %amp = arith.constant 1.0 : f32
    %fx = arith.mulf %x, %freq : f32
    %px = arith.addf %fx, %phase : f32
    %s = math.sin %px : f32
    %v = arith.mulf %s, %amp : f32
    linalg.yield %v : f32
  } -> tensor<2x8x8xf32>
  %vc = arith.truncf %vc_f32 : tensor<2x8x8xf32> to tensor<2x8x8xf16>
  %oc = call @attn_c(%qc, %kc, %vc) : (tensor<2x8x8xf16>, tensor<2x8x8xf16>, tensor<2x8x8xf16>) -> tensor<2x8x8xf16>
  %oc_wide = arith.extf %oc : tensor<2x8x8xf16> to tensor<2x8x8xf32>
  %oc_buf = bufferization.to_buffer %oc_wide : tensor<2x8x8xf32> to memref<2x8x8xf32>
  %oc_any = memref.cast %oc_buf : memref<2x8x8xf32> to memref<*xf32>
  call @printMemrefF32(%oc_any) : (memref<*xf32>) -> ()
  %qd_init = tensor.empty() : tensor<2x4x8xf32>
  %qd_f32 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} outs(%qd_init : tensor<2x4x8xf32>) {
  ^bb0(%out: f32):
    %i0 = linalg.index 0 : index
    %w0 = arith.constant 7 : index
    %t0 = arith.muli %i0, %w0 : index
    %i1 = linalg.index 1 : index
    %w1 = arith.constant 13 : index
    %t1 = arith.muli %i1, %w1 : index
    %a1 = arith.addi %t0, %t1 : index
    %i2 = linalg.index 2 : index
    %w2 = arith.constant 5 : index
    %t2 = arith.muli %i2, %w2 : index
    %a2 = arith.addi %a1, %t2 : index
    %n = arith.index_cast %a2 : index to i32
    %x = arith.sitofp %n : i32 to f32
    %freq = arith.constant 0.61 : f32
    %phase = arith.constant 0.5 : f32
    %amp = arith.constant 1.5 : f32
    %fx = arith.mulf %x, %freq : f32
    %px = arith.addf %fx, %phase : f32
    %s = math.sin %px : f32
    %v = arith.mulf %s, %amp : f32
    linalg.yield %v : f32
  } -> tensor<2x4x8xf32>
  %kd_init = tensor.empty() : tensor<2x8x8xf32>
  %kd_f32 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} outs(%kd_init : tensor<2x8x8xf32>) {
  ^bb0(%out: f32):
    %i0 = linalg.index 0 : index
    %w0 = arith.constant 7 : index
    %t0 = arith.muli %i0, %w0 : index
    %i1 = linalg.index 1 : index
    %w1 = arith.constant 13 : index
    %t1 = arith.muli %i1, %w1 : index
    %a1 = arith.addi %t0, %t1 : index
    %i2 = linalg.index 2 : index
    %w2 = arith.constant 5 : index
    %t2 = arith.muli %i2, %w2 : index
    %a2 = arith.addi %a1, %t2 : index
    %n = arith.index_cast %a2 : index to i32
    %x = arith.sitofp %n : i32 to f32
    %freq = arith.constant 0.61 : f32
    %phase = arith.constant 1.3 : f32
    %amp = arith.constant 1.5 : f32
    %fx = arith.mulf %x, %freq : f32
    %px = arith.addf %fx, %phase : f32
    %s = math.sin %px : f32
    %v = arith.mulf %s, %amp : f32
    linalg.yield %v : f32
  } -> tensor<2x8x8xf32>
  %vd_init = tensor.empty() : tensor<2x8x8xf32>
  %vd_f32 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} outs(%vd_init : tensor<2x8x8xf32>) {
  ^bb0(%out: f32):
    %i0 = linalg.index 0 : index
    %w0 = arith.constant 7 : index
    %t0 = arith.muli %i0, %w0 : index
    %i1 = linalg.index 1 : index
    %w1 = arith.constant 13 : index
    %t1 = arith.muli %i1, %w1 : index
    %a1 = arith.addi %t0, %t1 : index
    %i2 = linalg.index 2 : index
    %w2 = arith.constant 5 : index
    %t2 = arith.muli %i2, %w2 : index
    %a2 = arith.addi %a1, %t2 : index
    %n = arith.index_cast %a2 : index to i32
    %x = arith.sitofp %n : i32 to f32
    %freq = arith.constant 0.61 : f32
    %phase = arith.constant 2.4 : f32
    %amp = arith.constant 1.0 : f32
    %fx = arith.mulf %x, %freq : f32
    %px = arith.addf %fx, %phase : f32
    %s = math.sin %px : f32
    %v = arith.mulf %s, %amp : f32
    linalg.yield %v : f32
  } -> tensor<2x8x8xf32>
  %od = call @attn_d(%qd_f32, %kd_f32, %vd_f32) : (tensor<2x4x8xf32>, tensor<2x8x8xf32>, tensor<2x8x8xf32>) -> tensor<2x4x8xf32>
  %od_buf = bufferization.to_buffer %od : tensor<2x4x8xf32> to memref<2x4x8xf32>
  %od_any = memref.cast %od_buf : memref<2x4x8xf32> to memref<*xf32>
  call @printMemrefF32(%od_any) : (memref<*xf32>) -> ()
  return
}
func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}
