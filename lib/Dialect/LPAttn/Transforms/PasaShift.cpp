//===- PasaShift.cpp - PASA: shift KV tiles by their mean key -------------===//
//
// PASA (arXiv 2503.01873): with f16 score tiles, a large offset common to the
// keys (a bias in K) overflows Q K^T past 65504 into inf and NaN. Removing
// beta times the tile's mean key before the low-precision product keeps S'
// small; the removed part is constant along each row of the tile,
//
//   S = Q K_j^T = Q K_j'^T + Q (beta * mean(K_j))^T = S' + r_j,
//
// and has to be added back to the f32 scores ("global recovering"). Adding
// all of r_j would bring the scores back to the size of the offset, where
// the f32 ulp (0.06 at 1e6) is far coarser than the f16 rounding of S'. Only
// differences between tiles matter to the softmax, so the recovery adds
// r_j - r_ref, with a reference shift r_ref = Q (beta * mu)^T per row that
// cancels exactly in the softmax (m, P and l all move by it; PASA's global
// recovering against a reference shift). mu is the mean key of the whole KV
// head, the same for every KV tile in either order. The difference is formed
// before any product, as d_j = beta * mean(K_j - mu), so that no large
// number is ever subtracted from another:
//
//   mu   = mean_n K[n]                               pasa_reference (f32)
//   d_j  = beta * mean_n (K_j[n] - mu)               pasa_mean (f32)
//   K_j' = round_qk(((K_j - mu) - d_j) + (1 - beta) mu)
//        = round_qk(K_j - beta * mean(K_j))          pasa_shift
//   S    = S' c + (Q_i d_j^T) c                      pasa_recover, pasa_add
//        = Q_i K_j^T c - r_ref c
//
// With beta = 1 the last term of K_j' is 0 and K_j - mu is exact when the
// offset dominates the keys (Sterbenz), so the f32 scores stay as small as
// the spread of the logits whatever the offset.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Dialect/LPAttn/Transforms/Passes.h"
#include "lpattn/Dialect/LPAttn/Transforms/Safeguards.h"

#include "lpattn/Dialect/LPAttn/Transforms/TileBuilder.h"

#define DEBUG_TYPE "lpattn-pasa-shift"

namespace lpattn {
#define GEN_PASS_DEF_LPATTNPASASHIFT
#include "lpattn/Dialect/LPAttn/Transforms/Passes.h.inc"
} // namespace lpattn

using namespace mlir;
using namespace lpattn;

static LogicalResult checkBeta(Operation *anchor, double beta) {
  std::string problem =
      checkSoftmaxParameters(SoftmaxVariant::Pasa, beta, std::nullopt);
  if (problem.empty())
    return success();
  return anchor->emitError() << problem;
}

