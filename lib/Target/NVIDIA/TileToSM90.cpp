//===- TileToSM90.cpp - tile-level attention to an sm_90a kernel ---------===//
//
// Lowers the tile-level form of one attention (lpattn-tile plus safeguards)
// to a wgmma/TMA kernel. The tile IR is *interpreted* at register level, not
// re-implemented: each tensor value of a query tile becomes a per-thread
// fragment of wgmma's accumulator layout (WgmmaLayout.h), each `lpattn.step`
// linalg.generic has its scalar body cloned once per fragment element, row
// reductions fold the thread's elements and finish with quad shuffles, and
// only the two products, the P cast and the data movement are GPU code.
//
// Kernel layout (one CTA = 128 query rows, 3 warpgroups):
//   warpgroup 0 (producer): thread 0 issues TMA loads of Q (once) and of the
//     K/V tiles into `stages` shared-memory stages; all 128 threads write
//     V^T of each tile (keys in the pvKeyAtK order, swizzled) for wgmma.
//   warpgroups 1, 2 (consumers, 64 rows each): the KV loop of the tile IR.
//   mbarriers: q_full; per stage full_k, full_v (TMA transaction counts),
//   vt_ready (128 producer arrivals), empty (256 consumer arrivals).
//
//===----------------------------------------------------------------------===//

#include "lpattn/Target/NVIDIA/Passes.h"
#include "lpattn/Target/NVIDIA/WgmmaLayout.h"

#include "lpattn/Dialect/LPAttn/IR/LPAttnDialect.h"
#include "lpattn/Dialect/LPAttn/Transforms/Safeguards.h"
#include "lpattn/Numerics/Enums.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

namespace lpattn {
#define GEN_PASS_DEF_LPATTNTILETOSM90
#include "lpattn/Target/NVIDIA/Passes.h.inc"
} // namespace lpattn

using namespace mlir;
using namespace lpattn;
using namespace lpattn::nvidia;

namespace {

constexpr int64_t kRowsPerWarpgroup = 64;
constexpr int64_t kConsumers = 2;
constexpr int64_t kRowsPerCTA = kRowsPerWarpgroup * kConsumers;
constexpr int64_t kThreadsPerWarpgroup = 128;
constexpr int64_t kThreads = kThreadsPerWarpgroup * (1 + kConsumers);
constexpr int64_t kBarrierBytes = 1024; // keeps the tiles 1024-aligned
// Register budgets after setmaxnreg (FlashAttention-3's split: the producer
// needs few, the consumers hold S, P and O).
constexpr int64_t kProducerRegisters = 40;
constexpr int64_t kConsumerRegisters = 232;

/// The attention the tile IR computes, read from its function.
struct Problem {
  int64_t batch, qHeads, qLen, headDim, kvHeads, kvLen, valueDim, tileKV;
  Type qkType, vType, pType, outType;
  int64_t stages;

  int64_t qkChunkBytes() const { return std::min<int64_t>(headDim, 128); }
  int64_t qkChunks() const { return headDim / qkChunkBytes(); }
  Swizzle qkSwizzle() const { return swizzleForRowBytes(qkChunkBytes()); }
  Swizzle vtSwizzle() const { return swizzleForRowBytes(tileKV); }
  int64_t qBytes() const { return kRowsPerCTA * headDim; }
  /// Q's TMA box rows: a CTA's 128, or all of a shorter Nq (a box may not
  /// exceed the tensor; the rows it leaves are past Nq and never stored).
  int64_t qBoxRows() const { return std::min<int64_t>(kRowsPerCTA, qLen); }
  int64_t kBytes() const { return tileKV * headDim; }
  int64_t vBytes() const { return tileKV * valueDim; }
  int64_t stageBytes() const { return kBytes() + 2 * vBytes(); }
  int64_t sharedBytes() const {
    // + 1024: the kernel aligns the dynamic shared memory base itself.
    return kBarrierBytes + qBytes() + stages * stageBytes() + 1024;
  }
};

StringRef wgmmaTypeName(Type type) {
  return isa<Float8E5M2Type>(type) ? "e5m2" : "e4m3";
}

/// A tile-IR value as one consumer thread holds it.
struct Fragment {
  enum Kind { Scalar, Rows, Tile, PCodes, QTile, KTile, VTile, MaskTile, Empty };
  Kind kind = Empty;
  SmallVector<Value> values; ///< Scalar: 1; Rows: 2 (rows r, r+8); Tile:
                             ///< cols/2 (accumulator order); PCodes: 4 i32
                             ///< A registers per k32 slice.
  int64_t cols = 0;
  /// A P.V product wider than 128 columns is computed in 128-column chunks
  /// when its values are first read (by the accumulate step), so that only
  /// one chunk's fresh accumulator is live next to O.
  SmallVector<Value> deferredPCodes;
  /// MaskTile: the slice's offsets (batch, head, first row, first key).
  SmallVector<Value> maskOffsets;
};

/// Emits the kernel. Every helper builds at the builder's insertion point.
class KernelEmitter {
public:
  KernelEmitter(OpBuilder &b, Location loc, const Problem &p)
      : b(b), loc(loc), p(p) {}

  OpBuilder &b;
  Location loc;
  const Problem &p;

  // Kernel-wide values.
  Value tid, warpgroup, lane, warp, threadInWarpgroup;
  Value smem; // i32 shared-window address of the aligned base
  Value qMap, kMap, vMap, out;
  Value mask; ///< the additive mask's pointer (f32 [B|1, Hq|1, Nq, Nk])
  /// The debug P dump (dump-p): P * S before the cast (f32) and the codes
  /// after it, [64, Bc] each, of the tile with kv_offset 0 of block (0, 0, 0)
  /// and the first consumer warpgroup. Null when not compiled in.
  Value pScaledDump, pCodesDump;
  SmallVector<Value> scalarArgs; // descales, in order
  Value blockX, blockY, blockZ;

  // Consumer-side state.
  Value col0;     ///< the current tile's first key (kv_offset step)
  Value stage;    ///< i32 stage index of the current tile
  Value phase;    ///< i32 parity of the current tile's barriers
  Value qRowBase; ///< this warpgroup's first row within the CTA's Q tile

