//===- RaiseAttention.cpp - linalg attention to lpattn.attention ----------===//
//
// Front ends (torch-mlir, StableHLO via linalg) emit attention as two
// contractions around a softmax. This pass finds that pattern by walking
// use-def chains backwards from the P V contraction and reading indexing maps
// with the AffineMap API; every dimension of every operand gets a role (batch,
// head, query, key, head dim, value dim), from which the transposes into the
// op's [B, H, N, D] layout follow. Anything it does not understand leaves the
// IR untouched: a wrong raise changes the program's meaning, a missed one
// only its speed.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Dialect/LPAttn/Transforms/Passes.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SetVector.h"

#include <cmath>

#define DEBUG_TYPE "lpattn-raise-attention"

namespace lpattn {
#define GEN_PASS_DEF_LPATTNRAISEATTENTION
#include "lpattn/Dialect/LPAttn/Transforms/Passes.h.inc"
} // namespace lpattn

using namespace mlir;
using namespace lpattn;

namespace {

/// What a dimension of an attention tensor stands for.
enum class Role { Batch, Head, Query, Key, Dim, ValueDim, None };

/// A tensor of the source program and the role of each of its dimensions.
struct Traced {
  Value source;
  SmallVector<Role> roles;
};

/// Everything the raised op needs, gathered before any IR is changed.
struct Match {
  linalg::LinalgOp pv;
  Traced query, key, value, output;
  std::optional<Traced> mask;
  double scale = 1.0;
  bool causal = false;
  PrecisionPolicy policy;
  /// Ops of the pattern, erased after the rewrite once they are dead.
  SmallVector<Operation *> ops;
};

//===----------------------------------------------------------------------===//
// Small structural helpers
//===----------------------------------------------------------------------===//

/// The dimension positions of a map's results; nullopt if any result is not
/// a plain dimension.
std::optional<SmallVector<unsigned>> getDimPositions(AffineMap map) {
  SmallVector<unsigned> positions;
  for (AffineExpr expr : map.getResults()) {
    auto dim = dyn_cast<AffineDimExpr>(expr);
    if (!dim)
      return std::nullopt;
    positions.push_back(dim.getPosition());
  }
  return positions;
}

bool isAllParallel(linalg::LinalgOp op) {
  return op.getNumLoops() == op.getNumParallelLoops();
}

/// The constant value of a float scalar or of a splat float tensor.
std::optional<double> getConstantFloat(Value value) {
  FloatAttr attr;
  if (matchPattern(value, m_Constant(&attr)))
    return attr.getValueAsDouble();
  DenseFPElementsAttr dense;
  if (matchPattern(value, m_Constant(&dense)) && dense.isSplat())
    return dense.getSplatValue<APFloat>().convertToDouble();
  return std::nullopt;
}

/// Whether `value` is -inf or the lowest finite value of its type: a fill
/// that exp() turns into exactly 0.
bool isMinusInfinity(Value value) {
  FloatAttr attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return false;
  APFloat v = attr.getValue();
  return (v.isInfinity() && v.isNegative()) ||
         v == APFloat::getLargest(v.getSemantics(), /*Negative=*/true);
}

bool isZero(Value value) {
  std::optional<double> v = getConstantFloat(value);
  return v && *v == 0.0;
}

/// Whether the init of a contraction or reduction is a fill with a value
/// that `pred` accepts.
bool isFilledWith(Value init, function_ref<bool(Value)> pred) {
  auto fill = init.getDefiningOp<linalg::FillOp>();
  return fill && pred(fill.getInputs()[0]);
}

/// A scalar value of a generic's body, without the float casts around it.
Value stripScalarCasts(Value value) {
  while (Operation *op = value.getDefiningOp()) {
    if (!isa<arith::ExtFOp, arith::TruncFOp>(op))
      break;
    value = op->getOperand(0);
  }
  return value;
}

/// The input operand of `generic` whose block argument is `scalar`.
OpOperand *getInputOperand(linalg::GenericOp generic, Value scalar) {
  auto arg = dyn_cast<BlockArgument>(scalar);
  if (!arg || arg.getOwner() != generic.getBody() ||
      arg.getArgNumber() >= generic.getNumDpsInputs())
    return nullptr;
  return generic.getDpsInputOperand(arg.getArgNumber());
}

Value getYielded(linalg::GenericOp generic) {
  return generic.getBody()->getTerminator()->getOperand(0);
}

/// The input tensor of an elementwise float cast (tensor-level arith.extf /
/// arith.truncf, or a generic whose body is one such cast), else null.
Value getCastSource(Value value) {
  Operation *op = value.getDefiningOp();
  if (isa_and_nonnull<arith::ExtFOp, arith::TruncFOp>(op))
    return op->getOperand(0);
  auto generic = dyn_cast_or_null<linalg::GenericOp>(op);
  if (!generic || generic.getNumDpsInputs() != 1 ||
      generic.getNumDpsInits() != 1 || !isAllParallel(generic) ||
      !llvm::all_of(generic.getIndexingMapsArray(),
                    [](AffineMap m) { return m.isIdentity(); }))
    return {};
  Value yielded = getYielded(generic);
  Operation *cast = yielded.getDefiningOp();
  if (!isa_and_nonnull<arith::ExtFOp, arith::TruncFOp>(cast) ||
      getInputOperand(generic, cast->getOperand(0)) == nullptr)
    return {};
  return generic.getDpsInputs()[0];
}

/// The input of an exact widening (extf on tensors), else null.
Value getExtFSource(Value value) {
  Value source = getCastSource(value);
  if (!source)
    return {};
  auto from = cast<ShapedType>(source.getType()).getElementType();
  auto to = cast<ShapedType>(value.getType()).getElementType();
  if (from.getIntOrFloatBitWidth() >= to.getIntOrFloatBitWidth())
    return {};
  return source;
}

/// A contraction with a zero-filled init (a product, not an update).
bool isFreshContraction(linalg::LinalgOp op) {
  return op && op.getNumDpsInputs() == 2 && op.getNumDpsInits() == 1 &&
         op->getNumResults() == 1 && linalg::isaContractionOpInterface(op) &&
         isFilledWith(op.getDpsInits()[0], isZero);
}

//===----------------------------------------------------------------------===//
// The matcher
//===----------------------------------------------------------------------===//

class AttentionMatcher {
public:
  explicit AttentionMatcher(linalg::LinalgOp pv) { match.pv = pv; }

