//===- LPAttnDialect.cpp - lpattn dialect and attributes ------------------===//

#include "lpattn/Dialect/LPAttn/IR/LPAttnDialect.h"
#include "lpattn/Numerics/Rules.h"
#include "lpattn/Numerics/Selection.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace lpattn;

#include "lpattn/Dialect/LPAttn/IR/LPAttnOpsDialect.cpp.inc"
#include "lpattn/Dialect/LPAttn/IR/LPAttnEnums.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "lpattn/Dialect/LPAttn/IR/LPAttnAttrs.cpp.inc"

void LPAttnDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "lpattn/Dialect/LPAttn/IR/LPAttnAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "lpattn/Dialect/LPAttn/IR/LPAttnOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// The tile-level protocol
//===----------------------------------------------------------------------===//

/// The RASB attributes of lpattn-geometry-scale (Numerics/Geometry.h), on an
/// lpattn.attention only.
static LogicalResult verifyGeometryAttribute(Operation *op, StringRef name,
                                             Attribute value) {
  auto attention = dyn_cast<AttentionOp>(op);
  bool isSigma = name == LPAttnDialect::QkSigmaAttrHelper::getNameStr();
  auto sigmas = dyn_cast<DenseF64ArrayAttr>(value);
  auto number = dyn_cast<FloatAttr>(value);
  if (isSigma ? !sigmas : !number || !number.getType().isF64())
    return op->emitError() << "'" << name << "' must be "
                           << (isSigma ? "an array<f64: ...> attribute"
                                       : "an f64 float attribute")
                           << ", got " << value;
  if (!attention)
    return op->emitError() << "'" << name
                           << "' is only valid on an lpattn.attention";
  if (isSigma) {
    int64_t numHeads = attention.getQueryType().getDimSize(1);
    if (static_cast<int64_t>(sigmas.size()) != numHeads)
      return op->emitError()
             << "'" << name << "' has " << sigmas.size()
             << " values; the op has " << numHeads << " query heads";
    for (auto [head, sigma] : llvm::enumerate(sigmas.asArrayRef()))
      if (!std::isfinite(sigma) || sigma < 0.0)
        return op->emitError() << "'" << name << "' of query head " << head
                               << " must be finite and >= 0, got "
                               << formatNumber(sigma);
    return success();
  }
  double x = number.getValueAsDouble();
  if (name == LPAttnDialect::LogitBoundAttrHelper::getNameStr()) {
    if (!std::isfinite(x) || x < 0.0)
      return op->emitError() << "'" << name
                             << "' must be finite and >= 0, got "
                             << formatNumber(x);
    return success();
  }
  if (!isPowerOfTwo(x) || x > 1.0)
    return op->emitError() << "'" << name
                           << "' must be a power of two <= 1, got "
                           << formatNumber(x);
  return success();
}