  Type i32() { return b.getI32Type(); }
  Type i64() { return b.getI64Type(); }
  Type f32() { return b.getF32Type(); }
  Value c32(int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v));
  }
  Value cIndex(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value toI32(Value v) {
    if (v.getType().isIndex())
      return arith::IndexCastOp::create(b, loc, i32(), v);
    return v;
  }
  Value toIndex(Value v) {
    if (v.getType().isIndex())
      return v;
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value addc(Value x, int64_t y) { return add(x, c32(y)); }
  Value mulc(Value x, int64_t y) { return mul(x, c32(y)); }

  /// Inline PTX; returns the results (one per "=" constraint).
  SmallVector<Value> ptx(StringRef text, StringRef constraints,
                         ValueRange operands, TypeRange results = {}) {
    Type resultType;
    if (results.size() == 1)
      resultType = results[0];
    else if (results.size() > 1)
      resultType = LLVM::LLVMStructType::getLiteral(
          b.getContext(), SmallVector<Type>(results.begin(), results.end()));
    auto op = LLVM::InlineAsmOp::create(
        b, loc, resultType ? TypeRange{resultType} : TypeRange{}, operands,
        text, constraints, /*has_side_effects=*/true, /*is_align_stack=*/false,
        LLVM::tailcallkind::TailCallKind::None,
        LLVM::AsmDialectAttr::get(b.getContext(), LLVM::AsmDialect::AD_ATT),
        ArrayAttr());
    SmallVector<Value> values;
    if (results.size() == 1)
      values.push_back(op.getResult(0));
    else
      for (int64_t i = 0, e = results.size(); i < e; ++i)
        values.push_back(
            LLVM::ExtractValueOp::create(b, loc, op.getResult(0), i));
    return values;
  }

  //===--- barriers -------------------------------------------------------===//
  // Byte offsets of the mbarriers within the first kBarrierBytes.
  int64_t qFullOffset() const { return 0; }
  Value barrier(int64_t kind, Value stageIndex) {
    // kind 1: full_k, 2: full_v, 3: vt_ready, 4: empty; 8 bytes each per
    // stage.
    Value offset = addc(mulc(stageIndex, 8), 8 * (1 + (kind - 1) * p.stages));
    return add(smem, offset);
  }
  void barrierInit(Value address, int64_t count) {
    ptx("mbarrier.init.shared::cta.b64 [$0], $1;", "r,r",
        {address, c32(count)});
  }
  void barrierWait(Value address, Value parity) {
    ptx("{\n.reg .pred P1;\nLAB_WAIT:\n"
        "mbarrier.try_wait.parity.shared::cta.b64 P1, [$0], $1;\n"
        "@P1 bra DONE;\nbra LAB_WAIT;\nDONE:\n}",
        "r,r", {address, parity});
  }
  void barrierArrive(Value address) {
    ptx("mbarrier.arrive.shared::cta.b64 _, [$0];", "r", {address});
  }
  void barrierExpect(Value address, int64_t bytes) {
    ptx("mbarrier.arrive.expect_tx.shared::cta.b64 _, [$0], $1;", "r,r",
        {address, c32(bytes)});
  }
  void tmaLoad(Value map, Value dst, Value bar, Value c0, Value c1, Value c2,
               Value c3) {
    ptx("cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::complete_tx"
        "::bytes [$0], [$1, {$2, $3, $4, $5}], [$6];",
        "r,l,r,r,r,r,r", {dst, map, c0, c1, c2, c3, bar});
  }

  //===--- shared memory map ----------------------------------------------===//
  Value qTileAddress() { return addc(smem, kBarrierBytes); }
  Value stageBase(Value stageIndex) {
    return add(addc(smem, kBarrierBytes + p.qBytes()),
               mulc(stageIndex, p.stageBytes()));
  }
  Value kTileAddress(Value s) { return stageBase(s); }
  Value vTileAddress(Value s) { return addc(stageBase(s), p.kBytes()); }
  Value vtTileAddress(Value s) {
    return addc(stageBase(s), p.kBytes() + p.vBytes());
  }

  /// A K-major wgmma descriptor for a tile at shared address `address`.
  Value descriptor(Value address, Swizzle swizzle) {
    // wgmmaDescriptor(addr) = ((addr & 0x3FFFF) >> 4) | constant bits.
    uint64_t constant = wgmmaDescriptor(0, swizzle);
    Value field = arith::ShRUIOp::create(
        b, loc, arith::AndIOp::create(b, loc, address, c32(0x3FFFF)), c32(4));
    Value wide = arith::ExtUIOp::create(b, loc, i64(), field);
    return arith::OrIOp::create(
        b, loc, wide,
        arith::ConstantOp::create(
            b, loc, b.getI64IntegerAttr(static_cast<int64_t>(constant))));
  }

  //===--- fragments -----------------------------------------------------===//
  /// Local (row, col) of accumulator value `v` of this thread, as i32.
  std::pair<Value, Value> elementRowCol(int64_t v) {
    // row = 16 warp + lane/4 + 8 ((v/2)%2); col = 8 (v/4) + 2 (lane%4) + v%2
    Value row = add(mulc(warp, 16),
                    addc(arith::DivUIOp::create(b, loc, lane, c32(4)),
                         8 * ((v / 2) % 2)));
    Value col = addc(mulc(arith::RemUIOp::create(b, loc, lane, c32(4)), 2),
                     8 * (v / 4) + v % 2);
    return {row, col};
  }

  Value shuffleXor(Value value, int64_t mask) {
    Type type = value.getType();
    Value bits = type.isF32() ? arith::BitcastOp::create(b, loc, i32(), value)
                              : value;
    Value shuffled =
        ptx(llvm::formatv("shfl.sync.bfly.b32 $0, $1, {0}, 0x1f, 0xffffffff;",
                          mask)
                .str(),
            "=r,r", {bits}, {i32()})[0];
    return type.isF32() ? arith::BitcastOp::create(b, loc, f32(), shuffled)
                        : shuffled;
  }

  /// exp(x) as FlashAttention does it: ex2.approx(x * log2(e)).
  Value exp(Value x) {
    Value scaled = arith::MulFOp::create(
        b, loc, x,
        arith::ConstantOp::create(b, loc, b.getF32FloatAttr(1.4426950408889634)));
    return ptx("ex2.approx.ftz.f32 $0, $1;", "=f,f", {scaled}, {f32()})[0];
  }

  //===--- the products ---------------------------------------------------===//
  void wgmmaFence() { ptx("wgmma.fence.sync.aligned;", "", {}); }
  void wgmmaCommitAndWait() {
    ptx("wgmma.commit_group.sync.aligned;", "", {});
    ptx("wgmma.wait_group.sync.aligned 0;", "", {});
  }
  /// Orders the accumulator's uses after the wait (CUTLASS's
  /// warpgroup_fence_operand): an empty asm that "rewrites" every register.
  SmallVector<Value> fenceOperands(ArrayRef<Value> values) {
    SmallVector<Value> out;
    for (Value v : values)
      out.push_back(ptx("", "=f,0", {v}, {f32()})[0]);
    return out;
  }

  /// One m64nNk32 wgmma on `acc` (N/2 f32 per thread). `aOperand` is either
  /// one i64 descriptor or four i32 registers.
  SmallVector<Value> wgmma(ArrayRef<Value> acc, ValueRange aOperand,
                           Value bDescriptor, bool accumulate, int64_t n,
                           Type aType, Type bType) {
    int64_t count = acc.size();
    std::string text = "{\n.reg .pred p;\n";
    int64_t aCount = aOperand.size();
    int64_t scaleIndex = count + aCount + 1;
    text += llvm::formatv("setp.ne.b32 p, ${0}, 0;\n", scaleIndex).str();
    text += llvm::formatv("wgmma.mma_async.sync.aligned.m64n{0}k32.f32.{1}.{2} ",
                          n, wgmmaTypeName(aType), wgmmaTypeName(bType))
                .str();
    text += "{";
    for (int64_t i = 0; i < count; ++i)
      text += llvm::formatv("{0}${1}", i ? ", " : "", i).str();
    text += "}, ";
    if (aCount == 1) {
      text += llvm::formatv("${0}, ", count).str();
    } else {
      text += "{";
      for (int64_t i = 0; i < aCount; ++i)
        text += llvm::formatv("{0}${1}", i ? ", " : "", count + i).str();
      text += "}, ";
    }
    text += llvm::formatv("${0}, p, 1, 1;\n}", count + aCount).str();

    std::string constraints;
    for (int64_t i = 0; i < count; ++i)
      constraints += "=f,";
    for (int64_t i = 0; i < aCount; ++i)
      constraints += aCount == 1 ? "l," : "r,";
    constraints += "l,r";
    for (int64_t i = 0; i < count; ++i)
      constraints += "," + std::to_string(i);

    SmallVector<Value> operands(aOperand.begin(), aOperand.end());
    operands.push_back(bDescriptor);
    operands.push_back(c32(accumulate ? 1 : 0));
    operands.append(acc.begin(), acc.end());
    return ptx(text, constraints, operands,
               SmallVector<Type>(count, f32()));
  }

  /// Q_i K_j^T into a fresh accumulator of tileKV columns.
  SmallVector<Value> qkProduct() {
    int64_t n = p.tileKV, count = n / 2;
    Value poison = LLVM::PoisonOp::create(b, loc, f32());
    SmallVector<Value> acc(count, poison);
    Swizzle swizzle = p.qkSwizzle();
    Value qBase = add(qTileAddress(), mulc(qRowBase, p.qkChunkBytes()));
    Value kBase = kTileAddress(stage);
    wgmmaFence();
    int64_t slices = p.headDim / 32;
    for (int64_t k = 0; k < slices; ++k) {
      // Q is stored as qkChunks() blocks of 128 rows x span bytes.
      int64_t qOffset =
          kSliceAddress(0, kRowsPerCTA, swizzle, k); // block + slice
      int64_t kOffset = kSliceAddress(0, p.tileKV, swizzle, k);
      Value aDesc = descriptor(addc(qBase, qOffset), swizzle);
      Value bDesc = descriptor(addc(kBase, kOffset), swizzle);
      acc = wgmma(acc, aDesc, bDesc, /*accumulate=*/k > 0, n, p.qkType,
                  p.qkType);
    }
    wgmmaCommitAndWait();
    return fenceOperands(acc);
  }

  /// Columns [128 c, 128 c + 128) (or all of a narrower Dv) of P~ V_j, with
  /// P~ as register A operands, into a fresh accumulator.
  int64_t pvChunkColumns() const { return std::min<int64_t>(p.valueDim, 128); }
  SmallVector<Value> pvProduct(ArrayRef<Value> pCodes, int64_t chunk) {
    int64_t n = pvChunkColumns(), count = n / 2;
    Value poison = LLVM::PoisonOp::create(b, loc, f32());
    SmallVector<Value> acc(count, poison);
    Swizzle swizzle = p.vtSwizzle();
    // V^T rows (value columns) of this chunk: n rows of Bc bytes further.
    Value vtBase = addc(vtTileAddress(stage), chunk * n * p.tileKV);
    if (chunk == 0)
      barrierWait(barrier(3, stage), phase);
    wgmmaFence();
    int64_t slices = p.tileKV / 32;
    for (int64_t k = 0; k < slices; ++k) {
      int64_t offset = kSliceAddress(0, p.valueDim, swizzle, k);
      Value bDesc = descriptor(addc(vtBase, offset), swizzle);
      acc = wgmma(acc, ValueRange(pCodes).slice(4 * k, 4), bDesc,
                  /*accumulate=*/k > 0, n, p.pType, p.vType);
    }
    wgmmaCommitAndWait();
    return fenceOperands(acc);
  }

  /// P's cast to FP8 in registers, packed as the A operand of P V, with the
  /// hardware's cvt.rn.satfinite (RNE, like lpattn.truncf). For a nonsat
  /// policy the codes are the same: nonsat differs from satfinite only above
  /// the largest finite value, and P * S never gets there (P = exp(s - m')
  /// <= 1 because every softmax variant has m' >= the row max, and
  /// checkPScale keeps S <= the largest finite value), so the cast the tile
  /// IR states is exact here for every reachable input, NaN included.
  SmallVector<Value> castP(ArrayRef<Value> p32) {
    SmallVector<Value> codes;
    int64_t slices = p.tileKV / 32;
    // cvt packs its first source into the upper byte.
    std::string text = llvm::formatv("cvt.rn.satfinite.{0}x2.f32 $0, $2, $1;",
                                     wgmmaTypeName(p.pType));
    Type i16 = b.getI16Type();
    for (int64_t s = 0; s < slices; ++s)
      for (int64_t reg = 0; reg < 4; ++reg) {
        Value v[4];
        for (int64_t byte = 0; byte < 4; ++byte)
          v[byte] = p32[pAccumulatorValueForA(s, reg, byte)];
        Value lo = ptx(text, "=h,f,f", {v[0], v[1]}, {i16})[0];
        Value hi = ptx(text, "=h,f,f", {v[2], v[3]}, {i16})[0];
        codes.push_back(arith::OrIOp::create(
            b, loc, arith::ExtUIOp::create(b, loc, i32(), lo),
            arith::ShLIOp::create(
                b, loc, arith::ExtUIOp::create(b, loc, i32(), hi), c32(16))));
      }
    return codes;
  }
};

//===----------------------------------------------------------------------===//
// The interpreter of the tile IR
//===----------------------------------------------------------------------===//

/// Evaluates tile-IR ops for one consumer thread (or, in scalar mode, only
/// their scalar index/float arithmetic, for the producer).
class TileInterpreter {
public:
  TileInterpreter(KernelEmitter &k, func::FuncOp func, bool scalarOnly)
      : k(k), b(k.b), loc(k.loc), func(func), scalarOnly(scalarOnly) {}

  KernelEmitter &k;
  OpBuilder &b;
  Location loc;
  func::FuncOp func;
  bool scalarOnly;
  IRMapping scalars;
  DenseMap<Value, Fragment> fragments;
  Operation *error = nullptr;
  std::string errorMessage;

  LogicalResult fail(Operation *op, const Twine &message) {
    if (!error) {
      error = op;
      errorMessage = message.str();
    }
    return failure();
  }

  static bool isScalar(Type type) { return type.isIntOrIndexOrFloat(); }

  Fragment &fragment(Value v) { return fragments[v]; }

  /// Clones a scalar op (all operands mapped scalars).
  LogicalResult cloneScalar(Operation *op) {
    // A per-(batch, KV head) descale: one f32 load from its pointer
    // parameter (the same value for the whole CTA).
    if (auto extract = dyn_cast<tensor::ExtractOp>(op)) {
      Value pointer = scalars.lookupOrNull(extract.getTensor());
      auto type = cast<RankedTensorType>(extract.getTensor().getType());
      if (!pointer || !isa<LLVM::LLVMPointerType>(pointer.getType()) ||
          type.getRank() != 2)
        return fail(op, "reads a tensor that is not a descale argument");
      Value row = k.toI32(scalars.lookup(extract.getIndices()[0]));
      Value col = k.toI32(scalars.lookup(extract.getIndices()[1]));
      Value element = k.add(k.mulc(row, type.getDimSize(1)), col);
      Value address = LLVM::GEPOp::create(
          b, loc, pointer.getType(), k.f32(), pointer,
          ValueRange{arith::ExtUIOp::create(b, loc, k.i64(), element)});
      scalars.map(extract.getResult(),
                  LLVM::LoadOp::create(b, loc, k.f32(), address));
      return success();
    }
    // Registers hold full tiles: a ragged tile's dim is the full size.
    if (auto dim = dyn_cast<tensor::DimOp>(op)) {
      std::optional<int64_t> index = dim.getConstantIndex();
      auto type = cast<RankedTensorType>(dim.getSource().getType());
      if (!index)
        return fail(op, "has a non-constant dim index");
      int64_t size = *index == 0 ? kRowsPerWarpgroup
                     : type.isDynamicDim(*index) ? k.p.tileKV
                                                 : type.getDimSize(*index);
      scalars.map(dim.getResult(), k.cIndex(size));
      return success();
    }
    for (Value operand : op->getOperands())
      if (!scalars.contains(operand))
        return fail(op, "uses a value the sm_90a lowering cannot hold as a "
                        "scalar");
    if (auto exp = dyn_cast<math::ExpOp>(op); exp && exp.getType().isF32()) {
      scalars.map(exp.getResult(), k.exp(scalars.lookup(exp.getOperand())));
      return success();
    }
    Operation *clone = b.clone(*op, scalars);
    // Step tags are tile-IR protocol; the kernel does not carry them.
    clone->removeDiscardableAttr(kStepAttrName);
    return success();
  }

  int64_t colsOf(Value v, int64_t fallback) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    if (type && type.getRank() == 2 && !type.isDynamicDim(1))
      return type.getDimSize(1);
    return fallback;
  }

  /// Evaluates a linalg.generic over fragments.
  LogicalResult generic(linalg::GenericOp op) {
    unsigned rank = op.getNumLoops();
    if (rank < 1 || rank > 2)
      return fail(op, "is not a row or tile computation");
    auto iterators = op.getIteratorTypesArray();
    bool rowReduction = rank == 2 &&
                        iterators[0] == utils::IteratorType::parallel &&
                        iterators[1] == utils::IteratorType::reduction;
    if (!rowReduction && !llvm::all_of(iterators, [](auto t) {
          return t == utils::IteratorType::parallel;
        }))
      return fail(op, "reduces over a dimension other than the row's keys");

    // Operand access kinds: 2 = (d0, d1), 1 = (d0), 0 = ().
    SmallVector<int> access;
    for (AffineMap map : op.getIndexingMapsArray()) {
      if (map.getNumResults() == 0) {
        access.push_back(0);
        continue;
      }
      if (map.isIdentity() && map.getNumResults() == rank) {
        access.push_back(rank == 2 ? 2 : 1);
        continue;
      }
      if (rank == 2 && map.getNumResults() == 1 &&
          map.getResult(0) == getAffineDimExpr(0, b.getContext())) {
        access.push_back(1);
        continue;
      }
      return fail(op, "has an operand indexed other than by (row, key), row "
                      "or nothing (a transposed or column access)");
    }

    int64_t cols = 0;
    SmallVector<Fragment *> inputs;
    for (OpOperand &operand : op->getOpOperands()) {
      Value v = operand.get();
      if (isScalar(v.getType())) {
        inputs.push_back(nullptr);
        continue;
      }
      auto it = fragments.find(v);
      if (it == fragments.end())
        return fail(op, "has an operand the lowering has not evaluated");
      inputs.push_back(&it->second);
      if (it->second.kind == Fragment::Tile)
        cols = it->second.cols;
    }
    if (rank == 2 && cols == 0)
      cols = colsOf(op.getResult(0), k.p.tileKV);

    Block &body = op.getRegion().front();
    int64_t numInputs = op.getNumDpsInputs();
    BlockArgument outArg = body.getArgument(numInputs);
    int outAccess = access[numInputs];
    bool outUsed = !outArg.use_empty();

    auto elementOf = [&](int64_t operand, int64_t value, int64_t row) -> Value {
      OpOperand &o = op->getOpOperand(operand);
      if (!inputs[operand])
        return scalars.lookupOrNull(o.get());
      Fragment &f = *inputs[operand];
      switch (access[operand]) {
      case 0:
        return f.kind == Fragment::Scalar ? f.values[0] : Value();
      case 1:
        return f.kind == Fragment::Rows ? f.values[row] : Value();
      default:
        if (f.kind == Fragment::MaskTile)
          return maskElement(f, value);
        if (f.kind != Fragment::Tile)
          return Value();
        // A deferred P.V product: compute the chunk holding `value`.
        while (static_cast<int64_t>(f.values.size()) <= value &&
               !f.deferredPCodes.empty()) {
          int64_t chunk = f.values.size() / (k.pvChunkColumns() / 2);
          SmallVector<Value> part = k.pvProduct(f.deferredPCodes, chunk);
          f.values.append(part.begin(), part.end());
        }
        return value < static_cast<int64_t>(f.values.size()) ? f.values[value]
                                                              : Value();
      }
    };

    // Evaluates the body at one element; `skip` is the combiner not cloned
    // in a reduction.
    auto evalBody = [&](int64_t value, int64_t row, IRMapping &map,
                        Operation *skip) -> LogicalResult {
      for (int64_t i = 0; i < numInputs; ++i) {
        Value e = elementOf(i, value, row);
        if (!e)
          return fail(op, "has an input of a shape the lowering cannot map");
        map.map(body.getArgument(i), e);
      }
      for (Operation &inner : body.without_terminator()) {
        if (&inner == skip)
          continue;
        if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
          auto [r, c] = k.elementRowCol(value);
          if (rank == 1)
            r = k.add(k.mulc(k.warp, 16),
                      k.addc(arith::DivUIOp::create(b, loc, k.lane, k.c32(4)),
                             8 * row));
          map.map(index.getResult(), k.toIndex(index.getDim() == 0 ? r : c));
          continue;
        }
        for (Value operand : inner.getOperands())
          if (!map.contains(operand)) {
            if (Value s = scalars.lookupOrNull(operand))
              map.map(operand, s);
            else if (operand.getParentBlock() != &body)
              return fail(op, "uses a value from outside it that is not a "
                              "scalar");
          }
        if (auto exp = dyn_cast<math::ExpOp>(inner);
            exp && exp.getType().isF32()) {
          map.map(exp.getResult(), k.exp(map.lookup(exp.getOperand())));
          continue;
        }
        Operation *clone = b.clone(inner, map);
        clone->removeDiscardableAttr(kStepAttrName);
      }
      return success();
    };

    auto yielded = body.getTerminator()->getOperand(0);
    Fragment result;
    if (!rowReduction) {
      if (outUsed)
        return fail(op, "reads its output tensor");
      int64_t count = outAccess == 2 ? cols / 2 : 2;
      result.kind = outAccess == 2 ? Fragment::Tile : Fragment::Rows;
      result.cols = outAccess == 2 ? cols : 0;
      if (outAccess == 0)
        return fail(op, "yields a scalar");
      for (int64_t v = 0; v < count; ++v) {
        IRMapping map;
        int64_t row = outAccess == 2 ? (v / 2) % 2 : v;
        if (failed(evalBody(v, row, map, nullptr)))
          return failure();
        result.values.push_back(map.lookupOrDefault(yielded));
      }
      fragments[op.getResult(0)] = result;
      return success();
    }

    // A row reduction: the yielded value must be combine(f(...), out) with an
    // associative, commutative combiner, so that each thread folds its own
    // keys and a quad shuffle finishes the row.
    Operation *combiner = yielded.getDefiningOp();
    if (outAccess != 1 || !combiner || combiner->getNumOperands() != 2 ||
        !isa<arith::MaximumFOp, arith::MaxNumFOp, arith::MinimumFOp,
             arith::MinNumFOp, arith::AddFOp, arith::AddIOp, arith::OrIOp,
             arith::AndIOp, arith::MaxSIOp, arith::MinSIOp>(combiner) ||
        !llvm::is_contained(combiner->getOperands(), Value(outArg)) ||
        !outArg.hasOneUse())
      return fail(op, "is a row reduction whose body is not "
                      "combine(f(...), out) with an associative combiner");
    unsigned outPosition = combiner->getOperand(0) == outArg ? 0 : 1;
    Value term = combiner->getOperand(1 - outPosition);
    auto combine = [&](Value lhs, Value rhs) -> Value {
      IRMapping map;
      map.map(combiner->getOperand(1 - outPosition), lhs);
      map.map(combiner->getOperand(outPosition), rhs);
      return b.clone(*combiner, map)->getResult(0);
    };
    Fragment *init = inputs[numInputs];
    if (!init || init->kind != Fragment::Rows)
      return fail(op, "reduces into something other than a row vector");
    result.kind = Fragment::Rows;
    for (int64_t row = 0; row < 2; ++row) {
      Value partial;
      for (int64_t v = 0; v < cols / 2; ++v) {
        if ((v / 2) % 2 != row)
          continue;
        IRMapping map;
        if (failed(evalBody(v, row, map, combiner)))
          return failure();
        Value t = term.getParentBlock() == &body ? map.lookupOrDefault(term)
                                                 : scalars.lookup(term);
        partial = partial ? combine(t, partial) : t;
      }
      for (int64_t mask : {1, 2})
        partial = combine(k.shuffleXor(partial, mask), partial);
      result.values.push_back(combine(partial, init->values[row]));
    }
    fragments[op.getResult(0)] = result;
    return success();
  }

  /// The additive mask at this thread's element `value` of the tile: one f32
  /// load, its indices clamped into the tensor (a ragged tile's keys past Nk
  /// are -inf already, rows past Nq are never stored).
  Value maskElement(const Fragment &f, int64_t value) {
    auto type = cast<RankedTensorType>(func.getArgument(3).getType());
    auto [r, c] = k.elementRowCol(value);
    auto clamp = [&](Value x, int64_t size) -> Value {
      return arith::MinUIOp::create(b, loc, x, k.c32(size - 1));
    };
    Value row = clamp(k.add(f.maskOffsets[2], r), type.getDimSize(2));
    Value col = clamp(k.add(f.maskOffsets[3], c), type.getDimSize(3));
    Value plane = k.add(k.mulc(f.maskOffsets[0], type.getDimSize(1)),
                        f.maskOffsets[1]);
    Value element = arith::ExtUIOp::create(
        b, loc, k.i64(),
        k.add(k.mulc(k.add(k.mulc(plane, type.getDimSize(2)), row),
                     type.getDimSize(3)),
              col));
    Value address = LLVM::GEPOp::create(b, loc, k.mask.getType(), k.f32(),
                                        k.mask, ValueRange{element});
    return LLVM::LoadOp::create(b, loc, k.f32(), address);
  }

  /// A fill: a fragment of one value.
  LogicalResult fill(linalg::FillOp op) {
    Value value = scalars.lookupOrNull(op.getInputs()[0]);
    if (!value)
      return fail(op, "fills with a value that is not a scalar");
    auto type = cast<RankedTensorType>(op.getResult(0).getType());
    Fragment f;
    if (type.getRank() == 1) {
      f.kind = Fragment::Rows;
      f.values.assign(2, value);
    } else {
      f.kind = Fragment::Tile;
      f.cols = colsOf(op.getResult(0), k.p.tileKV);
      f.values.assign(f.cols / 2, value);
    }
    fragments[op.getResult(0)] = f;
    return success();
  }

  /// The two products.
  LogicalResult matmul(linalg::MatmulOp op) {
    std::optional<Step> step = getStep(op);
    Fragment &init = fragments[op.getOutputs()[0]];
    bool fresh = llvm::all_of(init.values, [](Value v) {
      return matchPattern(v, m_AnyZeroFloat());
    });
    if (!fresh)
      return fail(op, "accumulates into a non-zero tile; the sm_90a kernel "
                      "sums each product into a fresh accumulator");
    Fragment result;
    result.kind = Fragment::Tile;
    if (step == Step::QKMma) {
      if (fragments[op.getInputs()[0]].kind != Fragment::QTile ||
          fragments[op.getInputs()[1]].kind != Fragment::KTile)
        return fail(op, "is not Q_i K_j^T of the attention's Q and K");
      result.cols = k.p.tileKV;
      result.values = k.qkProduct();
      boundsMask(result);
    } else if (step == Step::PVMma) {
      Fragment &pCodes = fragments[op.getInputs()[0]];
      if (pCodes.kind != Fragment::PCodes ||
          fragments[op.getInputs()[1]].kind != Fragment::VTile)
        return fail(op, "is not P~ V_j of the cast P and the attention's V");
      result.cols = k.p.valueDim;
      if (k.pvChunkColumns() == k.p.valueDim)
        result.values = k.pvProduct(pCodes.values, 0);
      else
        result.deferredPCodes = pCodes.values;
    } else {
      return fail(op, "is a product that is neither qk_mma nor pv_mma");
    }
    fragments[op.getResult(0)] = result;
    return success();
  }

  /// Keys past Nk in a ragged last tile: the tile IR has a smaller tile
  /// there; registers hold a full one, so those scores become -inf (exp
  /// gives 0, sums and maxima are unchanged, TMA zero-filled V).
  void boundsMask(Fragment &s) {
    if (k.p.kvLen % k.p.tileKV == 0)
      return;
    Value negInf = arith::ConstantOp::create(
        b, loc, b.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
    Value limit = arith::SubIOp::create(b, loc, k.c32(k.p.kvLen),
                                        k.toI32(k.col0));
    for (int64_t v = 0, e = s.values.size(); v < e; ++v) {
      Value col = k.elementRowCol(v).second;
      Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                           col, limit);
      s.values[v] = arith::SelectOp::create(b, loc, inside, s.values[v], negInf);
    }
  }

  LogicalResult truncf(TruncFOp op) {
    if (getStep(op) != Step::PCast)
      return fail(op, "is a tensor cast other than the P cast");
    Fragment &in = fragments[op.getIn()];
    if (in.kind != Fragment::Tile || in.cols != k.p.tileKV)
      return fail(op, "casts something other than a P tile");
    Fragment result;
    result.kind = Fragment::PCodes;
    result.values = k.castP(in.values);
    if (k.pScaledDump)
      dumpP(in.values, result.values);
    fragments[op.getResult()] = result;
    return success();
  }

  /// The debug P dump: every thread of the first consumer warpgroup of block
  /// (0, 0, 0) stores its P * S values and their codes at (row, key) of the
  /// tile with kv_offset 0, so a check can compare each code with
  /// lpattn::encodeRNE of its input.
  void dumpP(ArrayRef<Value> scaled, ArrayRef<Value> codes) {
    Value zero = k.c32(0);
    auto eq = [&](Value x, Value y) -> Value {
      return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x, y);
    };
    Value chosen = eq(k.blockX, zero);
    for (Value v : {eq(k.blockY, zero), eq(k.blockZ, zero),
                    eq(k.warpgroup, k.c32(1)), eq(k.toI32(k.col0), zero)})
      chosen = arith::AndIOp::create(b, loc, chosen, v);
    int64_t tileKV = k.p.tileKV;
    scf::IfOp::create(b, loc, chosen, [&](OpBuilder &, Location) {
      auto store = [&](Value base, Value value, int64_t v, int64_t bytes) {
        auto [r, c] = k.elementRowCol(v);
        Value element = k.add(k.mulc(r, tileKV), c);
        Value offset = arith::ExtUIOp::create(b, loc, k.i64(),
                                              k.mulc(element, bytes));
        Value address = LLVM::GEPOp::create(b, loc, base.getType(),
                                            b.getI8Type(), base,
                                            ValueRange{offset});
        LLVM::StoreOp::create(b, loc, value, address);
      };
      for (int64_t v = 0, e = scaled.size(); v < e; ++v)
        store(k.pScaledDump, scaled[v], v, 4);
      for (int64_t s = 0; s < tileKV / 32; ++s)
        for (int64_t reg = 0; reg < 4; ++reg)
          for (int64_t byte = 0; byte < 4; ++byte) {
            Value code = arith::TruncIOp::create(
                b, loc, b.getI8Type(),
                arith::ShRUIOp::create(b, loc, codes[4 * s + reg],
                                       k.c32(8 * byte)));
            store(k.pCodesDump, code, pAccumulatorValueForA(s, reg, byte), 1);
          }
      scf::YieldOp::create(b, loc);
    });
  }

  LogicalResult extractSlice(tensor::ExtractSliceOp op) {
    Value source = op.getSource();
    Fragment f;
    if (source == func.getArgument(0))
      f.kind = Fragment::QTile;
    else if (source == func.getArgument(1))
      f.kind = Fragment::KTile;
    else if (source == func.getArgument(2))
      f.kind = Fragment::VTile;
    else if (k.mask && source == func.getArgument(3)) {
      f.kind = Fragment::MaskTile;
      for (OpFoldResult ofr : op.getMixedOffsets()) {
        if (auto v = dyn_cast<Value>(ofr))
          f.maskOffsets.push_back(k.toI32(scalars.lookup(v)));
        else
          f.maskOffsets.push_back(
              k.c32(cast<IntegerAttr>(cast<Attribute>(ofr)).getInt()));
      }
    } else
      f.kind = Fragment::Empty; // the output tile (written by in_parallel)
    // Map the offsets' scalars are already evaluated (ops before it).
    fragments[op.getResult()] = f;
    return success();
  }

  /// Evaluates the ops of `block` in order, after `startAfter` (from the
  /// first op when null) up to (not including) `stopAt`.
  LogicalResult run(Block &block, Operation *stopAt = nullptr,
                    Operation *startAfter = nullptr) {
    bool started = startAfter == nullptr;
    for (Operation &op : block) {
      if (!started) {
        started = &op == startAfter;
        continue;
      }
      if (&op == stopAt)
        break;
      // Asked of libMLIR.so (Block::mightHaveTerminator), not with
      // op.hasTrait<OpTrait::IsTerminator>() here: in libLPAttnCAPI.so (g++,
      // a shared object) a trait's TypeID differs from the one the
      // clang-built libMLIR.so registered, and scf.yield went unrecognized.
      if (&op == &block.back() && block.mightHaveTerminator())
        continue;
      bool allScalar = llvm::all_of(op.getResultTypes(), isScalar) &&
                       op.getNumRegions() == 0 && op.getNumResults() > 0;
      if (allScalar) {
        if (failed(cloneScalar(&op)))
          return failure();
        continue;
      }
      if (scalarOnly)
        continue;
      LogicalResult result =
          TypeSwitch<Operation *, LogicalResult>(&op)
              .Case([&](tensor::EmptyOp e) {
                fragments[e.getResult()] = Fragment();
                return success();
              })
              .Case([&](linalg::FillOp fill) { return this->fill(fill); })
              .Case([&](linalg::GenericOp g) { return generic(g); })
              .Case([&](linalg::MatmulOp m) { return matmul(m); })
              .Case([&](TruncFOp t) { return truncf(t); })
              .Case([&](tensor::ExtractSliceOp s) { return extractSlice(s); })
              .Default([&](Operation *other) {
                return fail(other, "'" + other->getName().getStringRef() +
                                       "' is not supported by the sm_90a "
                                       "lowering");
              });
      if (failed(result))
        return failure();
    }
    return success();
  }
};

