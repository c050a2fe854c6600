//===- Passes.h - lpattn passes ---------------------------------*- C++ -*-===//

#ifndef LPATTN_DIALECT_LPATTN_TRANSFORMS_PASSES_H
#define LPATTN_DIALECT_LPATTN_TRANSFORMS_PASSES_H

#include "lpattn/Dialect/LPAttn/IR/LPAttnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace lpattn {

#define GEN_PASS_DECL
#include "lpattn/Dialect/LPAttn/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "lpattn/Dialect/LPAttn/Transforms/Passes.h.inc"

} // namespace lpattn

#endif // LPATTN_DIALECT_LPATTN_TRANSFORMS_PASSES_H
