// RUN: lpattn-opt %s --lpattn-raise-attention --split-input-file | FileCheck %s

// Near misses of attention: each is left exactly as it was (no
// lpattn.attention, the original products and softmax remain).

// -----

// Control: the template of the near misses below, with nothing wrong, is raised.

#mq = affine_map<(i, j, d) -> (i, d)>
#mk = affine_map<(i, j, d) -> (j, d)>
#ms = affine_map<(i, j, d) -> (i, j)>
#id2 = affine_map<(i, j) -> (i, j)>
// CHECK-LABEL: func.func @control_raised(
// CHECK: lpattn.attention {{.*}} scale = 2.500000e-01 {{.*}} causal = false
// CHECK-NOT: linalg.softmax
func.func @control_raised(%q: tensor<8x16xf32>, %k: tensor<8x16xf32>, %v: tensor<8x16xf32>, %other: tensor<8x8xf32>) -> tensor<8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.25 : f32
  %s_init = tensor.empty() : tensor<8x8xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul indexing_maps = [#mq, #mk, #ms] ins(%q, %k : tensor<8x16xf32>, tensor<8x16xf32>) outs(%s_zero : tensor<8x8xf32>) -> tensor<8x8xf32>
  %x = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%s, %other : tensor<8x8xf32>, tensor<8x8xf32>) outs(%s_init : tensor<8x8xf32>) {
  ^bb0(%in: f32, %m: f32, %out: f32):
    %y = arith.mulf %in, %c : f32
    linalg.yield %y : f32
  } -> tensor<8x8xf32>
  %sm = linalg.softmax dimension(1) ins(%x : tensor<8x8xf32>) outs(%s_init : tensor<8x8xf32>) -> tensor<8x8xf32>
  %o_init = tensor.empty() : tensor<8x16xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<8x16xf32>) -> tensor<8x16xf32>
  %o = linalg.matmul ins(%sm, %v : tensor<8x8xf32>, tensor<8x16xf32>) outs(%o_zero : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %o : tensor<8x16xf32>
}

// -----

// Softmax over the query axis.

#mq = affine_map<(i, j, d) -> (i, d)>
#mk = affine_map<(i, j, d) -> (j, d)>
#ms = affine_map<(i, j, d) -> (i, j)>
#id2 = affine_map<(i, j) -> (i, j)>
// CHECK-LABEL: func.func @softmax_wrong_axis(
// CHECK-NOT: lpattn.attention
// CHECK: linalg.matmul
// CHECK: linalg.softmax
// CHECK: linalg.matmul
// CHECK-NOT: lpattn.attention
func.func @softmax_wrong_axis(%q: tensor<8x16xf32>, %k: tensor<8x16xf32>, %v: tensor<8x16xf32>, %other: tensor<8x8xf32>) -> tensor<8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.25 : f32
  %s_init = tensor.empty() : tensor<8x8xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul indexing_maps = [#mq, #mk, #ms] ins(%q, %k : tensor<8x16xf32>, tensor<8x16xf32>) outs(%s_zero : tensor<8x8xf32>) -> tensor<8x8xf32>
  %x = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%s, %other : tensor<8x8xf32>, tensor<8x8xf32>) outs(%s_init : tensor<8x8xf32>) {
  ^bb0(%in: f32, %m: f32, %out: f32):
    %y = arith.mulf %in, %c : f32
    linalg.yield %y : f32
  } -> tensor<8x8xf32>
  %sm = linalg.softmax dimension(0) ins(%x : tensor<8x8xf32>) outs(%s_init : tensor<8x8xf32>) -> tensor<8x8xf32>
  %o_init = tensor.empty() : tensor<8x16xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<8x16xf32>) -> tensor<8x16xf32>
  %o = linalg.matmul ins(%sm, %v : tensor<8x8xf32>, tensor<8x16xf32>) outs(%o_zero : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %o : tensor<8x16xf32>
}

// -----

// Pᵀ V: the product sums over the query axis of P.