//===----------------------------------------------------------------------===//
// The kernel
//===----------------------------------------------------------------------===//

struct TiledAttention {
  func::FuncOp func;
  scf::ForallOp forall;
  scf::ForOp kvLoop;
  Operation *kvOffset; ///< the kv_offset step in the KV loop
  tensor::ExtractSliceOp kSlice;
  Problem problem;
  bool hasDescales;
  bool hasMask = false;
  unsigned descaleArg = 3; ///< the first descale argument of the function
  bool perHeadDescales = false;
  bool dumpP = false;
};

FailureOr<TiledAttention> analyze(func::FuncOp func, int64_t stages) {
  TiledAttention t{func, nullptr, nullptr, nullptr, nullptr, {}, false};
  auto fail = [&](Operation *at, const Twine &message) {
    at->emitError() << "lpattn-tile-to-sm90: " << message;
    return failure();
  };
  SmallVector<scf::ForallOp> foralls;
  func.walk([&](scf::ForallOp f) { foralls.push_back(f); });
  SmallVector<scf::ForOp> loops = getKVLoops(func);
  if (foralls.size() != 1 || loops.size() != 1)
    return fail(func, "expects one tile-level attention per function (one "
                      "scf.forall with one lpattn.kv_loop); run lpattn-tile "
                      "first");
  t.forall = foralls[0];
  t.kvLoop = loops[0];
  t.kvOffset = findStep(*t.kvLoop.getBody(), Step::KVOffset);
  if (!t.kvOffset)
    return fail(t.kvLoop, "the KV loop has no kv_offset step");
  // (q, k, v [, mask] [, q_ds, k_ds, v_ds]): KernelABI.h's order.
  unsigned numArgs = func.getNumArguments();
  bool instrumented = llvm::any_of(func.getArgumentTypes(), [](Type type) {
    return isa<BaseMemRefType>(type);
  });
  if (numArgs < 3 || numArgs > 7 || numArgs == 5 || instrumented)
    return fail(func, "expects arguments (q, k, v [, mask] [, q_ds, k_ds, "
                      "v_ds]): collapse instrumentation is CPU-only");
  t.hasMask = numArgs == 4 || numArgs == 7;
  t.hasDescales = numArgs >= 6;
  t.descaleArg = t.hasMask ? 4 : 3;
  if (t.hasMask) {
    auto mask = dyn_cast<RankedTensorType>(func.getArgument(3).getType());
    if (!mask || mask.getRank() != 4 || !mask.getElementType().isF32())
      return fail(func, "expects the mask as a 4-D f32 tensor");
  }
  // Per-(batch, KV head) descales are tensor<B x Hkv x f32> arguments that
  // the forall body reads with tensor.extract: pointer parameters.
  t.perHeadDescales =
      t.hasDescales &&
      isa<RankedTensorType>(func.getArgument(t.descaleArg).getType());
  auto q = dyn_cast<RankedTensorType>(func.getArgument(0).getType());
  auto kT = dyn_cast<RankedTensorType>(func.getArgument(1).getType());
  auto v = dyn_cast<RankedTensorType>(func.getArgument(2).getType());
  if (!q || !kT || !v || func.getNumResults() != 1)
    return fail(func, "expects ranked q, k, v tensors and one result");
  auto outType = cast<RankedTensorType>(func.getResultTypes()[0]);
  PrecisionPolicyAttr policy = getKVLoopPolicy(t.kvLoop);
  Problem &p = t.problem;
  p = {q.getDimSize(0), q.getDimSize(1), q.getDimSize(2), q.getDimSize(3),
       kT.getDimSize(1), kT.getDimSize(2), v.getDimSize(3), 0,
       q.getElementType(), v.getElementType(), policy.getP(),
       outType.getElementType(), stages};
  // Bc is the constant factor of the kv_offset step (tile index * Bc).
  for (Value operand : t.kvOffset->getOperands()) {
    APInt value;
    if (matchPattern(operand, m_ConstantInt(&value)))
      p.tileKV = value.getSExtValue();
  }
  if (p.tileKV != 64 && p.tileKV != 128)
    return fail(t.kvOffset, "tile-kv must be 64 or 128 on sm_90a");
  // Br must be one warpgroup's 64 rows: the Q slice's row offset is
  // q_tile * Br.
  for (Operation &op : *t.forall.getBody())
    if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op);
        slice && slice.getSource() == func.getArgument(0)) {
      auto row0 = dyn_cast<Value>(slice.getMixedOffsets()[2]);
      auto mulOp = row0 ? row0.getDefiningOp<arith::MulIOp>() : nullptr;
      APInt br;
      if (!mulOp || !matchPattern(mulOp.getRhs(), m_ConstantInt(&br)) ||
          br.getSExtValue() != kRowsPerWarpgroup)
        return fail(slice, "tile-q must be 64 on sm_90a (one warpgroup's "
                           "wgmma M)");
    }
  for (Operation &op : *t.kvLoop.getBody())
    if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op);
        slice && slice.getSource() == func.getArgument(1))
      t.kSlice = slice;
  if (!t.kSlice)
    return fail(t.kvLoop, "the KV loop does not slice K");
  if (p.headDim != 64 && p.headDim != 128 && p.headDim != 256)
    return fail(func, "head dim must be 64, 128 or 256 on sm_90a");
  if (p.valueDim != p.headDim)
    return fail(func, "the value head dim must equal the QK head dim");
  for (Type type : {p.qkType, p.vType, p.pType})
    if (!isa<Float8E4M3FNType, Float8E5M2Type>(type))
      return fail(func, "Q, K, P and V must be FP8 (f8E4M3FN or f8E5M2) for "
                        "the wgmma FP8 forms");
  return t;
}