  /// The match, if `pv` is the P V product of an attention we can raise.
  std::optional<Match> run();

private:
  /// A value with the map from the consuming contraction's loops to its
  /// dimensions: what transposes and casts are seen through with.
  struct Use {
    Value value;
    AffineMap map;
  };

  /// Sees through linalg.transpose (composing the permutation into the map)
  /// and, with `throughCasts`, exact widenings (extf).
  Use seeThroughTransposes(Use use, bool throughCasts);
  LogicalResult matchSoftmax(Value p, Value &scores, unsigned &axis);
  LogicalResult matchDecomposedSoftmax(Value p, Value &scores,
                                       unsigned &axis);
  LogicalResult matchScoreChain(Value scores, Value &product);
  LogicalResult matchScoreBody(linalg::GenericOp generic, Value &scoreInput);
  LogicalResult matchCausal(Value condition, bool keepWhenTrue,
                            linalg::GenericOp generic);
  /// Roles of an operand's source dimensions from the loop roles.
  std::optional<Traced> assignRoles(Use use, ArrayRef<Role> loopRoles);
  /// Sees through the GQA repeat of K or V: collapse_shape(broadcast(x)).
  void seeThroughRepeat(Traced &traced);

  /// The narrowest float type the scores are rounded to between the QK
  /// product and the softmax (null: none).
  Type scoreRounding;
  void noteScoreRounding(Type type) {
    if (isa<FloatType>(type) &&
        (!scoreRounding || type.getIntOrFloatBitWidth() <
                               scoreRounding.getIntOrFloatBitWidth()))
      scoreRounding = type;
  }

  Match match;
  /// Whether the walk from the softmax back to the QK product has passed a
  /// scale: a mask found further back was added before it and is scaled
  /// too, which the op cannot express.
  bool scaleSeen = false;
  /// Whether the causal select fills with the lowest finite value, not
  /// -inf: rows with no visible key then average V, where the op gives 0.
  bool causalFillFinite = false;
  /// Causal conditions found, checked once the roles are known.
  struct CausalCheck {
    int64_t lhsOffset, rhsOffset;
    arith::CmpIPredicate predicate;
    unsigned lhsDim, rhsDim;
  };
  SmallVector<CausalCheck> causalChecks;
  struct MaskUse {
    Value tensor;
    AffineMap map;
  };
  std::optional<MaskUse> maskUse;
};

AttentionMatcher::Use AttentionMatcher::seeThroughTransposes(Use use,
                                                             bool throughCasts) {
  while (true) {
    if (auto transpose = use.value.getDefiningOp<linalg::TransposeOp>()) {
      // Result dim i is input dim perm[i].
      ArrayRef<int64_t> perm = transpose.getPermutation();
      SmallVector<AffineExpr> results(perm.size());
      for (auto [i, p] : llvm::enumerate(perm))
        results[p] = use.map.getResult(i);
      use = {transpose.getInput(),
             AffineMap::get(use.map.getNumDims(), 0, results,
                            use.map.getContext())};
      match.ops.push_back(transpose);
      continue;
    }
    if (throughCasts) {
      if (Value source = getExtFSource(use.value)) {
        match.ops.push_back(use.value.getDefiningOp());
        use.value = source;
        continue;
      }
    }
    return use;
  }
}

LogicalResult AttentionMatcher::matchSoftmax(Value p, Value &scores,
                                             unsigned &axis) {
  if (auto softmax = p.getDefiningOp<linalg::SoftmaxOp>()) {
    scores = softmax.getInput();
    axis = softmax.getDimension();
    match.ops.push_back(softmax);
    return success();
  }
  return matchDecomposedSoftmax(p, scores, axis);
}

/// The reduction dim of a row reduction generic over `input` with `combine`
/// and an init accepted by `initPred`.
template <typename... Combine>
static std::optional<unsigned> matchRowReduction(Value result, Value input,
                                                 function_ref<bool(Value)>
                                                     initPred) {
  auto generic = result.getDefiningOp<linalg::GenericOp>();
  if (!generic || generic.getNumDpsInputs() != 1 ||
      generic.getNumDpsInits() != 1 || generic.getNumReductionLoops() != 1 ||
      generic.getDpsInputs()[0] != input ||
      !generic.getIndexingMapsArray()[0].isIdentity() ||
      !isFilledWith(generic.getDpsInits()[0], initPred))
    return std::nullopt;
  Operation *combine = getYielded(generic).getDefiningOp();
  if (!isa_and_nonnull<Combine...>(combine))
    return std::nullopt;
  Value a = stripScalarCasts(combine->getOperand(0));
  Value b = stripScalarCasts(combine->getOperand(1));
  Block *body = generic.getBody();
  auto isArg = [&](Value v, unsigned n) {
    return v == body->getArgument(n);
  };
  if (!((isArg(a, 0) && isArg(b, 1)) || (isArg(a, 1) && isArg(b, 0))))
    return std::nullopt;
  SmallVector<utils::IteratorType> iterators =
      generic.getIteratorTypesArray();
  for (auto [i, type] : llvm::enumerate(iterators))
    if (type == utils::IteratorType::reduction)
      return i;
  return std::nullopt;
}

/// The source of a tensor.expand_shape that only adds one unit dim (torch's
/// keepdim reductions), else `value` itself.
static Value peelKeepDim(Value value) {
  auto expand = value.getDefiningOp<tensor::ExpandShapeOp>();
  if (!expand || expand.getResultType().getRank() !=
                     expand.getSrcType().getRank() + 1)
    return value;
  return expand.getSrc();
}

/// Whether `operand` of `generic` reads the row reduction `row` (the result
/// of reducing `axis`) broadcast along `axis`: with `axis` dropped from its
/// map, or through a keepdim expand_shape whose unit dim `axis` it reads at
/// 0.
static bool readsRowBroadcast(linalg::GenericOp generic, OpOperand *operand,
                              Value row, unsigned axis) {
  MLIRContext *context = generic.getContext();
  unsigned rank = generic.getNumLoops();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, context);
  AffineMap map = generic.getMatchingIndexingMap(operand);
  if (operand->get() == row)
    return map == identity.dropResult(axis);
  auto expand = operand->get().getDefiningOp<tensor::ExpandShapeOp>();
  if (!expand || peelKeepDim(expand) != row ||
      expand.getResultType().getDimSize(axis) != 1)
    return false;
  SmallVector<AffineExpr> atZero(identity.getResults());
  atZero[axis] = getAffineConstantExpr(0, context);
  return map == AffineMap::get(rank, 0, atZero, context);
}

