//===- Passes.h - lpattn passes ---------------------------------*- C++ -*-===//

#ifndef LPATTN_DIALECT_LPATTN_TRANSFORMS_PASSES_H
#define LPATTN_DIALECT_LPATTN_TRANSFORMS_PASSES_H

#include "lpattn/Dialect/LPAttn/IR/LPAttnDialect.h"
#include "lpattn/Numerics/Geometry.h"
#include "lpattn/Numerics/Rules.h"
#include "lpattn/Numerics/Selection.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace lpattn {

#define GEN_PASS_DECL
#include "lpattn/Dialect/LPAttn/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "lpattn/Dialect/LPAttn/Transforms/Passes.h.inc"

/// Adds the lpattn-expand-float-casts rewrites (lpattn.truncf, arith.truncf
/// f32 -> FP8 and arith.extf FP8 -> float as integer bit arithmetic on
/// scalars and vectors) to `patterns`, for use in other pattern drivers.
void populateExpandFloatCastsPatterns(mlir::RewritePatternSet &patterns);

} // namespace lpattn

#endif // LPATTN_DIALECT_LPATTN_TRANSFORMS_PASSES_H
