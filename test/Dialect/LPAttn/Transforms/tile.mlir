// RUN: lpattn-opt %s --split-input-file --lpattn-tile | FileCheck %s

// The flash-attention forward of SPEC.md, one tagged op per numerics step,
// each step's precision in its types. Evenly divided shapes give static
// tiles. Tile products sum k in f32 into a fresh zero tile and are rounded
// to the score / acc type once, when they leave the MMA (SPEC.md, "Where
// the roundings happen").

// CHECK-LABEL: func.func @fp8_static_tiles
// One parallel loop over (B, Hq, query tiles), each iteration one query
// tile of one head writing its own slice of the result.
// CHECK:       scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) in (1, 2, 2) shared_outs(%[[OUT:.+]] = %{{.+}}) -> (tensor<1x2x64x32xbf16>)
// CHECK:       %[[Q:.+]] = tensor.extract_slice %{{.+}} : tensor<1x2x64x32xf8E4M3FN> to tensor<32x32xf8E4M3FN>
// m = -inf, l = 0, acc = 0 (acc type f32).
// CHECK:       linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<32xf32>)
// CHECK:       %[[KV:.+]]:3 = scf.for %[[J:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[M:.+]] = %{{.+}}, %[[L:.+]] = %{{.+}}, %[[ACC:.+]] = %{{.+}})
// CHECK:         %[[K:.+]] = tensor.extract_slice %{{.+}} : tensor<1x2x64x32xf8E4M3FN> to tensor<16x32xf8E4M3FN>
// CHECK:         %[[V:.+]] = tensor.extract_slice %{{.+}} : tensor<1x2x64x32xf8E4M3FN> to tensor<16x32xf8E4M3FN>
// S = sum_k f32(Q_i) f32(K_j): e4m3 inputs, into a zero f32 tile.
// CHECK:         %[[Z:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<32x16xf32>)
// CHECK:         %[[S0:.+]] = linalg.matmul {{.*}}qk_mma{{.*}} ins(%[[Q]], %[[K]] : tensor<32x32xf8E4M3FN>, tensor<16x32xf8E4M3FN>) outs(%[[Z]] : tensor<32x16xf32>)
// S = f32(round_score(S)) * (c * q_ds * k_ds); score = f32: no rounding.
// CHECK:         %[[S:.+]] = linalg.generic {{.*}} ins(%[[S0]], %{{.+}} : tensor<32x16xf32>, f32) {{.*}}step score
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      arith.mulf
// CHECK-NEXT:      linalg.yield
// m' = max(m, rowmax(S)).
// CHECK:         %[[MN:.+]] = linalg.generic {{.*}}["parallel", "reduction"]{{.*}} ins(%[[S]] : tensor<32x16xf32>) outs(%[[M]] : tensor<32xf32>) {{.*}}step row_max
// CHECK:           arith.maximumf
// A row with no visible key yet has m' = -inf; exp uses 0 instead (no NaN).
// CHECK:         %[[MS:.+]] = linalg.generic {{.*}} ins(%[[MN]] : tensor<32xf32>) {{.*}}step max_guard
// CHECK:           arith.cmpf oeq
// P = exp(S - m'), f32.
// CHECK:         %[[P:.+]] = linalg.generic {{.*}} ins(%[[S]], %[[MS]] : tensor<32x16xf32>, tensor<32xf32>) {{.*}}step exp
// CHECK:           arith.subf
// CHECK:           math.exp
// a = exp(m - m').
// CHECK:         %[[A:.+]] = linalg.generic {{.*}} ins(%[[M]], %[[MS]] : tensor<32xf32>, tensor<32xf32>) {{.*}}step rescale_factor
// l' = l * a + rowsum(P), from the uncast P.
// CHECK:         %[[LA:.+]] = linalg.generic {{.*}} ins(%[[L]], %[[A]] : {{.*}}step row_sum
// CHECK:         %[[LN:.+]] = linalg.generic {{.*}} ins(%[[P]] : tensor<32x16xf32>) outs(%[[LA]] : tensor<32xf32>) {{.*}}step row_sum
// P~ = cast_p(P): round to nearest even, satfinite, to e4m3.
// CHECK:         %[[PT:.+]] = lpattn.truncf %[[P]] rne satfinite {lpattn.step = #lpattn<step p_cast>} : tensor<32x16xf32> to tensor<32x16xf8E4M3FN>
// A = f32(acc) * a, in f32.
// CHECK:         %[[AS:.+]] = linalg.generic {{.*}} ins(%[[ACC]], %[[A]] : tensor<32x32xf32>, tensor<32xf32>) outs(%{{.+}} : tensor<32x32xf32>) {{.*}}step acc_rescale
// PV = sum_k f32(P~) f32(V_j): e4m3 inputs, into a zero f32 tile.
// CHECK:         %[[ZP:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<32x32xf32>)
// CHECK:         %[[PV:.+]] = linalg.matmul {lpattn.step = #lpattn<step pv_mma>} ins(%[[PT]], %[[V]] : tensor<32x16xf8E4M3FN>, tensor<16x32xf8E4M3FN>) outs(%[[ZP]] : tensor<32x32xf32>)
// acc' = round_acc(A + f32(round_acc(PV))); acc = f32: one f32 add.
// CHECK:         %[[AN:.+]] = linalg.generic {{.*}} ins(%[[AS]], %[[PV]] : tensor<32x32xf32>, tensor<32x32xf32>) outs(%{{.+}} : tensor<32x32xf32>) {{.*}}step accumulate
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      arith.addf
// CHECK-NEXT:      linalg.yield
// CHECK:         scf.yield %[[MN]], %[[LN]], %[[AN]]
// CHECK:       } {lpattn.kv_loop, lpattn.kv_order = #lpattn<kv_order forward>, lpattn.policy = #lpattn.precision<qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite>}
// O = acc / l * v_ds, rounded to bf16; rows with l = 0 give 0.
// CHECK:       linalg.generic {{.*}} ins(%[[KV]]#2, %[[KV]]#1, %{{.+}} : tensor<32x32xf32>, tensor<32xf32>, f32) outs(%{{.+}} : tensor<32x32xbf16>) {{.*}}step normalize
// CHECK:         arith.divf
// CHECK:         arith.mulf
// CHECK:         arith.select
// CHECK:         lpattn.truncf %{{.+}} rne satfinite : f32 to bf16
// CHECK:       scf.forall.in_parallel
// CHECK-NEXT:    tensor.parallel_insert_slice %{{.+}} into %[[OUT]]
// CHECK-NOT:   lpattn.attention
func.func @fp8_static_tiles(%q: tensor<1x2x64x32xf8E4M3FN>, %k: tensor<1x2x64x32xf8E4M3FN>,
                            %v: tensor<1x2x64x32xf8E4M3FN>) -> tensor<1x2x64x32xbf16> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite>
         tiles = [32, 16]
         : tensor<1x2x64x32xf8E4M3FN>, tensor<1x2x64x32xf8E4M3FN>, tensor<1x2x64x32xf8E4M3FN> -> tensor<1x2x64x32xbf16>
  return %o : tensor<1x2x64x32xbf16>
}

