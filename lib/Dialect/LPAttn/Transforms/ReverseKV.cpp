//===- ReverseKV.cpp - iterate KV tiles from the last to the first --------===//
//
// P-Cast: attention sinks sit at the start of the sequence. Visiting them last
// means the large rescale exp(m - m') they cause is applied to the f32
// accumulator, not folded into every later P before its FP8 cast.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Dialect/LPAttn/Transforms/Passes.h"
#include "lpattn/Dialect/LPAttn/Transforms/Safeguards.h"

#define DEBUG_TYPE "lpattn-reverse-kv"

namespace lpattn {
#define GEN_PASS_DEF_LPATTNREVERSEKV
#include "lpattn/Dialect/LPAttn/Transforms/Passes.h.inc"
} // namespace lpattn

using namespace mlir;
using namespace lpattn;

LogicalResult lpattn::reverseKVOrder(RewriterBase &rewriter,
                                     scf::ForOp kvLoop) {
  auto order = kvLoop->getAttrOfType<KVOrderAttr>(kKVOrderAttrName);
  if (!order)
    return kvLoop.emitOpError("is not a KV loop (no lpattn.kv_order)");
  if (order.getValue() == KVOrder::Reverse)
    return success(); // Idempotent.
  if (!matchPattern(kvLoop.getLowerBound(), m_Zero()) ||
      !matchPattern(kvLoop.getStep(), m_One()))
    return kvLoop.emitOpError("KV loop must run from 0 in steps of 1");

  // j = (T - 1) - t, T = the loop's trip count (visible tiles only).
  Location loc = kvLoop.getLoc();
  Value iv = kvLoop.getInductionVar();
  rewriter.setInsertionPointToStart(kvLoop.getBody());
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  Value last = arith::SubIOp::create(rewriter, loc, kvLoop.getUpperBound(), one);
  auto reversed = arith::SubIOp::create(rewriter, loc, last, iv);
  setStep(reversed, Step::KVIndex);
  rewriter.replaceAllUsesExcept(iv, reversed, reversed);
  rewriter.modifyOpInPlace(kvLoop, [&] {
    kvLoop->setAttr(kKVOrderAttrName,
                    KVOrderAttr::get(rewriter.getContext(), KVOrder::Reverse));
  });
  return success();
}

namespace {

struct LPAttnReverseKVPass : lpattn::impl::LPAttnReverseKVBase<LPAttnReverseKVPass> {
  using LPAttnReverseKVBase::LPAttnReverseKVBase;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    getOperation().walk([&](AttentionOp op) {
      rewriter.modifyOpInPlace(op, [&] {
        op.setKvOrderAttr(KVOrderAttr::get(&getContext(), KVOrder::Reverse));
      });
    });
    for (scf::ForOp kvLoop : getKVLoops(getOperation()))
      if (failed(reverseKVOrder(rewriter, kvLoop)))
        return signalPassFailure();
  }
};

} // namespace
