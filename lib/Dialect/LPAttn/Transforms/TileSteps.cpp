//===- TileSteps.cpp - one builder per numerics step ----------------------===//
//
// Each builder is one line of the SPEC loop; the formula heads it.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Dialect/LPAttn/Transforms/TileSteps.h"
#include "lpattn/Dialect/LPAttn/Transforms/Safeguards.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;
using namespace lpattn;

// Where the roundings happen (SPEC.md): a tensor core sums the k dimension
// of a tile product in f32 and rounds the result to the accumulator type
// once, when it leaves the MMA. So each product accumulates into a fresh f32
// zero tile (never into a low-precision one, which would round after every
// multiply-add and lose every small term once a large one is in) and is
// rounded once by the step that consumes it.

Value lpattn::buildQKProduct(TileBuilder &tb, Value qi, Value kj,
                             OpFoldResult rows, OpFoldResult cols) {
  // S = sum_k f32(Q_i) f32(K_j): qk inputs, summed in f32 (the MMA's own
  // accumulator).
  Value init = tb.filled({rows, cols}, tb.b.getF32Type(), 0.0);
  return tb.matmul(Step::QKMma, qi, kj, init, /*transposeB=*/true);
}

Value lpattn::buildScore(TileBuilder &tb, Value s, Value scale,
                         PrecisionPolicyAttr policy, double qkScale) {
  // S = f32(round_score(S)) * (c * q_ds * k_ds): the product leaves the MMA
  // rounded to the score type, once; the scaling is f32. A qk scale s is
  // applied around the rounding only, as powers of two (exact in f32), so
  // that c * q_ds * k_ds, which PASA's recovered shift reuses, is unchanged.
  Type scoreType = policy.getScore();
  OverflowMode overflow = policy.getOverflow();
  Value result = tb.map(
      Step::Score, {s, scale}, s, tb.b.getF32Type(),
      [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        TileBuilder t(nb, nl);
        Value raw = a[0];
        if (qkScale != 1.0)
          raw = arith::MulFOp::create(nb, nl, raw, t.f32Const(qkScale));
        Value rounded = t.toF32(t.fromF32(raw, scoreType, overflow));
        if (qkScale != 1.0)
          rounded = arith::MulFOp::create(nb, nl, rounded,
                                          t.f32Const(1.0 / qkScale));
        return arith::MulFOp::create(nb, nl, rounded, a[1]);
      });
  if (qkScale != 1.0)
    result.getDefiningOp()->setAttr(kScaleAttrName,
                                    tb.b.getF64FloatAttr(qkScale));
  return result;
}

Value lpattn::buildMask(TileBuilder &tb, Value s, Value maskTile, bool causal,
                        Value row0, Value col0, int64_t diagonal) {
  // S = S + mask; S = -inf where col0 + j > row0 + i + (Nk - Nq).
  SmallVector<Value> inputs{s};
  if (maskTile)
    inputs.push_back(maskTile);
  return tb.map(
      Step::Mask, inputs, s, tb.b.getF32Type(),
      [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        Value v = a[0];
        if (maskTile)
          v = arith::AddFOp::create(nb, nl, v, a[1]);
        if (!causal)
          return v;
        Value i = linalg::IndexOp::create(nb, nl, 0);
        Value j = linalg::IndexOp::create(nb, nl, 1);
        Value row = arith::AddIOp::create(nb, nl, row0, i);
        Value col = arith::AddIOp::create(nb, nl, col0, j);
        Value limit = arith::AddIOp::create(
            nb, nl, row, arith::ConstantIndexOp::create(nb, nl, diagonal));
        Value visible = arith::CmpIOp::create(
            nb, nl, arith::CmpIPredicate::sle, col, limit);
        Value ninf =
            arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(-INFINITY));
        return arith::SelectOp::create(nb, nl, visible, v, ninf);
      });
}

Value lpattn::buildRowMax(TileBuilder &tb, Value s, Value m) {
  // m' = max(m, rowmax(S)).
  return tb.reduceRows(Step::RowMax, s, {}, m,
                       [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                         return arith::MaximumFOp::create(nb, nl, a[0], a[1]);
                       });
}

Value lpattn::buildMaxGuard(TileBuilder &tb, Value mNew) {
  // m' = (m' == -inf) ? 0 : m'.
  return tb.map(Step::MaxGuard, {mNew}, mNew, tb.b.getF32Type(),
                [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                  Value ninf = arith::ConstantOp::create(
                      nb, nl, nb.getF32FloatAttr(-INFINITY));
                  Value none = arith::CmpFOp::create(
                      nb, nl, arith::CmpFPredicate::OEQ, a[0], ninf);
                  Value zero = arith::ConstantOp::create(
                      nb, nl, nb.getF32FloatAttr(0.0f));
                  return arith::SelectOp::create(nb, nl, none, zero, a[0]);
                });
}