/// The decomposed softmax: p = e / sum(e), e = exp(x - max(x)), every step a
/// linalg.generic (exp and the subtraction fused or not, casts allowed).
LogicalResult AttentionMatcher::matchDecomposedSoftmax(Value p, Value &scores,
                                                       unsigned &axis) {
  auto div = p.getDefiningOp<linalg::GenericOp>();
  if (!div || !isAllParallel(div) || div.getNumDpsInputs() != 2)
    return failure();
  auto divOp = stripScalarCasts(getYielded(div)).getDefiningOp<arith::DivFOp>();
  if (!divOp)
    return failure();
  OpOperand *numerator = getInputOperand(div, stripScalarCasts(divOp.getLhs()));
  OpOperand *denominator =
      getInputOperand(div, stripScalarCasts(divOp.getRhs()));
  if (!numerator || !denominator ||
      !div.getMatchingIndexingMap(numerator).isIdentity())
    return failure();
  Value exps = numerator->get();
  Value sum = peelKeepDim(denominator->get());
  std::optional<unsigned> sumAxis =
      matchRowReduction<arith::AddFOp>(sum, exps, isZero);
  // The sum is broadcast back along exactly the reduced dimension.
  if (!sumAxis || !readsRowBroadcast(div, denominator, sum, *sumAxis))
    return failure();

  // exp(x - m): one generic, or an exp generic over a subtraction generic.
  auto expGeneric = exps.getDefiningOp<linalg::GenericOp>();
  if (!expGeneric || !isAllParallel(expGeneric))
    return failure();
  auto exp = stripScalarCasts(getYielded(expGeneric)).getDefiningOp<math::ExpOp>();
  if (!exp)
    return failure();
  linalg::GenericOp subGeneric = expGeneric;
  Value shifted = stripScalarCasts(exp.getOperand());
  if (OpOperand *input = getInputOperand(expGeneric, shifted)) {
    if (!expGeneric.getMatchingIndexingMap(input).isIdentity())
      return failure();
    subGeneric = input->get().getDefiningOp<linalg::GenericOp>();
    if (!subGeneric || !isAllParallel(subGeneric))
      return failure();
    match.ops.push_back(subGeneric);
    shifted = stripScalarCasts(getYielded(subGeneric));
  }
  auto sub = shifted.getDefiningOp<arith::SubFOp>();
  if (!sub)
    return failure();
  OpOperand *x = getInputOperand(subGeneric, stripScalarCasts(sub.getLhs()));
  OpOperand *m = getInputOperand(subGeneric, stripScalarCasts(sub.getRhs()));
  if (!x || !m || !subGeneric.getMatchingIndexingMap(x).isIdentity())
    return failure();
  Value max = peelKeepDim(m->get());
  std::optional<unsigned> maxAxis =
      matchRowReduction<arith::MaximumFOp, arith::MaxNumFOp>(
          max, x->get(), isMinusInfinity);
  if (maxAxis != sumAxis || !readsRowBroadcast(subGeneric, m, max, *maxAxis))
    return failure();
  for (linalg::GenericOp step : {div, expGeneric, subGeneric})
    if (!step.getIndexingMapsArray().back().isIdentity())
      return failure();
  match.ops.append({div, denominator->get().getDefiningOp(), expGeneric,
                    m->get().getDefiningOp(), sum.getDefiningOp(),
                    max.getDefiningOp()});
  scores = x->get();
  axis = *sumAxis;
  return success();
}

/// One elementwise step between the QK product and the softmax: scale
/// (mulf / divf by a constant), additive mask, causal select, casts.
LogicalResult AttentionMatcher::matchScoreBody(linalg::GenericOp generic,
                                               Value &scoreInput) {
  Value scalar = getYielded(generic);
  while (true) {
    if (OpOperand *input = getInputOperand(generic, scalar)) {
      if (!generic.getMatchingIndexingMap(input).isIdentity())
        return failure();
      scoreInput = input->get();
      return success();
    }
    Operation *op = scalar.getDefiningOp();
    if (!op || op->getBlock() != generic.getBody())
      return failure();
    if (isa<arith::ExtFOp, arith::TruncFOp>(op)) {
      scalar = op->getOperand(0);
      continue;
    }
    // A constant operand: a body constant, a value from outside, or a splat
    // constant input.
    auto constantOf = [&](Value v) -> std::optional<double> {
      v = stripScalarCasts(v);
      if (OpOperand *input = getInputOperand(generic, v))
        return getConstantFloat(input->get());
      return getConstantFloat(v);
    };
    if (auto mul = dyn_cast<arith::MulFOp>(op)) {
      for (auto [factor, other] : {std::pair{mul.getRhs(), mul.getLhs()},
                                   {mul.getLhs(), mul.getRhs()}}) {
        if (std::optional<double> c = constantOf(factor)) {
          if (*c <= 0)
            return failure();
          match.scale *= *c;
          scaleSeen = true;
          scalar = other;
          break;
        }
      }
      if (scalar == op->getResult(0))
        return failure();
      continue;
    }
    if (auto div = dyn_cast<arith::DivFOp>(op)) {
      std::optional<double> c = constantOf(div.getRhs());
      if (!c || *c <= 0)
        return failure();
      match.scale /= *c;
      scaleSeen = true;
      scalar = div.getLhs();
      continue;
    }
    if (auto add = dyn_cast<arith::AddFOp>(op)) {
      // One side leads to the scores, the other is a mask input.
      for (auto [maskSide, other] : {std::pair{add.getRhs(), add.getLhs()},
                                     {add.getLhs(), add.getRhs()}}) {
        OpOperand *input = getInputOperand(generic, stripScalarCasts(maskSide));
        if (!input || getConstantFloat(input->get()))
          continue;
        // The side that continues to the scores must not be this input.
        if (getInputOperand(generic, stripScalarCasts(other)) == input)
          continue;
        if (maskUse || scaleSeen)
          return failure();
        maskUse = MaskUse{input->get(), generic.getMatchingIndexingMap(input)};
        scalar = other;
        break;
      }
      if (scalar == op->getResult(0))
        return failure();
      continue;
    }
    if (auto select = dyn_cast<arith::SelectOp>(op)) {
      bool keepWhenTrue = isMinusInfinity(select.getFalseValue());
      if (!keepWhenTrue && !isMinusInfinity(select.getTrueValue()))
        return failure();
      Value fill =
          keepWhenTrue ? select.getFalseValue() : select.getTrueValue();
      FloatAttr fillAttr;
      if (matchPattern(fill, m_Constant(&fillAttr)) &&
          !fillAttr.getValue().isInfinity())
        causalFillFinite = true;
      if (failed(matchCausal(select.getCondition(), keepWhenTrue, generic)))
        return failure();
      scalar = keepWhenTrue ? select.getTrueValue() : select.getFalseValue();
      continue;
    }
    return failure();
  }
}