#mq = affine_map<(i, j, d) -> (i, d)>
#mk = affine_map<(i, j, d) -> (j, d)>
#ms = affine_map<(i, j, d) -> (i, j)>
#id2 = affine_map<(i, j) -> (i, j)>
// CHECK-LABEL: func.func @pt_times_v(
// CHECK-NOT: lpattn.attention
// CHECK: linalg.matmul
// CHECK: linalg.softmax
// CHECK: linalg.transpose
// CHECK: linalg.matmul
// CHECK-NOT: lpattn.attention
func.func @pt_times_v(%q: tensor<8x16xf32>, %k: tensor<8x16xf32>, %v: tensor<8x16xf32>, %other: tensor<8x8xf32>) -> tensor<8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.25 : f32
  %s_init = tensor.empty() : tensor<8x8xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul indexing_maps = [#mq, #mk, #ms] ins(%q, %k : tensor<8x16xf32>, tensor<8x16xf32>) outs(%s_zero : tensor<8x8xf32>) -> tensor<8x8xf32>
  %x = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%s, %other : tensor<8x8xf32>, tensor<8x8xf32>) outs(%s_init : tensor<8x8xf32>) {
  ^bb0(%in: f32, %m: f32, %out: f32):
    %y = arith.mulf %in, %c : f32
    linalg.yield %y : f32
  } -> tensor<8x8xf32>
  %sm = linalg.softmax dimension(1) ins(%x : tensor<8x8xf32>) outs(%s_init : tensor<8x8xf32>) -> tensor<8x8xf32>
  %pt_init = tensor.empty() : tensor<8x8xf32>
  %p = linalg.transpose ins(%sm : tensor<8x8xf32>) outs(%pt_init : tensor<8x8xf32>) permutation = [1, 0]
  %o_init = tensor.empty() : tensor<8x16xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<8x16xf32>) -> tensor<8x16xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x16xf32>) outs(%o_zero : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %o : tensor<8x16xf32>
}

// -----

// A dropout multiply between the softmax and P V.

#mq = affine_map<(i, j, d) -> (i, d)>
#mk = affine_map<(i, j, d) -> (j, d)>
#ms = affine_map<(i, j, d) -> (i, j)>
#id2 = affine_map<(i, j) -> (i, j)>
// CHECK-LABEL: func.func @dropout(
// CHECK-NOT: lpattn.attention
// CHECK: linalg.matmul
// CHECK: linalg.softmax
// CHECK: linalg.matmul
// CHECK-NOT: lpattn.attention
func.func @dropout(%q: tensor<8x16xf32>, %k: tensor<8x16xf32>, %v: tensor<8x16xf32>, %other: tensor<8x8xf32>) -> tensor<8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.25 : f32
  %s_init = tensor.empty() : tensor<8x8xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul indexing_maps = [#mq, #mk, #ms] ins(%q, %k : tensor<8x16xf32>, tensor<8x16xf32>) outs(%s_zero : tensor<8x8xf32>) -> tensor<8x8xf32>
  %x = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%s, %other : tensor<8x8xf32>, tensor<8x8xf32>) outs(%s_init : tensor<8x8xf32>) {
  ^bb0(%in: f32, %m: f32, %out: f32):
    %y = arith.mulf %in, %c : f32
    linalg.yield %y : f32
  } -> tensor<8x8xf32>
  %sm = linalg.softmax dimension(1) ins(%x : tensor<8x8xf32>) outs(%s_init : tensor<8x8xf32>) -> tensor<8x8xf32>
  %p = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%sm, %other : tensor<8x8xf32>, tensor<8x8xf32>) outs(%s_init : tensor<8x8xf32>) {
  ^bb0(%a: f32, %keep: f32, %out: f32):
    %y = arith.mulf %a, %keep : f32
    linalg.yield %y : f32
  } -> tensor<8x8xf32>
  %o_init = tensor.empty() : tensor<8x16xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<8x16xf32>) -> tensor<8x16xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x16xf32>) outs(%o_zero : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %o : tensor<8x16xf32>
}

// -----

// Sigmoid attention: no softmax.