// -----

// Ragged tiles: Nq = 10 and Nk = 20 are not multiples of the tiles [4, 8],
// so the last tiles have min(tile, N - start) rows/keys and dynamic shapes.
// GQA: 4 query heads share 2 KV heads, KV head = h / 2.
// CHECK-LABEL: func.func @ragged_gqa
// CHECK:       scf.forall (%{{.+}}, %[[H:.+]], %{{.+}}) in (1, 4, 3)
// CHECK:       %[[ROWS:.+]] = arith.minsi %{{.+}}, %{{.+}} : index
// CHECK:       tensor.extract_slice %{{.+}}[%{{.+}}, %[[H]], %{{.+}}, 0] [1, 1, %[[ROWS]], 16] [1, 1, 1, 1] : tensor<1x4x10x16xf32> to tensor<?x16xf32>
// CHECK:       %[[KVH:.+]] = arith.divui %[[H]], %{{.+}} : index
// Three KV tiles of 8: ceil(20 / 8).
// CHECK:       scf.for
// CHECK:         %[[COLS:.+]] = arith.minsi
// CHECK:         tensor.extract_slice %{{.+}}[%{{.+}}, %[[KVH]], %{{.+}}, 0] [1, 1, %[[COLS]], 16] [1, 1, 1, 1] : tensor<1x2x20x16xf32> to tensor<?x16xf32>
// CHECK:         linalg.matmul {{.*}} outs(%{{.+}} : tensor<?x?xf32>)
// No cast of P in an f32 policy.
// CHECK-NOT:     lpattn.truncf
// CHECK:       } {lpattn.kv_loop, lpattn.kv_order
func.func @ragged_gqa(%q: tensor<1x4x10x16xf32>, %k: tensor<1x2x20x16xf32>,
                      %v: tensor<1x2x20x16xf32>) -> tensor<1x4x10x16xf32> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         tiles = [4, 8]
         : tensor<1x4x10x16xf32>, tensor<1x2x20x16xf32>, tensor<1x2x20x16xf32> -> tensor<1x4x10x16xf32>
  return %o : tensor<1x4x10x16xf32>
}