/// The launch descriptor's kernel half, in its JSON spelling.
DictionaryAttr launchAttr(OpBuilder &b, StringRef kernelName,
                          const TiledAttention &t) {
  const Problem &p = t.problem;
  auto i64Array = [&](ArrayRef<int64_t> values) {
    return b.getI64ArrayAttr(values);
  };
  auto format = [&](Type type) {
    return b.getStringAttr(stringifyFloatFormat(*getFloatFormat(type)));
  };
  auto strides = [&](ArrayRef<int64_t> shape) {
    SmallVector<int64_t> s(shape.size(), 1);
    for (int64_t i = shape.size() - 2; i >= 0; --i)
      s[i] = s[i + 1] * shape[i + 1];
    return s;
  };
  SmallVector<Attribute> params, maps;
  auto tensorParam = [&](StringRef role, StringRef kind, Type dtype,
                         ArrayRef<int64_t> shape) {
    params.push_back(b.getDictionaryAttr(
        {b.getNamedAttr("role", b.getStringAttr(role)),
         b.getNamedAttr("kind", b.getStringAttr(kind)),
         b.getNamedAttr("dtype", format(dtype)),
         b.getNamedAttr("shape", i64Array(shape)),
         b.getNamedAttr("strides", i64Array(strides(shape)))}));
  };
  auto tensorMap = [&](StringRef role, ArrayRef<int64_t> box,
                       StringRef swizzle) {
    maps.push_back(b.getDictionaryAttr(
        {b.getNamedAttr("tensor", b.getStringAttr(role)),
         b.getNamedAttr("element_type", b.getStringAttr("UINT8")),
         b.getNamedAttr("box", i64Array(box)),
         b.getNamedAttr("swizzle", b.getStringAttr(swizzle))}));
  };
  auto swizzleName = [](Swizzle s) -> StringRef {
    return s == Swizzle::B128 ? "128B" : s == Swizzle::B64 ? "64B" : "32B";
  };
  tensorParam("q", "tensor_map", p.qkType,
              {p.batch, p.qHeads, p.qLen, p.headDim});
  tensorParam("k", "tensor_map", p.qkType,
              {p.batch, p.kvHeads, p.kvLen, p.headDim});
  tensorParam("v", "tensor_map", p.vType,
              {p.batch, p.kvHeads, p.kvLen, p.valueDim});
  tensorMap("q", {1, 1, p.qBoxRows(), p.qkChunkBytes()},
            swizzleName(p.qkSwizzle()));
  tensorMap("k", {1, 1, p.tileKV, p.qkChunkBytes()},
            swizzleName(p.qkSwizzle()));
  tensorMap("v", {1, 1, p.tileKV, p.valueDim}, "none");
  if (t.hasMask)
    tensorParam("mask", "pointer", Float32Type::get(b.getContext()),
                cast<RankedTensorType>(func::FuncOp(t.func).getArgument(3).getType())
                    .getShape());
  if (t.perHeadDescales)
    for (StringRef role : {"q_ds", "k_ds", "v_ds"})
      tensorParam(role, "pointer", Float32Type::get(b.getContext()),
                  {p.batch, p.kvHeads});
  else if (t.hasDescales)
    for (StringRef role : {"q_ds", "k_ds", "v_ds"})
      params.push_back(b.getDictionaryAttr(
          {b.getNamedAttr("role", b.getStringAttr(role)),
           b.getNamedAttr("kind", b.getStringAttr("f32"))}));
  tensorParam("o", "pointer", p.outType,
              {p.batch, p.qHeads, p.qLen, p.valueDim});
  if (t.dumpP) {
    tensorParam("p_scaled", "pointer", Float32Type::get(b.getContext()),
                {kRowsPerWarpgroup, p.tileKV});
    tensorParam("p_codes", "pointer", p.pType, {kRowsPerWarpgroup, p.tileKV});
  }
  int64_t gridX = llvm::divideCeil(p.qLen, kRowsPerCTA);
  SmallVector<NamedAttribute> signature{
      b.getNamedAttr("mask", b.getBoolAttr(t.hasMask)),
      b.getNamedAttr("descales", b.getBoolAttr(t.hasDescales)),
      b.getNamedAttr("stats", b.getBoolAttr(false))};
  if (t.dumpP) // only debug artifacts carry the member
    signature.push_back(b.getNamedAttr("debug_p", b.getBoolAttr(true)));
  return b.getDictionaryAttr(
      {b.getNamedAttr("kernel", b.getStringAttr(kernelName)),
       b.getNamedAttr("grid", i64Array({gridX, p.qHeads, p.batch})),
       b.getNamedAttr("block", i64Array({kThreads, 1, 1})),
       b.getNamedAttr("dynamic_shared_memory",
                      b.getI64IntegerAttr(p.sharedBytes())),
       b.getNamedAttr("signature", b.getDictionaryAttr(signature)),
       b.getNamedAttr("params", b.getArrayAttr(params)),
       b.getNamedAttr("tensor_maps", b.getArrayAttr(maps)),
       b.getNamedAttr("tiles", i64Array({kRowsPerWarpgroup, p.tileKV}))});
}

