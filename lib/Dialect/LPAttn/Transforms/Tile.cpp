//===- Tile.cpp - lower lpattn.attention to the tile-level form -----------===//
//
// The flash-attention forward of SPEC.md, one op per numerics step:
//
//   for b, h, i (query tiles):                       scf.forall
//     (per-head descales: q_ds, k_ds, v_ds = *_ds[b, h / (Hq / Hkv)])
//     m = -inf; l = 0; acc = 0
//     for j in visible KV tiles:                      scf.for {lpattn.kv_loop}
//       S   = sum_k f32(Q_i) f32(K_j)                 qk_mma (f32 tile)
//       S   = f32(round_score(S)) * (c * q_ds * k_ds) score
//       S   = mask(S)                                 mask (causal/additive)
//       m'  = max(m, rowmax(S))                       row_max (+ max_guard)
//       P   = exp(S - m')                             exp
//       a   = exp(m - m')                             rescale_factor
//       l   = l * a + rowsum(P)                       row_sum (uncast P)
//       P~  = cast_p(P)                               p_cast
//       A   = f32(acc) * a                            acc_rescale (f32)
//       PV  = sum_k f32(P~) f32(V_j)                  pv_mma (f32 tile)
//       acc = round_acc(A + f32(round_acc(PV)))       accumulate
//     O_i = acc / l * v_ds -> out (0 where l = 0)     normalize
//
// (each step built by its builder in TileSteps.h) and then the safeguards
// the op's attributes ask for, by the same rewrites the safeguard passes
// run.
//
// Where the roundings happen (SPEC.md): a tensor core sums the k dimension
// of a tile product in f32 and rounds the result to the accumulator type
// once, when it leaves the MMA. So each product accumulates into a fresh f32
// zero tile (never into a low-precision one, which would round after every
// multiply-add and lose every small term once a large one is in), and is
// rounded once: S to the score type in the score step, P~ V_j to the acc
// type in the accumulate step, which then rounds acc * a + P~ V_j to the acc
// type once more (acc is the type the running output is kept in between KV
// tiles). With score = acc = f32 every rounding is a no-op and only the f32
// summation order differs from a single fused product.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Dialect/LPAttn/Transforms/Passes.h"
#include "lpattn/Dialect/LPAttn/Transforms/Safeguards.h"

#include "lpattn/Dialect/LPAttn/Transforms/TileSteps.h"

#include "mlir/IR/PatternMatch.h"

#include <limits>

#define DEBUG_TYPE "lpattn-tile"

namespace lpattn {
#define GEN_PASS_DEF_LPATTNTILE
#include "lpattn/Dialect/LPAttn/Transforms/Passes.h.inc"
} // namespace lpattn

using namespace mlir;
using namespace lpattn;

namespace {

/// Static facts of one attention, read once.
struct AttentionShape {
  int64_t batch, qHeads, qLen, headDim, kvHeads, kvLen, valueDim;
  int64_t tileQ, tileKV;
};

/// `lhs op rhs` on index values.
Value muli(OpBuilder &b, Location loc, Value lhs, int64_t rhs) {
  return arith::MulIOp::create(b, loc, lhs,
                               arith::ConstantIndexOp::create(b, loc, rhs));
}

/// The size of the tile starting at `start` along a dimension of `size`
/// cut in tiles of `tile`: static when the tiles divide it, else
/// min(tile, size - start).
OpFoldResult tileSize(OpBuilder &b, Location loc, Value start, int64_t size,
                      int64_t tile) {
  if (size % tile == 0)
    return b.getIndexAttr(tile);
  Value rest = arith::SubIOp::create(
      b, loc, arith::ConstantIndexOp::create(b, loc, size), start);
  return arith::MinSIOp::create(b, loc,
                                arith::ConstantIndexOp::create(b, loc, tile),
                                rest)
      .getResult();
}

/// A 2-D tile [rows, cols] of a 4-D tensor at [b, h, row0, col0].
Value extractTile(OpBuilder &b, Location loc, Value source, Value batch,
                  Value head, Value row0, OpFoldResult rows, OpFoldResult col0,
                  OpFoldResult cols) {
  auto sourceType = cast<RankedTensorType>(source.getType());
  SmallVector<OpFoldResult> offsets{batch, head, row0, col0};
  SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), b.getIndexAttr(1), rows,
                                  cols};
  SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
  auto type = tensor::ExtractSliceOp::inferCanonicalRankReducedResultType(
      2, sourceType, sizes);
  return tensor::ExtractSliceOp::create(b, loc, type, source, offsets, sizes,
                                        strides);
}

