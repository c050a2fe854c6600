//===- BiasCorrectedSoftmax.cpp - LPTF: no probability exactly 1 ----------===//
//
// LPTF (Qiu & Yao, arXiv 2510.04212): when >= 2 scores of a row tie with the
// running max m', P has several entries exactly 1, and the low-precision
// rounding of the unnormalized P V is biased (the errors add up instead of
// cancelling). Moving m' away from the max makes every P < 1:
//
//   m'' = beta * m'  (m' > 0)        m'' = 0  (m' < 0)
//
// Online softmax is exact for any m'' used consistently for P, l and acc, so
// the result is unchanged. Ties are counted against the running max m' (the
// value at which P = exp(s - m') is exactly 1), within `tol`.
//
// Underflow guard (clamp, not diagnose): the shift d = m'' - m' is limited to
// ln(1 / smallest normal of p), so the largest P of the row, exp(-d), stays a
// normal number of the p type even before any P scale: the rewrite can never
// flush a row of P to zero (for e4m3, d <= 6 ln 2 = 4.16). The bound does not
// depend on the P scale, so this pass and lpattn-insert-p-scale commute.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Dialect/LPAttn/Transforms/Passes.h"
#include "lpattn/Dialect/LPAttn/Transforms/Safeguards.h"

#include "lpattn/Dialect/LPAttn/Transforms/TileBuilder.h"

#include "lpattn/Numerics/Rules.h"

#include <cmath>

#define DEBUG_TYPE "lpattn-bias-corrected-softmax"

namespace lpattn {
#define GEN_PASS_DEF_LPATTNBIASCORRECTEDSOFTMAX
#include "lpattn/Dialect/LPAttn/Transforms/Passes.h.inc"
} // namespace lpattn

using namespace mlir;
using namespace lpattn;

static LogicalResult checkParameters(Operation *anchor, double beta,
                                     double tol) {
  std::string problem =
      checkSoftmaxParameters(SoftmaxVariant::BiasCorrected, beta, tol);
  if (problem.empty())
    return success();
  return anchor->emitError() << problem;
}

LogicalResult lpattn::insertBiasCorrection(RewriterBase &rewriter,
                                           scf::ForOp kvLoop, double beta,
                                           double tol) {
  if (failed(checkParameters(kvLoop, beta, tol)))
    return failure();
  Block &body = *kvLoop.getBody();
  if (Operation *existing = findStep(body, Step::BiasCorrect)) {
    auto oldBeta = existing->getAttrOfType<FloatAttr>(kBetaAttrName);
    auto oldTol = existing->getAttrOfType<FloatAttr>(kTolAttrName);
    if (oldBeta && oldTol && oldBeta.getValueAsDouble() == beta &&
        oldTol.getValueAsDouble() == tol)
      return success(); // Idempotent.
    return kvLoop.emitError()
           << "the bias-corrected softmax is already applied with other "
              "parameters";
  }
  Operation *rowMax = findStep(body, Step::RowMax);
  PrecisionPolicyAttr policy = getKVLoopPolicy(kvLoop);
  if (!rowMax || !policy)
    return kvLoop.emitOpError("KV loop has no unique row_max step or policy");
  Value s = rowMax->getOperand(0);
  Value mNew = rowMax->getResult(0);
  // Every later use (P, the rescale, the carried max) will see m''; taken
  // now, before the new ops add uses of their own.
  SmallVector<OpOperand *> laterUses = llvm::to_vector(llvm::map_range(
      mNew.getUses(), [](OpOperand &use) { return &use; }));

  double maxShift =
      std::log(1.0 / getSmallestNormal(policy.toPolicy().p));
  Location loc = rowMax->getLoc();
  rewriter.setInsertionPointAfter(rowMax);
  TileBuilder tb(rewriter, loc);

  // ties = #{ s : s >= m' - tol } per row.
  Value tolValue = tb.f32Const(tol);
  Value zeros = tb.filled(tensor::getMixedSizes(rewriter, loc, mNew),
                          rewriter.getF32Type(), 0.0);
  Value ties = tb.reduceRows(
      Step::TieCount, s, {mNew, tolValue}, zeros,
      [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        Value bound = arith::SubFOp::create(nb, nl, a[1], a[2]);
        Value near = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGE,
                                           a[0], bound);
        Value one = arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(1));
        Value zero = arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(0));
        Value count = arith::SelectOp::create(nb, nl, near, one, zero);
        return arith::AddFOp::create(nb, nl, a[3], count);
      });

  // m'' = m' + min(d, maxShift), d = (beta - 1) m' (m' > 0) or -m' (m' < 0),
  // where ties >= 2 and m' is finite and non-zero; else m'' = m'.
  Value betaMinusOne = tb.f32Const(beta - 1.0);
  Value maxShiftValue = tb.f32Const(maxShift);
  Value mBiased = tb.map(
      Step::BiasCorrect, {mNew, ties, betaMinusOne, maxShiftValue}, mNew,
      rewriter.getF32Type(),
      [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        Value m = a[0];
        auto f = [&](float v) {
          return arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(v));
        };
        Value positive =
            arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGT, m, f(0));
        Value up = arith::MulFOp::create(nb, nl, m, a[2]);
        Value toZero = arith::NegFOp::create(nb, nl, m);
        Value shift = arith::SelectOp::create(nb, nl, positive, up, toZero);
        shift = arith::MinimumFOp::create(nb, nl, shift, a[3]);
        Value shifted = arith::AddFOp::create(nb, nl, m, shift);
        Value tied =
            arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGE, a[1], f(2));
        Value nonZero =
            arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::ONE, m, f(0));
        Value finite = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::ONE,
                                             m, f(-INFINITY));
        Value apply = arith::AndIOp::create(nb, nl, tied, nonZero);
        apply = arith::AndIOp::create(nb, nl, apply, finite);
        return arith::SelectOp::create(nb, nl, apply, shifted, m);
      });
  Operation *biasOp = mBiased.getDefiningOp();
  biasOp->setAttr(kBetaAttrName, rewriter.getF64FloatAttr(beta));
  biasOp->setAttr(kTolAttrName, rewriter.getF64FloatAttr(tol));
  for (OpOperand *use : laterUses)
    rewriter.modifyOpInPlace(use->getOwner(), [&] { use->set(mBiased); });
  return success();
}

namespace {

struct LPAttnBiasCorrectedSoftmaxPass
    : lpattn::impl::LPAttnBiasCorrectedSoftmaxBase<LPAttnBiasCorrectedSoftmaxPass> {
  using LPAttnBiasCorrectedSoftmaxBase::LPAttnBiasCorrectedSoftmaxBase;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    bool failed = false;
    getOperation().walk([&](AttentionOp op) {
      if (op.getSoftmaxVariant() == SoftmaxVariant::Pasa) {
        op.emitOpError("already uses the PASA softmax; the bias-corrected "
                       "softmax would replace it");
        failed = true;
        return;
      }
      if (mlir::failed(checkParameters(op, beta, tol))) {
        failed = true;
        return;
      }
      rewriter.modifyOpInPlace(op, [&] {
        op.setSoftmaxAttr(SoftmaxAttr::getExact(
            &getContext(), SoftmaxVariant::BiasCorrected, beta, tol));
      });
    });
    for (scf::ForOp kvLoop : getKVLoops(getOperation()))
      if (mlir::failed(insertBiasCorrection(rewriter, kvLoop, beta, tol)))
        failed = true;
    if (failed)
      signalPassFailure();
  }
};

} // namespace
