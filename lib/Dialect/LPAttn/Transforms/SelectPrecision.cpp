//===- SelectPrecision.cpp - the cheapest safe policy per attention -------===//
//
// Reads what is known about each graph-level lpattn.attention (logit bound,
// common score offset, sink hint, softmax scale), lets selectPrecision
// (Numerics/Selection.h, where the cost table and every rule live) pick the
// cheapest candidate policy that is safe, rewrites the op to it (policy,
// P scale, KV order, softmax, operand types) and explains the choice in one
// remark.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Dialect/LPAttn/Transforms/Passes.h"

#include "lpattn/Numerics/Formats.h"
#include "lpattn/Numerics/Selection.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringExtras.h"

#define DEBUG_TYPE "lpattn-select-precision"

namespace lpattn {
#define GEN_PASS_DEF_LPATTNSELECTPRECISION
#include "lpattn/Dialect/LPAttn/Transforms/Passes.h.inc"
} // namespace lpattn

using namespace mlir;
using namespace lpattn;

namespace {

/// An option value, -1 meaning "not given".
std::optional<double> optionValue(double value) {
  if (value == -1.0)
    return std::nullopt;
  return value;
}

/// `value` with element type `type`: a block argument of a function nothing
/// in the module calls, used only by `op` in operand slots that want that
/// type (`slotTypes`: Q, K, V), is retyped (the caller's data is then
/// rounded to it, as lpattn-run does); anything else is converted here,
/// exactly to f32 and rounded once.
Value convertOperand(RewriterBase &rewriter, AttentionOp op, Value value,
                     FloatType type, ArrayRef<FloatType> slotTypes,
                     OverflowMode overflow, ModuleOp module) {
  auto tensorType = cast<RankedTensorType>(value.getType());
  if (tensorType.getElementType() == type)
    return value;
  RankedTensorType newType = tensorType.clone(type);
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    auto func = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
    bool onlyThisOp = llvm::all_of(arg.getUses(), [&](OpOperand &use) {
      unsigned slot = use.getOperandNumber();
      return use.getOwner() == op.getOperation() && slot < slotTypes.size() &&
             slotTypes[slot] == type;
    });
    if (func && arg.getOwner()->isEntryBlock() && onlyThisOp &&
        SymbolTable::symbolKnownUseEmpty(func, module)) {
      arg.setType(newType);
      SmallVector<Type> inputs(arg.getOwner()->getArgumentTypes());
      func.setFunctionType(FunctionType::get(func.getContext(), inputs,
                                             func.getResultTypes()));
      return arg;
    }
  }
  Location loc = op.getLoc();
  Value wide = value;
  if (!tensorType.getElementType().isF32())
    wide = arith::ExtFOp::create(rewriter, loc,
                                 tensorType.clone(rewriter.getF32Type()), wide);
  if (type.isF32())
    return wide;
  return TruncFOp::create(rewriter, loc, newType, wide,
                          OverflowModeAttr::get(rewriter.getContext(),
                                                overflow));
}