/// The operands and static facts of one attention, read once.
struct AttentionTiling {
  AttentionOp op;
  AttentionShape shape;
  PrecisionPolicyAttr policy;
  /// c * q_ds * k_ds and v_ds (f32). Per-head descales: null here (each
  /// query tile reads its own, buildQueryTile), c alone in `softmaxScale`.
  Value scoreScale;
  Value valueDescale;
  Value softmaxScale;  ///< c (f32)
  int64_t numKVTiles;  ///< T
  int64_t diagonal;    ///< Nk - Nq (causal, bottom-right aligned)
  /// The op's lpattn.qk_scale (lpattn-geometry-scale), 1 without one.
  double qkScale = 1.0;
};

/// One iteration of the KV loop: the SPEC loop body on tile j of (Q_i, K_j,
/// V_j), from (m, l, acc) to (m', l', acc').
SmallVector<Value> buildKVStep(OpBuilder &b, Location loc,
                               const AttentionTiling &t, Value batch,
                               Value head, Value kvHead, Value row0,
                               OpFoldResult rows, Value qi, Value kvTile,
                               ValueRange iter) {
  TileBuilder tb(b, loc);
  const AttentionShape &shape = t.shape;
  AttentionOp op = t.op;
  Value m = iter[0], l = iter[1], acc = iter[2];
  Value col0 = muli(b, loc, kvTile, shape.tileKV);
  setStep(col0.getDefiningOp(), Step::KVOffset);
  OpFoldResult cols = tileSize(b, loc, col0, shape.kvLen, shape.tileKV);
  Value kj = extractTile(b, loc, op.getKey(), batch, kvHead, col0, cols,
                         b.getIndexAttr(0), b.getIndexAttr(shape.headDim));
  Value vj = extractTile(b, loc, op.getValue(), batch, kvHead, col0, cols,
                         b.getIndexAttr(0), b.getIndexAttr(shape.valueDim));

  Value s = buildQKProduct(tb, qi, kj, rows, cols);
  s = buildScore(tb, s, t.scoreScale, t.policy, t.qkScale);
  if (Value mask = op.getMask(); mask || op.getCausal()) {
    Value maskTile;
    if (mask) {
      auto maskType = cast<RankedTensorType>(mask.getType());
      Value zero = tb.indexConst(0);
      Value mb = maskType.getDimSize(0) == 1 ? zero : batch;
      Value mh = maskType.getDimSize(1) == 1 ? zero : head;
      maskTile = extractTile(b, loc, mask, mb, mh, row0, rows, col0, cols);
    }
    s = buildMask(tb, s, maskTile, op.getCausal(), row0, col0, t.diagonal);
  }
  Value mNew = buildRowMax(tb, s, m);
  Value mSafe = buildMaxGuard(tb, mNew);
  Value p = buildExp(tb, s, mSafe);
  Value alpha = buildRescaleFactor(tb, m, mSafe);
  Value lNew = buildRowSum(tb, l, alpha, p);
  Value pCast = buildPCast(tb, p, t.policy);
  Value accNew = buildAccUpdate(tb, acc, alpha, pCast, vj, t.policy);
  return {mNew, lNew, accNew};
}

