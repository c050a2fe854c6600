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
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "lpattn/Numerics/Enums.h"
#include "lpattn/Numerics/Formats.h"

#include "lpattn/Dialect/LPAttn/IR/LPAttnOpsDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "lpattn/Dialect/LPAttn/IR/LPAttnAttrs.h.inc"

#define GET_OP_CLASSES
#include "lpattn/Dialect/LPAttn/IR/LPAttnOps.h.inc"

namespace lpattn {
/// The lpattn format of an MLIR element type; nullopt for types lpattn does
/// not compute in.
std::optional<FloatFormat> getFloatFormat(mlir::Type type);
} // namespace lpattn

#endif // LPATTN_DIALECT_LPATTN_IR_LPATTNDIALECT_H
