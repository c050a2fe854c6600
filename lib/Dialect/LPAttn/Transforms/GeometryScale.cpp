//===- GeometryScale.cpp - RASB geometry-aware logit scale ----------------===//
//
// RASB (SPEC.md, "Geometry-aware logit scale"): the logits of an attention
// are bounded by B_X^2 sigma, sigma = ||W_q^T W_k||_2 of its projection
// weights (||W_q||_2 ||W_k||_2 with RoPE, option `rope`), before any
// activation is seen. This pass finds sigma per query
// head (from lpattn.qk_sigma or the constant weights in the IR), records the
// bound the softmax sees and the power-of-two scale s that puts alpha times
// the bound on Q K^T inside the score type; lpattn-tile multiplies the
// product by s before its rounding to the score type and by 1 / s after it,
// so the attention stays the same. The numerics live in Numerics/Geometry.h;
// this file finds the weights and writes the attributes.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Dialect/LPAttn/Transforms/Passes.h"

#include "lpattn/Numerics/Formats.h"
#include "lpattn/Numerics/Geometry.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/Format.h"

#include <cmath>

#define DEBUG_TYPE "lpattn-geometry-scale"

namespace lpattn {
#define GEN_PASS_DEF_LPATTNGEOMETRYSCALE
#include "lpattn/Dialect/LPAttn/Transforms/Passes.h.inc"
} // namespace lpattn

using namespace mlir;
using namespace lpattn;

namespace {

/// Six significant digits: what a remark needs to be read and checked.
std::string sig6(double value) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%.6g", value);
  return text;
}

/// A projection `x @ B` found behind an attention operand: its weight as
/// nn.Linear stores it, [outFeatures x modelDim] row-major.
struct Projection {
  std::vector<float> weight;
  int64_t outFeatures = 0, modelDim = 0;
};

/// The values of a constant float tensor (dense or dense_resource) of any
/// float element type, as float; an error sentence if there are none.
FailureOr<std::vector<float>> readConstant(Attribute attr, std::string &why) {
  auto type = dyn_cast<ShapedType>(cast<TypedAttr>(attr).getType());
  auto elementType = type ? dyn_cast<FloatType>(type.getElementType())
                          : FloatType();
  if (!elementType) {
    why = "the weight constant is not a float tensor";
    return failure();
  }
  std::vector<float> values;
  values.reserve(type.getNumElements());
  auto push = [&](APFloat value) {
    bool losesInfo = false;
    value.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven,
                  &losesInfo);
    values.push_back(value.convertToFloat());
  };
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    for (APFloat value : dense.getValues<APFloat>())
      push(value);
    return values;
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob) {
      why = "the weight dense_resource '" +
            resource.getRawHandle().getKey().str() + "' has no data";
      return failure();
    }
    ArrayRef<char> bytes = blob->getData();
    unsigned width = elementType.getWidth();
    if (width % 8 != 0 ||
        static_cast<int64_t>(bytes.size()) !=
            type.getNumElements() * int64_t(width / 8)) {
      why = "the weight dense_resource '" +
            resource.getRawHandle().getKey().str() + "' holds " +
            std::to_string(bytes.size()) + " bytes, not " +
            std::to_string(type.getNumElements()) + " x " +
            std::to_string(width / 8);
      return failure();
    }
    for (int64_t i = 0; i < type.getNumElements(); ++i) {
      // The blob is little-endian, as MLIR writes it.
      APInt bits(width, 0);
      for (unsigned byte = 0; byte < width / 8; ++byte)
        bits.insertBits(
            APInt(8, static_cast<uint8_t>(bytes[i * (width / 8) + byte])),
            byte * 8);
      push(APFloat(elementType.getFloatSemantics(), bits));
    }
    return values;
  }
  why = "the weight is not a dense or dense_resource constant";
  return failure();
}

/// The constant attribute behind `value`, if an arith.constant makes it.
Attribute getConstantAttr(Value value) {
  auto constant = value.getDefiningOp<arith::ConstantOp>();
  if (!constant)
    return {};
  if (isa<DenseElementsAttr, DenseResourceElementsAttr>(constant.getValue()))
    return constant.getValue();
  return {};
}

