//===- Enums.h - lpattn enums shared by IR, numerics and runtime -*- C++ -*-===//
//
// The enums are defined once in ODS (LPAttnAttrs.td) and generated as plain
// C++ so that the numerics library and tools use the very type the IR uses.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_NUMERICS_ENUMS_H
#define LPATTN_NUMERICS_ENUMS_H

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/StringRef.h"
#include <cstdint>
#include <optional>

#include "lpattn/Dialect/LPAttn/IR/LPAttnEnums.h.inc"

#endif // LPATTN_NUMERICS_ENUMS_H