struct LPAttnSelectPrecisionPass
    : lpattn::impl::LPAttnSelectPrecisionBase<LPAttnSelectPrecisionPass> {
  using LPAttnSelectPrecisionBase::LPAttnSelectPrecisionBase;

  LogicalResult initialize(MLIRContext *context) override {
    std::string problem;
    if (logitBound != -1.0)
      problem = checkLogitHint("logit-bound", logitBound);
    if (problem.empty() && scoreOffset != -1.0)
      problem = checkLogitHint("score-offset", scoreOffset);
    if (problem.empty()) {
      problem = checkSinkHint(sinkStrength == -1.0 ? 0.0 : double(sinkStrength),
                              sinks, jitter);
      if (problem.rfind("sink strength", 0) == 0)
        problem += " (sink-strength = -1: unknown)";
    }
    if (problem.empty())
      problem = checkMaxLogitError(maxLogitError);
    if (problem.empty())
      return success();
    return emitError(UnknownLoc::get(context))
           << "lpattn-select-precision: " << problem
           << (problem.rfind("logit-bound", 0) == 0 ||
                       problem.rfind("score-offset", 0) == 0
                   ? " (-1: unknown)"
                   : "");
  }

  void runOnOperation() override {
    SmallVector<AttentionOp> ops;
    getOperation().walk([&](AttentionOp op) { ops.push_back(op); });
    for (AttentionOp op : ops)
      if (failed(select(op)))
        return signalPassFailure();
  }

  /// The hints of `op`: its attributes, else the options.
  FailureOr<SelectionHints> getHints(AttentionOp op) {
    MLIRContext *ctx = &getContext();
    SelectionHints hints;
    auto read = [&](FloatAttr attr, double option) {
      return attr ? std::optional(attr.getValueAsDouble())
                  : optionValue(option);
    };
    hints.logitBound =
        read(LPAttnDialect::LogitBoundAttrHelper(ctx).getAttr(op), logitBound);
    hints.scoreOffset = read(
        LPAttnDialect::ScoreOffsetAttrHelper(ctx).getAttr(op), scoreOffset);
    hints.sinkStrength = read(
        LPAttnDialect::SinkStrengthAttrHelper(ctx).getAttr(op), sinkStrength);
    hints.sinkCount = sinks;
    if (IntegerAttr attr = LPAttnDialect::SinkCountAttrHelper(ctx).getAttr(op))
      hints.sinkCount = attr.getInt();
    hints.sinkJitter = *read(
        LPAttnDialect::SinkJitterAttrHelper(ctx).getAttr(op), jitter);
    hints.softmaxScale = op.getSoftmaxScale().convertToDouble();
    hints.hasDescales = !op.getDescales().empty();
    hints.biasCorrected =
        op.getSoftmaxVariant() == SoftmaxVariant::BiasCorrected;
    hints.maxLogitError = maxLogitError;
    // A common offset is part of the scores, so it cannot exceed their bound.
    if (hints.logitBound && hints.scoreOffset &&
        *hints.scoreOffset > *hints.logitBound)
      return op.emitError() << "lpattn-select-precision: the score offset "
                            << formatNumber(*hints.scoreOffset)
                            << " exceeds the logit bound "
                            << formatNumber(*hints.logitBound)
                            << " of the same scores";
    return hints;
  }

  LogicalResult select(AttentionOp op) {
    FailureOr<SelectionHints> hints = getHints(op);
    if (failed(hints))
      return failure();
    PrecisionChoice choice = selectPrecision(*hints);
    const CandidatePolicy &candidate = *choice.candidate;

    MLIRContext *ctx = &getContext();
    PrecisionPolicy policy = op.getPolicy().toPolicy();
    policy.qk = candidate.qk;
    policy.score = candidate.score;
    policy.p = candidate.p;
    policy.v = candidate.v;
    policy.acc = FloatFormat::F32;

    IRRewriter rewriter(ctx);
    rewriter.setInsertionPoint(op);
    auto module = getOperation();
    FloatType qkType = getType(ctx, policy.qk), vType = getType(ctx, policy.v);
    FloatType slotTypes[] = {qkType, qkType, vType};
    Value query = convertOperand(rewriter, op, op.getQuery(), qkType, slotTypes,
                                 policy.overflow, module);
    Value key = convertOperand(rewriter, op, op.getKey(), qkType, slotTypes,
                               policy.overflow, module);
    Value value = convertOperand(rewriter, op, op.getValue(), vType, slotTypes,
                                 policy.overflow, module);
    rewriter.modifyOpInPlace(op, [&] {
      op.getQueryMutable().assign(query);
      op.getKeyMutable().assign(key);
      op.getValueMutable().assign(value);
      op.setPolicyAttr(PrecisionPolicyAttr::get(ctx, policy));
      op.setPScaleAttr(rewriter.getF64FloatAttr(choice.pScale));
      if (choice.reverseKV)
        op.setKvOrderAttr(KVOrderAttr::get(ctx, KVOrder::Reverse));
      if (choice.pasa)
        op.setSoftmaxAttr(SoftmaxAttr::getWithDefaults(ctx, SoftmaxVariant::Pasa));
    });

    std::string types = "qk = " + getFormatName(policy.qk).str() +
                        ", score = " + getFormatName(policy.score).str() +
                        ", p = " + getFormatName(policy.p).str() +
                        ", v = " + getFormatName(policy.v).str() +
                        ", acc = f32";
    std::string text = "selected '" + std::string(candidate.name) + "' (" +
                       types + "; " + candidate.cost + "): " +
                       llvm::join(choice.reasons, "; ");
    if (!choice.rejected.empty())
      text += "; cheaper candidates rejected: " +
              llvm::join(choice.rejected, "; ");
    if (choice.safe)
      op.emitRemark() << text;
    else
      op.emitWarning() << "no candidate policy is safe; " << text;
    return success();
  }
};

} // namespace
