//===- LPAttnDialect.cpp - lpattn dialect and attributes ------------------===//

#include "lpattn/Dialect/LPAttn/IR/LPAttnDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
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

std::optional<FloatFormat> lpattn::getFloatFormat(Type type) {
  auto floatType = dyn_cast_if_present<FloatType>(type);
  if (!floatType)
    return std::nullopt;
  return getFloatFormat(floatType.getFloatSemantics());
}

//===----------------------------------------------------------------------===//
// PrecisionPolicyAttr
//===----------------------------------------------------------------------===//

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