class KernelBuilder {
public:
  KernelBuilder(OpBuilder &b, TiledAttention tiled)
      : b(b), t(tiled), loc(t.func.getLoc()), k(b, loc, t.problem) {}

  OpBuilder &b;
  TiledAttention t;
  Location loc;
  KernelEmitter k;
  std::string errorMessage;
  Operation *errorOp = nullptr;

  /// Maps the func's scalar preamble (scale products of descales) and the
  /// forall's induction variables for query tile `qTile`.
  void mapPreamble(TileInterpreter &in, Value qTile) {
    func::FuncOp func = t.func;
    if (t.hasDescales)
      for (int i = 0; i < 3; ++i)
        in.scalars.map(func.getArgument(t.descaleArg + i), k.scalarArgs[i]);
    Block &entry = func.getBody().front();
    (void)in.run(entry, t.forall);
    auto ivs = t.forall.getInductionVars();
    in.scalars.map(ivs[0], k.toIndex(k.blockZ));
    in.scalars.map(ivs[1], k.toIndex(k.blockY));
    in.scalars.map(ivs[2], k.toIndex(qTile));
  }

  bool check(TileInterpreter &in) {
    if (!in.error)
      return true;
    errorOp = in.error;
    errorMessage = in.errorMessage;
    return false;
  }