LogicalResult LPAttnDialect::verifyOperationAttribute(Operation *op,
                                                      NamedAttribute attr) {
  StringRef name = attr.getName().strref();
  Attribute value = attr.getValue();
  auto wrongKind = [&](StringRef expected) {
    return op->emitError() << "'" << name << "' must be " << expected
                           << ", got " << value;
  };
  bool onKVLoop = getKvLoopAttrHelper().isAttrPresent(op);
  bool onStep = getStepAttrHelper().isAttrPresent(op);

  if (name == StepAttrHelper::getNameStr())
    return success(isa<StepAttr>(value) ||
                   failed(wrongKind("a #lpattn<step ...> attribute")));
  if (name == KvLoopAttrHelper::getNameStr()) {
    if (!isa<UnitAttr>(value))
      return wrongKind("a unit attribute");
    if (!isa<LoopLikeOpInterface>(op))
      return op->emitError() << "'" << name
                             << "' marks the loop over KV tiles; '"
                             << op->getName() << "' is not a loop";
    for (StringRef required : {KvOrderAttrHelper::getNameStr(),
                               PolicyAttrHelper::getNameStr()})
      if (!op->hasAttr(required))
        return op->emitError() << "KV loop has no '" << required << "'";
    return success();
  }
  if (name == KvOrderAttrHelper::getNameStr() ||
      name == PolicyAttrHelper::getNameStr()) {
    if (name == KvOrderAttrHelper::getNameStr() && !isa<KVOrderAttr>(value))
      return wrongKind("a #lpattn<kv_order ...> attribute");
    if (name == PolicyAttrHelper::getNameStr() &&
        !isa<PrecisionPolicyAttr>(value))
      return wrongKind("a #lpattn.precision attribute");
    if (!onKVLoop)
      return op->emitError() << "'" << name << "' is only valid on a KV loop ("
                             << KvLoopAttrHelper::getNameStr() << ")";
    return success();
  }
  if (name == ScaleAttrHelper::getNameStr() ||
      name == BetaAttrHelper::getNameStr() ||
      name == TolAttrHelper::getNameStr()) {
    auto number = dyn_cast<FloatAttr>(value);
    if (!number || !number.getType().isF64())
      return wrongKind("an f64 float attribute");
    if (!onStep)
      return op->emitError() << "'" << name
                             << "' is only valid on a tagged step ("
                             << StepAttrHelper::getNameStr() << ")";
    if (name == ScaleAttrHelper::getNameStr() &&
        !isPowerOfTwo(number.getValueAsDouble()))
      return op->emitError() << "'" << name << "' = "
                             << formatNumber(number.getValueAsDouble())
                             << " is not a power of two";
    return success();
  }
  if (name == LaunchAttrHelper::getNameStr()) {
    if (!isa<DictionaryAttr>(value))
      return wrongKind("a dictionary attribute");
    if (!isa<ModuleOp>(op))
      return op->emitError() << "'" << name << "' is only valid on a module";
    return success();
  }
  if (name == SinkStrengthAttrHelper::getNameStr() ||
      name == SinkJitterAttrHelper::getNameStr() ||
      name == SinkCountAttrHelper::getNameStr()) {
    bool isCount = name == SinkCountAttrHelper::getNameStr();
    auto number = dyn_cast<FloatAttr>(value);
    auto count = dyn_cast<IntegerAttr>(value);
    if (isCount ? !count || !count.getType().isInteger(64)
                : !number || !number.getType().isF64())
      return wrongKind(isCount ? "an i64 integer attribute"
                               : "an f64 float attribute");
    if (!isa<AttentionOp>(op))
      return op->emitError() << "'" << name
                             << "' is only valid on an lpattn.attention";
    // Each hint alone against the rule (the others at valid stand-ins).
    std::string problem =
        name == SinkStrengthAttrHelper::getNameStr()
            ? checkSinkHint(number.getValueAsDouble(), 1, 0.0)
        : isCount ? checkSinkHint(0.0, count.getInt(), 0.0)
                  : checkSinkHint(0.0, 1, number.getValueAsDouble());
    if (!problem.empty())
      return op->emitError() << "'" << name << "': " << problem;
    return success();
  }
  if (name == QkSigmaAttrHelper::getNameStr() ||
      name == LogitBoundAttrHelper::getNameStr() ||
      name == QkScaleAttrHelper::getNameStr())
    return verifyGeometryAttribute(op, name, value);
  if (name == QkSigmaRopeSafeAttrHelper::getNameStr()) {
    if (!isa<UnitAttr>(value))
      return wrongKind("a unit attribute");
    if (!isa<AttentionOp>(op))
      return op->emitError() << "'" << name
                             << "' is only valid on an lpattn.attention";
    if (!getQkSigmaAttrHelper().isAttrPresent(op))
      return op->emitError() << "'" << name << "' qualifies '"
                             << QkSigmaAttrHelper::getNameStr()
                             << "', which the op does not have";
    return success();
  }
  if (name == ScoreOffsetAttrHelper::getNameStr()) {
    auto number = dyn_cast<FloatAttr>(value);
    if (!number || !number.getType().isF64())
      return wrongKind("an f64 float attribute");
    if (!isa<AttentionOp>(op))
      return op->emitError() << "'" << name
                             << "' is only valid on an lpattn.attention";
    std::string problem = checkLogitHint("the score offset", number.getValueAsDouble());
    if (!problem.empty())
      return op->emitError() << "'" << name << "': " << problem;
    return success();
  }
  return op->emitError() << "unknown lpattn attribute '" << name << "'";
}



std::optional<FloatFormat> lpattn::getFloatFormat(Type type) {
  auto floatType = dyn_cast_if_present<FloatType>(type);
  if (!floatType)
    return std::nullopt;
  return getFloatFormat(floatType.getFloatSemantics());
}

