//===- Tile.cpp - lower lpattn.attention to the tile-level form -----------===//
//
// The flash-attention forward of SPEC.md, one op per numerics step:
//
//   for b, h, i (query tiles):                       scf.for
//     m = -inf; l = 0; acc = 0
//     for j in visible KV tiles:                      scf.for {lpattn.kv_order}
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
// and then the safeguards the op's attributes ask for, by the same rewrites
// the safeguard passes run.
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

#include "TileBuilder.h"

#include "mlir/Dialect/Math/IR/Math.h"
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

/// The tile product A B^T (transposeB) or A B of the low-precision inputs,
/// summed in f32 into a fresh zero tile of `sizes`: the MMA's own
/// accumulator, before its result is rounded to the policy's type.
Value matmul(OpBuilder &b, Location loc, Step step, Value lhs, Value rhs,
             ArrayRef<OpFoldResult> sizes, bool transposeB) {
  MLIRContext *ctx = b.getContext();
  Value init = TileBuilder(b, loc).filled(sizes, b.getF32Type(), 0.0);
  AffineExpr m, n, k;
  bindDims(ctx, m, n, k);
  SmallVector<AffineMap> maps = {
      AffineMap::get(3, 0, {m, k}, ctx),
      transposeB ? AffineMap::get(3, 0, {n, k}, ctx)
                 : AffineMap::get(3, 0, {k, n}, ctx),
      AffineMap::get(3, 0, {m, n}, ctx)};
  auto mapsAttr = b.getAffineMapArrayAttr(maps);
  auto op = linalg::MatmulOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{lhs, rhs},
      ValueRange{init},
      ArrayRef<NamedAttribute>{b.getNamedAttr("indexing_maps", mapsAttr)});
  setStep(op, step);
  return op.getResult(0);
}