  /// The number of KV tiles of query tile `qTile` (0 when the tile is past
  /// Nq), by the tile IR's own scalar arithmetic.
  Value tileCount(Value qTile) {
    TileInterpreter in(k, t.func, /*scalarOnly=*/true);
    mapPreamble(in, qTile);
    (void)in.run(*t.forall.getBody(), t.kvLoop);
    Value count = in.scalars.lookupOrNull(t.kvLoop.getUpperBound());
    if (!count)
      count = b.clone(*t.kvLoop.getUpperBound().getDefiningOp())->getResult(0);
    Value numQTiles =
        k.c32(llvm::divideCeil(t.problem.qLen, kRowsPerWarpgroup));
    Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                         qTile, numQTiles);
    return arith::SelectOp::create(b, loc, inside, k.toI32(count), k.c32(0));
  }

  /// The first key of the tile visited at iteration `iteration` of a loop of
  /// `count` tiles, and the K slice's (batch, kv head) offsets, by the tile
  /// IR's kv_index/kv_offset steps.
  struct TileCoordinates {
    Value col0, batch, kvHead;
  };
  TileCoordinates tileCoordinates(TileInterpreter &in, Value iteration,
                                  Value count) {
    in.scalars.map(t.kvLoop.getInductionVar(), k.toIndex(iteration));
    if (!matchPattern(t.kvLoop.getUpperBound(), m_Constant()))
      in.scalars.map(t.kvLoop.getUpperBound(), k.toIndex(count));
    (void)in.run(*t.kvLoop.getBody(), t.kSlice);
    auto offsets = t.kSlice.getMixedOffsets();
    auto value = [&](OpFoldResult ofr) -> Value {
      if (auto v = dyn_cast<Value>(ofr))
        return k.toI32(in.scalars.lookup(v));
      return k.c32(cast<IntegerAttr>(cast<Attribute>(ofr)).getInt());
    };
    return {value(offsets[2]), value(offsets[0]), value(offsets[1])};
  }

  void issueTileLoads(Value iteration, Value count, Value qTileA) {
    const Problem &p = t.problem;
    TileInterpreter in(k, t.func, /*scalarOnly=*/true);
    mapPreamble(in, qTileA);
    (void)in.run(*t.forall.getBody(), t.kvLoop);
    TileCoordinates c = tileCoordinates(in, iteration, count);
    Value s = arith::RemUIOp::create(b, loc, iteration, k.c32(p.stages));
    Value round = arith::DivUIOp::create(b, loc, iteration, k.c32(p.stages));
    Value parity = arith::XOrIOp::create(
        b, loc, arith::AndIOp::create(b, loc, round, k.c32(1)), k.c32(1));
    k.barrierWait(k.barrier(4, s), parity);
    Value fullK = k.barrier(1, s), fullV = k.barrier(2, s);
    k.barrierExpect(fullK, p.kBytes());
    for (int64_t chunk = 0; chunk < p.qkChunks(); ++chunk)
      k.tmaLoad(k.kMap, k.addc(k.kTileAddress(s), chunk * p.tileKV * 128),
                fullK, k.c32(chunk * 128), c.col0, c.kvHead, c.batch);
    k.barrierExpect(fullV, p.vBytes());
    k.tmaLoad(k.vMap, k.vTileAddress(s), fullV, k.c32(0), c.col0, c.kvHead,
              c.batch);
  }

  /// V (keys x Dv, row-major) to V^T (Dv rows of Bc keys, keys in pvKeyAtK
  /// order, swizzled), 4 x 4 bytes per step.
  void transposeV(Value s, Value threadIndex) {
    const Problem &p = t.problem;
    Value vBase = k.vTileAddress(s), vtBase = k.vtTileAddress(s);
    int64_t blocks = (p.valueDim / 4) * (p.tileKV / 4);
    Swizzle swizzle = p.vtSwizzle();
    auto forOp = scf::ForOp::create(b, loc, threadIndex, k.c32(blocks),
                                    k.c32(kThreadsPerWarpgroup));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(forOp.getBody()->getTerminator());
    Value block = forOp.getInductionVar();
    // block = (n/4) * (Bc/4) + kq: consecutive threads take consecutive
    // key quads of one n quad.
    Value kq = arith::RemUIOp::create(b, loc, block, k.c32(p.tileKV / 4));
    Value nq = arith::DivUIOp::create(b, loc, block, k.c32(p.tileKV / 4));
    Value n0 = k.mulc(nq, 4), pos0 = k.mulc(kq, 4);
    // Keys at positions pos0..pos0+3: 32 * (pos/32) + pvKeyAtK(pos % 32).
    Value words[4];
    for (int64_t i = 0; i < 4; ++i) {
      Value pos = k.addc(pos0, i);
      Value slice = arith::DivUIOp::create(b, loc, pos, k.c32(32));
      Value kk = arith::RemUIOp::create(b, loc, pos, k.c32(32));
      // pvKeyAtK(kk) = 16 (kk/16) + 8 ((kk%4)/2) + 2 ((kk%16)/4) + kk%2
      Value half = arith::DivUIOp::create(b, loc, kk, k.c32(16));
      Value quad = arith::DivUIOp::create(
          b, loc, arith::RemUIOp::create(b, loc, kk, k.c32(16)), k.c32(4));
      Value key = k.add(
          k.add(k.mulc(slice, 32), k.mulc(half, 16)),
          k.add(k.mulc(quad, 2), k.c32(8 * (i / 2) + i % 2)));
      Value address = k.add(vBase, k.add(k.mulc(key, p.valueDim), n0));
      words[i] = k.ptx("ld.shared.b32 $0, [$1];", "=r,r", {address},
                       {k.i32()})[0];
    }
    // The 4 x 4 byte transpose: 8 byte permutes (prmt selectors pick bytes
    // of {b, a}: 0-3 from a, 4-7 from b).
    auto prmt = [&](Value x, Value y, unsigned selector) {
      return k.ptx(llvm::formatv("prmt.b32 $0, $1, $2, {0:x};", selector).str(),
                   "=r,r,r", {x, y}, {k.i32()})[0];
    };
    Value low01 = prmt(words[0], words[1], 0x5140);  // w0.0 w1.0 w0.1 w1.1
    Value high01 = prmt(words[0], words[1], 0x7362); // w0.2 w1.2 w0.3 w1.3
    Value low23 = prmt(words[2], words[3], 0x5140);
    Value high23 = prmt(words[2], words[3], 0x7362);
    Value columns[4] = {prmt(low01, low23, 0x5410), prmt(low01, low23, 0x7632),
                        prmt(high01, high23, 0x5410),
                        prmt(high01, high23, 0x7632)};
    for (int64_t c = 0; c < 4; ++c) {
      Value word = columns[c];
      // Row n0 + c of V^T, bytes pos0..pos0+3, swizzled like TMA would.
      Value offset = k.add(k.mulc(k.addc(n0, c), p.tileKV), pos0);
      uint32_t mask = swizzle == Swizzle::B128 ? 0x70 : 0x30;
      Value swizzled = arith::XOrIOp::create(
          b, loc, offset,
          arith::AndIOp::create(
              b, loc, arith::ShRUIOp::create(b, loc, offset, k.c32(3)),
              k.c32(mask)));
      k.ptx("st.shared.b32 [$0], $1;", "r,r", {k.add(vtBase, swizzled), word});
    }
  }

  LogicalResult build(LLVM::LLVMFuncOp kernel) {
    const Problem &p = t.problem;
    Block *entry = kernel.addEntryBlock(b);
    b.setInsertionPointToStart(entry);
    k.qMap = LLVM::PtrToIntOp::create(b, loc, k.i64(), kernel.getArgument(0));
    k.kMap = LLVM::PtrToIntOp::create(b, loc, k.i64(), kernel.getArgument(1));
    k.vMap = LLVM::PtrToIntOp::create(b, loc, k.i64(), kernel.getArgument(2));
    unsigned next = 3;
    if (t.hasMask)
      k.mask = kernel.getArgument(next++);
    if (t.hasDescales)
      for (int i = 0; i < 3; ++i)
        k.scalarArgs.push_back(kernel.getArgument(next++));
    k.out = kernel.getArgument(next++);
    if (t.dumpP) {
      k.pScaledDump = kernel.getArgument(next++);
      k.pCodesDump = kernel.getArgument(next++);
    }

    k.tid = NVVM::ThreadIdXOp::create(b, loc, k.i32());
    k.blockX = NVVM::BlockIdXOp::create(b, loc, k.i32());
    k.blockY = NVVM::BlockIdYOp::create(b, loc, k.i32());
    k.blockZ = NVVM::BlockIdZOp::create(b, loc, k.i32());
    k.warpgroup = arith::DivUIOp::create(b, loc, k.tid, k.c32(128));
    k.threadInWarpgroup = arith::RemUIOp::create(b, loc, k.tid, k.c32(128));
    k.warp = arith::DivUIOp::create(b, loc, k.threadInWarpgroup, k.c32(32));
    k.lane = arith::RemUIOp::create(b, loc, k.tid, k.c32(32));

    // The dynamic shared memory, aligned to 1024 for the 128B swizzle.
    auto module = kernel->getParentOfType<gpu::GPUModuleOp>();
    auto global = module.lookupSymbol<LLVM::GlobalOp>("lpattn_smem");
    Value base = LLVM::AddressOfOp::create(b, loc, global);
    Value raw = LLVM::PtrToIntOp::create(b, loc, k.i32(), base);
    k.smem = arith::AndIOp::create(b, loc, k.addc(raw, 1023), k.c32(~1023));

    Value isThread0 = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                            k.tid, k.c32(0));
    scf::IfOp::create(b, loc, isThread0, [&](OpBuilder &, Location) {
      k.barrierInit(k.add(k.smem, k.c32(k.qFullOffset())), 1);
      for (int64_t s = 0; s < p.stages; ++s) {
        Value si = k.c32(s);
        k.barrierInit(k.barrier(1, si), 1);
        k.barrierInit(k.barrier(2, si), 1);
        k.barrierInit(k.barrier(3, si), kThreadsPerWarpgroup);
        k.barrierInit(k.barrier(4, si), kThreadsPerWarpgroup * kConsumers);
      }
      k.ptx("fence.mbarrier_init.release.cluster;", "", {});
      k.ptx("fence.proxy.async.shared::cta;", "", {});
      scf::YieldOp::create(b, loc);
    });
    k.ptx("bar.sync 0;", "", {});

    Value qTileA = k.mulc(k.blockX, kConsumers);
    Value qTileB = k.addc(qTileA, 1);
    Value isProducer = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                             k.warpgroup, k.c32(0));
    auto branch = scf::IfOp::create(b, loc, isProducer, /*withElse=*/true);

    // Producer.
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(branch.thenBlock()->getTerminator());
      k.ptx(llvm::formatv("setmaxnreg.dec.sync.aligned.u32 {0};",
                          kProducerRegisters)
                .str(),
            "", {});
      Value count = arith::MaxSIOp::create(b, loc, tileCount(qTileA),
                                           tileCount(qTileB));
      Value leader = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::eq, k.threadInWarpgroup, k.c32(0));
      int64_t lookahead = p.stages - 1;
      scf::IfOp::create(b, loc, leader, [&](OpBuilder &, Location) {
        Value qFull = k.add(k.smem, k.c32(k.qFullOffset()));
        k.barrierExpect(qFull, p.qBoxRows() * p.headDim);
        Value row0 = k.mulc(k.blockX, kRowsPerCTA);
        for (int64_t chunk = 0; chunk < p.qkChunks(); ++chunk)
          k.tmaLoad(k.qMap,
                    k.addc(k.qTileAddress(), chunk * kRowsPerCTA * 128), qFull,
                    k.c32(chunk * 128), row0, k.blockY, k.blockZ);
        for (int64_t i = 0; i < lookahead; ++i) {
          Value inRange = arith::CmpIOp::create(
              b, loc, arith::CmpIPredicate::slt, k.c32(i), count);
          scf::IfOp::create(b, loc, inRange, [&](OpBuilder &, Location) {
            issueTileLoads(k.c32(i), count, qTileA);
            scf::YieldOp::create(b, loc);
          });
        }
        scf::YieldOp::create(b, loc);
      });
      auto loop = scf::ForOp::create(b, loc, k.c32(0), count, k.c32(1));
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(loop.getBody()->getTerminator());
        Value i = loop.getInductionVar();
        Value ahead = k.addc(i, lookahead);
        Value issue = arith::AndIOp::create(
            b, loc, leader,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, ahead,
                                  count));
        if (lookahead > 0)
          scf::IfOp::create(b, loc, issue, [&](OpBuilder &, Location) {
            issueTileLoads(ahead, count, qTileA);
            scf::YieldOp::create(b, loc);
          });
        Value s = arith::RemUIOp::create(b, loc, i, k.c32(p.stages));
        Value round = arith::DivUIOp::create(b, loc, i, k.c32(p.stages));
        Value parity = arith::AndIOp::create(b, loc, round, k.c32(1));
        // V^T[s] is free once both consumers released the stage's previous
        // round; V[s] has arrived.
        k.barrierWait(k.barrier(4, s),
                      arith::XOrIOp::create(b, loc, parity, k.c32(1)));
        k.barrierWait(k.barrier(2, s), parity);
        transposeV(s, k.threadInWarpgroup);
        k.ptx("fence.proxy.async.shared::cta;", "", {});
        k.barrierArrive(k.barrier(3, s));
      }
    }

    // Consumers.
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(branch.elseBlock()->getTerminator());
      k.ptx(llvm::formatv("setmaxnreg.inc.sync.aligned.u32 {0};",
                          kConsumerRegisters)
                .str(),
            "", {});
      Value consumer = arith::SubIOp::create(b, loc, k.warpgroup, k.c32(1));
      Value qTile = k.add(qTileA, consumer);
      k.qRowBase = k.mulc(consumer, kRowsPerWarpgroup);
      Value count = arith::MaxSIOp::create(b, loc, tileCount(qTileA),
                                           tileCount(qTileB));
      Value own = tileCount(qTile);

      TileInterpreter in(k, t.func, /*scalarOnly=*/false);
      mapPreamble(in, qTile);
      if (failed(in.run(*t.forall.getBody(), t.kvLoop)) | !check(in))
        return failure();
      k.barrierWait(k.add(k.smem, k.c32(k.qFullOffset())), k.c32(0));

      // The KV loop: iter args flattened (m, l rows; acc tile).
      SmallVector<Fragment> inits;
      SmallVector<Value> flat;
      for (Value init : t.kvLoop.getInitArgs()) {
        Fragment &f = in.fragment(init);
        if (f.kind != Fragment::Rows && f.kind != Fragment::Tile)
          return t.kvLoop.emitError()
                 << "lpattn-tile-to-sm90: a KV loop value that is neither a "
                    "row vector nor a tile";
        inits.push_back(f);
        flat.append(f.values.begin(), f.values.end());
      }
      auto loop = scf::ForOp::create(b, loc, k.c32(0), count, k.c32(1), flat);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(loop.getBody());
        Value i = loop.getInductionVar();
        k.stage = arith::RemUIOp::create(b, loc, i, k.c32(p.stages));
        k.phase = arith::AndIOp::create(
            b, loc, arith::DivUIOp::create(b, loc, i, k.c32(p.stages)),
            k.c32(1));
        // The tile IR's loop, iteration i of the CTA's count: its
        // kv_index/kv_offset steps give the tile; a warpgroup whose causal
        // bound is smaller skips the tiles past it.
        TileCoordinates c = tileCoordinates(in, i, count);
        k.col0 = in.scalars.lookup(t.kvOffset->getResult(0));
        Value active = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::slt, c.col0,
            k.mulc(own, p.tileKV));
        k.barrierWait(k.barrier(1, k.stage), k.phase);
        // Rebuild the iteration's fragments from the loop's block args.
        SmallVector<Value> args(loop.getRegionIterArgs().begin(),
                                loop.getRegionIterArgs().end());
        auto ifOp = scf::IfOp::create(b, loc, ValueRange(args).getTypes(),
                                      active, /*withElse=*/true);
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(ifOp.elseBlock());
          scf::YieldOp::create(b, loc, args);
          b.setInsertionPointToStart(ifOp.thenBlock());
          unsigned pos = 0;
          for (auto [index, init] : llvm::enumerate(inits)) {
            Fragment f = init;
            for (Value &v : f.values)
              v = args[pos++];
            in.fragments[t.kvLoop.getRegionIterArgs()[index]] = f;
          }
          if (failed(in.run(*t.kvLoop.getBody())) | !check(in))
            return failure();
          SmallVector<Value> results;
          for (Value yielded :
               t.kvLoop.getBody()->getTerminator()->getOperands()) {
            Fragment &f = in.fragment(yielded);
            results.append(f.values.begin(), f.values.end());
          }
          if (results.size() != args.size())
            return t.kvLoop.emitError()
                   << "lpattn-tile-to-sm90: the KV loop's results changed "
                      "shape";
          scf::YieldOp::create(b, loc, results);
        }
        k.barrierArrive(k.barrier(4, k.stage));
        scf::YieldOp::create(b, loc, ifOp.getResults());
      }
      // The loop's results, then the epilogue ops of the query tile.
      unsigned pos = 0;
      for (auto [index, init] : llvm::enumerate(inits)) {
        Fragment f = init;
        for (Value &v : f.values)
          v = loop.getResult(pos++);
        in.fragments[t.kvLoop.getResult(index)] = f;
      }
      Operation *terminator = t.forall.getBody()->getTerminator();
      // The query tile's ops after the KV loop (normalize, ...).
      if (failed(in.run(*t.forall.getBody(), /*stopAt=*/nullptr,
                        /*startAfter=*/t.kvLoop)) |
          !check(in))
        return failure();
      if (failed(store(in, cast<scf::InParallelOp>(terminator), qTile)))
        return failure();
    }
    b.setInsertionPointToEnd(entry);
    LLVM::ReturnOp::create(b, loc, ValueRange{});
    return success();
  }

  /// The output tile: each thread stores its values of rows < Nq.
  LogicalResult store(TileInterpreter &in, scf::InParallelOp inParallel,
                      Value qTile) {
    const Problem &p = t.problem;
    auto insert = dyn_cast_or_null<tensor::ParallelInsertSliceOp>(
        &inParallel.getRegion().front().front());
    if (!insert)
      return inParallel.emitError()
             << "lpattn-tile-to-sm90: expected one parallel_insert_slice";
    Fragment &o = in.fragment(insert.getSource());
    if (o.kind != Fragment::Tile || o.cols != p.valueDim)
      return insert.emitError()
             << "lpattn-tile-to-sm90: the output is not a Dv-wide tile";
    Value row0 = k.mulc(qTile, kRowsPerWarpgroup);
    Value rowBase = k.add(k.mulc(k.add(k.mulc(k.blockZ, p.qHeads), k.blockY),
                                 p.qLen),
                          row0);
    // Values v, v + 1 are adjacent columns of one row: one store of both.
    unsigned bits = p.outType.getIntOrFloatBitWidth();
    Type half = b.getIntegerType(bits), pair = b.getIntegerType(2 * bits);
    for (int64_t v = 0, e = o.values.size(); v < e; v += 2) {
      auto [r, c] = k.elementRowCol(v);
      Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                           k.add(row0, r), k.c32(p.qLen));
      auto widen = [&](Value x) -> Value {
        return arith::ExtUIOp::create(
            b, loc, pair, arith::BitcastOp::create(b, loc, half, x));
      };
      Value packed = arith::OrIOp::create(
          b, loc, widen(o.values[v]),
          arith::ShLIOp::create(
              b, loc, widen(o.values[v + 1]),
              arith::ConstantOp::create(b, loc,
                                        b.getIntegerAttr(pair, bits))));
      scf::IfOp::create(b, loc, inside, [&](OpBuilder &, Location) {
        Value element = k.add(k.mulc(k.add(rowBase, r), p.valueDim), c);
        Value offset = arith::ExtUIOp::create(
            b, loc, k.i64(),
            arith::MulIOp::create(b, loc, element, k.c32(bits / 8)));
        Value address = LLVM::GEPOp::create(
            b, loc, k.out.getType(), b.getI8Type(), k.out, ValueRange{offset});
        LLVM::StoreOp::create(b, loc, packed, address, /*alignment=*/bits / 4);
        scf::YieldOp::create(b, loc);
      });
    }
    return success();
  }
};

