//===- PredictCollapse.cpp - P-Cast's collapse threshold as remarks -------===//
//
// P-Cast (arXiv 2606.06521): with attention sinks at the start of the
// sequence, forward KV order sets the running max at the sink's logit, and a
// non-sink P = exp(s - m) flushes to 0 in the cast once P * S <= u, u the
// largest value the p type rounds to 0. Half of the non-sink P flush at the
// sink strength Delta_c = ln(1/u) + ln S - delta_k (Numerics/Rules.h). This
// pass reports Delta_c per op and warns where a known sink strength exceeds
// it. It changes nothing.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Dialect/LPAttn/Transforms/Passes.h"

#include "lpattn/Numerics/Formats.h"
#include "lpattn/Numerics/Rules.h"

#include "llvm/Support/Format.h"

#include <cmath>

#define DEBUG_TYPE "lpattn-predict-collapse"

namespace lpattn {
#define GEN_PASS_DEF_LPATTNPREDICTCOLLAPSE
#include "lpattn/Dialect/LPAttn/Transforms/Passes.h.inc"
} // namespace lpattn

using namespace mlir;
using namespace lpattn;

namespace {

/// Two decimals: the precision the threshold is claimed to (0.05).
std::string fixed2(double value) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%.2f", value);
  return text;
}

struct LPAttnPredictCollapsePass
    : lpattn::impl::LPAttnPredictCollapseBase<LPAttnPredictCollapsePass> {
  using LPAttnPredictCollapseBase::LPAttnPredictCollapseBase;

  LogicalResult initialize(MLIRContext *context) override {
    // The options, once for the whole run (-1 is "no sink strength").
    double strength = sinkStrength == -1.0 ? 0.0 : double(sinkStrength);
    std::string problem = checkSinkHint(strength, sinks, jitter);
    if (problem.empty() && tileKV <= 0)
      problem = "tile-kv must be positive, got " +
                std::to_string(static_cast<int64_t>(tileKV));
    if (problem.empty())
      return success();
    return emitError(UnknownLoc::get(context))
           << "lpattn-predict-collapse: " << problem
           << (problem.rfind("sink strength", 0) == 0
                   ? " (sink-strength = -1: none)"
                   : "");
  }

  void runOnOperation() override {
    getOperation().walk([&](AttentionOp op) { predict(op); });
  }

  void predict(AttentionOp op) {
    FloatFormat p = op.getPolicy().toPolicy().p;
    double scale = op.getPScale().convertToDouble();
    auto strengthAttr = LPAttnDialect::SinkStrengthAttrHelper(&getContext());
    auto countAttr = LPAttnDialect::SinkCountAttrHelper(&getContext());
    auto jitterAttr = LPAttnDialect::SinkJitterAttrHelper(&getContext());
    std::optional<double> strength;
    if (FloatAttr attr = strengthAttr.getAttr(op))
      strength = attr.getValueAsDouble();
    else if (sinkStrength != -1.0)
      strength = sinkStrength;
    int64_t k = sinks;
    if (IntegerAttr attr = countAttr.getAttr(op))
      k = attr.getInt();
    double sigma = jitter;
    if (FloatAttr attr = jitterAttr.getAttr(op))
      sigma = attr.getValueAsDouble();

    double u = getLargestFlushedToZero(p);
    double excess = getSinkExcess(k, sigma);
    double threshold = getCollapseThreshold(p, scale, k, sigma);
    std::string type(stringifyFloatFormat(p));
    op.emitRemark() << "P-Cast collapse threshold Delta_c = "
                    << fixed2(threshold) << " = ln(1/u) " << fixed2(-std::log(u))
                    << " (u = 2^" << std::ilogb(u)
                    << ", the largest P that rounds to 0 in " << type
                    << ") + ln S " << fixed2(std::log(scale))
                    << " (p_scale = " << formatNumber(scale)
                    << ") - delta_k " << fixed2(excess) << " (sinks = " << k
                    << ", jitter = " << formatNumber(sigma) << ")";
    if (!strength || *strength <= threshold)
      return;

    // Above the threshold: name the fixes not yet applied.
    double safeScale = getDefaultPScale(p);
    bool forward = op.getKvOrder() == KVOrder::Forward;
    int64_t numKeys = op.getKey().getType().getDimSize(2);
    int64_t bc = tileKV;
    if (std::optional<ArrayRef<int64_t>> tiles = op.getTileSizes())
      bc = (*tiles)[1];
    InFlightDiagnostic warning = op.emitWarning();
    warning << "P-collapse: sink strength Delta = " << formatNumber(*strength)
            << " exceeds Delta_c = " << fixed2(threshold) << "; ";
    if (forward)
      warning << "in forward KV order over half of the non-sink P flush to 0 "
                 "in the "
              << type << " cast";
    else
      warning << "in reverse KV order the non-sink keys in the sink's KV "
                 "tile flush to 0";
    SmallVector<std::string> fixes;
    if (scale < safeScale)
      fixes.push_back("p_scale = " + formatNumber(safeScale) +
                      " (the largest safe power of two for " + type +
                      ": Delta_c = " +
                      fixed2(getCollapseThreshold(p, safeScale, k, sigma)) +
                      ")");
    if (forward)
      fixes.push_back("kv_order = reverse");
    if (!fixes.empty())
      warning << "; fix: " << llvm::join(fixes, " and ")
              << " (lpattn-robust-fp8)";
    if (ShapedType::isDynamic(numKeys)) {
      warning << "; in reverse order the non-sink keys in the sink's KV "
                 "tile stay exposed (Nk is dynamic)";
      return;
    }
    bc = std::min(bc, numKeys);
    int64_t exposed = getSinkTileExposedKeys(numKeys, bc, k);
    int64_t nonSink = std::max<int64_t>(numKeys - k, 0);
    double share = nonSink ? 100.0 * double(exposed) / double(nonSink) : 0.0;
    warning << "; " << (forward ? "in reverse order " : "") << exposed
            << " of the " << nonSink
            << " non-sink keys (the rest of the sink's KV tile, Bc = " << bc
            << ") stay exposed: " << fixed2(share) << " %";
  }
};

} // namespace