LogicalResult lpattn::insertPasaShift(RewriterBase &rewriter,
                                      scf::ForOp kvLoop, double beta) {
  if (failed(checkBeta(kvLoop, beta)))
    return failure();
  Block &body = *kvLoop.getBody();
  if (Operation *existing = findStep(body, Step::PasaShift)) {
    auto old = existing->getAttrOfType<FloatAttr>(kBetaAttrName);
    if (old && old.getValueAsDouble() == beta)
      return success(); // Idempotent.
    return kvLoop.emitError("the PASA shift is already applied with another "
                            "beta");
  }
  Operation *qk = findStep(body, Step::QKMma);
  Operation *score = findStep(body, Step::Score);
  PrecisionPolicyAttr policy = getKVLoopPolicy(kvLoop);
  if (!qk || !score || !policy)
    return kvLoop.emitOpError("KV loop has no unique qk_mma/score step or "
                              "policy");
  auto mm = cast<linalg::MatmulOp>(qk);
  Value qi = mm.getDpsInputs()[0], kj = mm.getDpsInputs()[1];
  // The key tile is a slice of the KV head K[b, h_kv, :, :]; its batch and
  // head indices are fixed for the whole KV loop.
  auto keySlice = kj.getDefiningOp<tensor::ExtractSliceOp>();
  if (!keySlice || keySlice.getSourceType().getRank() != 4)
    return kvLoop.emitOpError("the qk_mma key operand is not a slice of a "
                              "[B, H, N, D] key tensor");
  SmallVector<OpFoldResult> keyOffsets = keySlice.getMixedOffsets();
  for (int i = 0; i < 2; ++i)
    if (auto v = dyn_cast<Value>(keyOffsets[i]);
        v && !kvLoop.isDefinedOutsideOfLoop(v))
      return kvLoop.emitOpError("the key tile's batch/head index varies "
                                "inside the KV loop");
  Value scoreScale = score->getOperand(1);
  Type f32 = rewriter.getF32Type();
  Type qkType = policy.getQk();
  OverflowMode overflow = policy.getOverflow();
  MLIRContext *ctx = rewriter.getContext();
  Location loc = qk->getLoc();
  AffineExpr d0, d1;
  bindDims(ctx, d0, d1);
  auto map2 = [&](ArrayRef<AffineExpr> e) {
    return AffineMap::get(2, 0, e, ctx);
  };
  auto parallel = utils::IteratorType::parallel;
  auto reduction = utils::IteratorType::reduction;

  // mu = mean_n K[b, h_kv, n, :] in f32, once before the KV loop: [D].
  rewriter.setInsertionPoint(kvLoop);
  TileBuilder pre(rewriter, loc);
  Value keyTensor = keySlice.getSource();
  auto keyType = keySlice.getSourceType();
  SmallVector<OpFoldResult> headSizes =
      tensor::getMixedSizes(rewriter, loc, keyTensor);
  headSizes[0] = headSizes[1] = rewriter.getIndexAttr(1);
  SmallVector<OpFoldResult> headOffsets{keyOffsets[0], keyOffsets[1],
                                        rewriter.getIndexAttr(0),
                                        rewriter.getIndexAttr(0)};
  SmallVector<OpFoldResult> unitStrides(4, rewriter.getIndexAttr(1));
  auto headType = tensor::ExtractSliceOp::inferCanonicalRankReducedResultType(
      2, keyType, headSizes);
  Value headKeys = tensor::ExtractSliceOp::create(
      rewriter, loc, headType, keyTensor, headOffsets, headSizes, unitStrides);
  Value refInit = pre.filled({headSizes[3]}, f32, 0.0);
  auto refSum = linalg::GenericOp::create(
      rewriter, loc, TypeRange{refInit.getType()}, ValueRange{headKeys},
      ValueRange{refInit}, {map2({d0, d1}), map2({d1})},
      {reduction, parallel}, [&](OpBuilder &nb, Location nl, ValueRange a) {
        TileBuilder t(nb, nl);
        linalg::YieldOp::create(
            nb, nl, ValueRange{arith::AddFOp::create(nb, nl, a[1],
                                                     t.toF32(a[0]))});
      });
  setStep(refSum, Step::PasaReference);
  Value headLen = pre.f32Const(double(keyType.getDimSize(2)));
  if (keyType.isDynamicDim(2))
    headLen = arith::UIToFPOp::create(
        rewriter, loc, f32,
        arith::IndexCastUIOp::create(
            rewriter, loc, rewriter.getI64Type(),
            tensor::DimOp::create(rewriter, loc, keyTensor, 2)));
  Value mu = pre.map(Step::PasaReference, {refSum.getResult(0), headLen},
                     refSum.getResult(0), f32,
                     [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                       return arith::DivFOp::create(nb, nl, a[0], a[1]);
                     });

  rewriter.setInsertionPoint(qk);
  TileBuilder tb(rewriter, loc);
  // d_j = beta * mean_n (K_j[n] - mu) in f32: [D].
  OpFoldResult headDim = tensor::getMixedSizes(rewriter, loc, kj)[1];
  Value sumInit = tb.filled({headDim}, f32, 0.0);
  auto sum = linalg::GenericOp::create(
      rewriter, loc, TypeRange{sumInit.getType()}, ValueRange{kj, mu},
      ValueRange{sumInit}, {map2({d0, d1}), map2({d1}), map2({d1})},
      {reduction, parallel}, [&](OpBuilder &nb, Location nl, ValueRange a) {
        TileBuilder t(nb, nl);
        Value diff = arith::SubFOp::create(nb, nl, t.toF32(a[0]), a[1]);
        linalg::YieldOp::create(
            nb, nl, ValueRange{arith::AddFOp::create(nb, nl, a[2], diff)});
      });
  setStep(sum, Step::PasaMean);
  Value keys = tensor::DimOp::create(rewriter, loc, kj, 0);
  Value keysF32 = arith::UIToFPOp::create(
      rewriter, loc, f32,
      arith::IndexCastUIOp::create(rewriter, loc, rewriter.getI64Type(), keys));
  Value betaValue = tb.f32Const(beta);
  Value delta = tb.map(Step::PasaMean, {sum.getResult(0), keysF32, betaValue},
                       sum.getResult(0), f32,
                       [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                         Value avg = arith::DivFOp::create(nb, nl, a[0], a[1]);
                         return arith::MulFOp::create(nb, nl, avg, a[2]);
                       });

  // K_j' = round_qk(((K_j - mu) - d_j) + (1 - beta) mu).
  Value oneMinusBeta = tb.f32Const(1.0 - beta);
  Value shiftedInit = tb.emptyLike(kj, qkType);
  auto shifted = linalg::GenericOp::create(
      rewriter, loc, TypeRange{shiftedInit.getType()},
      ValueRange{kj, mu, delta, oneMinusBeta}, ValueRange{shiftedInit},
      {map2({d0, d1}), map2({d1}), map2({d1}), map2({}), map2({d0, d1})},
      {parallel, parallel}, [&](OpBuilder &nb, Location nl, ValueRange a) {
        TileBuilder t(nb, nl);
        Value centered = arith::SubFOp::create(nb, nl, t.toF32(a[0]), a[1]);
        Value diff = arith::SubFOp::create(nb, nl, centered, a[2]);
        Value rest = arith::MulFOp::create(nb, nl, a[3], a[1]);
        Value key = arith::AddFOp::create(nb, nl, diff, rest);
        linalg::YieldOp::create(nb, nl,
                                ValueRange{t.fromF32(key, qkType, overflow)});
      });
  setStep(shifted, Step::PasaShift);
  shifted->setAttr(kBetaAttrName, rewriter.getF64FloatAttr(beta));

  // r_j - r_ref = f32(Q_i) d_j^T: [Br], small recovery terms in f32.
  OpFoldResult rows = tensor::getMixedSizes(rewriter, loc, qi)[0];
  Value rInit = tb.filled({rows}, f32, 0.0);
  auto recover = linalg::GenericOp::create(
      rewriter, loc, TypeRange{rInit.getType()}, ValueRange{qi, delta},
      ValueRange{rInit}, {map2({d0, d1}), map2({d1}), map2({d0})},
      {parallel, reduction}, [&](OpBuilder &nb, Location nl, ValueRange a) {
        TileBuilder t(nb, nl);
        Value prod = arith::MulFOp::create(nb, nl, t.toF32(a[0]), a[1]);
        linalg::YieldOp::create(
            nb, nl, ValueRange{arith::AddFOp::create(nb, nl, a[2], prod)});
      });
  setStep(recover, Step::PasaRecover);

  // S' = Q_i K_j'^T in the low precision.
  rewriter.modifyOpInPlace(qk, [&] {
    mm.getDpsInputOperand(1)->set(shifted.getResult(0));
  });

  // S = S' * (c q_ds k_ds) + (r_j - r_ref) * (c q_ds k_ds), in f32.
  rewriter.setInsertionPointAfter(score);
  TileBuilder after(rewriter, score->getLoc());
  Value s = score->getResult(0);
  SmallVector<OpOperand *> laterUses = llvm::to_vector(
      llvm::map_range(s.getUses(), [](OpOperand &use) { return &use; }));
  Value recovered = after.map(
      Step::PasaAdd, {s, recover.getResult(0), scoreScale}, s, f32,
      [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        Value r = arith::MulFOp::create(nb, nl, a[1], a[2]);
        return arith::AddFOp::create(nb, nl, a[0], r);
      });
  for (OpOperand *use : laterUses)
    rewriter.modifyOpInPlace(use->getOwner(), [&] { use->set(recovered); });
  return success();
}

namespace {

struct LPAttnPasaShiftPass : lpattn::impl::LPAttnPasaShiftBase<LPAttnPasaShiftPass> {
  using LPAttnPasaShiftBase::LPAttnPasaShiftBase;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    bool failed = false;
    getOperation().walk([&](AttentionOp op) {
      if (op.getSoftmaxVariant() == SoftmaxVariant::BiasCorrected) {
        op.emitOpError("already uses the bias-corrected softmax; the PASA "
                       "softmax would replace it");
        failed = true;
        return;
      }
      if (mlir::failed(checkBeta(op, beta))) {
        failed = true;
        return;
      }
      rewriter.modifyOpInPlace(op, [&] {
        op.setSoftmaxAttr(SoftmaxAttr::getExact(
            &getContext(), SoftmaxVariant::Pasa, beta, std::nullopt));
      });
    });
    for (scf::ForOp kvLoop : getKVLoops(getOperation()))
      if (mlir::failed(insertPasaShift(rewriter, kvLoop, beta)))
        failed = true;
    if (failed)
      signalPassFailure();
  }
};

} // namespace