/// Follows `operand` back through value-preserving ops (casts, reshapes,
/// transposes) to a linalg.matmul whose weight is constant; the weight, or
/// `why` not.
FailureOr<Projection> traceProjection(Value operand, std::string &why) {
  Value value = operand;
  while (true) {
    Operation *def = value.getDefiningOp();
    if (!def) {
      why = "it is a block argument";
      return failure();
    }
    if (isa<arith::TruncFOp, arith::ExtFOp, lpattn::TruncFOp, tensor::CastOp,
            tensor::ExpandShapeOp, tensor::CollapseShapeOp>(def)) {
      value = def->getOperand(0);
      continue;
    }
    if (auto transpose = dyn_cast<linalg::TransposeOp>(def)) {
      value = transpose.getInput();
      continue;
    }
    auto matmul = dyn_cast<linalg::MatmulOp>(def);
    if (!matmul) {
      why = "it comes from '" + def->getName().getStringRef().str() +
            "', which is not a cast, reshape, transpose or linalg.matmul";
      return failure();
    }
    if (matmul.hasUserDefinedMaps()) {
      why = "its linalg.matmul has its own indexing_maps";
      return failure();
    }
    Value rhs = matmul.getInputs()[1];
    auto rhsType = cast<ShapedType>(rhs.getType());
    Projection projection;
    projection.modelDim = rhsType.getDimSize(0);
    projection.outFeatures = rhsType.getDimSize(1);
    if (ShapedType::isDynamic(projection.modelDim) ||
        ShapedType::isDynamic(projection.outFeatures)) {
      why = "its weight has a dynamic shape";
      return failure();
    }
    // B = W^T [dModel, out]: W is the constant behind a transpose [1, 0]
    // (read directly), or B itself is the constant (read transposed).
    bool transposed = false;
    Attribute attr = getConstantAttr(rhs);
    if (!attr)
      if (auto transpose = rhs.getDefiningOp<linalg::TransposeOp>())
        if (transpose.getPermutation() == ArrayRef<int64_t>{1, 0}) {
          attr = getConstantAttr(transpose.getInput());
          transposed = true;
        }
    if (!attr) {
      why = "the weight operand of its linalg.matmul is not a constant";
      return failure();
    }
    FailureOr<std::vector<float>> values = readConstant(attr, why);
    if (failed(values))
      return failure();
    if (transposed) {
      projection.weight = std::move(*values);
      return projection;
    }
    projection.weight.resize(values->size());
    for (int64_t r = 0; r < projection.modelDim; ++r)
      for (int64_t c = 0; c < projection.outFeatures; ++c)
        projection.weight[c * projection.modelDim + r] =
            (*values)[r * projection.outFeatures + c];
    return projection;
  }
}

/// max over batches of |descale| for KV head `kvHead`: 1 without descales,
/// nullopt when the descale is not a constant.
std::optional<double> getConstantDescale(AttentionOp op, unsigned which,
                                         int64_t kvHead) {
  if (op.getDescales().empty())
    return 1.0;
  Value descale = op.getDescales()[which];
  auto constant = descale.getDefiningOp<arith::ConstantOp>();
  if (!constant)
    return std::nullopt;
  if (auto number = dyn_cast<FloatAttr>(constant.getValue()))
    return std::fabs(number.getValueAsDouble());
  auto dense = dyn_cast<DenseFPElementsAttr>(constant.getValue());
  if (!dense)
    return std::nullopt;
  int64_t numKVHeads = dense.getType().getDimSize(1);
  double largest = 0.0;
  int64_t index = 0;
  for (APFloat value : dense.getValues<APFloat>()) {
    if (index++ % numKVHeads == kvHead)
      largest = std::max(largest, std::fabs(value.convertToDouble()));
  }
  return largest;
}

