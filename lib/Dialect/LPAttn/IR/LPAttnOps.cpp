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
// AttentionOp: builder
//===----------------------------------------------------------------------===//

void AttentionOp::build(OpBuilder &builder, OperationState &state, Value query,
                        Value key, Value value, PrecisionPolicyAttr policy,
                        Value mask, ValueRange descales,
                        std::optional<float> softmaxScale, double pScale,
                        KVOrder kvOrder, SoftmaxAttr softmax, bool causal,
                        ArrayRef<int64_t> tileSizes) {
  auto queryType = cast<RankedTensorType>(query.getType());
  auto valueType = cast<RankedTensorType>(value.getType());
  // [B, Hq, Nq] of the query, Dv of the value, in the out type.
  SmallVector<int64_t, 4> resultShape(queryType.getShape());
  resultShape.back() = valueType.getShape().back();
  state.addOperands({query, key, value});
  if (mask)
    state.addOperands(mask);
  state.addOperands(descales);
  state.addTypes(RankedTensorType::get(resultShape, policy.getOut()));

  Properties &props = state.getOrAddProperties<Properties>();
  props.policy = policy;
  props.softmax_scale = builder.getF32FloatAttr(softmaxScale.value_or(
      getDefaultSoftmaxScale(queryType.getShape().back())));
  props.p_scale = builder.getF64FloatAttr(pScale);
  props.kv_order = KVOrderAttr::get(builder.getContext(), kvOrder);
  props.softmax = softmax ? softmax
                          : SoftmaxAttr::getWithDefaults(
                                builder.getContext(), SoftmaxVariant::Standard);
  props.causal = builder.getBoolAttr(causal);
  if (!tileSizes.empty())
    props.tile_sizes = builder.getDenseI64ArrayAttr(tileSizes);
  props.operandSegmentSizes = {1, 1, 1, mask ? 1 : 0,
                               static_cast<int32_t>(descales.size())};
}

//===----------------------------------------------------------------------===//
// AttentionOp: assembly format
//===----------------------------------------------------------------------===//
//
//   lpattn.attention %q, %k, %v (mask(%m))?
//       (descale(%qd, %kd, %vd (`:` type (`,` type `,` type)?)?))?
//       policy = <qk = ..., score = ..., ...>
//       (scale = f)? (p_scale = f)? (kv_order = kw)?
//       (softmax = #lpattn.softmax body: kw (`(` beta = f (`,` tol = f)? `)`)?)?
//       (causal = bool)? (tiles = [br, bc])?
//       attr-dict `:` type(q), type(k), type(v) (`,` type(mask))? -> type
//
// Omitted clauses take their defaults; the printer writes every clause so
// that the IR always states its numerics. Descales without a type are f32
// scalars (per tensor); one type applies to all three (per batch and KV head:
// `descale(%qd, %kd, %vd : tensor<2x4xf32>)`); three types, one each, are
// printed only for an op whose descales differ in type (which the verifier
// refuses), so that any op prints and parses back.

static const llvm::StringRef kElidedAttrs[] = {
    "policy", "softmax_scale", "p_scale",    "kv_order",
    "softmax", "causal",       "tile_sizes", "operandSegmentSizes"};