/// One query tile (b, h, i): the KV loop and the normalization, written into
/// its slice of `out` (destination-passing style, so that it bufferizes in
/// place). Returns the KV loop and the normalized tile.
std::pair<scf::ForOp, Value> buildQueryTile(OpBuilder &b, Location loc,
                                            const AttentionTiling &tiling,
                                            Value batch, Value head,
                                            Value qTile, Value out,
                                            Value row0, OpFoldResult rows) {
  TileBuilder tb(b, loc);
  AttentionTiling t = tiling;
  const AttentionShape &shape = t.shape;
  AttentionOp op = t.op;
  Value qi = extractTile(b, loc, op.getQuery(), batch, head, row0, rows,
                         b.getIndexAttr(0), b.getIndexAttr(shape.headDim));
  // GQA: query head h reads KV head h / (Hq / Hkv).
  int64_t groupSize = shape.qHeads / shape.kvHeads;
  Value kvHead = groupSize == 1
                     ? head
                     : arith::DivUIOp::create(b, loc, head,
                                              tb.indexConst(groupSize))
                           .getResult();
  // Per-(batch, KV head) descales: this tile's q_ds, k_ds, v_ds are entry
  // [b, h_kv] of each, read once here; the score scale is (c * q_ds) * k_ds
  // in f32, in the order of the per-tensor form.
  if (op.hasPerHeadDescales()) {
    SmallVector<Value, 3> ds;
    for (Value descale : op.getDescales())
      ds.push_back(tensor::ExtractOp::create(b, loc, descale,
                                             ValueRange{batch, kvHead}));
    t.scoreScale = arith::MulFOp::create(b, loc, t.softmaxScale, ds[0]);
    t.scoreScale = arith::MulFOp::create(b, loc, t.scoreScale, ds[1]);
    t.valueDescale = ds[2];
  }
  // KV tiles to visit: all, or with causal those left of the diagonal
  // (fully masked tiles are skipped): ceil((row0 + rows + Nk - Nq) / Bc)
  // clamped to [0, T].
  Value numTiles = tb.indexConst(t.numKVTiles);
  if (op.getCausal()) {
    Value end = arith::AddIOp::create(
        b, loc, row0, getValueOrCreateConstantIndexOp(b, loc, rows));
    end = arith::AddIOp::create(b, loc, end, tb.indexConst(t.diagonal));
    end = arith::MaxSIOp::create(b, loc, end, tb.indexConst(0));
    Value tiles =
        arith::CeilDivSIOp::create(b, loc, end, tb.indexConst(shape.tileKV));
    numTiles = arith::MinSIOp::create(b, loc, tiles, numTiles);
  }

  // m = -inf, l = 0, acc = 0.
  Type f32 = b.getF32Type();
  Value m0 = tb.filled({rows}, f32, -std::numeric_limits<double>::infinity());
  Value l0 = tb.filled({rows}, f32, 0.0);
  Value acc0 = tb.filled({rows, b.getIndexAttr(shape.valueDim)},
                         t.policy.getAcc(), 0.0);
  auto kvLoop = scf::ForOp::create(
      b, loc, tb.indexConst(0), numTiles, tb.indexConst(1),
      ValueRange{m0, l0, acc0},
      [&](OpBuilder &b, Location loc, Value kvTile, ValueRange iter) {
        scf::YieldOp::create(b, loc,
                             buildKVStep(b, loc, t, batch, head, kvHead, row0,
                                         rows, qi, kvTile, iter));
      });
  kvLoop->setAttr(kKVLoopAttrName, b.getUnitAttr());
  kvLoop->setAttr(kKVOrderAttrName,
                  KVOrderAttr::get(b.getContext(), KVOrder::Forward));
  kvLoop->setAttr(kPolicyAttrName, t.policy);

  // O_i = acc / l * v_ds -> out.
  Value outTile = extractTile(b, loc, out, batch, head, row0, rows,
                              b.getIndexAttr(0),
                              b.getIndexAttr(shape.valueDim));
  Value o = buildNormalize(tb, kvLoop.getResult(2), kvLoop.getResult(1),
                           t.valueDescale, outTile, t.policy);
  return {kvLoop, o};
}

/// Applies the op's safeguard attributes to one KV loop, by the rewrites the
/// safeguard passes use.
LogicalResult applySafeguards(RewriterBase &rewriter, AttentionOp op,
                              scf::ForOp kvLoop) {
  SoftmaxAttr softmax = op.getSoftmax();
  SoftmaxVariant variant = softmax.getVariant();
  if (variant == SoftmaxVariant::Pasa &&
      failed(insertPasaShift(rewriter, kvLoop, *softmax.getBetaValue())))
    return failure();
  if (variant == SoftmaxVariant::BiasCorrected &&
      failed(insertBiasCorrection(rewriter, kvLoop, *softmax.getBetaValue(),
                                  *softmax.getTolValue())))
    return failure();
  double pScale = op.getPScaleAttr().getValueAsDouble();
  if (pScale != 1.0 &&
      failed(insertPScale(rewriter, kvLoop, pScale, /*lagLog2=*/0.0)))
    return failure();
  if (op.getKvOrder() == KVOrder::Reverse &&
      failed(reverseKVOrder(rewriter, kvLoop)))
    return failure();
  return success();
}

