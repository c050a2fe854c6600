//===- CPUMatmulLayout.cpp - vectorizable loop nests for tile products ----===//
//
// linalg.matmul lowers to loops (m, n, k) with the reduction innermost: a
// strict-FP sum LLVM cannot vectorize. Reordering to (m, k, n) keeps each
// C[m, n]'s sum in k order (same roundings) while the inner loop becomes a
// unit-stride axpy over n. Inputs are widened once per tile, not once per
// multiply-add.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Dialect/LPAttn/Transforms/Passes.h"
#include "lpattn/Dialect/LPAttn/Transforms/Safeguards.h"

#include "lpattn/Dialect/LPAttn/Transforms/TileBuilder.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "lpattn-cpu-matmul-layout"

namespace lpattn {
#define GEN_PASS_DEF_LPATTNCPUMATMULLAYOUT
#include "lpattn/Dialect/LPAttn/Transforms/Passes.h.inc"
} // namespace lpattn

using namespace mlir;
using namespace lpattn;

namespace {

/// Widens `x` (2-D) to `elt` exactly, optionally transposing it.
Value widen(PatternRewriter &rewriter, Location loc, Value x, Type elt,
            bool transpose) {
  auto type = cast<RankedTensorType>(x.getType());
  if (type.getElementType() == elt && !transpose)
    return x;
  MLIRContext *ctx = rewriter.getContext();
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, x);
  if (transpose)
    std::swap(sizes[0], sizes[1]);
  Value init = tensor::EmptyOp::create(rewriter, loc, sizes, elt);
  AffineExpr d0, d1;
  bindDims(ctx, d0, d1);
  AffineMap in = transpose ? AffineMap::get(2, 0, {d1, d0}, ctx)
                           : AffineMap::get(2, 0, {d0, d1}, ctx);
  AffineMap out = AffineMap::get(2, 0, {d0, d1}, ctx);
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange{init.getType()}, ValueRange{x},
      ValueRange{init}, {in, out},
      {utils::IteratorType::parallel, utils::IteratorType::parallel},
      [&](OpBuilder &b, Location l, ValueRange args) {
        TileBuilder t(b, l);
        // Exact: widening never rounds; the truncf to a 16-bit accumulator
        // type only drops zero bits of an FP8 or same-width value.
        Value v = t.fromF32(t.toF32(args[0]), elt, OverflowMode::NonSat);
        linalg::YieldOp::create(b, l, v);
      });
  return generic.getResult(0);
}

struct MatmulToOrderedGeneric : OpRewritePattern<linalg::MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::MatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return rewriter.notifyMatchFailure(op, "needs tensors");
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr m, n, k;
    bindDims(ctx, m, n, k);
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    AffineMap a = AffineMap::get(3, 0, {m, k}, ctx);
    AffineMap bNormal = AffineMap::get(3, 0, {k, n}, ctx);
    AffineMap bTransposed = AffineMap::get(3, 0, {n, k}, ctx);
    AffineMap c = AffineMap::get(3, 0, {m, n}, ctx);
    if (maps.size() != 3 || maps[0] != a || maps[2] != c ||
        (maps[1] != bNormal && maps[1] != bTransposed))
      return rewriter.notifyMatchFailure(op, "not a plain or B^T matmul");
    // A widening cast attribute would change the body; we only handle the
    // default (floating-point extension) semantics.
    if (op.getCast() != linalg::TypeFn::cast_signed)
      return rewriter.notifyMatchFailure(op, "non-default cast");
    Value init = op.getDpsInits()[0];
    Type accType = getElementTypeOrSelf(init.getType());
    if (!isa<FloatType>(accType))
      return rewriter.notifyMatchFailure(op, "integer matmul");

    Location loc = op.getLoc();
    Value lhs = widen(rewriter, loc, op.getDpsInputs()[0], accType, false);
    Value rhs = widen(rewriter, loc, op.getDpsInputs()[1], accType,
                      maps[1] == bTransposed);
    // Loop order (m, k, n): dims d0 = m, d1 = k, d2 = n.
    AffineExpr dm, dk, dn;
    bindDims(ctx, dm, dk, dn);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{init.getType()}, ValueRange{lhs, rhs},
        ValueRange{init},
        {AffineMap::get(3, 0, {dm, dk}, ctx),
         AffineMap::get(3, 0, {dk, dn}, ctx),
         AffineMap::get(3, 0, {dm, dn}, ctx)},
        {utils::IteratorType::parallel, utils::IteratorType::reduction,
         utils::IteratorType::parallel},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value prod = arith::MulFOp::create(b, l, args[0], args[1]);
          linalg::YieldOp::create(
              b, l, ValueRange{arith::AddFOp::create(b, l, args[2], prod)});
        });
    if (std::optional<Step> step = getStep(op))
      setStep(generic, *step);
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

struct LPAttnCPUMatmulLayoutPass
    : lpattn::impl::LPAttnCPUMatmulLayoutBase<LPAttnCPUMatmulLayoutPass> {
  using LPAttnCPUMatmulLayoutBase::LPAttnCPUMatmulLayoutBase;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<MatmulToOrderedGeneric>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
