//===- CheckSM90.cpp - diagnose attentions sm_90a cannot run --------------===//
//
// One diagnostic per unsupported attribute, on the op, before tiling; the
// limits are the kernel's (TileToSM90.cpp), stated where a user reads them.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Target/NVIDIA/Passes.h"

#include "lpattn/Dialect/LPAttn/IR/LPAttnDialect.h"

namespace lpattn {
#define GEN_PASS_DEF_LPATTNCHECKSM90
#include "lpattn/Target/NVIDIA/Passes.h.inc"
} // namespace lpattn

using namespace mlir;
using namespace lpattn;

namespace {

LogicalResult checkAttention(AttentionOp op) {
  auto error = [&]() {
    return op.emitOpError() << "cannot run on sm_90a: ";
  };
  PrecisionPolicyAttr policy = op.getPolicy();
  auto isFP8 = [](Type type) {
    return isa<Float8E4M3FNType, Float8E5M2Type>(type);
  };
  if (!isFP8(policy.getQk()) || !isFP8(policy.getP()) || !isFP8(policy.getV()))
    return error() << "qk, p and v must be f8E4M3FN or f8E5M2 (the wgmma FP8 "
                      "forms), got qk = "
                   << policy.getQk() << ", p = " << policy.getP()
                   << ", v = " << policy.getV();
  if (!policy.getScore().isF32() || !policy.getAcc().isF32())
    return error() << "score and acc must be f32 (wgmma accumulates in f32), "
                      "got score = "
                   << policy.getScore() << ", acc = " << policy.getAcc();
  RankedTensorType q = op.getQueryType(), v = op.getValueType();
  int64_t headDim = q.getDimSize(3);
  if (headDim != 64 && headDim != 128 && headDim != 256)
    return error() << "head dim must be 64, 128 or 256, got " << headDim;
  if (v.getDimSize(3) != headDim)
    return error() << "the value head dim must equal the QK head dim ("
                   << v.getDimSize(3) << " vs " << headDim << ")";
  int64_t tileKV = 64;
  if (auto tiles = op.getTileSizesAttr())
    tileKV = tiles[1];
  if (q.getDimSize(2) < 64 || op.getKeyType().getDimSize(2) < tileKV)
    return error() << "needs at least 64 queries and tile-kv (" << tileKV
                   << ") keys, got Nq = " << q.getDimSize(2)
                   << ", Nk = " << op.getKeyType().getDimSize(2)
                   << " (pad, or run it on the CPU)";
  if (op.getSoftmax().getVariant() == SoftmaxVariant::Pasa)
    return error() << "the PASA softmax shifts K tiles in shared memory, "
                      "which the kernel does not do yet (CPU only)";
  if (auto tiles = op.getTileSizesAttr()) {
    if (tiles[0] != 64)
      return error() << "tile-q must be 64 (one warpgroup's wgmma M), got "
                     << tiles[0];
    if (tiles[1] != 64 && tiles[1] != 128)
      return error() << "tile-kv must be 64 or 128, got " << tiles[1];
    if (headDim == 256 && tiles[1] != 64)
      return error() << "tile-kv must be 64 for head dim 256 (S, P and O "
                        "must fit a consumer's 232 registers), got "
                     << tiles[1];
  }
  return success();
}

struct LPAttnCheckSM90Pass
    : lpattn::impl::LPAttnCheckSM90Base<LPAttnCheckSM90Pass> {
  void runOnOperation() override {
    bool failedAny = false;
    getOperation().walk([&](AttentionOp op) {
      failedAny |= failed(checkAttention(op));
    });
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
