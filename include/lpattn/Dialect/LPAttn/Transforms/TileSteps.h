//===- TileSteps.h - one builder per numerics step --------------*- C++ -*-===//
//
// The flash-attention forward of SPEC.md, one builder per numerics step (as
// IREE's AggregatedOpInterfaceImpl builds each online-softmax step in its
// own helper). lpattn-tile composes them into the tile-level form; a target
// lowering (the GPU kernel builder) reuses them, so that every elementwise
// numerics step is written once. Each builder emits ops tagged with their
// `lpattn.step` and the precision in their types.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_DIALECT_LPATTN_TRANSFORMS_TILESTEPS_H
#define LPATTN_DIALECT_LPATTN_TRANSFORMS_TILESTEPS_H

#include "lpattn/Dialect/LPAttn/Transforms/TileBuilder.h"

namespace lpattn {

/// S = sum_k f32(Q_i) f32(K_j), a [rows, cols] tile: inputs in the qk type,
/// summed in f32 as a tensor core does (qk_mma).
mlir::Value buildQKProduct(TileBuilder &tb, mlir::Value qi, mlir::Value kj,
                           mlir::OpFoldResult rows, mlir::OpFoldResult cols);

/// S = f32(round_score(S)) * (c * q_ds * k_ds): the product rounded to the
/// score type once, then scaled in f32 (score). With a qk scale s != 1 (a
/// power of two, lpattn.qk_scale of lpattn-geometry-scale): S =
/// (f32(round_score(S * s)) * (1 / s)) * (c * q_ds * k_ds), the same bits
/// wherever S itself neither overflows the score type nor is subnormal in
/// it, and finite where S * s fits; s is recorded as the step's
/// lpattn.scale.
mlir::Value buildScore(TileBuilder &tb, mlir::Value s, mlir::Value scale,
                       PrecisionPolicyAttr policy, double qkScale = 1.0);

/// S + mask, then -inf right of the bottom-right aligned diagonal when
/// `causal`: key col0 + j is visible to query row0 + i iff
/// col0 + j <= row0 + i + diagonal (diagonal = Nk - Nq) (mask).
/// `maskTile` may be null.
mlir::Value buildMask(TileBuilder &tb, mlir::Value s, mlir::Value maskTile,
                      bool causal, mlir::Value row0, mlir::Value col0,
                      int64_t diagonal);

/// m' = max(m, rowmax(S)) (row_max).
mlir::Value buildRowMax(TileBuilder &tb, mlir::Value s, mlir::Value m);

/// m' where some key is visible, else 0: rows with no visible key so far
/// keep m' = -inf, and exp(S - m') would be exp(-inf + inf) = NaN; with 0,
/// P = 0 (max_guard).
mlir::Value buildMaxGuard(TileBuilder &tb, mlir::Value mNew);

/// P = exp(S - m'), f32 (exp).
mlir::Value buildExp(TileBuilder &tb, mlir::Value s, mlir::Value mSafe);

/// a = exp(m - m'), f32 (rescale_factor).
mlir::Value buildRescaleFactor(TileBuilder &tb, mlir::Value m,
                               mlir::Value mSafe);

/// l' = l * a + rowsum(P), from the uncast P (as FA3), f32 (row_sum).
mlir::Value buildRowSum(TileBuilder &tb, mlir::Value l, mlir::Value alpha,
                        mlir::Value p);

/// P~ = cast_p(P): round to nearest even, overflow per the policy; P itself
/// for p = f32 (p_cast).
mlir::Value buildPCast(TileBuilder &tb, mlir::Value p,
                       PrecisionPolicyAttr policy);

/// acc' = round_acc(f32(acc) * a + f32(round_acc(P~ V_j))): the rescale in
/// f32 (acc_rescale), the product of p and v inputs summed in f32 (pv_mma),
/// and one rounding of their sum to the acc type (accumulate).
mlir::Value buildAccUpdate(TileBuilder &tb, mlir::Value acc,
                           mlir::Value alpha, mlir::Value pCast,
                           mlir::Value vj, PrecisionPolicyAttr policy);

/// O = acc / l * v_ds -> out; rows that saw no key (l = 0) give 0
/// (normalize). Writes into `outTile` (destination-passing style).
mlir::Value buildNormalize(TileBuilder &tb, mlir::Value acc, mlir::Value l,
                           mlir::Value valueDescale, mlir::Value outTile,
                           PrecisionPolicyAttr policy);

} // namespace lpattn

#endif // LPATTN_DIALECT_LPATTN_TRANSFORMS_TILESTEPS_H