/// The predicate of `b PRED a` for `a PRED b`.
static arith::CmpIPredicate swapOperands(arith::CmpIPredicate predicate) {
  using P = arith::CmpIPredicate;
  switch (predicate) {
  case P::slt: return P::sgt;
  case P::sle: return P::sge;
  case P::sgt: return P::slt;
  case P::sge: return P::sle;
  case P::ult: return P::ugt;
  case P::ule: return P::uge;
  case P::ugt: return P::ult;
  case P::uge: return P::ule;
  default: return predicate; // eq, ne
  }
}

/// Loop dims of a generic, as dims of the score tensor.
using DimMap = SmallVector<unsigned>;

/// If `scalar` is a block argument of `generic` for a tensor that another
/// elementwise generic computes (an iota, a comparison: StableHLO's causal
/// mask), that generic's yielded value; `generic` and `dims` move to it.
static Value followProducer(Value scalar, linalg::GenericOp &generic,
                            DimMap &dims, SmallVectorImpl<Operation *> &ops) {
  OpOperand *input = getInputOperand(generic, scalar);
  if (!input)
    return {};
  auto producer = input->get().getDefiningOp<linalg::GenericOp>();
  std::optional<SmallVector<unsigned>> positions =
      getDimPositions(generic.getMatchingIndexingMap(input));
  if (!producer || !positions || !isAllParallel(producer) ||
      producer.getNumDpsInits() != 1 ||
      !producer.getIndexingMapsArray().back().isIdentity())
    return {};
  // Producer loop d is tensor dim d, read by `generic` at loop positions[d].
  DimMap next;
  for (unsigned position : *positions)
    next.push_back(dims[position]);
  dims = std::move(next);
  generic = producer;
  ops.push_back(producer);
  return getYielded(producer);
}

/// A side of the causal comparison: linalg.index d (+ constant), in the
/// score generic or in an iota generic it reads; d as a score dim.
static std::optional<std::pair<unsigned, int64_t>>
matchIndexPlusConstant(Value value, linalg::GenericOp generic, DimMap dims,
                       SmallVectorImpl<Operation *> &ops) {
  int64_t offset = 0;
  while (true) {
    if (auto cast = value.getDefiningOp<arith::IndexCastOp>()) {
      value = cast.getIn();
      continue;
    }
    if (auto add = value.getDefiningOp<arith::AddIOp>()) {
      APInt c;
      if (matchPattern(add.getRhs(), m_ConstantInt(&c))) {
        offset += c.getSExtValue();
        value = add.getLhs();
        continue;
      }
      if (matchPattern(add.getLhs(), m_ConstantInt(&c))) {
        offset += c.getSExtValue();
        value = add.getRhs();
        continue;
      }
      return std::nullopt;
    }
    if (auto index = value.getDefiningOp<linalg::IndexOp>()) {
      if (index->getParentOp() != generic.getOperation())
        return std::nullopt;
      return std::pair{dims[index.getDim()], offset};
    }
    if (Value produced = followProducer(value, generic, dims, ops)) {
      value = produced;
      continue;
    }
    return std::nullopt;
  }
}

LogicalResult AttentionMatcher::matchCausal(Value condition, bool keepWhenTrue,
                                            linalg::GenericOp generic) {
  DimMap dims = llvm::to_vector(llvm::seq<unsigned>(0, generic.getNumLoops()));
  // The condition may be an i1 tensor computed by its own generic.
  if (Value produced = followProducer(condition, generic, dims, match.ops))
    condition = produced;
  auto cmp = condition.getDefiningOp<arith::CmpIOp>();
  if (!cmp || match.causal)
    return failure();
  auto lhs = matchIndexPlusConstant(cmp.getLhs(), generic, dims, match.ops);
  auto rhs = matchIndexPlusConstant(cmp.getRhs(), generic, dims, match.ops);
  if (!lhs || !rhs)
    return failure();
  arith::CmpIPredicate predicate = cmp.getPredicate();
  if (!keepWhenTrue)
    predicate = arith::invertPredicate(predicate);
  // The roles of the dims are known only once the QK product is found.
  causalChecks.push_back(
      {lhs->second, rhs->second, predicate, lhs->first, rhs->first});
  match.causal = true;
  return success();
}

LogicalResult AttentionMatcher::matchScoreChain(Value scores,
                                                Value &product) {
  Value current = scores;
  while (true) {
    auto linalgOp = current.getDefiningOp<linalg::LinalgOp>();
    if (isFreshContraction(linalgOp)) {
      product = current;
      return success();
    }
    if (Value source = getCastSource(current)) {
      match.ops.push_back(current.getDefiningOp());
      noteScoreRounding(getElementTypeOrSelf(current.getType()));
      current = source;
      continue;
    }
    auto generic = current.getDefiningOp<linalg::GenericOp>();
    if (!generic || !isAllParallel(generic) || generic.getNumDpsInits() != 1 ||
        !generic.getIndexingMapsArray().back().isIdentity())
      return failure();
    Value input;
    if (failed(matchScoreBody(generic, input)))
      return failure();
    generic.getBody()->walk(
        [&](arith::TruncFOp trunc) { noteScoreRounding(trunc.getType()); });
    match.ops.push_back(generic);
    current = input;
  }
}