struct LPAttnTileToSM90Pass
    : lpattn::impl::LPAttnTileToSM90Base<LPAttnTileToSM90Pass> {
  using LPAttnTileToSM90Base::LPAttnTileToSM90Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> funcs;
    for (auto func : module.getOps<func::FuncOp>())
      if (!getKVLoops(func).empty())
        funcs.push_back(func);
    if (funcs.empty())
      return;
    if (funcs.size() != 1) {
      module.emitError() << "lpattn-tile-to-sm90: one attention per module "
                            "(one kernel per artifact), got "
                         << funcs.size();
      return signalPassFailure();
    }
    if (stages < 2 || stages > 4) {
      module.emitError() << "lpattn-tile-to-sm90: stages must be 2 to 4, got "
                         << static_cast<int64_t>(stages);
      return signalPassFailure();
    }
    func::FuncOp func = funcs[0];
    FailureOr<TiledAttention> tiled = analyze(func, stages);
    if (failed(tiled))
      return signalPassFailure();
    if (tiled->problem.sharedBytes() > 227 * 1024) {
      func.emitError() << "lpattn-tile-to-sm90: the kernel needs "
                       << tiled->problem.sharedBytes()
                       << " bytes of shared memory, more than the 227 KiB an "
                          "sm_90 block can have; use fewer stages";
      return signalPassFailure();
    }

    MLIRContext *context = &getContext();
    OpBuilder b(context);
    Location loc = func.getLoc();
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    b.getUnitAttr());
    b.setInsertionPointToEnd(module.getBody());
    auto target = NVVM::NVVMTargetAttr::get(context, /*optLevel=*/3,
                                            /*triple=*/"nvptx64-nvidia-cuda",
                                            chip, features);
    auto gpuModule = gpu::GPUModuleOp::create(b, loc, "lpattn_kernels",
                                              b.getArrayAttr({target}));
    b.setInsertionPointToStart(gpuModule.getBody());
    auto arrayType = LLVM::LLVMArrayType::get(b.getI8Type(), 0);
    LLVM::GlobalOp::create(b, loc, arrayType, /*isConstant=*/false,
                           LLVM::Linkage::External, "lpattn_smem", Attribute(),
                           /*alignment=*/1024, /*addrSpace=*/3);

    std::string kernelName = (func.getSymName() + "_sm90").str();
    auto ptrType = LLVM::LLVMPointerType::get(context);
    auto globalPtr = LLVM::LLVMPointerType::get(context, 1);
    SmallVector<Type> argTypes(3, ptrType);
    if (tiled->hasMask)
      argTypes.push_back(globalPtr);
    if (tiled->hasDescales)
      argTypes.append(3, tiled->perHeadDescales ? Type(globalPtr)
                                                : Type(b.getF32Type()));
    argTypes.push_back(globalPtr);
    tiled->dumpP = dumpP;
    if (dumpP)
      argTypes.append(2, globalPtr);
    auto kernel = LLVM::LLVMFuncOp::create(
        b, loc, kernelName,
        LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context),
                                    argTypes));
    kernel->setAttr(NVVM::NVVMDialect::getKernelFuncAttrName(),
                    b.getUnitAttr());
    kernel->setAttr(NVVM::NVVMDialect::getMaxntidAttrName(),
                    b.getDenseI32ArrayAttr({kThreads, 1, 1}));
    for (unsigned i = 0; i < 3; ++i) {
      // CUtensorMap by value, __grid_constant__ (TMA reads it in place).
      kernel.setArgAttr(i, LLVM::LLVMDialect::getByValAttrName(),
                        TypeAttr::get(LLVM::LLVMArrayType::get(b.getI8Type(),
                                                               128)));
      kernel.setArgAttr(i, LLVM::LLVMDialect::getAlignAttrName(),
                        b.getI64IntegerAttr(64));
      kernel.setArgAttr(i, NVVM::NVVMDialect::getGridConstantAttrName(),
                        b.getUnitAttr());
    }

    KernelBuilder builder(b, *tiled);
    if (failed(builder.build(kernel))) {
      if (builder.errorOp)
        builder.errorOp->emitError()
            << "lpattn-tile-to-sm90: " << builder.errorMessage;
      else
        func.emitError() << "lpattn-tile-to-sm90: the kernel could not be "
                            "built";
      return signalPassFailure();
    }
    module->setAttr(kLaunchAttrName, launchAttr(b, kernelName, *tiled));
    func.erase();
  }
};

} // namespace
