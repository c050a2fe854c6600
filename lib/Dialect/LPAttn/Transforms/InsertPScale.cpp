//===- InsertPScale.cpp - P-Cast scaling of P before its cast -------------===//
//
// P~ = cast_p(P * S) and O = acc / (l * S), S a power of two (P-Cast, arXiv
// 2606.06521). Realized as a multiply rather than FlashAttention-3's exp2
// offset (exp2(x + log2 S)): with S a power of two the multiply is exact, so
// the cast sees exactly P * S and the CPU emulation and the GPU agree on
// every bit of P~; adding log2 S inside the exponent rounds x + log2 S first
// and moves P * S by up to an ulp.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Dialect/LPAttn/Transforms/Passes.h"
#include "lpattn/Dialect/LPAttn/Transforms/Safeguards.h"

#include "lpattn/Dialect/LPAttn/Transforms/TileBuilder.h"

#include "llvm/Support/Format.h"

#include "lpattn/Numerics/Rules.h"

#include <cmath>

#define DEBUG_TYPE "lpattn-insert-p-scale"

namespace lpattn {
#define GEN_PASS_DEF_LPATTNINSERTPSCALE
#include "lpattn/Dialect/LPAttn/Transforms/Passes.h.inc"
} // namespace lpattn

using namespace mlir;
using namespace lpattn;

/// The value `step` multiplies by S, if `value` is made by such an op.
static std::optional<double> getScaleOf(Value value, Step step) {
  auto generic = value.getDefiningOp<linalg::GenericOp>();
  if (!generic || getStep(generic) != step)
    return std::nullopt;
  auto attr = generic->getAttrOfType<FloatAttr>(kScaleAttrName);
  if (!attr)
    return std::nullopt;
  return attr.getValueAsDouble();
}

/// x * S elementwise, tagged `step`, remembering S.
static Value scaleBy(OpBuilder &b, Location loc, Step step, Value x,
                     double scale) {
  TileBuilder tb(b, loc);
  Value s = tb.f32Const(scale);
  Value result = tb.map(step, {x, s}, x, b.getF32Type(),
                        [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                          return arith::MulFOp::create(nb, nl, a[0], a[1]);
                        });
  result.getDefiningOp()->setAttr(kScaleAttrName, b.getF64FloatAttr(scale));
  return result;
}

LogicalResult lpattn::insertPScale(RewriterBase &rewriter, scf::ForOp kvLoop,
                                   double scale, double lagLog2) {
  PrecisionPolicyAttr policy = getKVLoopPolicy(kvLoop);
  if (!policy)
    return kvLoop.emitOpError("KV loop has no lpattn.policy");
  if (std::string problem = checkPScale(scale, policy.toPolicy().p, lagLog2);
      !problem.empty())
    return kvLoop.emitError() << problem;

  Block &body = *kvLoop.getBody();
  Operation *pv = findStep(body, Step::PVMma);
  if (!pv)
    return kvLoop.emitOpError("KV loop has no unique pv_mma step");
  // The value the cast (or, without a cast, the PV product) reads.
  OpOperand *castInput = &pv->getOpOperand(0);
  if (Operation *cast = castInput->get().getDefiningOp();
      cast && getStep(cast) == Step::PCast)
    castInput = &cast->getOpOperand(0);

  if (std::optional<double> existing =
          getScaleOf(castInput->get(), Step::PScale)) {
    if (*existing == scale)
      return success(); // Already there: idempotent.
    return kvLoop.emitError()
           << "P is already scaled by " << formatNumber(*existing)
           << "; refusing to scale it again by " << formatNumber(scale);
  }

  // P~ = cast_p(P * S).
  rewriter.setInsertionPoint(castInput->getOwner());
  Value scaled = scaleBy(rewriter, castInput->getOwner()->getLoc(),
                         Step::PScale, castInput->get(), scale);
  rewriter.modifyOpInPlace(castInput->getOwner(),
                           [&] { castInput->set(scaled); });

  // O = acc / (l * S): S divided out exactly at the end.
  for (OpOperand &use : kvLoop.getResult(1).getUses()) {
    Operation *normalize = use.getOwner();
    if (getStep(normalize) != Step::Normalize)
      continue;
    rewriter.setInsertionPoint(normalize);
    Value unscaled = scaleBy(rewriter, normalize->getLoc(), Step::UnscaleSum,
                             use.get(), scale);
    rewriter.modifyOpInPlace(normalize, [&] { use.set(unscaled); });
    return success();
  }
  return kvLoop.emitOpError("KV loop result l feeds no normalize step");
}

namespace {

struct LPAttnInsertPScalePass
    : lpattn::impl::LPAttnInsertPScaleBase<LPAttnInsertPScalePass> {
  using LPAttnInsertPScaleBase::LPAttnInsertPScaleBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    IRRewriter rewriter(&getContext());
    bool failed = false;
    // Graph level: record S on the op (its verifier re-checks it).
    func.walk([&](AttentionOp op) {
      FloatFormat p = op.getPolicy().toPolicy().p;
      double s = scale == 0.0 ? getDefaultPScale(p) : double(scale);
      if (std::string problem = checkPScale(s, p, rescaleLag);
          !problem.empty()) {
        op.emitOpError() << problem;
        failed = true;
        return;
      }
      rewriter.modifyOpInPlace(
          op, [&] { op.setPScaleAttr(rewriter.getF64FloatAttr(s)); });
    });
    // Tile level: insert the multiply and the division.
    for (scf::ForOp kvLoop : getKVLoops(func)) {
      PrecisionPolicyAttr policy = getKVLoopPolicy(kvLoop);
      double s = scale;
      if (s == 0.0 && policy)
        s = getDefaultPScale(policy.toPolicy().p);
      if (mlir::failed(insertPScale(rewriter, kvLoop, s, rescaleLag)))
        failed = true;
    }
    if (failed)
      signalPassFailure();
  }
};

} // namespace