std::optional<Traced> AttentionMatcher::assignRoles(Use use,
                                                    ArrayRef<Role> loopRoles) {
  std::optional<SmallVector<unsigned>> dims = getDimPositions(use.map);
  if (!dims)
    return std::nullopt;
  Traced traced{use.value, {}};
  for (unsigned d : *dims)
    traced.roles.push_back(loopRoles[d]);
  return traced;
}

/// The source of `repeated` if it repeats it along a new dimension `added`:
/// linalg.broadcast(x, dimensions = [added]), or a copying linalg.generic
/// that reads x with `added` dropped from its map or read at 0 from
/// x = tensor.expand_shape that made `added` a unit dim (torch-mlir).
static Value getRepeatSource(Value repeated, int64_t added,
                             SmallVectorImpl<Operation *> &ops) {
  if (auto broadcast = repeated.getDefiningOp<linalg::BroadcastOp>()) {
    if (broadcast.getDimensions() != ArrayRef<int64_t>{added})
      return {};
    ops.push_back(broadcast);
    return broadcast.getInput();
  }
  auto generic = repeated.getDefiningOp<linalg::GenericOp>();
  if (!generic || !isAllParallel(generic) || generic.getNumDpsInputs() != 1 ||
      generic.getNumDpsInits() != 1 ||
      !generic.getIndexingMapsArray().back().isIdentity() ||
      getYielded(generic) != generic.getBody()->getArgument(0))
    return {};
  AffineMap map = generic.getIndexingMapsArray()[0];
  unsigned rank = generic.getNumLoops();
  MLIRContext *context = generic.getContext();
  Value input = generic.getDpsInputs()[0];
  AffineMap dropped =
      AffineMap::getMultiDimIdentityMap(rank, context).dropResult(added);
  if (map == dropped) {
    ops.push_back(generic);
    return input;
  }
  SmallVector<AffineExpr> atZero(
      AffineMap::getMultiDimIdentityMap(rank, context).getResults());
  atZero[added] = getAffineConstantExpr(0, context);
  auto expand = input.getDefiningOp<tensor::ExpandShapeOp>();
  if (map != AffineMap::get(rank, 0, atZero, context) || !expand ||
      expand.getResultType().getDimSize(added) != 1)
    return {};
  // Every group of the expansion is one source dim, plus the unit dim.
  for (const ReassociationIndices &group : expand.getReassociationIndices())
    for (int64_t dim : group)
      if (dim != added && group.size() != 1 &&
          !(group.size() == 2 && llvm::is_contained(group, added)))
        return {};
  ops.append({generic, expand});
  return expand.getSrc();
}

void AttentionMatcher::seeThroughRepeat(Traced &traced) {
  // torch's repeat_kv: x[:, :, None].expand(B, Hkv, G, N, D).reshape(B, Hkv*G,
  // N, D): a collapse_shape merging (Hkv, G), Hkv major, of a repeat along
  // the new G dim. Query head h then reads KV head h / G, as in
  // lpattn.attention; the head-minor order (G, Hkv) is another model.
  auto collapse = traced.source.getDefiningOp<tensor::CollapseShapeOp>();
  if (!collapse)
    return;
  int64_t added = -1;
  for (auto [i, group] : llvm::enumerate(collapse.getReassociationIndices())) {
    if (traced.roles[i] == Role::Head && group.size() == 2 &&
        group[1] == group[0] + 1)
      added = group[1];
    else if (group.size() != 1)
      return;
  }
  if (added < 0)
    return;
  SmallVector<Operation *> ops;
  Value source = getRepeatSource(collapse.getSrc(), added, ops);
  if (!source)
    return;
  match.ops.push_back(collapse);
  match.ops.append(ops);
  traced.source = source;
}