// -----

// Causal, bottom-right aligned (Nq = 8, Nk = 12: row r sees keys c <= r + 4)
// and an additive mask. KV tiles right of the diagonal are skipped: the KV
// loop runs to min(ceil((row0 + rows + 4) / 4), 3).
// CHECK-LABEL: func.func @causal_masked
// CHECK:       %[[POS:.+]] = arith.maxsi %{{.+}}, %{{.+}} : index
// CHECK:       %[[T:.+]] = arith.ceildivsi %[[POS]], %{{.+}} : index
// CHECK:       %[[N:.+]] = arith.minsi %[[T]], %{{.+}} : index
// CHECK:       scf.for %{{.+}} = %{{.+}} to %[[N]] step
// The mask tile [b, h, row0, col0] of the [1, 1, 8, 12] mask (broadcast).
// CHECK:         %[[MT:.+]] = tensor.extract_slice %{{.+}} : tensor<1x1x8x12xf32> to tensor<4x4xf32>
// S = S + mask; -inf where col0 + j > row0 + i + (Nk - Nq).
// CHECK:         linalg.generic {{.*}} ins(%{{.+}}, %[[MT]] : tensor<4x4xf32>, tensor<4x4xf32>) {{.*}}step mask
// CHECK:           arith.addf
// CHECK:           linalg.index 0
// CHECK:           linalg.index 1
// CHECK:           arith.cmpi sle
// CHECK:           arith.select %{{.+}}, %{{.+}}, %cst{{.*}} : f32
func.func @causal_masked(%q: tensor<2x2x8x16xf32>, %k: tensor<2x2x12x16xf32>,
                         %v: tensor<2x2x12x16xf32>, %m: tensor<1x1x8x12xf32>) -> tensor<2x2x8x16xf32> {
  %o = lpattn.attention %q, %k, %v mask(%m)
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         causal = true tiles = [4, 4]
         : tensor<2x2x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x16xf32>, tensor<1x1x8x12xf32> -> tensor<2x2x8x16xf32>
  return %o : tensor<2x2x8x16xf32>
}

// -----