#mq = affine_map<(i, j, d) -> (i, d)>
#mk = affine_map<(i, j, d) -> (j, d)>
#ms = affine_map<(i, j, d) -> (i, j)>
#id2 = affine_map<(i, j) -> (i, j)>
// CHECK-LABEL: func.func @sigmoid(
// CHECK-NOT: lpattn.attention
// CHECK: linalg.matmul
// CHECK: math.exp
// CHECK: linalg.matmul
// CHECK-NOT: lpattn.attention
func.func @sigmoid(%q: tensor<8x16xf32>, %k: tensor<8x16xf32>, %v: tensor<8x16xf32>, %other: tensor<8x8xf32>) -> tensor<8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.25 : f32
  %s_init = tensor.empty() : tensor<8x8xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul indexing_maps = [#mq, #mk, #ms] ins(%q, %k : tensor<8x16xf32>, tensor<8x16xf32>) outs(%s_zero : tensor<8x8xf32>) -> tensor<8x8xf32>
  %x = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%s, %other : tensor<8x8xf32>, tensor<8x8xf32>) outs(%s_init : tensor<8x8xf32>) {
  ^bb0(%in: f32, %m: f32, %out: f32):
    %y = arith.mulf %in, %c : f32
    linalg.yield %y : f32
  } -> tensor<8x8xf32>
  %sm = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<8x8xf32>) outs(%s_init : tensor<8x8xf32>) {
  ^bb0(%a: f32, %out: f32):
    %n = arith.negf %a : f32
    %e = math.exp %n : f32
    %d = arith.addf %e, %one : f32
    %y = arith.divf %one, %d : f32
    linalg.yield %y : f32
  } -> tensor<8x8xf32>
  %o_init = tensor.empty() : tensor<8x16xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<8x16xf32>) -> tensor<8x16xf32>
  %o = linalg.matmul ins(%sm, %v : tensor<8x8xf32>, tensor<8x16xf32>) outs(%o_zero : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %o : tensor<8x16xf32>
}

// -----

// No P V product: the softmax is the result.

#mq = affine_map<(i, j, d) -> (i, d)>
#mk = affine_map<(i, j, d) -> (j, d)>
#ms = affine_map<(i, j, d) -> (i, j)>
#id2 = affine_map<(i, j) -> (i, j)>
// CHECK-LABEL: func.func @no_pv(
// CHECK-NOT: lpattn.attention
// CHECK: linalg.matmul
// CHECK: linalg.softmax
// CHECK-NOT: lpattn.attention
func.func @no_pv(%q: tensor<8x16xf32>, %k: tensor<8x16xf32>, %v: tensor<8x16xf32>, %other: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.25 : f32
  %s_init = tensor.empty() : tensor<8x8xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul indexing_maps = [#mq, #mk, #ms] ins(%q, %k : tensor<8x16xf32>, tensor<8x16xf32>) outs(%s_zero : tensor<8x8xf32>) -> tensor<8x8xf32>
  %x = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%s, %other : tensor<8x8xf32>, tensor<8x8xf32>) outs(%s_init : tensor<8x8xf32>) {
  ^bb0(%in: f32, %m: f32, %out: f32):
    %y = arith.mulf %in, %c : f32
    linalg.yield %y : f32
  } -> tensor<8x8xf32>
  %sm = linalg.softmax dimension(1) ins(%x : tensor<8x8xf32>) outs(%s_init : tensor<8x8xf32>) -> tensor<8x8xf32>

  return %sm : tensor<8x8xf32>
}

// -----

// A top-left causal mask (key <= query) with Nq = 4 != Nk = 8: the op is bottom-right aligned.

#mq = affine_map<(i, j, d) -> (i, d)>
#mk = affine_map<(i, j, d) -> (j, d)>
#ms = affine_map<(i, j, d) -> (i, j)>
#id2 = affine_map<(i, j) -> (i, j)>
// CHECK-LABEL: func.func @top_left_causal_ragged(
// CHECK-NOT: lpattn.attention
// CHECK: linalg.matmul
// CHECK: linalg.softmax
// CHECK: linalg.matmul
// CHECK-NOT: lpattn.attention
func.func @top_left_causal_ragged(%q: tensor<4x16xf32>, %k: tensor<8x16xf32>, %v: tensor<8x16xf32>, %other: tensor<4x8xf32>) -> tensor<4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.25 : f32
  %s_init = tensor.empty() : tensor<4x8xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<4x8xf32>) -> tensor<4x8xf32>
  %s = linalg.matmul indexing_maps = [#mq, #mk, #ms] ins(%q, %k : tensor<4x16xf32>, tensor<8x16xf32>) outs(%s_zero : tensor<4x8xf32>) -> tensor<4x8xf32>
  %x = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%s, %other : tensor<4x8xf32>, tensor<4x8xf32>) outs(%s_init : tensor<4x8xf32>) {
  ^bb0(%in: f32, %m: f32, %out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %visible = arith.cmpi ule, %j, %i : index
    %y = arith.select %visible, %in, %ninf : f32
    linalg.yield %y : f32
  } -> tensor<4x8xf32>
  %sm = linalg.softmax dimension(1) ins(%x : tensor<4x8xf32>) outs(%s_init : tensor<4x8xf32>) -> tensor<4x8xf32>
  %o_init = tensor.empty() : tensor<4x16xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<4x16xf32>) -> tensor<4x16xf32>
  %o = linalg.matmul ins(%sm, %v : tensor<4x8xf32>, tensor<8x16xf32>) outs(%o_zero : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %o : tensor<4x16xf32>
}