std::optional<Match> AttentionMatcher::run() {
  linalg::LinalgOp pv = match.pv;
  if (!isFreshContraction(pv))
    return std::nullopt;
  FailureOr<linalg::ContractionDimensions> pvDims =
      linalg::inferContractionDims(pv);
  if (failed(pvDims) || pvDims->k.size() != 1 || pvDims->m.size() != 1 ||
      pvDims->n.size() != 1 || pvDims->batch.size() > 2)
    return std::nullopt;
  unsigned pvReduction = pvDims->k[0];

  // Which input is P: the one that leads to a softmax.
  Value scores;
  unsigned axis = 0;
  Use pUse, vUse;
  Type pType;
  bool found = false;
  for (unsigned i = 0; i < 2 && !found; ++i) {
    OpOperand *operand = pv.getDpsInputOperand(i);
    size_t opsBefore = match.ops.size();
    Use use = seeThroughTransposes(
        {operand->get(), pv.getMatchingIndexingMap(operand)}, false);
    // Casts (extf/truncf) between the softmax and the product: P is
    // rounded to the narrowest of them.
    Value p = use.value;
    Type narrowest = getElementTypeOrSelf(p.getType());
    while (Value source = getCastSource(p)) {
      Type type = getElementTypeOrSelf(p.getType());
      if (type.getIntOrFloatBitWidth() < narrowest.getIntOrFloatBitWidth())
        narrowest = type;
      match.ops.push_back(p.getDefiningOp());
      p = source;
    }
    use.value = p;
    use = seeThroughTransposes(use, false);
    if (succeeded(matchSoftmax(use.value, scores, axis))) {
      pUse = use;
      pType = narrowest;
      OpOperand *other = pv.getDpsInputOperand(1 - i);
      vUse = {other->get(), pv.getMatchingIndexingMap(other)};
      found = true;
    } else {
      match.ops.resize(opsBefore);
    }
  }
  if (!found)
    return std::nullopt;

  // The softmax runs along the dimension that the P V product sums over
  // (Pᵀ V, a softmax over the query axis, ... are not attention).
  std::optional<SmallVector<unsigned>> pDims = getDimPositions(pUse.map);
  if (!pDims || axis >= pDims->size() || (*pDims)[axis] != pvReduction)
    return std::nullopt;

  Value product;
  if (failed(matchScoreChain(scores, product)))
    return std::nullopt;

  // The QK product: its output dims are the score dims (elementwise steps
  // keep identity maps).
  auto qk = product.getDefiningOp<linalg::LinalgOp>();
  FailureOr<linalg::ContractionDimensions> qkDims =
      linalg::inferContractionDims(qk);
  if (failed(qkDims) || qkDims->k.size() != 1 || qkDims->m.size() != 1 ||
      qkDims->n.size() != 1 || qkDims->batch.size() != pvDims->batch.size())
    return std::nullopt;
  std::optional<SmallVector<unsigned>> scoreDims =
      getDimPositions(qk.getIndexingMapsArray().back());
  if (!scoreDims)
    return std::nullopt;
  unsigned keyLoop = (*scoreDims)[axis];
  unsigned queryLoop;
  if (keyLoop == qkDims->n[0])
    queryLoop = qkDims->m[0];
  else if (keyLoop == qkDims->m[0])
    queryLoop = qkDims->n[0];
  else
    return std::nullopt;
  SmallVector<Role> qkRoles(qk.getNumLoops(), Role::None);
  qkRoles[keyLoop] = Role::Key;
  qkRoles[queryLoop] = Role::Query;
  qkRoles[qkDims->k[0]] = Role::Dim;
  // Batch dims in the order of the score tensor: [B, H] or [H].
  SmallVector<unsigned> batchLoops;
  for (unsigned d : *scoreDims)
    if (llvm::is_contained(qkDims->batch, d))
      batchLoops.push_back(d);
  if (batchLoops.size() == 2) {
    qkRoles[batchLoops[0]] = Role::Batch;
    qkRoles[batchLoops[1]] = Role::Head;
  } else if (batchLoops.size() == 1) {
    qkRoles[batchLoops[0]] = Role::Head;
  }
  SmallVector<Role> scoreRoles;
  for (unsigned d : *scoreDims)
    scoreRoles.push_back(qkRoles[d]);
  match.ops.push_back(qk);

  // Q and K: the operand that indexes by the query loop is Q.
  OpOperand *qOperand = qk.getDpsInputOperand(0);
  OpOperand *kOperand = qk.getDpsInputOperand(1);
  auto usesLoop = [&](OpOperand *operand, unsigned loop) {
    return qk.getMatchingIndexingMap(operand).isFunctionOfDim(loop);
  };
  if (!usesLoop(qOperand, queryLoop))
    std::swap(qOperand, kOperand);
  if (!usesLoop(qOperand, queryLoop) || !usesLoop(kOperand, keyLoop))
    return std::nullopt;
  Use qUse = seeThroughTransposes(
      {qOperand->get(), qk.getMatchingIndexingMap(qOperand)}, true);
  // The scale on Q: an elementwise multiply by a constant before the product
  // (nothing else: a mask or select on Q is not attention's).
  if (auto generic = qUse.value.getDefiningOp<linalg::GenericOp>()) {
    if (isAllParallel(generic) && generic.getNumDpsInits() == 1 &&
        generic.getIndexingMapsArray().back().isIdentity()) {
      Value input;
      double before = match.scale;
      bool hadMask = maskUse.has_value(), hadCausal = match.causal;
      size_t checksBefore = causalChecks.size();
      LogicalResult matched = matchScoreBody(generic, input);
      if (maskUse.has_value() != hadMask || match.causal != hadCausal ||
          causalChecks.size() != checksBefore)
        return std::nullopt;
      if (succeeded(matched) && match.scale != before) {
        // Scaling a low-precision Q rounds Q * c; only a power of two is
        // exact and thus the same as scaling the scores.
        int exponent;
        double mantissa = std::frexp(match.scale / before, &exponent);
        auto type = getElementTypeOrSelf(input.getType());
        if (!type.isF32() && mantissa != 0.5)
          return std::nullopt;
        match.ops.push_back(generic);
        qUse = seeThroughTransposes({input, qUse.map}, true);
      } else if (match.scale != before) {
        return std::nullopt;
      }
    }
  }
  Use kUse = seeThroughTransposes(
      {kOperand->get(), qk.getMatchingIndexingMap(kOperand)}, true);
  std::optional<Traced> q = assignRoles(qUse, qkRoles);
  std::optional<Traced> k = assignRoles(kUse, qkRoles);
  if (!q || !k)
    return std::nullopt;
  Traced repeatedKey = *k;
  size_t opsBeforeKeyRepeat = match.ops.size();
  seeThroughRepeat(*k);
  size_t opsAfterKeyRepeat = match.ops.size();

  // P V loop roles from P's dims (= score dims); the remaining one is Dv.
  SmallVector<Role> pvRoles(pv.getNumLoops(), Role::None);
  for (auto [i, d] : llvm::enumerate(*pDims)) {
    if (pvRoles[d] != Role::None)
      return std::nullopt;
    pvRoles[d] = scoreRoles[i];
  }
  for (Role &role : pvRoles)
    if (role == Role::None)
      role = Role::ValueDim;
  if (llvm::count(pvRoles, Role::ValueDim) != 1)
    return std::nullopt;
  vUse = seeThroughTransposes(vUse, true);
  std::optional<Traced> v = assignRoles(vUse, pvRoles);
  std::optional<Traced> out =
      assignRoles({pv->getResult(0), pv.getIndexingMapsArray().back()},
                  pvRoles);
  if (!v || !out)
    return std::nullopt;
  Traced repeatedValue = *v;
  seeThroughRepeat(*v);

  // Each operand must hold exactly its roles, once each.
  SmallVector<Role> batchRoles;
  if (batchLoops.size() == 2)
    batchRoles.push_back(Role::Batch);
  if (!batchLoops.empty())
    batchRoles.push_back(Role::Head);
  auto hasRoles = [&](const Traced &t, std::initializer_list<Role> own) {
    SmallVector<Role> expected(batchRoles);
    expected.append(own);
    SmallVector<Role> got(t.roles);
    llvm::sort(expected);
    llvm::sort(got);
    return expected == got;
  };
  if (!hasRoles(*q, {Role::Query, Role::Dim}) ||
      !hasRoles(*k, {Role::Key, Role::Dim}) ||
      !hasRoles(*v, {Role::Key, Role::ValueDim}) ||
      !hasRoles(*out, {Role::Query, Role::ValueDim}))
    return std::nullopt;

  // K and V share their KV heads: if only one of them is a recognized
  // repeat, give the op both repeated (still exact, just not GQA).
  auto headCount = [](const Traced &t) {
    auto it = llvm::find(t.roles, Role::Head);
    return it == t.roles.end()
               ? int64_t{1}
               : cast<RankedTensorType>(t.source.getType())
                     .getDimSize(it - t.roles.begin());
  };
  if (headCount(*k) != headCount(*v)) {
    if (k->source != repeatedKey.source) {
      match.ops.erase(match.ops.begin() + opsBeforeKeyRepeat,
                      match.ops.begin() + opsAfterKeyRepeat);
      *k = repeatedKey;
    }
    if (v->source != repeatedValue.source) {
      *v = repeatedValue;
    }
    if (headCount(*k) != headCount(*v))
      return std::nullopt;
  }

  // Sizes per role, and the checks the op's verifier would do anyway.
  auto sizeOf = [](const Traced &t, Role role) -> int64_t {
    auto type = cast<RankedTensorType>(t.source.getType());
    for (auto [i, r] : llvm::enumerate(t.roles))
      if (r == role)
        return type.getDimSize(i);
    return 1;
  };
  int64_t nq = sizeOf(*q, Role::Query), nk = sizeOf(*k, Role::Key);
  if (ShapedType::isDynamic(nq) || ShapedType::isDynamic(nk))
    return std::nullopt;

  // Causal: the visible keys must be key <= query + (Nk - Nq), the op's
  // bottom-right alignment (top-left equals it only when Nq == Nk).
  for (CausalCheck check : causalChecks) {
    Role lhs = scoreRoles[check.lhsDim], rhs = scoreRoles[check.rhsDim];
    int64_t lhsOffset = check.lhsOffset, rhsOffset = check.rhsOffset;
    arith::CmpIPredicate predicate = check.predicate;
    if (lhs == Role::Query && rhs == Role::Key) {
      std::swap(lhs, rhs);
      std::swap(lhsOffset, rhsOffset);
      predicate = swapOperands(predicate);
    }
    if (lhs != Role::Key || rhs != Role::Query)
      return std::nullopt;
    // key + lhsOffset PRED query + rhsOffset.
    int64_t bound = rhsOffset - lhsOffset;
    using P = arith::CmpIPredicate;
    if (predicate == P::slt || predicate == P::ult)
      bound -= 1;
    else if (predicate != P::sle && predicate != P::ule)
      return std::nullopt;
    if (bound != nk - nq)
      return std::nullopt;
    // Nq > Nk leaves the first Nq - Nk rows without a visible key.
    if (causalFillFinite && nq > nk)
      return std::nullopt;
  }

  if (maskUse) {
    std::optional<Traced> mask =
        assignRoles({maskUse->tensor, maskUse->map}, scoreRoles);
    if (!mask || !llvm::is_contained(mask->roles, Role::Query) ||
        !llvm::is_contained(mask->roles, Role::Key))
      return std::nullopt;
    for (Role role : mask->roles)
      if (llvm::count(mask->roles, role) != 1)
        return std::nullopt;
    match.mask = *mask;
  }

  // Static shapes only (the transposes are built with static inits), and a
  // scale the op can hold (a normal f32: Numerics/Rules.h).
  for (const Traced *t : {&*q, &*k, &*v, &*out})
    if (!cast<RankedTensorType>(t->source.getType()).hasStaticShape())
      return std::nullopt;
  if (match.mask &&
      !cast<RankedTensorType>(match.mask->source.getType()).hasStaticShape())
    return std::nullopt;
  if (!checkSoftmaxScale(match.scale).empty() ||
      !checkRoundsToF32("scale", match.scale).empty())
    return std::nullopt;

  // The precisions the IR computes in.
  auto formatOf = [](Value value) {
    return getFloatFormat(getElementTypeOrSelf(value.getType()));
  };
  std::optional<FloatFormat> qk16 = formatOf(q->source),
                             kFormat = formatOf(k->source),
                             score = formatOf(product),
                             p = getFloatFormat(pType),
                             vFormat = formatOf(v->source),
                             acc = formatOf(pv->getResult(0));
  if (!qk16 || qk16 != kFormat || !score || !p || !vFormat || !acc)
    return std::nullopt;
  match.policy = {*qk16, *score, *p, *vFormat, *acc, *acc,
                  // arith.truncf gives inf above max finite.
                  OverflowMode::NonSat};
  // Scores rounded to a narrower type before the softmax: that is the score
  // type, if the policy allows it (else the op keeps them wider).
  if (std::optional<FloatFormat> rounded =
          scoreRounding ? getFloatFormat(scoreRounding) : std::nullopt) {
    PrecisionPolicy narrower = match.policy;
    narrower.score = *rounded;
    if (getBitWidth(*rounded) < getBitWidth(*score) &&
        narrower.checkSupported().empty())
      match.policy = narrower;
  }
  if (!match.policy.checkSupported().empty())
    return std::nullopt;

  match.query = *q;
  match.key = *k;
  match.value = *v;
  match.output = *out;
  match.ops.push_back(pv);
  return match;
}