/// exp(x - y), f32, tagged `step`.
static Value expOfDifference(TileBuilder &tb, Step step, Value x, Value y) {
  return tb.map(step, {x, y}, x, tb.b.getF32Type(),
                [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                  Value d = arith::SubFOp::create(nb, nl, a[0], a[1]);
                  return math::ExpOp::create(nb, nl, d);
                });
}

Value lpattn::buildExp(TileBuilder &tb, Value s, Value mSafe) {
  // P = exp(S - m').
  return expOfDifference(tb, Step::Exp, s, mSafe);
}

Value lpattn::buildRescaleFactor(TileBuilder &tb, Value m, Value mSafe) {
  // a = exp(m - m').
  return expOfDifference(tb, Step::RescaleFactor, m, mSafe);
}

Value lpattn::buildRowSum(TileBuilder &tb, Value l, Value alpha, Value p) {
  // l' = l * a + rowsum(P).
  Value lScaled =
      tb.map(Step::RowSum, {l, alpha}, l, tb.b.getF32Type(),
             [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
               return arith::MulFOp::create(nb, nl, a[0], a[1]);
             });
  return tb.reduceRows(Step::RowSum, p, {}, lScaled,
                       [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                         return arith::AddFOp::create(nb, nl, a[0], a[1]);
                       });
}

Value lpattn::buildPCast(TileBuilder &tb, Value p, PrecisionPolicyAttr policy) {
  // P~ = cast_p(P), RNE, overflow per the policy.
  if (policy.getP().isF32())
    return p;
  auto castOp = TruncFOp::create(
      tb.b, tb.loc,
      RankedTensorType::get(cast<RankedTensorType>(p.getType()).getShape(),
                            policy.getP()),
      p, OverflowModeAttr::get(tb.b.getContext(), policy.getOverflow()));
  setStep(castOp, Step::PCast);
  return castOp;
}

Value lpattn::buildAccUpdate(TileBuilder &tb, Value acc, Value alpha,
                             Value pCast, Value vj,
                             PrecisionPolicyAttr policy) {
  Type f32 = tb.b.getF32Type();
  Type accType = policy.getAcc();
  OverflowMode overflow = policy.getOverflow();
  // A = f32(acc) * a, kept in f32 until the one rounding below.
  Value accScaled =
      tb.map(Step::AccRescale, {acc, alpha}, acc, f32,
             [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
               TileBuilder t(nb, nl);
               return arith::MulFOp::create(nb, nl, t.toF32(a[0]), a[1]);
             });
  // PV = sum_k f32(P~) f32(V_j): p and v inputs, summed in f32 (the MMA's
  // own accumulator).
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(tb.b, tb.loc, acc);
  Value pv = tb.matmul(Step::PVMma, pCast, vj, tb.filled(sizes, f32, 0.0),
                       /*transposeB=*/false);
  // acc' = round_acc(A + f32(round_acc(PV))): the product leaves the MMA
  // rounded to the acc type, and the running output is kept in the acc type
  // between KV tiles.
  return tb.map(Step::Accumulate, {accScaled, pv}, acc, accType,
                [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                  TileBuilder t(nb, nl);
                  Value product = t.toF32(t.fromF32(a[1], accType, overflow));
                  Value sum = arith::AddFOp::create(nb, nl, a[0], product);
                  return t.fromF32(sum, accType, overflow);
                });
}

Value lpattn::buildNormalize(TileBuilder &tb, Value acc, Value l,
                             Value valueDescale, Value outTile,
                             PrecisionPolicyAttr policy) {
  // O = (l == 0) ? 0 : acc / l * v_ds, rounded to the out type.
  Type outElt = policy.getOut();
  OverflowMode overflow = policy.getOverflow();
  return tb.map(
      Step::Normalize, {acc, l, valueDescale}, acc, outElt,
      [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        TileBuilder t(nb, nl);
        Value zero = arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(0.0f));
        Value empty = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ,
                                            a[1], zero);
        Value div = arith::DivFOp::create(nb, nl, t.toF32(a[0]), a[1]);
        Value scaled = arith::MulFOp::create(nb, nl, div, a[2]);
        Value v = arith::SelectOp::create(nb, nl, empty, zero, scaled);
        return t.fromF32(v, outElt, overflow);
      },
      outTile);
}