FloatType lpattn::getType(MLIRContext *context, FloatFormat format) {
  switch (format) {
  case FloatFormat::F32:
    return Float32Type::get(context);
  case FloatFormat::F16:
    return Float16Type::get(context);
  case FloatFormat::BF16:
    return BFloat16Type::get(context);
  case FloatFormat::F8E4M3FN:
    return Float8E4M3FNType::get(context);
  case FloatFormat::F8E5M2:
    return Float8E5M2Type::get(context);
  }
  llvm_unreachable("unknown FloatFormat");
}

//===----------------------------------------------------------------------===//
// PrecisionPolicyAttr
//===----------------------------------------------------------------------===//

PrecisionPolicyAttr PrecisionPolicyAttr::get(MLIRContext *context,
                                             const PrecisionPolicy &policy) {
  return get(context, getType(context, policy.qk),
             getType(context, policy.score), getType(context, policy.p),
             getType(context, policy.v), getType(context, policy.acc),
             getType(context, policy.out), policy.overflow);
}

LogicalResult
PrecisionPolicyAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                            Type qk, Type score, Type p, Type v, Type acc,
                            Type out, OverflowMode overflow) {
  PrecisionPolicy policy;
  policy.overflow = overflow;
  for (auto [name, type, field] :
       {std::tuple{"qk", qk, &policy.qk}, {"score", score, &policy.score},
        {"p", p, &policy.p}, {"v", v, &policy.v}, {"acc", acc, &policy.acc},
        {"out", out, &policy.out}}) {
    std::optional<FloatFormat> format = getFloatFormat(type);
    if (!format)
      return emitError() << "precision '" << name << "' has unsupported type "
                         << type
                         << "; expected f32, f16, bf16, f8E4M3FN or f8E5M2";
    *field = *format;
  }
  std::string problem = policy.checkSupported();
  if (!problem.empty())
    return emitError() << "unsupported precision combination: " << problem;
  return success();
}

static constexpr llvm::StringLiteral kPolicyFields[] = {
    "qk", "score", "p", "v", "acc", "out", "overflow"};

Attribute PrecisionPolicyAttr::parse(AsmParser &parser, Type) {
  llvm::SMLoc start = parser.getCurrentLocation();
  Type types[6];
  std::optional<OverflowMode> overflow;
  llvm::StringSet<> seen;
  auto parseField = [&]() -> ParseResult {
    StringRef key;
    llvm::SMLoc loc = parser.getCurrentLocation();
    if (parser.parseKeyword(&key) || parser.parseEqual())
      return failure();
    const auto *it = llvm::find(kPolicyFields, key);
    if (it == std::end(kPolicyFields))
      return parser.emitError(loc, "unknown precision field '")
             << key << "'; expected qk, score, p, v, acc, out or overflow";
    if (!seen.insert(key).second)
      return parser.emitError(loc, "precision field '")
             << key << "' is given twice";
    size_t index = it - std::begin(kPolicyFields);
    if (index < 6)
      return parser.parseType(types[index]);
    StringRef mode;
    llvm::SMLoc modeLoc = parser.getCurrentLocation();
    if (parser.parseKeyword(&mode))
      return failure();
    overflow = symbolizeOverflowMode(mode);
    if (!overflow)
      return parser.emitError(modeLoc, "expected overflow 'satfinite' or "
                                       "'nonsat', got '")
             << mode << "'";
    return success();
  };
  if (parser.parseLess() || parser.parseCommaSeparatedList(parseField) ||
      parser.parseGreater())
    return {};
  for (StringRef field : kPolicyFields)
    if (!seen.contains(field)) {
      parser.emitError(start, "precision policy is missing '")
          << field << "': every precision of an attention is explicit";
      return {};
    }
  return getChecked([&] { return parser.emitError(start); },
                    parser.getContext(), types[0], types[1], types[2],
                    types[3], types[4], types[5], *overflow);
}

void PrecisionPolicyAttr::print(AsmPrinter &printer) const {
  printer << "<qk = " << getQk() << ", score = " << getScore()
          << ", p = " << getP() << ", v = " << getV() << ", acc = " << getAcc()
          << ", out = " << getOut()
          << ", overflow = " << StringRef(stringifyOverflowMode(getOverflow())) << ">";
}