// -----

// The scale applied after the mask (it scales the mask too).

#mq = affine_map<(i, j, d) -> (i, d)>
#mk = affine_map<(i, j, d) -> (j, d)>
#ms = affine_map<(i, j, d) -> (i, j)>
#id2 = affine_map<(i, j) -> (i, j)>
// CHECK-LABEL: func.func @mask_then_scale(
// CHECK-NOT: lpattn.attention
// CHECK: linalg.matmul
// CHECK: linalg.softmax
// CHECK: linalg.matmul
// CHECK-NOT: lpattn.attention
func.func @mask_then_scale(%q: tensor<8x16xf32>, %k: tensor<8x16xf32>, %v: tensor<8x16xf32>, %other: tensor<8x8xf32>) -> tensor<8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.25 : f32
  %s_init = tensor.empty() : tensor<8x8xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul indexing_maps = [#mq, #mk, #ms] ins(%q, %k : tensor<8x16xf32>, tensor<8x16xf32>) outs(%s_zero : tensor<8x8xf32>) -> tensor<8x8xf32>
  %x = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%s, %other : tensor<8x8xf32>, tensor<8x8xf32>) outs(%s_init : tensor<8x8xf32>) {
  ^bb0(%in: f32, %m: f32, %out: f32):
    %a = arith.addf %in, %m : f32
    %y = arith.mulf %a, %c : f32
    linalg.yield %y : f32
  } -> tensor<8x8xf32>
  %sm = linalg.softmax dimension(1) ins(%x : tensor<8x8xf32>) outs(%s_init : tensor<8x8xf32>) -> tensor<8x8xf32>
  %o_init = tensor.empty() : tensor<8x16xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<8x16xf32>) -> tensor<8x16xf32>
  %o = linalg.matmul ins(%sm, %v : tensor<8x8xf32>, tensor<8x16xf32>) outs(%o_zero : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %o : tensor<8x16xf32>
}

// -----

// A select that keeps the future keys (key >= query): not causal.

#mq = affine_map<(i, j, d) -> (i, d)>
#mk = affine_map<(i, j, d) -> (j, d)>
#ms = affine_map<(i, j, d) -> (i, j)>
#id2 = affine_map<(i, j) -> (i, j)>
// CHECK-LABEL: func.func @future_keys(
// CHECK-NOT: lpattn.attention
// CHECK: linalg.matmul
// CHECK: linalg.softmax
// CHECK: linalg.matmul
// CHECK-NOT: lpattn.attention
func.func @future_keys(%q: tensor<8x16xf32>, %k: tensor<8x16xf32>, %v: tensor<8x16xf32>, %other: tensor<8x8xf32>) -> tensor<8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.25 : f32
  %s_init = tensor.empty() : tensor<8x8xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul indexing_maps = [#mq, #mk, #ms] ins(%q, %k : tensor<8x16xf32>, tensor<8x16xf32>) outs(%s_zero : tensor<8x8xf32>) -> tensor<8x8xf32>
  %x = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%s, %other : tensor<8x8xf32>, tensor<8x8xf32>) outs(%s_init : tensor<8x8xf32>) {
  ^bb0(%in: f32, %m: f32, %out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %visible = arith.cmpi uge, %j, %i : index
    %y = arith.select %visible, %in, %ninf : f32
    linalg.yield %y : f32
  } -> tensor<8x8xf32>
  %sm = linalg.softmax dimension(1) ins(%x : tensor<8x8xf32>) outs(%s_init : tensor<8x8xf32>) -> tensor<8x8xf32>
  %o_init = tensor.empty() : tensor<8x16xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<8x16xf32>) -> tensor<8x16xf32>
  %o = linalg.matmul ins(%sm, %v : tensor<8x8xf32>, tensor<8x16xf32>) outs(%o_zero : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %o : tensor<8x16xf32>
}

// -----

// A causal select whose fill is 1, not -inf.

