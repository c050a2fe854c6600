//===- Safeguards.h - tile-level numerics rewrites --------------*- C++ -*-===//
//
// The rewrites behind lpattn-tile and the safeguard passes. lpattn-tile
// builds the plain flash-attention forward and then applies these for the
// attributes of the op; the passes apply them to tile-level IR directly. One
// implementation for both routes is what makes them give identical IR.
//
// Each rewrite anchors on ops tagged with `lpattn.step` inside (or right
// after) a KV loop, the `scf.for` marked `lpattn.kv_loop`.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_DIALECT_LPATTN_TRANSFORMS_SAFEGUARDS_H
#define LPATTN_DIALECT_LPATTN_TRANSFORMS_SAFEGUARDS_H

#include "lpattn/Dialect/LPAttn/IR/LPAttnDialect.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

#include <optional>
#include <string>

namespace lpattn {

/// Attribute names of the tile-level form (declared in LPAttnBase.td).
inline constexpr llvm::StringLiteral kStepAttrName =
    LPAttnDialect::StepAttrHelper::getNameStr();
inline constexpr llvm::StringLiteral kKVLoopAttrName =
    LPAttnDialect::KvLoopAttrHelper::getNameStr();
inline constexpr llvm::StringLiteral kKVOrderAttrName =
    LPAttnDialect::KvOrderAttrHelper::getNameStr();
inline constexpr llvm::StringLiteral kPolicyAttrName =
    LPAttnDialect::PolicyAttrHelper::getNameStr();
inline constexpr llvm::StringLiteral kScaleAttrName =
    LPAttnDialect::ScaleAttrHelper::getNameStr();
inline constexpr llvm::StringLiteral kBetaAttrName =
    LPAttnDialect::BetaAttrHelper::getNameStr();
inline constexpr llvm::StringLiteral kTolAttrName =
    LPAttnDialect::TolAttrHelper::getNameStr();

/// The step an op performs, if it is tagged.
std::optional<Step> getStep(mlir::Operation *op);
/// Tags `op` with `step`.
void setStep(mlir::Operation *op, Step step);
/// The unique op tagged `step` directly in `block`; null if none or several.
mlir::Operation *findStep(mlir::Block &block, Step step);

/// All KV loops (tile-level attentions) under `root`, outermost first.
llvm::SmallVector<mlir::scf::ForOp> getKVLoops(mlir::Operation *root);

/// Inserts P * S before the P cast and l * S before the final normalization.
/// A no-op if the same S is already there; fails (with a diagnostic) for a
/// different S, a scale that is not a power of two, or one that saturates.
mlir::LogicalResult insertPScale(mlir::RewriterBase &rewriter,
                                 mlir::scf::ForOp kvLoop, double scale,
                                 double lagLog2);

/// Makes the KV loop visit tiles T-1 .. 0. A no-op if already reversed.
mlir::LogicalResult reverseKVOrder(mlir::RewriterBase &rewriter,
                                   mlir::scf::ForOp kvLoop);

/// LPTF: rewrites m' where >= 2 scores tie with it (within tol). A no-op if
/// already applied with the same parameters.
mlir::LogicalResult insertBiasCorrection(mlir::RewriterBase &rewriter,
                                         mlir::scf::ForOp kvLoop, double beta,
                                         double tol);

/// PASA: shifts K_j by beta * mean(K_j) before the QK product and adds the
/// shift back to the f32 scores. A no-op if already applied.
mlir::LogicalResult insertPasaShift(mlir::RewriterBase &rewriter,
                                    mlir::scf::ForOp kvLoop, double beta);

/// The policy recorded on a KV loop by lpattn-tile.
PrecisionPolicyAttr getKVLoopPolicy(mlir::scf::ForOp kvLoop);

} // namespace lpattn

#endif // LPATTN_DIALECT_LPATTN_TRANSFORMS_SAFEGUARDS_H
