//===- LPAttnDialect.h - lpattn dialect -------------------------*- C++ -*-===//
//
// Declares the lpattn dialect, its attributes and its operations. Include
// this one header to use the dialect.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_DIALECT_LPATTN_IR_LPATTNDIALECT_H
#define LPATTN_DIALECT_LPATTN_IR_LPATTNDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "lpattn/Numerics/Enums.h"
#include "lpattn/Numerics/Formats.h"

#include <type_traits>

namespace lpattn {
/// The plain enums of lpattn/Numerics/Enums.h that IR attributes wrap.
template <typename T>
inline constexpr bool kIsAttrEnum =
    std::is_same_v<T, KVOrder> || std::is_same_v<T, SoftmaxVariant> ||
    std::is_same_v<T, OverflowMode>;

/// Prints a wrapped enum as its spelling (attribute printers, diagnostics).
template <typename EnumT, typename = std::enable_if_t<kIsAttrEnum<EnumT>>>
llvm::raw_ostream &operator<<(llvm::raw_ostream &os, EnumT value) {
  return os << llvm::StringRef(stringifyEnum(value));
}
} // namespace lpattn

namespace mlir {
/// Parses a wrapped enum from its spelling (the generated attribute
/// parsers of LPAttnAttrs.td use it).
template <typename EnumT>
struct FieldParser<EnumT,
                   std::enable_if_t<lpattn::kIsAttrEnum<EnumT>, EnumT>> {
  template <typename ParserT> static FailureOr<EnumT> parse(ParserT &parser) {
    std::string keyword;
    llvm::SMLoc loc = parser.getCurrentLocation();
    if (failed(parser.parseOptionalKeywordOrString(&keyword)))
      return parser.emitError(loc, "expected a keyword");
    if (std::optional<EnumT> value =
            lpattn::symbolizeEnum(static_cast<EnumT *>(nullptr), keyword))
      return *value;
    return parser.emitError(loc, "unknown value '") << keyword << "'";
  }
};
} // namespace mlir

#include "lpattn/Dialect/LPAttn/IR/LPAttnEnums.h.inc"

// Attributes before the dialect: its protocol helpers use them.
#define GET_ATTRDEF_CLASSES
#include "lpattn/Dialect/LPAttn/IR/LPAttnAttrs.h.inc"

#include "lpattn/Dialect/LPAttn/IR/LPAttnOpsDialect.h.inc"

#define GET_OP_CLASSES
#include "lpattn/Dialect/LPAttn/IR/LPAttnOps.h.inc"

namespace lpattn {
/// The lpattn format of an MLIR element type; nullopt for types lpattn does
/// not compute in.
std::optional<FloatFormat> getFloatFormat(mlir::Type type);
/// The MLIR element type of an lpattn format.
mlir::FloatType getType(mlir::MLIRContext *context, FloatFormat format);
} // namespace lpattn

#endif // LPATTN_DIALECT_LPATTN_IR_LPATTNDIALECT_H
