//===- TileBuilder.cpp - building the tile-level form ---------------------===//

#include "lpattn/Dialect/LPAttn/Transforms/TileBuilder.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/AffineMap.h"

using namespace mlir;
using namespace lpattn;

//===----------------------------------------------------------------------===//
// Step tags and KV loops
//===----------------------------------------------------------------------===//

std::optional<Step> lpattn::getStep(Operation *op) {
  if (auto attr = op->getAttrOfType<StepAttr>(kStepAttrName))
    return attr.getValue();
  return std::nullopt;
}

void lpattn::setStep(Operation *op, Step step) {
  op->setAttr(kStepAttrName, StepAttr::get(op->getContext(), step));
}

Operation *lpattn::findStep(Block &block, Step step) {
  Operation *found = nullptr;
  for (Operation &op : block) {
    if (getStep(&op) != step)
      continue;
    if (found)
      return nullptr;
    found = &op;
  }
  return found;
}

SmallVector<scf::ForOp> lpattn::getKVLoops(Operation *root) {
  SmallVector<scf::ForOp> loops;
  root->walk<WalkOrder::PreOrder>([&](scf::ForOp loop) {
    if (loop->hasAttr(kKVLoopAttrName))
      loops.push_back(loop);
  });
  return loops;
}

PrecisionPolicyAttr lpattn::getKVLoopPolicy(scf::ForOp kvLoop) {
  return kvLoop->getAttrOfType<PrecisionPolicyAttr>(kPolicyAttrName);
}

//===----------------------------------------------------------------------===//
// TileBuilder
//===----------------------------------------------------------------------===//

Value TileBuilder::f32Const(double value) {
  return floatConst(value, b.getF32Type());
}

Value TileBuilder::floatConst(double value, Type type) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
}

Value TileBuilder::indexConst(int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

Value TileBuilder::emptyLike(Value like, Type elt) {
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, like);
  return tensor::EmptyOp::create(b, loc, sizes, elt);
}

Value TileBuilder::filled(ArrayRef<OpFoldResult> sizes, Type elt,
                          double value) {
  Value empty = tensor::EmptyOp::create(b, loc, sizes, elt);
  return linalg::FillOp::create(b, loc, floatConst(value, elt), empty)
      .getResult(0);
}

/// The indexing map that reads `input` inside a loop nest of `rank` dims:
/// identity for a full tile, the leading dims for a row vector under a 2-D
/// tile (it varies with the row), nothing for a scalar.
static AffineMap broadcastMap(Value input, unsigned rank, MLIRContext *ctx) {
  auto shaped = dyn_cast<RankedTensorType>(input.getType());
  if (!shaped || shaped.getRank() == 0)
    return AffineMap::get(rank, 0, ctx);
  return AffineMap::getMultiDimIdentityMap(rank, ctx).getMajorSubMap(
      shaped.getRank());
}

Value TileBuilder::map(Step step, ValueRange inputs, Value like,
                       Type resultElt, TileBodyFn body, Value init) {
  unsigned rank = cast<RankedTensorType>(like.getType()).getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps;
  for (Value input : inputs)
    maps.push_back(broadcastMap(input, rank, ctx));
  maps.push_back(AffineMap::getMultiDimIdentityMap(rank, ctx));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  if (!init)
    init = emptyLike(like, resultElt);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
      iterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value result = body(nb, nloc, args.drop_back());
        linalg::YieldOp::create(nb, nloc, result);
      });
  setStep(generic, step);
  return generic.getResult(0);
}

Value TileBuilder::reduceRows(Step step, Value input, ValueRange extraInputs,
                              Value init, TileBodyFn body) {
  MLIRContext *ctx = b.getContext();
  SmallVector<Value> inputs{input};
  llvm::append_range(inputs, extraInputs);
  SmallVector<AffineMap> maps;
  for (Value in : inputs)
    maps.push_back(broadcastMap(in, 2, ctx));
  maps.push_back(AffineMap::get(2, 0, {getAffineDimExpr(0, ctx)}, ctx));
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
      {utils::IteratorType::parallel, utils::IteratorType::reduction},
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        linalg::YieldOp::create(nb, nloc, body(nb, nloc, args));
      });
  setStep(generic, step);
  return generic.getResult(0);
}

Value TileBuilder::matmul(Step step, Value lhs, Value rhs, Value init,
                          bool transposeB) {
  MLIRContext *ctx = b.getContext();
  AffineExpr m, n, k;
  bindDims(ctx, m, n, k);
  SmallVector<AffineMap> maps = {
      AffineMap::get(3, 0, {m, k}, ctx),
      transposeB ? AffineMap::get(3, 0, {n, k}, ctx)
                 : AffineMap::get(3, 0, {k, n}, ctx),
      AffineMap::get(3, 0, {m, n}, ctx)};
  auto op = linalg::MatmulOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{lhs, rhs},
      ValueRange{init},
      ArrayRef<NamedAttribute>{
          b.getNamedAttr("indexing_maps", b.getAffineMapArrayAttr(maps))});
  setStep(op, step);
  return op.getResult(0);
}

Value TileBuilder::toF32(Value x) {
  if (x.getType().isF32())
    return x;
  return arith::ExtFOp::create(b, loc, b.getF32Type(), x);
}

Value TileBuilder::fromF32(Value x, Type type, OverflowMode overflow) {
  if (type.isF32())
    return x;
  return TruncFOp::create(b, loc, type, x,
                          OverflowModeAttr::get(b.getContext(), overflow));
}