struct LPAttnGeometryScalePass
    : lpattn::impl::LPAttnGeometryScaleBase<LPAttnGeometryScalePass> {
  using LPAttnGeometryScaleBase::LPAttnGeometryScaleBase;

  LogicalResult initialize(MLIRContext *context) override {
    std::string problem = checkGeometryAlpha(alpha);
    if (problem.empty() && autoAlpha && alpha.hasValue())
      problem = "alpha and auto-alpha exclude each other";
    if (problem.empty())
      problem = checkPowerIterationOptions({iterations, tolerance});
    if (problem.empty() && tokenNorm != 0.0)
      problem = checkTokenNormBound(tokenNorm);
    if (problem.empty())
      return success();
    return emitError(UnknownLoc::get(context))
           << "lpattn-geometry-scale: " << problem;
  }

  void runOnOperation() override {
    WalkResult result = getOperation().walk([&](AttentionOp op) {
      return failed(scale(op)) ? WalkResult::interrupt()
                               : WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }

  LogicalResult scale(AttentionOp op) {
    MLIRContext *context = &getContext();
    auto sigmaAttr = LPAttnDialect::QkSigmaAttrHelper(context);
    auto boundAttr = LPAttnDialect::LogitBoundAttrHelper(context);
    auto scaleAttr = LPAttnDialect::QkScaleAttrHelper(context);
    if (FloatAttr applied = scaleAttr.getAttr(op)) {
      op.emitRemark() << "geometry scale: already applied (lpattn.qk_scale = "
                      << formatNumber(applied.getValueAsDouble()) << ")";
      return success();
    }
    RankedTensorType queryType = op.getQueryType(), keyType = op.getKeyType();
    int64_t numHeads = queryType.getDimSize(1),
            numKVHeads = keyType.getDimSize(1),
            headDim = queryType.getDimSize(3);
    if (ShapedType::isDynamic(numHeads) || ShapedType::isDynamic(numKVHeads) ||
        ShapedType::isDynamic(headDim))
      return op.emitError() << "lpattn-geometry-scale: the head counts and "
                               "the head dimension must be static";

    // sigma per query head: the op's attribute, else the traced weights.
    auto ropeSafeAttr = LPAttnDialect::QkSigmaRopeSafeAttrHelper(context);
    std::vector<SpectralNormEstimate> estimates;
    std::optional<int64_t> modelDim;
    bool fromAttribute = false;
    // Whether sigma bounds ||W_q^T R W_k|| for every rotation R.
    bool ropeSafe = rope;
    if (DenseF64ArrayAttr given = sigmaAttr.getAttr(op)) {
      fromAttribute = true;
      ropeSafe = ropeSafeAttr.isAttrPresent(op);
      if (rope && !ropeSafe)
        return op.emitError()
               << "lpattn-geometry-scale: rope is set but lpattn.qk_sigma is "
                  "not marked lpattn.qk_sigma_rope_safe: ||W_q^T W_k||_2 "
                  "does not bound RoPE-rotated logits; give ||W_q||_2 "
                  "||W_k||_2 per head with that mark (lpattn-calibrate "
                  "--rope=on)";
      for (double sigma : given.asArrayRef())
        estimates.push_back({sigma, 0, true});
    } else {
      std::string why;
      FailureOr<Projection> query = traceProjection(op.getQuery(), why);
      if (failed(query))
        return op.emitError() << "lpattn-geometry-scale: no lpattn.qk_sigma "
                                 "and the query weights are unknown: "
                              << why;
      FailureOr<Projection> key = traceProjection(op.getKey(), why);
      if (failed(key))
        return op.emitError() << "lpattn-geometry-scale: no lpattn.qk_sigma "
                                 "and the key weights are unknown: "
                              << why;
      if (query->outFeatures != numHeads * headDim ||
          key->outFeatures != numKVHeads * headDim ||
          query->modelDim != key->modelDim)
        return op.emitError()
               << "lpattn-geometry-scale: the projections give "
               << query->outFeatures << " query and " << key->outFeatures
               << " key features from " << query->modelDim << " and "
               << key->modelDim << " inputs; the op needs " << numHeads
               << " x " << headDim << " and " << numKVHeads << " x "
               << headDim << " from one model dimension";
      modelDim = query->modelDim;
      auto estimatePerHead = rope ? estimatePerHeadRoPESafeQKSigmas
                                  : estimatePerHeadQKSpectralNorms;
      std::string problem = estimatePerHead(
          query->weight.data(), key->weight.data(), numHeads, numKVHeads,
          headDim, *modelDim, {iterations, tolerance}, estimates);
      if (!problem.empty())
        return op.emitError() << "lpattn-geometry-scale: " << problem;
    }

    if (tokenNorm == 0.0)
      return op.emitError()
             << "lpattn-geometry-scale: no token-norm bound: give the "
                "token-norm option (the bound on ||x|| of the tokens the Q/K "
                "projections read)";
    double alphaValue = alpha;
    if (autoAlpha) {
      if (!modelDim)
        return op.emitError()
               << "lpattn-geometry-scale: auto-alpha needs the model "
                  "dimension, known only from traced weights, not from "
                  "lpattn.qk_sigma";
      alphaValue = getAutoAlpha(*modelDim, headDim, queryType.getDimSize(2),
                                keyType.getDimSize(2));
    }

    // Bounds and the scale per head; the op takes the smallest scale.
    FloatFormat score = op.getPolicy().toPolicy().score;
    double softmaxScale = op.getSoftmaxScale().convertToDouble();
    std::string remark;
    llvm::raw_string_ostream os(remark);
    os << "geometry scale: B_X = " << sig6(tokenNorm) << ", alpha = "
       << sig6(alphaValue) << (autoAlpha ? " (auto)" : "")
       << ", score type " << stringifyFloatFormat(score) << " (max "
       << sig6(getMaxFinite(score)) << ")";
    double opScale = 1.0;
    std::optional<double> opBound = 0.0;
    bool converged = true;
    for (int64_t h = 0; h < numHeads; ++h) {
      int64_t g = getKVHeadOfQueryHead(h, numHeads, numKVHeads);
      const SpectralNormEstimate &estimate = estimates[h];
      double product = getQKProductBound(estimate.sigma, tokenNorm);
      double headScale = getGeometryScale(alphaValue, product, score);
      opScale = std::min(opScale, headScale);
      std::optional<double> qDescale = getConstantDescale(op, 0, g),
                            kDescale = getConstantDescale(op, 1, g);
      std::optional<double> bound;
      if (qDescale && kDescale)
        bound = getLogitBound(estimate.sigma, tokenNorm,
                              softmaxScale * *qDescale * *kDescale);
      opBound = opBound && bound ? std::optional(std::max(*opBound, *bound))
                                 : std::nullopt;
      os << "; head " << h << " (KV head " << g << "): sigma = "
         << sig6(estimate.sigma);
      if (!fromAttribute) {
        os << " (" << estimate.iterations << " iterations"
           << (estimate.converged ? "" : ", not converged") << ")";
        converged &= estimate.converged;
      }
      os << ", |q.k| <= " << sig6(product) << ", logit bound "
         << (bound ? sig6(*bound) : std::string("unknown")) << ", scale "
         << formatNumber(headScale);
    }

    // The lowering (lpattn-tile) multiplies the product by s before its
    // rounding to the score type and by 1 / s after it.
    os << "; op: qk scale " << formatNumber(opScale);
    os << ", logit bound "
       << (opBound ? sig6(*opBound)
                   : std::string("unknown (descales are not constants)"));
    os << "; sigma = "
       << (ropeSafe ? "||W_q||_2 ||W_k||_2 (RoPE-safe)"
                    : "||W_q^T W_k||_2 (no RoPE)");

    if (!fromAttribute) {
      SmallVector<double> sigmas;
      for (const SpectralNormEstimate &estimate : estimates)
        sigmas.push_back(estimate.sigma);
      sigmaAttr.setAttr(op, DenseF64ArrayAttr::get(context, sigmas));
      if (rope)
        ropeSafeAttr.setAttr(op, UnitAttr::get(context));
    }
    if (opBound)
      boundAttr.setAttr(op, FloatAttr::get(Float64Type::get(context), *opBound));
    scaleAttr.setAttr(op, FloatAttr::get(Float64Type::get(context), opScale));
    op.emitRemark() << remark;
    if (!converged)
      op.emitWarning() << "lpattn-geometry-scale: the power iteration did "
                          "not converge in "
                       << int64_t(iterations)
                       << " iterations for some head; sigma, approached "
                          "from below, may be low (raise iterations)";
    return success();
  }
};

} // namespace