//===----------------------------------------------------------------------===//
// The rewrite
//===----------------------------------------------------------------------===//

/// `traced` in the canonical role order, with unit dims for absent roles.
Value materialize(OpBuilder &b, Location loc, const Traced &traced,
                  ArrayRef<Role> canonical) {
  auto type = cast<RankedTensorType>(traced.source.getType());
  SmallVector<int64_t> perm;
  SmallVector<bool> present;
  for (Role role : canonical) {
    auto it = llvm::find(traced.roles, role);
    present.push_back(it != traced.roles.end());
    if (it != traced.roles.end())
      perm.push_back(it - traced.roles.begin());
  }
  Value value = traced.source;
  if (!llvm::equal(perm, llvm::seq<int64_t>(0, perm.size()))) {
    SmallVector<int64_t> shape;
    for (int64_t p : perm)
      shape.push_back(type.getDimSize(p));
    Value init = tensor::EmptyOp::create(b, loc, shape, type.getElementType());
    value = linalg::TransposeOp::create(b, loc, value, init, perm)->getResult(0);
  }
  if (perm.size() == canonical.size())
    return value;
  // Unit dims join the group of the next present dim (query and key, the
  // last ones, are always present).
  SmallVector<ReassociationIndices> groups;
  SmallVector<int64_t> shape;
  ReassociationIndices group;
  auto valueType = cast<RankedTensorType>(value.getType());
  unsigned next = 0;
  for (auto [i, isPresent] : llvm::enumerate(present)) {
    group.push_back(i);
    if (!isPresent) {
      shape.push_back(1);
      continue;
    }
    shape.push_back(valueType.getDimSize(next++));
    groups.push_back(group);
    group.clear();
  }
  auto expanded = RankedTensorType::get(shape, valueType.getElementType());
  return tensor::ExpandShapeOp::create(b, loc, expanded, value, groups);
}

