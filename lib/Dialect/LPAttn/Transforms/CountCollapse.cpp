//===- CountCollapse.cpp - count P that the cast flushes to zero ----------===//
//
// P-Cast's collapse fraction is a property of the pipeline, not of its
// output: it needs P before and after the cast. This instrumentation counts
// both inside the compiled code, per KV tile, into a caller-owned
// memref<2xi64> (collapsed, positive) appended to the function.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Dialect/LPAttn/Transforms/Passes.h"
#include "lpattn/Dialect/LPAttn/Transforms/Safeguards.h"

#include "lpattn/Dialect/LPAttn/Transforms/TileBuilder.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

#define DEBUG_TYPE "lpattn-count-collapse"

namespace lpattn {
#define GEN_PASS_DEF_LPATTNCOUNTCOLLAPSE
#include "lpattn/Dialect/LPAttn/Transforms/Passes.h.inc"
} // namespace lpattn

using namespace mlir;
using namespace lpattn;

namespace {

/// After the P cast of `kvLoop`: stats[0] += #(P > 0, P~ = 0),
/// stats[1] += #(P > 0), over keys >= sinkKeys.
LogicalResult instrument(OpBuilder &b, scf::ForOp kvLoop, Value stats,
                         int64_t sinkKeys) {
  Block &body = *kvLoop.getBody();
  Operation *castOp = findStep(body, Step::PCast);
  if (!castOp)
    return success(); // No cast of P: nothing can collapse.
  // The index of the tile's first key (its kv_offset step).
  Operation *offset = findStep(body, Step::KVOffset);
  if (!offset || offset->getNumResults() != 1)
    return kvLoop.emitOpError("KV loop has no unique kv_offset step");
  Value col0 = offset->getResult(0);

  Location loc = castOp->getLoc();
  b.setInsertionPointAfter(castOp);
  TileBuilder tb(b, loc);
  Value p = castOp->getOperand(0), pCast = castOp->getResult(0);
  Type i64 = b.getI64Type();
  MLIRContext *ctx = b.getContext();
  Value zero = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(0));
  Value init = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{}, i64);
  init = linalg::FillOp::create(b, loc, zero, init).getResult(0);
  AffineExpr d0, d1;
  bindDims(ctx, d0, d1);
  AffineMap tile = AffineMap::get(2, 0, {d0, d1}, ctx);
  AffineMap scalar = AffineMap::get(2, 0, ctx);
  auto counts = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType(), init.getType()}, ValueRange{p, pCast},
      ValueRange{init, init}, {tile, tile, scalar, scalar},
      {utils::IteratorType::reduction, utils::IteratorType::reduction},
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        TileBuilder t(nb, nl);
        Value j = linalg::IndexOp::create(nb, nl, 1);
        Value key = arith::AddIOp::create(nb, nl, col0, j);
        Value nonSink = arith::CmpIOp::create(
            nb, nl, arith::CmpIPredicate::sge, key,
            arith::ConstantIndexOp::create(nb, nl, sinkKeys));
        Value fzero = t.f32Const(0.0);
        Value positive = arith::CmpFOp::create(
            nb, nl, arith::CmpFPredicate::OGT, a[0], fzero);
        positive = arith::AndIOp::create(nb, nl, positive, nonSink);
        Value flushed = arith::CmpFOp::create(
            nb, nl, arith::CmpFPredicate::OEQ, t.toF32(a[1]), fzero);
        Value collapsed = arith::AndIOp::create(nb, nl, positive, flushed);
        auto add = [&](Value acc, Value flag) -> Value {
          Value inc = arith::ExtUIOp::create(nb, nl, nb.getI64Type(), flag);
          return arith::AddIOp::create(nb, nl, acc, inc);
        };
        linalg::YieldOp::create(
            nb, nl, ValueRange{add(a[2], collapsed), add(a[3], positive)});
      });
  for (int64_t i = 0; i < 2; ++i) {
    Value count = tensor::ExtractOp::create(b, loc, counts.getResult(i),
                                            ValueRange{});
    Value index = arith::ConstantIndexOp::create(b, loc, i);
    Value old = memref::LoadOp::create(b, loc, stats, ValueRange{index});
    Value sum = arith::AddIOp::create(b, loc, old, count);
    memref::StoreOp::create(b, loc, sum, stats, ValueRange{index});
  }
  return success();
}

struct LPAttnCountCollapsePass
    : lpattn::impl::LPAttnCountCollapseBase<LPAttnCountCollapsePass> {
  using LPAttnCountCollapseBase::LPAttnCountCollapseBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<scf::ForOp> loops = getKVLoops(func);
    if (loops.empty())
      return;
    if (func.isExternal() || sinkKeys < 0) {
      func.emitError("lpattn-count-collapse needs a function body and "
                     "sink-keys >= 0");
      return signalPassFailure();
    }
    auto statsType = MemRefType::get({2}, IntegerType::get(&getContext(), 64));
    if (failed(func.insertArgument(func.getNumArguments(), statsType, {},
                                   func.getLoc())))
      return signalPassFailure();
    Value stats = func.getArgument(func.getNumArguments() - 1);
    OpBuilder b(&getContext());
    for (scf::ForOp loop : loops)
      if (failed(instrument(b, loop, stats, sinkKeys)))
        return signalPassFailure();
  }
};

} // namespace