// Descales fold into the score scale c * q_ds * k_ds (once, outside the
// loops) and multiply O at the end. bf16 scores: the f32 product is rounded
// to bf16 once; bf16 acc: P~ V_j is summed in f32, rounded to bf16 once,
// and acc * a + P~ V_j rounded to bf16 once more.
// CHECK-LABEL: func.func @descales_bf16_acc
// CHECK-SAME:  %[[QD:[a-z0-9]+]]: f32, %[[KD:[a-z0-9]+]]: f32, %[[VD:[a-z0-9]+]]: f32
// CHECK:       %[[C:.+]] = arith.constant 2.500000e-01 : f32
// CHECK:       %[[CQ:.+]] = arith.mulf %[[C]], %[[QD]] : f32
// CHECK:       %[[CQK:.+]] = arith.mulf %[[CQ]], %[[KD]] : f32
// CHECK:       scf.for
// CHECK:         linalg.matmul {{.*}}qk_mma{{.*}} ins(%{{.+}}, %{{.+}} : tensor<8x16xbf16>, tensor<8x16xbf16>) outs(%{{.+}} : tensor<8x8xf32>)
// S = f32(round_bf16(S)) * (c * q_ds * k_ds).
// CHECK:         linalg.generic {{.*}} ins(%{{.+}}, %[[CQK]] : tensor<8x8xf32>, f32) {{.*}}step score
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      lpattn.truncf %{{.+}} rne nonsat : f32 to bf16
// CHECK-NEXT:      arith.extf %{{.+}} : bf16 to f32
// CHECK-NEXT:      arith.mulf
// A = f32(acc) * a: not rounded.
// CHECK:         %[[AS:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<8x16xf32>) {{.*}}step acc_rescale
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      arith.extf %{{.+}} : bf16 to f32
// CHECK-NEXT:      arith.mulf
// CHECK-NEXT:      linalg.yield
// CHECK:         %[[PV:.+]] = linalg.matmul {{.*}}pv_mma{{.*}} ins(%{{.+}}, %{{.+}} : tensor<8x8xbf16>, tensor<8x16xbf16>) outs(%{{.+}} : tensor<8x16xf32>)
// acc' = round_bf16(A + f32(round_bf16(PV))).
// CHECK:         linalg.generic {{.*}} ins(%[[AS]], %[[PV]] : tensor<8x16xf32>, tensor<8x16xf32>) outs(%{{.+}} : tensor<8x16xbf16>) {{.*}}step accumulate
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      lpattn.truncf %{{.+}} rne nonsat : f32 to bf16
// CHECK-NEXT:      arith.extf %{{.+}} : bf16 to f32
// CHECK-NEXT:      arith.addf
// CHECK-NEXT:      lpattn.truncf %{{.+}} rne nonsat : f32 to bf16
// CHECK-NEXT:      linalg.yield
// CHECK:       linalg.generic {{.*}} ins(%{{.+}}, %{{.+}}, %[[VD]] : tensor<8x16xbf16>, tensor<8xf32>, f32) {{.*}}step normalize
func.func @descales_bf16_acc(%q: tensor<1x1x8x16xbf16>, %k: tensor<1x1x8x16xbf16>, %v: tensor<1x1x8x16xbf16>,
                             %qd: f32, %kd: f32, %vd: f32) -> tensor<1x1x8x16xbf16> {
  %o = lpattn.attention %q, %k, %v descale(%qd, %kd, %vd)
         policy = <qk = bf16, score = bf16, p = bf16, v = bf16, acc = bf16, out = bf16, overflow = nonsat>
         tiles = [8, 8]
         : tensor<1x1x8x16xbf16>, tensor<1x1x8x16xbf16>, tensor<1x1x8x16xbf16> -> tensor<1x1x8x16xbf16>
  return %o : tensor<1x1x8x16xbf16>
}

// -----