constexpr Role kQueryOrder[] = {Role::Batch, Role::Head, Role::Query,
                                Role::Dim};
constexpr Role kKeyOrder[] = {Role::Batch, Role::Head, Role::Key, Role::Dim};
constexpr Role kValueOrder[] = {Role::Batch, Role::Head, Role::Key,
                                Role::ValueDim};
constexpr Role kMaskOrder[] = {Role::Batch, Role::Head, Role::Query,
                               Role::Key};
constexpr Role kOutputOrder[] = {Role::Batch, Role::Head, Role::Query,
                                 Role::ValueDim};

void raise(IRRewriter &rewriter, Match &match,
           DenseSet<Operation *> &erasedOps) {
  linalg::LinalgOp pv = match.pv;
  Location loc = pv.getLoc();
  rewriter.setInsertionPoint(pv);
  Value q = materialize(rewriter, loc, match.query, kQueryOrder);
  Value k = materialize(rewriter, loc, match.key, kKeyOrder);
  Value v = materialize(rewriter, loc, match.value, kValueOrder);
  Value mask;
  if (match.mask) {
    mask = materialize(rewriter, loc, *match.mask, kMaskOrder);
    auto maskType = cast<RankedTensorType>(mask.getType());
    if (!maskType.getElementType().isF32())
      mask = arith::ExtFOp::create(rewriter, loc,
                                   maskType.clone(rewriter.getF32Type()), mask);
  }
  MLIRContext *context = rewriter.getContext();
  auto attention = AttentionOp::create(
      rewriter, loc, q, k, v, PrecisionPolicyAttr::get(context, match.policy),
      mask, ValueRange(), static_cast<float>(match.scale), /*pScale=*/1.0,
      KVOrder::Forward, SoftmaxAttr(), match.causal);

  // Back to the layout of the P V product's result.
  Value result = attention.getResult();
  auto resultType = cast<RankedTensorType>(result.getType());
  // Absent batch / head roles are unit dims of the op's result: collapse
  // them into the query dim that follows.
  int64_t absent = 4 - match.output.roles.size();
  if (absent > 0) {
    SmallVector<ReassociationIndices> groups;
    ReassociationIndices first;
    for (int64_t i = 0; i <= absent; ++i)
      first.push_back(i);
    groups.push_back(first);
    for (int64_t i = absent + 1; i < 4; ++i)
      groups.push_back({i});
    auto collapsed = RankedTensorType::get(
        resultType.getShape().drop_front(absent), resultType.getElementType());
    result = tensor::CollapseShapeOp::create(rewriter, loc, collapsed, result,
                                             groups);
  }
  SmallVector<Role> resultRoles;
  for (Role role : kOutputOrder)
    if (llvm::is_contained(match.output.roles, role))
      resultRoles.push_back(role);
  SmallVector<int64_t> perm;
  for (Role role : match.output.roles)
    perm.push_back(llvm::find(resultRoles, role) - resultRoles.begin());
  if (!llvm::equal(perm, llvm::seq<int64_t>(0, perm.size()))) {
    auto pvType = cast<RankedTensorType>(pv->getResult(0).getType());
    Value init = tensor::EmptyOp::create(rewriter, loc, pvType.getShape(),
                                         pvType.getElementType());
    result =
        linalg::TransposeOp::create(rewriter, loc, result, init, perm)
            ->getResult(0);
  }
  match.ops.pop_back(); // pv, replaced here.
  for (Value operand : pv->getOperands())
    if (Operation *producer = operand.getDefiningOp())
      match.ops.push_back(producer);
  erasedOps.insert(pv);
  rewriter.replaceOp(pv, result);

  // The pattern's ops, now dead unless something else still reads them.
  // Ops nested in another pattern op go with it (erasing them first, or
  // after their parent, would touch freed memory).
  llvm::SetVector<Operation *> pending;
  llvm::SmallPtrSet<Operation *, 32> matched(match.ops.begin(),
                                             match.ops.end());
  for (Operation *op : match.ops) {
    bool nested = false;
    for (Operation *parent = op->getParentOp(); parent && !nested;
         parent = parent->getParentOp())
      nested = matched.contains(parent);
    if (!nested)
      pending.insert(op);
  }
  bool erased = true;
  while (erased) {
    erased = false;
    // A snapshot: `pending` changes while the ops are erased.
    SmallVector<Operation *> snapshot(pending.begin(), pending.end());
    for (Operation *op : snapshot) {
      if (!pending.contains(op) || !op->use_empty())
        continue;
      // Producers of the operands, and of the values a body captures.
      SmallVector<Operation *> producers;
      op->walk([&](Operation *nested) {
        for (Value operand : nested->getOperands())
          if (Operation *producer = operand.getDefiningOp())
            if (!op->isAncestor(producer))
              producers.push_back(producer);
      });
      pending.remove(op);
      erasedOps.insert(op);
      rewriter.eraseOp(op);
      erased = true;
      // Fills, empties and constants feeding only the pattern go too.
      for (Operation *producer : producers)
        if (!erasedOps.contains(producer) &&
            isa<linalg::FillOp, tensor::EmptyOp, arith::ConstantOp>(producer))
          pending.insert(producer);
    }
  }
}

struct LPAttnRaiseAttentionPass
    : lpattn::impl::LPAttnRaiseAttentionBase<LPAttnRaiseAttentionPass> {
  using LPAttnRaiseAttentionBase::LPAttnRaiseAttentionBase;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> candidates;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (isFreshContraction(op))
        candidates.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    DenseSet<Operation *> erasedOps;
    for (linalg::LinalgOp pv : candidates) {
      // An earlier raise may have erased this op (it was a QK product).
      if (erasedOps.contains(pv))
        continue;
      std::optional<Match> match = AttentionMatcher(pv).run();
      if (match)
        raise(rewriter, *match, erasedOps);
    }
  }
};

} // namespace
