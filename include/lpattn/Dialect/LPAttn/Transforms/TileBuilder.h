//===- TileBuilder.h - building the tile-level form -------------*- C++ -*-===//
//
// Small helpers shared by lpattn-tile and the safeguard rewrites: every op of
// the tile-level form is a linalg op on 2-D tiles or 1-D row vectors, tagged
// with its numerics step.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_DIALECT_LPATTN_TRANSFORMS_TILEBUILDER_H
#define LPATTN_DIALECT_LPATTN_TRANSFORMS_TILEBUILDER_H

#include "lpattn/Dialect/LPAttn/Transforms/Safeguards.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

namespace lpattn {

/// Body of an elementwise or reducing linalg op: block arguments in, the
/// value to yield out.
using TileBodyFn = llvm::function_ref<mlir::Value(
    mlir::OpBuilder &, mlir::Location, mlir::ValueRange)>;

class TileBuilder {
public:
  TileBuilder(mlir::OpBuilder &builder, mlir::Location loc)
      : b(builder), loc(loc) {}

  mlir::Value f32Const(double value);
  mlir::Value floatConst(double value, mlir::Type type);
  mlir::Value indexConst(int64_t value);

  /// An empty tensor of the sizes of `like` (a ranked tensor) and `elt`.
  mlir::Value emptyLike(mlir::Value like, mlir::Type elt);
  /// linalg.fill of `value` (a constant of `elt`) into an empty tensor.
  mlir::Value filled(llvm::ArrayRef<mlir::OpFoldResult> sizes, mlir::Type elt,
                     double value);

  /// Elementwise linalg.generic over the shape of `like`: each input is a
  /// tensor of that shape, a row vector broadcast along the last dimension
  /// (rank 1 under a rank-2 result) or a scalar. Tagged with `step`.
  /// Writes into `init` when given (destination-passing: a slice of the
  /// final result bufferizes in place), else into a new tensor.
  mlir::Value map(Step step, mlir::ValueRange inputs, mlir::Value like,
                  mlir::Type resultElt, TileBodyFn body,
                  mlir::Value init = nullptr);

  /// Row reduction of the 2-D `input` (and row vectors / scalars in
  /// `extraInputs`, broadcast) into the 1-D `init`: body gets (input
  /// element, extras..., accumulator).
  mlir::Value reduceRows(Step step, mlir::Value input,
                         mlir::ValueRange extraInputs, mlir::Value init,
                         TileBodyFn body);

  /// The 2-D product C + A B^T (transposeB) or C + A B, tagged `step`: a
  /// linalg.matmul whose precisions are those of its operand types.
  mlir::Value matmul(Step step, mlir::Value lhs, mlir::Value rhs,
                     mlir::Value init, bool transposeB);

  /// The scalar f32 value of `x` in `type` rounded as the policy says: a
  /// no-op for f32, an exact arith.extf from narrower types.
  mlir::Value toF32(mlir::Value x);
  /// Rounds an f32 value to `type` with lpattn.truncf (no-op for f32).
  mlir::Value fromF32(mlir::Value x, mlir::Type type, OverflowMode overflow);

  mlir::OpBuilder &b;
  mlir::Location loc;
};

} // namespace lpattn

#endif // LPATTN_DIALECT_LPATTN_TRANSFORMS_TILEBUILDER_H