/// Emits the tile-level form of `op` in place of it: an scf.forall over
/// (batch, query head, query tile), which a target maps to parallel work
/// (GPU blocks), each holding one query tile's KV loop.
LogicalResult lowerAttention(RewriterBase &rewriter, AttentionOp op,
                             const AttentionShape &shape) {
  Location loc = op.getLoc();
  OpBuilder &b = rewriter;
  rewriter.setInsertionPoint(op);
  TileBuilder tb(b, loc);

  AttentionTiling t{op, shape, op.getPolicy(), Value(), Value(), Value(),
                    llvm::divideCeil(shape.kvLen, shape.tileKV),
                    shape.kvLen - shape.qLen};
  if (FloatAttr qkScale =
          LPAttnDialect::QkScaleAttrHelper(op.getContext()).getAttr(op))
    t.qkScale = qkScale.getValueAsDouble();
  // c, and with per-tensor descales c * q_ds * k_ds, once. Per-head
  // descales are read in each query tile (buildQueryTile).
  t.softmaxScale = tb.f32Const(op.getSoftmaxScaleAttr().getValueAsDouble());
  if (!op.hasPerHeadDescales()) {
    t.scoreScale = t.softmaxScale;
    t.valueDescale = tb.f32Const(1.0);
    if (!op.getDescales().empty()) {
      t.scoreScale =
          arith::MulFOp::create(b, loc, t.scoreScale, op.getDescales()[0]);
      t.scoreScale =
          arith::MulFOp::create(b, loc, t.scoreScale, op.getDescales()[1]);
      t.valueDescale = op.getDescales()[2];
    }
  }

  Value result = tensor::EmptyOp::create(b, loc, op.getResultType().getShape(),
                                         op.getResultType().getElementType());
  const int64_t numQTiles = llvm::divideCeil(shape.qLen, shape.tileQ);
  SmallVector<scf::ForOp> kvLoops;
  auto forall = scf::ForallOp::create(
      b, loc,
      ArrayRef<OpFoldResult>{b.getIndexAttr(shape.batch),
                             b.getIndexAttr(shape.qHeads),
                             b.getIndexAttr(numQTiles)},
      ValueRange{result}, /*mapping=*/std::nullopt,
      [&](OpBuilder &b, Location loc, ValueRange args) {
        Value batch = args[0], head = args[1], qTile = args[2];
        Value out = args[3];
        Value row0 = muli(b, loc, qTile, shape.tileQ);
        OpFoldResult rows = tileSize(b, loc, row0, shape.qLen, shape.tileQ);
        auto [kvLoop, o] =
            buildQueryTile(b, loc, t, batch, head, qTile, out, row0, rows);
        kvLoops.push_back(kvLoop);
        auto inParallel = scf::InParallelOp::create(b, loc);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(inParallel.getBody());
        SmallVector<OpFoldResult> offsets{batch, head, row0,
                                          b.getIndexAttr(0)};
        SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), b.getIndexAttr(1),
                                        rows, b.getIndexAttr(shape.valueDim)};
        SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
        tensor::ParallelInsertSliceOp::create(b, loc, o, out, offsets, sizes,
                                              strides);
      });

  for (scf::ForOp kvLoop : kvLoops)
    if (failed(applySafeguards(rewriter, op, kvLoop)))
      return failure();
  rewriter.replaceOp(op, forall.getResult(0));
  return success();
}

struct LPAttnTilePass : lpattn::impl::LPAttnTileBase<LPAttnTilePass> {
  using LPAttnTileBase::LPAttnTileBase;

  void runOnOperation() override {
    if (tileQ <= 0 || tileKV <= 0) {
      emitError(getOperation().getLoc())
          << "lpattn-tile: tile-q and tile-kv must be positive, got "
          << static_cast<int64_t>(tileQ) << " and "
          << static_cast<int64_t>(tileKV);
      return signalPassFailure();
    }
    SmallVector<AttentionOp> ops;
    getOperation().walk([&](AttentionOp op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (AttentionOp op : ops) {
      for (Value v : {op.getQuery(), op.getKey(), op.getValue()})
        if (!cast<RankedTensorType>(v.getType()).hasStaticShape()) {
          op.emitOpError() << "lpattn-tile needs static shapes, got "
                           << v.getType();
          return signalPassFailure();
        }
      if (op.getMask() &&
          !cast<RankedTensorType>(op.getMask().getType()).hasStaticShape()) {
        op.emitOpError() << "lpattn-tile needs a static mask shape";
        return signalPassFailure();
      }
      RankedTensorType q = op.getQueryType(), k = op.getKeyType(),
                       v = op.getValueType();
      AttentionShape shape{q.getDimSize(0), q.getDimSize(1), q.getDimSize(2),
                           q.getDimSize(3), k.getDimSize(1), k.getDimSize(2),
                           v.getDimSize(3), tileQ, tileKV};
      if (auto tiles = op.getTileSizesAttr()) {
        shape.tileQ = tiles[0];
        shape.tileKV = tiles[1];
      }
      shape.tileQ = std::min(shape.tileQ, shape.qLen);
      shape.tileKV = std::min(shape.tileKV, shape.kvLen);
      if (failed(lowerAttention(rewriter, op, shape)))
        return signalPassFailure();
    }
  }
};

} // namespace