PrecisionPolicy PrecisionPolicyAttr::toPolicy() const {
  PrecisionPolicy policy;
  policy.qk = *lpattn::getFloatFormat(getQk());
  policy.score = *lpattn::getFloatFormat(getScore());
  policy.p = *lpattn::getFloatFormat(getP());
  policy.v = *lpattn::getFloatFormat(getV());
  policy.acc = *lpattn::getFloatFormat(getAcc());
  policy.out = *lpattn::getFloatFormat(getOut());
  policy.overflow = getOverflow();
  return policy;
}

//===----------------------------------------------------------------------===//
// SoftmaxAttr
//===----------------------------------------------------------------------===//

static std::optional<double> valueOf(FloatAttr attr) {
  if (!attr)
    return std::nullopt;
  return attr.getValueAsDouble();
}

static FloatAttr attrOf(MLIRContext *context, std::optional<double> value) {
  if (!value)
    return {};
  return FloatAttr::get(Float64Type::get(context), *value);
}

std::optional<double> SoftmaxAttr::getBetaValue() const {
  return valueOf(getBeta());
}
std::optional<double> SoftmaxAttr::getTolValue() const {
  return valueOf(getTol());
}

SoftmaxAttr SoftmaxAttr::getExact(MLIRContext *context, SoftmaxVariant variant,
                                  std::optional<double> beta,
                                  std::optional<double> tol) {
  return get(context, variant, attrOf(context, beta), attrOf(context, tol));
}

LogicalResult SoftmaxAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  SoftmaxVariant variant, FloatAttr beta,
                                  FloatAttr tol) {
  std::string problem =
      checkSoftmaxParameters(variant, valueOf(beta), valueOf(tol));
  if (!problem.empty())
    return emitError() << problem;
  return success();
}

SoftmaxAttr SoftmaxAttr::getWithDefaults(MLIRContext *context,
                                         SoftmaxVariant variant,
                                         std::optional<double> beta,
                                         std::optional<double> tol) {
  if (!beta)
    beta = getDefaultSoftmaxBeta(variant);
  if (!tol)
    tol = getDefaultSoftmaxTol(variant);
  return getExact(context, variant, beta, tol);
}

FailureOr<SoftmaxAttr> SoftmaxAttr::parseBody(AsmParser &parser) {
  StringRef keyword;
  llvm::SMLoc loc = parser.getCurrentLocation();
  if (parser.parseKeyword(&keyword))
    return failure();
  std::optional<SoftmaxVariant> variant = symbolizeSoftmaxVariant(keyword);
  if (!variant)
    return parser.emitError(loc, "expected softmax 'standard', "
                                 "'bias_corrected' or 'pasa', got '")
           << keyword << "'";
  std::optional<double> beta, tol;
  auto parseParameter = [&](StringRef name,
                            std::optional<double> &out) -> ParseResult {
    double value = 0;
    if (parser.parseKeyword(name) || parser.parseEqual() ||
        parser.parseFloat(value))
      return failure();
    out = value;
    return success();
  };
  if (succeeded(parser.parseOptionalLParen())) {
    if (parseParameter("beta", beta) ||
        (succeeded(parser.parseOptionalComma()) &&
         parseParameter("tol", tol)) ||
        parser.parseRParen())
      return failure();
  }
  // Defaults first, so that a parameter the variant does not take is still
  // reported by the verifier.
  if (!beta)
    beta = getDefaultSoftmaxBeta(*variant);
  if (!tol)
    tol = getDefaultSoftmaxTol(*variant);
  MLIRContext *context = parser.getContext();
  SoftmaxAttr attr = getChecked([&] { return parser.emitError(loc); },
                                context, *variant, attrOf(context, beta),
                                attrOf(context, tol));
  if (!attr)
    return failure();
  return attr;
}

void SoftmaxAttr::printBody(AsmPrinter &printer) const {
  printer << StringRef(stringifySoftmaxVariant(getVariant()));
  if (!getBeta() && !getTol())
    return;
  printer << "(";
  if (getBeta()) {
    printer << "beta = ";
    printer.printFloat(getBeta().getValue());
  }
  if (getTol()) {
    printer << ", tol = ";
    printer.printFloat(getTol().getValue());
  }
  printer << ")";
}

Attribute SoftmaxAttr::parse(AsmParser &parser, Type) {
  FailureOr<SoftmaxAttr> attr;
  if (parser.parseLess() || failed(attr = parseBody(parser)) ||
      parser.parseGreater())
    return {};
  return *attr;
}

void SoftmaxAttr::print(AsmPrinter &printer) const {
  printer << "<";
  printBody(printer);
  printer << ">";
}