#mq = affine_map<(i, j, d) -> (i, d)>
#mk = affine_map<(i, j, d) -> (j, d)>
#ms = affine_map<(i, j, d) -> (i, j)>
#id2 = affine_map<(i, j) -> (i, j)>
// CHECK-LABEL: func.func @select_finite(
// CHECK-NOT: lpattn.attention
// CHECK: linalg.matmul
// CHECK: linalg.softmax
// CHECK: linalg.matmul
// CHECK-NOT: lpattn.attention
func.func @select_finite(%q: tensor<8x16xf32>, %k: tensor<8x16xf32>, %v: tensor<8x16xf32>, %other: tensor<8x8xf32>) -> tensor<8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.25 : f32
  %s_init = tensor.empty() : tensor<8x8xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul indexing_maps = [#mq, #mk, #ms] ins(%q, %k : tensor<8x16xf32>, tensor<8x16xf32>) outs(%s_zero : tensor<8x8xf32>) -> tensor<8x8xf32>
  %x = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%s, %other : tensor<8x8xf32>, tensor<8x8xf32>) outs(%s_init : tensor<8x8xf32>) {
  ^bb0(%in: f32, %m: f32, %out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %visible = arith.cmpi ule, %j, %i : index
    %y = arith.select %visible, %in, %one : f32
    linalg.yield %y : f32
  } -> tensor<8x8xf32>
  %sm = linalg.softmax dimension(1) ins(%x : tensor<8x8xf32>) outs(%s_init : tensor<8x8xf32>) -> tensor<8x8xf32>
  %o_init = tensor.empty() : tensor<8x16xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<8x16xf32>) -> tensor<8x16xf32>
  %o = linalg.matmul ins(%sm, %v : tensor<8x8xf32>, tensor<8x16xf32>) outs(%o_zero : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %o : tensor<8x16xf32>
}

// -----

#id2 = affine_map<(i, j) -> (i, j)>
#id3 = affine_map<(b, i, j) -> (b, i, j)>
#ij = affine_map<(b, i, j) -> (j, i)>
// The iota form of the causal mask, read transposed (mask[j, i]) so that
// row >= col keeps the future keys: not causal.
// CHECK-LABEL: func.func @iota_future_keys(
// CHECK-NOT: lpattn.attention
// CHECK: linalg.batch_matmul
// CHECK: linalg.softmax
// CHECK: linalg.batch_matmul
// CHECK-NOT: lpattn.attention
func.func @iota_future_keys(%q: tensor<2x8x4xf16>, %k: tensor<2x8x4xf16>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
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

// A bottom-right causal select with the lowest finite fill and Nq = 8 >
// Nk = 4: the first rows see no key and average V, where the op gives 0.

#mq = affine_map<(i, j, d) -> (i, d)>
#mk = affine_map<(i, j, d) -> (j, d)>
#ms = affine_map<(i, j, d) -> (i, j)>
#id2 = affine_map<(i, j) -> (i, j)>
// CHECK-LABEL: func.func @finite_fill_empty_rows(
// CHECK-NOT: lpattn.attention
// CHECK: linalg.matmul
// CHECK: linalg.softmax
// CHECK: linalg.matmul
// CHECK-NOT: lpattn.attention
func.func @finite_fill_empty_rows(%q: tensor<8x16xf32>, %k: tensor<4x16xf32>, %v: tensor<4x16xf32>) -> tensor<8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %lowest = arith.constant -3.40282347E+38 : f32
  %c4 = arith.constant 4 : index
  %s_init = tensor.empty() : tensor<8x4xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<8x4xf32>) -> tensor<8x4xf32>
  %s = linalg.matmul indexing_maps = [#mq, #mk, #ms] ins(%q, %k : tensor<8x16xf32>, tensor<4x16xf32>) outs(%s_zero : tensor<8x4xf32>) -> tensor<8x4xf32>
  %x = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%s : tensor<8x4xf32>) outs(%s_init : tensor<8x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %shifted = arith.addi %j, %c4 : index
    %visible = arith.cmpi sle, %shifted, %i : index
    %y = arith.select %visible, %in, %lowest : f32
    linalg.yield %y : f32
  } -> tensor<8x4xf32>
  %sm = linalg.softmax dimension(1) ins(%x : tensor<8x4xf32>) outs(%s_init : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o_init = tensor.empty() : tensor<8x16xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<8x16xf32>) -> tensor<8x16xf32>
  %o = linalg.matmul ins(%sm, %v : tensor<8x4xf32>, tensor<4x16xf32>) outs(%o_zero : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %o : tensor<8x16xf32>
}