/// Emits the tile-level form of `op` in place of it.
LogicalResult lowerAttention(RewriterBase &rewriter, AttentionOp op,
                             const AttentionShape &shape) {
  Location loc = op.getLoc();
  OpBuilder &b = rewriter;
  rewriter.setInsertionPoint(op);
  TileBuilder tb(b, loc);
  PrecisionPolicyAttr policyAttr = op.getPolicy();
  PrecisionPolicy policy = policyAttr.toPolicy();
  Type f32 = b.getF32Type();
  Type scoreType = policyAttr.getScore(), accType = policyAttr.getAcc(),
       outElt = policyAttr.getOut();
  const double negInf = -std::numeric_limits<double>::infinity();
  const int64_t br = shape.tileQ, bc = shape.tileKV;
  const int64_t numKVTiles = llvm::divideCeil(shape.kvLen, bc);
  const int64_t numQTiles = llvm::divideCeil(shape.qLen, br);
  const int64_t groupSize = shape.qHeads / shape.kvHeads;
  // Causal, bottom-right aligned: query row r sees key c iff
  // c <= r + (Nk - Nq).
  const int64_t diagonal = shape.kvLen - shape.qLen;

  // c * q_ds * k_ds, once.
  Value scoreScale = tb.f32Const(op.getSoftmaxScaleAttr().getValueAsDouble());
  Value valueDescale = tb.f32Const(1.0);
  if (!op.getDescales().empty()) {
    scoreScale = arith::MulFOp::create(b, loc, scoreScale, op.getDescales()[0]);
    scoreScale = arith::MulFOp::create(b, loc, scoreScale, op.getDescales()[1]);
    valueDescale = op.getDescales()[2];
  }
  Value mask = op.getMask();
  auto maskType = mask ? cast<RankedTensorType>(mask.getType()) : nullptr;

  Value result = tensor::EmptyOp::create(b, loc, op.getResultType().getShape(),
                                         outElt);
  Value zero = tb.indexConst(0), one = tb.indexConst(1);
  SmallVector<scf::ForOp> kvLoops;

  auto buildQueryTile = [&](OpBuilder &b, Location loc, Value batch,
                            Value head, Value qTile, Value out) -> Value {
    TileBuilder tb(b, loc);
    Value row0 = muli(b, loc, qTile, br);
    OpFoldResult rows = tileSize(b, loc, row0, shape.qLen, br);
    Value qi = extractTile(b, loc, op.getQuery(), batch, head, row0, rows,
                           b.getIndexAttr(0), b.getIndexAttr(shape.headDim));
    // GQA: query head h reads KV head h / (Hq / Hkv).
    Value kvHead = groupSize == 1
                       ? head
                       : arith::DivUIOp::create(b, loc, head,
                                                tb.indexConst(groupSize))
                             .getResult();
    // KV tiles to visit: all, or with causal those left of the diagonal
    // (fully masked tiles are skipped): ceil((row0 + rows + Nk - Nq) / Bc)
    // clamped to [0, T].
    Value numTiles = tb.indexConst(numKVTiles);
    if (op.getCausal()) {
      Value end = arith::AddIOp::create(
          b, loc, row0,
          getValueOrCreateConstantIndexOp(b, loc, rows));
      end = arith::AddIOp::create(b, loc, end, tb.indexConst(diagonal));
      end = arith::MaxSIOp::create(b, loc, end, zero);
      Value tiles = arith::CeilDivSIOp::create(b, loc, end, tb.indexConst(bc));
      numTiles = arith::MinSIOp::create(b, loc, tiles, numTiles);
    }

    SmallVector<OpFoldResult> rowSizes{rows};
    SmallVector<OpFoldResult> accSizes{rows,
                                       b.getIndexAttr(shape.valueDim)};
    Value m0 = tb.filled(rowSizes, f32, negInf);
    Value l0 = tb.filled(rowSizes, f32, 0.0);
    Value acc0 = tb.filled(accSizes, accType, 0.0);

    auto kvLoop = scf::ForOp::create(
        b, loc, zero, numTiles, one, ValueRange{m0, l0, acc0},
        [&](OpBuilder &b, Location loc, Value kvTile, ValueRange iter) {
          TileBuilder tb(b, loc);
          Value m = iter[0], l = iter[1], acc = iter[2];
          Value col0 = muli(b, loc, kvTile, bc);
          OpFoldResult cols = tileSize(b, loc, col0, shape.kvLen, bc);
          Value kj = extractTile(b, loc, op.getKey(), batch, kvHead, col0,
                                 cols, b.getIndexAttr(0),
                                 b.getIndexAttr(shape.headDim));
          Value vj = extractTile(b, loc, op.getValue(), batch, kvHead, col0,
                                 cols, b.getIndexAttr(0),
                                 b.getIndexAttr(shape.valueDim));

          OverflowMode overflow = policy.overflow;
          // S = Q_i K_j^T: qk inputs, summed in f32 (the MMA accumulator).
          Value s = matmul(b, loc, Step::QKMma, qi, kj, {rows, cols},
                           /*transposeB=*/true);
          // S = f32(round_score(S)) * (c * q_ds * k_ds): the product leaves
          // the MMA rounded to the score type, once; the scaling is f32.
          s = tb.map(Step::Score, {s, scoreScale}, s, f32,
                     [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                       TileBuilder t(nb, nl);
                       Value rounded =
                           t.toF32(t.fromF32(a[0], scoreType, overflow));
                       return arith::MulFOp::create(nb, nl, rounded, a[1]);
                     });

          // Masking: the additive mask, then -inf right of the diagonal.
          if (mask || op.getCausal()) {
            SmallVector<Value> inputs{s};
            if (mask) {
              Value mb = maskType.getDimSize(0) == 1 ? zero : batch;
              Value mh = maskType.getDimSize(1) == 1 ? zero : head;
              inputs.push_back(
                  extractTile(b, loc, mask, mb, mh, row0, rows, col0, cols));
            }
            bool causal = op.getCausal();
            s = tb.map(
                Step::Mask, inputs, s, f32,
                [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                  Value v = a[0];
                  if (mask)
                    v = arith::AddFOp::create(nb, nl, v, a[1]);
                  if (!causal)
                    return v;
                  // visible <=> col0 + j <= row0 + i + (Nk - Nq)
                  Value i = linalg::IndexOp::create(nb, nl, 0);
                  Value j = linalg::IndexOp::create(nb, nl, 1);
                  Value row = arith::AddIOp::create(nb, nl, row0, i);
                  Value col = arith::AddIOp::create(nb, nl, col0, j);
                  Value limit = arith::AddIOp::create(
                      nb, nl, row,
                      arith::ConstantIndexOp::create(nb, nl, diagonal));
                  Value visible = arith::CmpIOp::create(
                      nb, nl, arith::CmpIPredicate::sle, col, limit);
                  Value ninf = arith::ConstantOp::create(
                      nb, nl, nb.getF32FloatAttr(-INFINITY));
                  return arith::SelectOp::create(nb, nl, visible, v, ninf);
                });
          }

          // m' = max(m, rowmax(S)).
          Value mNew = tb.reduceRows(
              Step::RowMax, s, {}, m,
              [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                return arith::MaximumFOp::create(nb, nl, a[0], a[1]);
              });
          // Rows with no visible key so far keep m' = -inf; exp(S - m')
          // would be exp(-inf + inf) = NaN, so they use m' = 0 (P = 0).
          Value mSafe = tb.map(
              Step::MaxGuard, {mNew}, mNew, f32,
              [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                Value ninf = arith::ConstantOp::create(
                    nb, nl, nb.getF32FloatAttr(-INFINITY));
                Value none = arith::CmpFOp::create(
                    nb, nl, arith::CmpFPredicate::OEQ, a[0], ninf);
                Value zero = arith::ConstantOp::create(
                    nb, nl, nb.getF32FloatAttr(0.0f));
                return arith::SelectOp::create(nb, nl, none, zero, a[0]);
              });
          // P = exp(S - m'), f32.
          Value p = tb.map(
              Step::Exp, {s, mSafe}, s, f32,
              [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                Value d = arith::SubFOp::create(nb, nl, a[0], a[1]);
                return math::ExpOp::create(nb, nl, d);
              });
          // a = exp(m - m'), f32.
          Value alpha = tb.map(
              Step::RescaleFactor, {m, mSafe}, m, f32,
              [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                Value d = arith::SubFOp::create(nb, nl, a[0], a[1]);
                return math::ExpOp::create(nb, nl, d);
              });
          // l' = l * a + rowsum(P), from the uncast P (as FA3), f32.
          Value lScaled = tb.map(
              Step::RowSum, {l, alpha}, l, f32,
              [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                return arith::MulFOp::create(nb, nl, a[0], a[1]);
              });
          Value lNew = tb.reduceRows(
              Step::RowSum, p, {}, lScaled,
              [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                return arith::AddFOp::create(nb, nl, a[0], a[1]);
              });
          // P~ = cast_p(P): round to nearest even, overflow per policy.
          Value pCast = p;
          if (policy.p != FloatFormat::F32) {
            auto castOp = TruncFOp::create(
                b, loc, RankedTensorType::get(
                            cast<RankedTensorType>(p.getType()).getShape(),
                            policyAttr.getP()),
                p, OverflowModeAttr::get(b.getContext(), policy.overflow));
            setStep(castOp, Step::PCast);
            pCast = castOp;
          }
          // A = f32(acc) * a, kept in f32 until the one rounding below.
          Value accScaled = tb.map(
              Step::AccRescale, {acc, alpha}, acc, f32,
              [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                TileBuilder t(nb, nl);
                return arith::MulFOp::create(nb, nl, t.toF32(a[0]), a[1]);
              });
          // PV = P~ V_j: p and v inputs, summed in f32 (the MMA
          // accumulator).
          Value pv = matmul(b, loc, Step::PVMma, pCast, vj,
                            {rows, b.getIndexAttr(shape.valueDim)},
                            /*transposeB=*/false);
          // acc' = round_acc(A + f32(round_acc(PV))): the product leaves the
          // MMA rounded to the acc type, and the running output is kept in
          // the acc type between KV tiles.
          Value accNew = tb.map(
              Step::Accumulate, {accScaled, pv}, acc, accType,
              [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                TileBuilder t(nb, nl);
                Value product = t.toF32(t.fromF32(a[1], accType, overflow));
                Value sum = arith::AddFOp::create(nb, nl, a[0], product);
                return t.fromF32(sum, accType, overflow);
              });
          scf::YieldOp::create(b, loc, ValueRange{mNew, lNew, accNew});
        });
    kvLoop->setAttr(kKVOrderAttrName,
                    KVOrderAttr::get(b.getContext(), KVOrder::Forward));
    kvLoop->setAttr(kPolicyAttrName, policyAttr);
    kvLoops.push_back(kvLoop);

    // O = acc / l * v_ds -> out; rows that saw no key (l = 0) give 0.
    // Written into its slice of the result (destination-passing style), so
    // that it bufferizes in place.
    SmallVector<OpFoldResult> offsets{batch, head, row0, b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), b.getIndexAttr(1),
                                    rows, b.getIndexAttr(shape.valueDim)};
    SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
    auto outType = tensor::ExtractSliceOp::inferCanonicalRankReducedResultType(
        2, cast<RankedTensorType>(out.getType()), sizes);
    Value outTile = tensor::ExtractSliceOp::create(b, loc, outType, out,
                                                   offsets, sizes, strides);
    OverflowMode overflow = policy.overflow;
    Value o = tb.map(
        Step::Normalize,
        {kvLoop.getResult(2), kvLoop.getResult(1), valueDescale},
        kvLoop.getResult(2), outElt,
        [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
          TileBuilder t(nb, nl);
          Value zero = arith::ConstantOp::create(nb, nl,
                                                 nb.getF32FloatAttr(0.0f));
          Value empty = arith::CmpFOp::create(
              nb, nl, arith::CmpFPredicate::OEQ, a[1], zero);
          Value div = arith::DivFOp::create(nb, nl, t.toF32(a[0]), a[1]);
          Value scaled = arith::MulFOp::create(nb, nl, div, a[2]);
          Value v = arith::SelectOp::create(nb, nl, empty, zero, scaled);
          return t.fromF32(v, outElt, overflow);
        },
        outTile);
    return tensor::InsertSliceOp::create(b, loc, o, out, offsets, sizes,
                                         strides);
  };

  // for b, h, i: one query tile of one head at a time.
  auto loopOver = [&](OpBuilder &b, Location loc, int64_t count, Value init,
                      function_ref<Value(OpBuilder &, Location, Value, Value)>
                          body) -> Value {
    auto loop = scf::ForOp::create(
        b, loc, zero, arith::ConstantIndexOp::create(b, loc, count), one,
        ValueRange{init},
        [&](OpBuilder &b, Location loc, Value iv, ValueRange iter) {
          scf::YieldOp::create(b, loc, body(b, loc, iv, iter[0]));
        });
    return loop.getResult(0);
  };
  Value tiled = loopOver(
      b, loc, shape.batch, result,
      [&](OpBuilder &b, Location loc, Value batch, Value out) {
        return loopOver(
            b, loc, shape.qHeads, out,
            [&](OpBuilder &b, Location loc, Value head, Value out) {
              return loopOver(b, loc, numQTiles, out,
                              [&](OpBuilder &b, Location loc, Value qTile,
                                  Value out) {
                                return buildQueryTile(b, loc, batch, head,
                                                      qTile, out);
                              });
            });
      });

  // The op's safeguard attributes, by the rewrites the passes use.
  for (scf::ForOp kvLoop : kvLoops) {
    SoftmaxVariant variant = op.getSoftmax();
    if (variant == SoftmaxVariant::Pasa &&
        failed(insertPasaShift(rewriter, kvLoop,
                               op.getSoftmaxBetaAttr().getValueAsDouble())))
      return failure();
    if (variant == SoftmaxVariant::BiasCorrected &&
        failed(insertBiasCorrection(
            rewriter, kvLoop, op.getSoftmaxBetaAttr().getValueAsDouble(),
            op.getSoftmaxTolAttr().getValueAsDouble())))
      return failure();
    double pScale = op.getPScaleAttr().getValueAsDouble();
    if (pScale != 1.0 &&
        failed(insertPScale(rewriter, kvLoop, pScale, /*lagLog2=*/0.0)))
      return failure();
    if (op.getKvOrder() == KVOrder::Reverse &&
        failed(reverseKVOrder(rewriter, kvLoop)))
      return failure();
  }
  rewriter.replaceOp(op, tiled);
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
