//===- LPAttnOps.cpp - lpattn operations ----------------------------------===//

#include "lpattn/Dialect/LPAttn/IR/LPAttnDialect.h"
#include "lpattn/Numerics/Rules.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/Support/Format.h"

#include <cmath>

using namespace mlir;
using namespace lpattn;

#define GET_OP_CLASSES
#include "lpattn/Dialect/LPAttn/IR/LPAttnOps.cpp.inc"

//===----------------------------------------------------------------------===//
// AttentionOp: defaults
//===----------------------------------------------------------------------===//

float AttentionOp::getDefaultSoftmaxScale(int64_t headDim) {
  return static_cast<float>(1.0 / std::sqrt(static_cast<double>(headDim)));
}

std::optional<double> AttentionOp::getDefaultSoftmaxBeta(SoftmaxVariant v) {
  switch (v) {
  case SoftmaxVariant::Standard:
    return std::nullopt;
  case SoftmaxVariant::BiasCorrected:
    return 2.0; // m' = beta * m, as in the LPTF authors' code
  case SoftmaxVariant::Pasa:
    return 1.0; // K' = K - beta * mean(K): the full mean
  }
  return std::nullopt;
}

std::optional<double> AttentionOp::getDefaultSoftmaxTol(SoftmaxVariant v) {
  if (v == SoftmaxVariant::BiasCorrected)
    return 1e-3;
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// AttentionOp: assembly format
//===----------------------------------------------------------------------===//
//
//   lpattn.attention %q, %k, %v (mask(%m))? (descale(%qd, %kd, %vd))?
//       policy = <qk = ..., score = ..., ...>
//       (scale = f)? (p_scale = f)? (kv_order = kw)?
//       (softmax = kw (`(` beta = f (`,` tol = f)? `)`)?)?
//       (causal = bool)? (tiles = [br, bc])?
//       attr-dict `:` type(q), type(k), type(v) (`,` type(mask))? -> type
//
// Omitted clauses take their defaults; the printer writes every clause so
// that the IR always states its numerics.

static const llvm::StringRef kElidedAttrs[] = {
    "policy",       "softmax_scale", "p_scale", "kv_order",
    "softmax",      "softmax_beta",  "softmax_tol", "causal",
    "tile_sizes",   "operandSegmentSizes"};

ParseResult AttentionOp::parse(OpAsmParser &parser, OperationState &result) {
  MLIRContext *ctx = parser.getContext();
  Builder &builder = parser.getBuilder();
  OpAsmParser::UnresolvedOperand query, key, value, mask;
  SmallVector<OpAsmParser::UnresolvedOperand, 3> descales;
  bool hasMask = false;

  if (parser.parseOperand(query) || parser.parseComma() ||
      parser.parseOperand(key) || parser.parseComma() ||
      parser.parseOperand(value))
    return failure();
  if (succeeded(parser.parseOptionalKeyword("mask"))) {
    hasMask = true;
    if (parser.parseLParen() || parser.parseOperand(mask) ||
        parser.parseRParen())
      return failure();
  }
  if (succeeded(parser.parseOptionalKeyword("descale"))) {
    if (parser.parseOperandList(descales, /*requiredOperandCount=*/3,
                                OpAsmParser::Delimiter::Paren))
      return failure();
  }

  // policy = #lpattn.precision<...> (required: precision is never implied).
  PrecisionPolicyAttr policy;
  // Printed stripped (`policy = <qk = ..., ...>`): a full `#lpattn...`
  // attribute right before the op's `: types` would take them as its type.
  if (parser.parseKeyword("policy") || parser.parseEqual() ||
      parser.parseCustomAttributeWithFallback(policy))
    return failure();
  Properties &props = result.getOrAddProperties<Properties>();
  props.policy = policy;

  auto parseFloatClause = [&](StringRef keyword,
                              std::optional<double> &out) -> ParseResult {
    if (failed(parser.parseOptionalKeyword(keyword)))
      return success();
    double v = 0;
    if (parser.parseEqual() || parser.parseFloat(v))
      return failure();
    out = v;
    return success();
  };

  std::optional<double> scale, pScale, beta, tol;
  llvm::SMLoc scaleLoc = parser.getCurrentLocation();
  if (parseFloatClause("scale", scale) || parseFloatClause("p_scale", pScale))
    return failure();

  KVOrder kvOrder = KVOrder::Forward;
  if (succeeded(parser.parseOptionalKeyword("kv_order"))) {
    StringRef kw;
    llvm::SMLoc loc = parser.getCurrentLocation();
    if (parser.parseEqual() || parser.parseKeyword(&kw))
      return failure();
    std::optional<KVOrder> parsed = symbolizeKVOrder(kw);
    if (!parsed)
      return parser.emitError(loc, "expected kv_order 'forward' or "
                                   "'reverse', got '")
             << kw << "'";
    kvOrder = *parsed;
  }

  SoftmaxVariant softmax = SoftmaxVariant::Standard;
  if (succeeded(parser.parseOptionalKeyword("softmax"))) {
    StringRef kw;
    llvm::SMLoc loc = parser.getCurrentLocation();
    if (parser.parseEqual() || parser.parseKeyword(&kw))
      return failure();
    std::optional<SoftmaxVariant> parsed = symbolizeSoftmaxVariant(kw);
    if (!parsed)
      return parser.emitError(loc, "expected softmax 'standard', "
                                   "'bias_corrected' or 'pasa', got '")
             << kw << "'";
    softmax = *parsed;
    if (succeeded(parser.parseOptionalLParen())) {
      if (parseFloatClause("beta", beta))
        return failure();
      if (succeeded(parser.parseOptionalComma()) &&
          parseFloatClause("tol", tol))
        return failure();
      if (parser.parseRParen())
        return failure();
    }
  }

  bool causal = false;
  if (succeeded(parser.parseOptionalKeyword("causal"))) {
    StringRef kw;
    llvm::SMLoc loc = parser.getCurrentLocation();
    if (parser.parseEqual() || parser.parseKeyword(&kw))
      return failure();
    if (kw != "true" && kw != "false")
      return parser.emitError(loc, "expected causal 'true' or 'false'");
    causal = kw == "true";
  }

  if (succeeded(parser.parseOptionalKeyword("tiles"))) {
    SmallVector<int64_t, 2> tiles;
    if (parser.parseEqual() ||
        parser.parseCommaSeparatedList(
            OpAsmParser::Delimiter::Square, [&]() -> ParseResult {
              int64_t t = 0;
              if (parser.parseInteger(t))
                return failure();
              tiles.push_back(t);
              return success();
            }))
      return failure();
    props.tile_sizes = builder.getDenseI64ArrayAttr(tiles);
  }

  if (parser.parseOptionalAttrDict(result.attributes))
    return failure();

  // Types: Q, K, V (, mask) -> result.
  RankedTensorType queryType, keyType, valueType, maskType, resultType;
  if (parser.parseColon() || parser.parseType(queryType) ||
      parser.parseComma() || parser.parseType(keyType) ||
      parser.parseComma() || parser.parseType(valueType))
    return failure();
  if (hasMask &&
      (parser.parseComma() || parser.parseType(maskType)))
    return failure();
  if (parser.parseArrow() || parser.parseType(resultType))
    return failure();

  if (!scale) {
    int64_t headDim = queryType.getRank() == 4 ? queryType.getDimSize(3) : 0;
    if (ShapedType::isDynamic(headDim) || headDim <= 0)
      return parser.emitError(scaleLoc,
                              "'scale = ...' is required when the head "
                              "dimension D of the query is not a static "
                              "positive size");
    scale = getDefaultSoftmaxScale(headDim);
  }
  // The attribute is f32: refuse what rounding would change beyond an ulp
  // (1e-50 would become 0) here, while the written value is still known.
  // (NaN, Inf and non-positive values are the verifier's to report.)
  if (std::string problem = checkRoundsToF32("scale", *scale);
      std::isfinite(*scale) && *scale > 0 && !problem.empty())
    return parser.emitError(scaleLoc, problem);
  props.softmax_scale = builder.getF32FloatAttr(static_cast<float>(*scale));
  props.p_scale = builder.getF64FloatAttr(pScale.value_or(1.0));
  props.kv_order = KVOrderAttr::get(ctx, kvOrder);
  props.softmax = SoftmaxVariantAttr::get(ctx, softmax);
  if (!beta)
    beta = getDefaultSoftmaxBeta(softmax);
  if (!tol)
    tol = getDefaultSoftmaxTol(softmax);
  if (beta)
    props.softmax_beta = builder.getF64FloatAttr(*beta);
  if (tol)
    props.softmax_tol = builder.getF64FloatAttr(*tol);
  props.causal = builder.getBoolAttr(causal);
  props.operandSegmentSizes = {1, 1, 1, hasMask ? 1 : 0,
                               static_cast<int32_t>(descales.size())};

  Type f32 = builder.getF32Type();
  if (parser.resolveOperand(query, queryType, result.operands) ||
      parser.resolveOperand(key, keyType, result.operands) ||
      parser.resolveOperand(value, valueType, result.operands) ||
      (hasMask && parser.resolveOperand(mask, maskType, result.operands)) ||
      parser.resolveOperands(descales, f32, result.operands))
    return failure();
  result.addTypes(resultType);
  return success();
}

void AttentionOp::print(OpAsmPrinter &p) {
  p << ' ' << getQuery() << ", " << getKey() << ", " << getValue();
  if (getMask())
    p << " mask(" << getMask() << ")";
  if (!getDescales().empty()) {
    p << " descale(";
    p.printOperands(getDescales());
    p << ")";
  }
  p << " policy = ";
  p.printStrippedAttrOrType(getPolicy());
  p << " scale = ";
  p.printFloat(getSoftmaxScaleAttr().getValue());
  p << " p_scale = ";
  p.printFloat(getPScaleAttr().getValue());
  p << " kv_order = " << stringifyKVOrder(getKvOrder());
  p << " softmax = " << stringifySoftmaxVariant(getSoftmax());
  if (getSoftmaxBetaAttr() || getSoftmaxTolAttr()) {
    p << "(";
    if (auto beta = getSoftmaxBetaAttr()) {
      p << "beta = ";
      p.printFloat(beta.getValue());
    }
    if (auto tol = getSoftmaxTolAttr()) {
      p << ", tol = ";
      p.printFloat(tol.getValue());
    }
    p << ")";
  }
  p << " causal = " << (getCausal() ? "true" : "false");
  if (auto tiles = getTileSizesAttr()) {
    p << " tiles = [";
    llvm::interleaveComma(tiles.asArrayRef(), p);
    p << "]";
  }
  p.printOptionalAttrDict((*this)->getAttrs(), kElidedAttrs);
  p << " : " << getQuery().getType() << ", " << getKey().getType() << ", "
    << getValue().getType();
  if (getMask())
    p << ", " << getMask().getType();
  p << " -> " << getResult().getType();
}

//===----------------------------------------------------------------------===//
// AttentionOp: verifier
//===----------------------------------------------------------------------===//

/// Checks that dimension `dimA` of `a` equals dimension `dimB` of `b` where
/// both are static.
static LogicalResult verifyDimsMatch(AttentionOp op, RankedTensorType a,
                                     unsigned dimA, StringRef nameA,
                                     RankedTensorType b, unsigned dimB,
                                     StringRef nameB, StringRef what) {
  int64_t sa = a.getDimSize(dimA), sb = b.getDimSize(dimB);
  if (ShapedType::isDynamic(sa) || ShapedType::isDynamic(sb) || sa == sb)
    return success();
  return op.emitOpError() << what << " mismatch: " << nameA << " has " << sa
                          << " but " << nameB << " has " << sb;
}

LogicalResult AttentionOp::verify() {
  RankedTensorType q = getQueryType(), k = getKeyType(), v = getValueType(),
                   o = getResultType();

  // Zero-sized dimensions make no attention (1/sqrt(0), empty softmax).
  for (auto [name, type] : {std::pair{"query", q}, {"key", k}, {"value", v},
                            {"result", o}})
    for (int64_t d : type.getShape())
      if (d == 0)
        return emitOpError() << name << " has a zero-sized dimension ("
                             << type << "); every dimension must be positive";

  // Layout Q [B, Hq, Nq, D], K [B, Hkv, Nk, D], V [B, Hkv, Nk, Dv].
  if (failed(verifyDimsMatch(*this, q, 0, "query [B, Hq, Nq, D]", k, 0,
                             "key [B, Hkv, Nk, D]", "batch size B")) ||
      failed(verifyDimsMatch(*this, k, 0, "key", v, 0, "value",
                             "batch size B")) ||
      failed(verifyDimsMatch(*this, q, 3, "query", k, 3, "key",
                             "head dimension D")) ||
      failed(verifyDimsMatch(*this, k, 2, "key", v, 2, "value",
                             "key sequence length Nk")) ||
      failed(verifyDimsMatch(*this, k, 1, "key", v, 1, "value",
                             "KV head count Hkv")))
    return failure();

  int64_t hq = q.getDimSize(1), hkv = k.getDimSize(1);
  if (!ShapedType::isDynamic(hq) && !ShapedType::isDynamic(hkv) &&
      hq % hkv != 0)
    return emitOpError() << "query heads Hq = " << hq
                         << " must be a multiple of KV heads Hkv = " << hkv
                         << " (GQA/MQA)";

  // Result [B, Hq, Nq, Dv].
  if (failed(verifyDimsMatch(*this, o, 0, "result", q, 0, "query",
                             "batch size B")) ||
      failed(verifyDimsMatch(*this, o, 1, "result", q, 1, "query",
                             "query head count Hq")) ||
      failed(verifyDimsMatch(*this, o, 2, "result", q, 2, "query",
                             "query sequence length Nq")) ||
      failed(verifyDimsMatch(*this, o, 3, "result", v, 3, "value",
                             "value head dimension Dv")))
    return failure();

  // Operand element types are the declared policy, never implied.
  PrecisionPolicyAttr policy = getPolicy();
  for (auto [name, type, expected, field] :
       {std::tuple{"query", q, policy.getQk(), "qk"},
        {"key", k, policy.getQk(), "qk"},
        {"value", v, policy.getV(), "v"},
        {"result", o, policy.getOut(), "out"}})
    if (type.getElementType() != expected)
      return emitOpError() << name << " element type "
                           << type.getElementType()
                           << " disagrees with the policy's " << field
                           << " = " << expected;

  // Mask [B or 1, Hq or 1, Nq, Nk], added to the f32 scores.
  if (Value mask = getMask()) {
    auto m = cast<RankedTensorType>(mask.getType());
    if (!m.getElementType().isF32())
      return emitOpError() << "mask element type must be f32 (it is added "
                              "to the f32 scores), got "
                           << m.getElementType();
    for (auto [dim, ref, refDim, what] :
         {std::tuple{0u, q, 0u, "batch size B"},
          {1u, q, 1u, "query head count Hq"}}) {
      int64_t sm = m.getDimSize(dim), sr = ref.getDimSize(refDim);
      if (sm != 1 && !ShapedType::isDynamic(sm) &&
          !ShapedType::isDynamic(sr) && sm != sr)
        return emitOpError() << "mask " << what << " must be "
                             << (sr == 1 ? "1" : "1 or " + std::to_string(sr))
                             << ", got " << sm;
    }
    if (failed(verifyDimsMatch(*this, m, 2, "mask [B, Hq, Nq, Nk]", q, 2,
                               "query", "query sequence length Nq")) ||
        failed(verifyDimsMatch(*this, m, 3, "mask [B, Hq, Nq, Nk]", k, 2,
                               "key", "key sequence length Nk")))
      return failure();
  }

  if (!getDescales().empty() && getDescales().size() != 3)
    return emitOpError() << "expects 0 or 3 descales (q, k, v), got "
                         << getDescales().size();

  float scale = getSoftmaxScaleAttr().getValueAsDouble();
  if (!std::isfinite(scale) || scale <= 0.0f)
    return emitOpError() << "softmax scale must be finite and positive, got "
                         << formatNumber(scale);
  if (std::string problem = checkRoundsToF32("scale", scale);
      !problem.empty())
    return emitOpError() << problem;

  // P-Cast: P * S must be exact (power of two) and P = 1 must not saturate.
  PrecisionPolicy numerics = policy.toPolicy();
  double pScale = getPScaleAttr().getValueAsDouble();
  if (!isPowerOfTwo(pScale))
    return emitOpError() << "p_scale = " << formatNumber(pScale)
                         << " is not a power of two: multiplying P by it "
                            "and dividing it out would not be exact";
  // A power of two in f64 can still be 0 or Inf in f32 (2^-200), and the
  // lowering multiplies by an f32 constant: the run would return all zeros.
  if (std::string problem = checkExactInF32("p_scale", pScale);
      !problem.empty())
    return emitOpError() << problem;
  double pMax = getMaxFinite(numerics.p);
  if (pScale > pMax)
    return emitOpError() << "p_scale = " << formatNumber(pScale)
                         << " saturates P = 1: 1 * p_scale exceeds the max "
                            "finite value "
                         << formatNumber(pMax) << " of p = "
                         << getFormatName(numerics.p)
                         << " (largest allowed power of two: "
                         << formatNumber(getLargestPScale(numerics.p)) << ")";

  // Softmax variant parameters.
  SoftmaxVariant variant = getSoftmax();
  bool takesBeta = getDefaultSoftmaxBeta(variant).has_value();
  bool takesTol = getDefaultSoftmaxTol(variant).has_value();
  if (getSoftmaxBetaAttr() && !takesBeta)
    return emitOpError() << "softmax = " << stringifySoftmaxVariant(variant)
                         << " takes no beta";
  if (getSoftmaxTolAttr() && !takesTol)
    return emitOpError() << "softmax = " << stringifySoftmaxVariant(variant)
                         << " takes no tol";
  if (takesBeta && !getSoftmaxBetaAttr())
    return emitOpError() << "softmax = " << stringifySoftmaxVariant(variant)
                         << " needs a beta";
  if (takesTol && !getSoftmaxTolAttr())
    return emitOpError() << "softmax = " << stringifySoftmaxVariant(variant)
                         << " needs a tol";
  // beta and tol become f32 constants (beta - 1 for bias_corrected).
  for (auto [name, attr] : {std::pair{"beta", getSoftmaxBetaAttr()},
                            std::pair{"tol", getSoftmaxTolAttr()}})
    if (attr)
      if (std::string problem = checkRoundsToF32(
              std::string(stringifySoftmaxVariant(variant)) + " " + name,
              attr.getValueAsDouble());
          !problem.empty())
        return emitOpError() << problem;
  if (auto beta = getSoftmaxBetaAttr()) {
    double b = beta.getValueAsDouble();
    // LPTF: m' = beta * m must move away from m (beta > 1) to avoid P = 1;
    // PASA: K - beta * mean(K) with beta in (0, 1].
    if (variant == SoftmaxVariant::BiasCorrected && !(b > 1.0 && b < 1e6))
      return emitOpError() << "bias_corrected beta must be in (1, 1e6), got "
                           << formatNumber(b);
    if (variant == SoftmaxVariant::Pasa && !(b > 0.0 && b <= 1.0))
      return emitOpError() << "pasa beta must be in (0, 1], got "
                           << formatNumber(b);
  }
  if (auto tol = getSoftmaxTolAttr()) {
    double t = tol.getValueAsDouble();
    if (!(t >= 0.0 && t < 1.0))
      return emitOpError() << "bias_corrected tol must be in [0, 1), got "
                           << formatNumber(t);
  }

  if (auto tiles = getTileSizesAttr())
    for (int64_t t : tiles.asArrayRef())
      if (t <= 0)
        return emitOpError() << "tile sizes must be positive, got [" << 
               tiles.asArrayRef()[0] << ", " << tiles.asArrayRef()[1] << "]";
  return success();
}

//===----------------------------------------------------------------------===//
// TruncFOp
//===----------------------------------------------------------------------===//

LogicalResult TruncFOp::verify() {
  Type in = getElementTypeOrSelf(getIn().getType());
  Type out = getElementTypeOrSelf(getOut().getType());
  if (!in.isF32())
    return emitOpError() << "casts from f32, got " << in;
  std::optional<FloatFormat> format = getFloatFormat(out);
  if (!format || *format == FloatFormat::F32)
    return emitOpError() << "casts to f16, bf16, f8E4M3FN or f8E5M2, got "
                         << out;
  return success();
}