// Per-(batch, KV head) descales (FlashAttention-3's form, GQA 4 query heads
// on 2 KV heads): nothing about them outside the scf.forall; in its body,
// after h_kv = h / 2 and before the KV loop, one tensor.extract of each at
// [b, h_kv] (q, k, v in that order), then (c * q_ds) * k_ds in f32, as the
// per-tensor form computes it once. The score step reads that product and
// normalize reads the v_ds element.
// CHECK-LABEL: func.func @per_head_descales
// CHECK-SAME:  %[[QD:[a-z0-9]+]]: tensor<2x2xf32>, %[[KD:[a-z0-9]+]]: tensor<2x2xf32>, %[[VD:[a-z0-9]+]]: tensor<2x2xf32>
// CHECK:       %[[C:.+]] = arith.constant 1.250000e-01 : f32
// CHECK-NOT:   tensor.extract %
// CHECK-NOT:   arith.mulf
// CHECK:       scf.forall (%[[B:[a-z0-9]+]], %[[H:[a-z0-9]+]], %{{[a-z0-9]+}}) in (2, 4, 1)
// CHECK:         %[[TWO:.+]] = arith.constant 2 : index
// CHECK-NEXT:    %[[HKV:.+]] = arith.divui %[[H]], %[[TWO]] : index
// CHECK-NEXT:    %[[Q:.+]] = tensor.extract %[[QD]][%[[B]], %[[HKV]]] : tensor<2x2xf32>
// CHECK-NEXT:    %[[K:.+]] = tensor.extract %[[KD]][%[[B]], %[[HKV]]] : tensor<2x2xf32>
// CHECK-NEXT:    %[[V:.+]] = tensor.extract %[[VD]][%[[B]], %[[HKV]]] : tensor<2x2xf32>
// CHECK-NEXT:    %[[CQ:.+]] = arith.mulf %[[C]], %[[Q]] : f32
// CHECK-NEXT:    %[[CQK:.+]] = arith.mulf %[[CQ]], %[[K]] : f32
// CHECK:         scf.for
// CHECK:           tensor.extract_slice %{{.+}}[%[[B]], %[[HKV]], %{{.+}}, 0]
// CHECK:           linalg.generic {{.*}} ins(%{{.+}}, %[[CQK]] : tensor<8x8xf32>, f32) {{.*}}step score
// CHECK:         } {lpattn.kv_loop
// CHECK:         linalg.generic {{.*}} ins(%{{.+}}, %{{.+}}, %[[V]] : tensor<8x16xf32>, tensor<8xf32>, f32) {{.*}}step normalize
// CHECK:         scf.forall.in_parallel
func.func @per_head_descales(%q: tensor<2x4x8x64xf8E4M3FN>, %k: tensor<2x2x16x64xf8E4M3FN>, %v: tensor<2x2x16x16xf8E4M3FN>,
                             %qd: tensor<2x2xf32>, %kd: tensor<2x2xf32>, %vd: tensor<2x2xf32>) -> tensor<2x4x8x16xbf16> {
  %o = lpattn.attention %q, %k, %v descale(%qd, %kd, %vd : tensor<2x2xf32>)
         policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite>
         p_scale = 256.0 kv_order = reverse tiles = [8, 8]
         : tensor<2x4x8x64xf8E4M3FN>, tensor<2x2x16x64xf8E4M3FN>, tensor<2x2x16x16xf8E4M3FN> -> tensor<2x4x8x16xbf16>
  return %o : tensor<2x4x8x16xbf16>
}

// -----

// Without `tiles` the pass options decide (clamped to the sequence).
// CHECK-LABEL: func.func @default_tiles
// CHECK:       tensor.extract_slice {{.*}} to tensor<64x16xf32>
// CHECK:       tensor.extract_slice {{.*}} to tensor<64x16xf32>
func.func @default_tiles(%q: tensor<1x1x128x16xf32>, %k: tensor<1x1x192x16xf32>, %v: tensor<1x1x192x16xf32>) -> tensor<1x1x128x16xf32> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         : tensor<1x1x128x16xf32>, tensor<1x1x192x16xf32>, tensor<1x1x192x16xf32> -> tensor<1x1x128x16xf32>
  return %o : tensor<1x1x128x16xf32>
}