ParseResult AttentionOp::parse(OpAsmParser &parser, OperationState &result) {
  MLIRContext *ctx = parser.getContext();
  Builder &builder = parser.getBuilder();
  OpAsmParser::UnresolvedOperand query, key, value, mask;
  SmallVector<OpAsmParser::UnresolvedOperand, 3> descales;
  SmallVector<Type, 3> descaleTypes;
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
    if (parser.parseLParen() ||
        parser.parseOperandList(descales, /*requiredOperandCount=*/3))
      return failure();
    if (succeeded(parser.parseOptionalColon())) {
      llvm::SMLoc typesLoc = parser.getCurrentLocation();
      if (parser.parseTypeList(descaleTypes))
        return failure();
      if (descaleTypes.size() != 1 && descaleTypes.size() != 3)
        return parser.emitError(typesLoc)
               << "expected one descale type (for all three) or three, got "
               << descaleTypes.size();
    }
    if (parser.parseRParen())
      return failure();
    // No type: f32 scalars; one type: the same for all three.
    if (descaleTypes.empty())
      descaleTypes.push_back(parser.getBuilder().getF32Type());
    if (descaleTypes.size() == 1)
      descaleTypes.resize(3, descaleTypes.front());
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

  std::optional<double> scale, pScale;
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

  SoftmaxAttr softmax =
      SoftmaxAttr::getWithDefaults(ctx, SoftmaxVariant::Standard);
  if (succeeded(parser.parseOptionalKeyword("softmax"))) {
    FailureOr<SoftmaxAttr> parsed;
    if (parser.parseEqual() || failed(parsed = SoftmaxAttr::parseBody(parser)))
      return failure();
    softmax = *parsed;
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
  props.softmax = softmax;
  props.causal = builder.getBoolAttr(causal);
  props.operandSegmentSizes = {1, 1, 1, hasMask ? 1 : 0,
                               static_cast<int32_t>(descales.size())};

  if (parser.resolveOperand(query, queryType, result.operands) ||
      parser.resolveOperand(key, keyType, result.operands) ||
      parser.resolveOperand(value, valueType, result.operands) ||
      (hasMask && parser.resolveOperand(mask, maskType, result.operands)) ||
      parser.resolveOperands(descales, descaleTypes,
                             parser.getCurrentLocation(), result.operands))
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
    TypeRange types = getDescales().getTypes();
    if (llvm::any_of(types, [](Type t) { return !t.isF32(); })) {
      p << " : ";
      if (llvm::all_equal(types))
        p << types.front();
      else
        llvm::interleaveComma(types, p);
    }
    p << ")";
  }
  p << " policy = ";
  p.printStrippedAttrOrType(getPolicy());
  p << " scale = ";
  p.printFloat(getSoftmaxScaleAttr().getValue());
  p << " p_scale = ";
  p.printFloat(getPScaleAttr().getValue());
  p << " kv_order = " << getKvOrder();
  p << " softmax = ";
  getSoftmax().printBody(p);
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

/// The descales: three f32 scalars (per tensor) or three [B, Hkv] f32
/// tensors (per batch and KV head, B of the query, Hkv of the key).
static LogicalResult verifyDescales(AttentionOp op) {
  ValueRange descales = op.getDescales();
  if (descales.size() != 3)
    return success(); // none (or a count the caller reports)
  auto isTensor = [](Value v) { return isa<RankedTensorType>(v.getType()); };
  if (llvm::any_of(descales, isTensor) && !llvm::all_of(descales, isTensor)) {
    InFlightDiagnostic diag = op.emitOpError()
                              << "descales must be all f32 scalars (per "
                                 "tensor) or all tensor<B x Hkv x f32> (per "
                                 "batch and KV head), got ";
    std::string types;
    llvm::raw_string_ostream os(types);
    llvm::interleaveComma(descales.getTypes(), os);
    return diag << types;
  }
  if (!op.hasPerHeadDescales())
    return success();
  int64_t batch = op.getQueryType().getDimSize(0);
  int64_t kvHeads = op.getKeyType().getDimSize(1);
  auto spell = [](int64_t d) {
    return ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d);
  };
  static const char *const kNames[] = {"q_ds", "k_ds", "v_ds"};
  for (auto [name, descale] : llvm::zip_equal(kNames, descales)) {
    auto type = cast<RankedTensorType>(descale.getType());
    auto fits = [](int64_t got, int64_t want) {
      return ShapedType::isDynamic(got) || ShapedType::isDynamic(want) ||
             got == want;
    };
    if (type.getRank() != 2 || !fits(type.getDimSize(0), batch) ||
        !fits(type.getDimSize(1), kvHeads))
      return op.emitOpError()
             << "per-(batch, KV head) descale " << name << " has type " << type
             << ", but it must be [B, Hkv] = [" << spell(batch) << ", "
             << spell(kvHeads)
             << "] (B of the query, Hkv of the key), i.e. tensor<"
             << spell(batch) << "x" << spell(kvHeads) << "xf32>";
  }
  return success();
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
  if (failed(verifyDescales(*this)))
    return failure();

  std::string problem =
      checkSoftmaxScale(getSoftmaxScaleAttr().getValueAsDouble());
  // P-Cast: P * S must be exact (power of two) and P = 1 must not saturate.
  if (problem.empty())
    problem = checkPScale(getPScaleAttr().getValueAsDouble(),
                          policy.toPolicy().p);
  if (problem.empty())
    problem = checkPScaleAccumulation(
        getPScaleAttr().getValueAsDouble(),
        cast<RankedTensorType>(getKey().getType()).getDimSize(2),
        policy.toPolicy().acc);
  // The softmax attribute verifies itself when parsed; a builder's
  // SoftmaxAttr::get does not, so the op checks it again.
  if (problem.empty())
    problem = checkSoftmaxParameters(getSoftmax().getVariant(),
                                     getSoftmax().getBetaValue(),
                                     getSoftmax().getTolValue());
  if (!problem.empty())
    return emitOpError() << problem;

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
