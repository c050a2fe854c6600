//===- ExpandFloatCasts.cpp - float casts as integer bit ops -- -*- C++ -*-===//
//
// Rewrites the casts between f32 and the low-precision formats into `arith`
// integer operations on the f32 bits, for the CPU path:
//
//  * LLVM has no FP8 types, so `arith.truncf`/`arith.extf` to and from
//    f8E4M3FN/f8E5M2 cannot be lowered as they are; and `lpattn.truncf`
//    (round to nearest even with an explicit overflow mode and CUDA's NaN
//    canonicalization) has no LLVM counterpart in any format.
//  * The only other exact route, arith-to-apfloat, calls into a runtime
//    library for every element (~360 ns per cast); the integer expansion is
//    branch-free, so LLVM vectorizes it.
//
// The expansion is bit-exact with lpattn::encodeRNE (and so with CUDA's
// conversions), which the unit tests check on every FP8 grid point,
// midpoint and neighbour, and scripts/check-all-casts.sh on all 2^32 inputs.
//
// After this pass the FP8 element types only appear in loads, stores and
// `arith.bitcast`s from and to i8, which convert-arith-to-llvm,
// convert-vector-to-llvm and finalize-memref-to-llvm turn into i8 (MLIR's LLVM
// type converter maps float types LLVM lacks to integers of their width).
//
//===----------------------------------------------------------------------===//

#include "lpattn/Dialect/LPAttn/Transforms/Passes.h"

#include "lpattn/Numerics/Formats.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace lpattn {
#define GEN_PASS_DEF_LPATTNEXPANDFLOATCASTS
#include "lpattn/Dialect/LPAttn/Transforms/Passes.h.inc"
} // namespace lpattn

using namespace mlir;
using namespace lpattn;
using llvm::APFloat;

namespace {

/// The layout of a binary floating-point format, read from its APFloat
/// semantics so that no format constant is typed in by hand.
struct FormatLayout {
  unsigned width;    ///< storage bits W
  unsigned mantBits; ///< explicit mantissa bits M
  int bias;          ///< exponent bias B
  int minExponent;   ///< unbiased exponent of the smallest normal
  uint32_t maxBits;  ///< magnitude bits of the largest finite value
  /// Magnitude bits of what nonsat overflow gives: Inf, or NaN where the
  /// format has no Inf (f8E4M3FN).
  uint32_t overflowBits;
  uint32_t nanBits; ///< the canonical NaN: positive, all ones
  bool hasInf;
};

FormatLayout getLayout(const llvm::fltSemantics &sem) {
  FormatLayout layout;
  layout.width = APFloat::semanticsSizeInBits(sem);
  layout.mantBits = APFloat::semanticsPrecision(sem) - 1;
  layout.minExponent = APFloat::semanticsMinExponent(sem);
  layout.bias = 1 - layout.minExponent;
  layout.maxBits = APFloat::getLargest(sem).bitcastToAPInt().getZExtValue();
  layout.hasInf = APFloat::semanticsHasInf(sem);
  // The same canonical NaN as lpattn::encodeRNE (CUDA's 0x7F / 0x7FFF).
  layout.nanBits = (1u << (layout.width - 1)) - 1;
  layout.overflowBits =
      layout.hasInf ? APFloat::getInf(sem).bitcastToAPInt().getZExtValue()
                    : layout.nanBits;
  return layout;
}

/// `value` as an i32 constant of the shape of `shapeLike` (scalar or vector).
Value intConst(OpBuilder &b, Location loc, Type shapeLike, uint32_t value) {
  Type i32 = b.getI32Type();
  if (auto vecType = dyn_cast<VectorType>(shapeLike)) {
    auto type = vecType.clone(i32);
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, b.getI32IntegerAttr(value)));
  }
  return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(value));
}

/// `type` with its element type replaced by `elementType`.
Type withElementType(Type type, Type elementType) {
  if (auto vecType = dyn_cast<VectorType>(type))
    return vecType.clone(elementType);
  return elementType;
}

/// Scalars and vectors only: tensors must be bufferized and vectorized first
/// (a splat constant needs a static shape, and whole-tensor integer ops would
/// be the wrong way to run this anyway).
bool isScalarOrVector(Type type) { return isa<FloatType, VectorType>(type); }

/// Emits the bits of round-to-nearest-even(`in`) in `layout` as an i32 of the
/// shape of `in` (an f32 scalar or vector); see the file header. Every value
/// is computed on the 32-bit pattern, so the code is branch-free.
Value emitTruncBits(OpBuilder &b, Location loc, Value in,
                    const FormatLayout &layout, OverflowMode overflow) {
  Type shape = in.getType();
  Type i32Type = withElementType(shape, b.getI32Type());
  auto c = [&](uint32_t value) { return intConst(b, loc, shape, value); };
  const unsigned m = layout.mantBits;
  const int bias = layout.bias;

  Value bits = arith::BitcastOp::create(b, loc, i32Type, in);
  // Sign: kept apart and put back on the final magnitude, so that the
  // rounding below works on |x| only (it is symmetric).
  Value sign = arith::AndIOp::create(b, loc, bits, c(0x80000000u));
  Value abs = arith::AndIOp::create(b, loc, bits, c(0x7FFFFFFFu));

  // Exponent rebias: subtracting (127 - B) << 23 turns the f32 exponent field
  // into the target's, and leaves the 23 mantissa bits in place. Valid where
  // the result is a normal number of the target (the subnormal path below
  // replaces the other lanes; there the subtraction wraps).
  Value normal =
      arith::SubIOp::create(b, loc, abs, c(uint32_t(127 - bias) << 23));

  // The value to round, and by how many bits to shift it right.
  Value toRound = normal;
  Value shift = c(23 - m);
  // Subnormal shift: where the target's exponent field would be <= 0 (|x| <
  // the smallest normal of the target), the target stores |x| / 2^(1-B-M) as
  // an integer. With the implicit leading one made explicit, the 24-bit
  // mantissa of f32 is that integer times 2^(151-B-M-e) (e = the f32
  // exponent field), so we shift by 151-B-M-e instead. Capped at 31 (a
  // larger LLVM shift is poison): the mantissa is below 2^24, so any shift
  // from 25 on rounds to 0 just as well. f32 subnormals (e = 0) get a wrong
  // implicit bit but are shifted out entirely. bf16 has the exponent range
  // of f32 and needs no such path.
  if (layout.minExponent >
      APFloat::semanticsMinExponent(APFloat::IEEEsingle())) {
    Value exponent = arith::ShRUIOp::create(b, loc, abs, c(23));
    Value isSubnormal = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::ult, exponent, c(uint32_t(128 - bias)));
    Value mantissa = arith::OrIOp::create(
        b, loc, arith::AndIOp::create(b, loc, abs, c(0x007FFFFFu)),
        c(0x00800000u));
    Value subShift = arith::MinUIOp::create(
        b, loc,
        arith::SubIOp::create(b, loc, c(uint32_t(151 - bias - int(m))),
                              exponent),
        c(31));
    toRound = arith::SelectOp::create(b, loc, isSubnormal, mantissa, normal);
    shift = arith::SelectOp::create(b, loc, isSubnormal, subShift, shift);
  }

  // RNE: add half an ulp minus one, plus the lsb of the kept part (so that
  // an exact tie rounds up only from an odd value), then shift. A carry out
  // of the mantissa correctly increments the exponent field: a subnormal that
  // rounds up to 2^M is the encoding of the smallest normal, and the largest
  // finite value rounds up to the code above it (Inf, or NaN for e4m3).
  Value lsb = arith::AndIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, toRound, shift), c(1));
  Value halfMinusOne = arith::SubIOp::create(
      b, loc,
      arith::ShLIOp::create(b, loc, c(1),
                            arith::SubIOp::create(b, loc, shift, c(1))),
      c(1));
  Value rounded = arith::ShRUIOp::create(
      b, loc,
      arith::AddIOp::create(
          b, loc, arith::AddIOp::create(b, loc, toRound, halfMinusOne), lsb),
      shift);

  // Saturation: magnitude codes are ordered like the values, so clamping the
  // code clamps the value; f32 Inf (and anything that rounded past the
  // largest finite value) lands above maxBits. satfinite clamps to +-max;
  // nonsat to the code just above it, which is Inf, or NaN for e4m3.
  uint32_t limit = overflow == OverflowMode::SatFinite ? layout.maxBits
                                                       : layout.overflowBits;
  Value magnitude = arith::MinUIOp::create(b, loc, rounded, c(limit));
  Value result = arith::OrIOp::create(
      b, loc, magnitude,
      arith::ShRUIOp::create(b, loc, sign, c(32 - layout.width)));

  // NaN: any f32 NaN becomes the positive all-ones NaN, as in CUDA (the
  // sign and payload are not kept).
  Value isNaN = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, abs,
                                      c(0x7F800000u));
  return arith::SelectOp::create(b, loc, isNaN, c(layout.nanBits), result);
}

/// Emits the f32 value of FP8 `in` (a scalar or vector of f8E4M3FN/f8E5M2)
/// exactly; NaN becomes 0x7FFFFFFF, the NaN CUDA's conversions give.
Value emitExtendFP8(OpBuilder &b, Location loc, Value in,
                    const FormatLayout &layout) {
  Type shape = in.getType();
  Type i8Type = withElementType(shape, b.getIntegerType(layout.width));
  Type i32Type = withElementType(shape, b.getI32Type());
  Type f32Type = withElementType(shape, b.getF32Type());
  auto c = [&](uint32_t value) { return intConst(b, loc, shape, value); };
  const unsigned m = layout.mantBits;
  const uint32_t magnitudeMask = (1u << (layout.width - 1)) - 1;

  Value code = arith::ExtUIOp::create(
      b, loc, i32Type, arith::BitcastOp::create(b, loc, i8Type, in));
  // Sign: moved from bit W-1 to bit 31.
  Value sign = arith::ShLIOp::create(
      b, loc, arith::AndIOp::create(b, loc, code, c(1u << (layout.width - 1))),
      c(32 - layout.width));
  Value abs = arith::AndIOp::create(b, loc, code, c(magnitudeMask));

  // Normal: mantissa and exponent shift into place together; the exponent
  // is then rebiased from B to 127.
  Value normal = arith::AddIOp::create(
      b, loc, arith::ShLIOp::create(b, loc, abs, c(23 - m)),
      c(uint32_t(127 - layout.bias) << 23));
  // Subnormal (exponent field 0): the value is the mantissa times
  // 2^(1-B-M); both the integer conversion and the power-of-two product are
  // exact in f32 (zero included), and avoid normalizing by hand.
  double unit = std::ldexp(1.0, 1 - layout.bias - int(m));
  Value unitConst =
      isa<VectorType>(shape)
          ? Value(arith::ConstantOp::create(
                b, loc,
                DenseElementsAttr::get(cast<ShapedType>(f32Type),
                                       b.getF32FloatAttr(float(unit)))))
          : Value(arith::ConstantOp::create(b, loc,
                                            b.getF32FloatAttr(float(unit))));
  Value subnormal = arith::BitcastOp::create(
      b, loc, i32Type,
      arith::MulFOp::create(
          b, loc, arith::UIToFPOp::create(b, loc, f32Type, abs), unitConst));
  Value isSubnormal =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, abs, c(1u << m));
  Value magnitude =
      arith::SelectOp::create(b, loc, isSubnormal, subnormal, normal);

  // Inf and NaN. Where the format has Inf, its code (and everything above
  // it) has the all-ones exponent; rebiasing gave a finite f32 there.
  Value isNaN;
  if (layout.hasInf) {
    Value isInf = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, abs,
                                        c(layout.overflowBits));
    magnitude =
        arith::SelectOp::create(b, loc, isInf, c(0x7F800000u), magnitude);
    isNaN = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, abs,
                                  c(layout.overflowBits));
  } else {
    isNaN = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, abs,
                                  c(layout.nanBits));
  }
  Value result = arith::OrIOp::create(b, loc, magnitude, sign);
  result = arith::SelectOp::create(b, loc, isNaN, c(0x7FFFFFFFu), result);
  return arith::BitcastOp::create(b, loc, f32Type, result);
}

/// Replaces `op` (a cast from f32 to `outType`) by the expansion.
LogicalResult rewriteTrunc(PatternRewriter &rewriter, Operation *op, Value in,
                           Type outType, OverflowMode overflow) {
  Type inType = in.getType();
  if (!isScalarOrVector(inType) || !getElementTypeOrSelf(inType).isF32())
    return rewriter.notifyMatchFailure(op, "not an f32 scalar or vector");
  std::optional<FloatFormat> format = getFloatFormat(
      cast<FloatType>(getElementTypeOrSelf(outType)).getFloatSemantics());
  if (!format || *format == FloatFormat::F32)
    return rewriter.notifyMatchFailure(op, "not an lpattn target format");
  FormatLayout layout = getLayout(getSemantics(*format));
  // The clamp in emitTruncBits relies on overflow codes following maxBits.
  if (layout.overflowBits != layout.maxBits + 1)
    return rewriter.notifyMatchFailure(op, "overflow code is not max + 1");

  Location loc = op->getLoc();
  Value bits = emitTruncBits(rewriter, loc, in, layout, overflow);
  Type narrowInt =
      withElementType(inType, rewriter.getIntegerType(layout.width));
  Value narrow = arith::TruncIOp::create(rewriter, loc, narrowInt, bits);
  rewriter.replaceOpWithNewOp<arith::BitcastOp>(op, outType, narrow);
  return success();
}

/// lpattn.truncf -> integer expansion.
struct ExpandTruncF : OpRewritePattern<TruncFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TruncFOp op,
                                PatternRewriter &rewriter) const override {
    return rewriteTrunc(rewriter, op, op.getIn(), op.getType(),
                        op.getOverflow());
  }
};

/// arith.truncf f32 -> FP8 -> the nonsat expansion: arith.truncf has IEEE
/// overflow semantics (Inf, NaN for e4m3, as APFloat). Only FP8 is
/// rewritten: LLVM lowers the f16/bf16 forms itself.
struct ExpandArithTruncFToFP8 : OpRewritePattern<arith::TruncFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::TruncFOp op,
                                PatternRewriter &rewriter) const override {
    auto outType = dyn_cast<FloatType>(getElementTypeOrSelf(op.getType()));
    std::optional<FloatFormat> format =
        outType ? getFloatFormat(outType.getFloatSemantics()) : std::nullopt;
    if (!format || !isFP8(*format))
      return rewriter.notifyMatchFailure(op, "not a cast to FP8");
    std::optional<arith::RoundingMode> mode = op.getRoundingmode();
    if (mode && *mode != arith::RoundingMode::to_nearest_even)
      return rewriter.notifyMatchFailure(op, "not round to nearest even");
    return rewriteTrunc(rewriter, op, op.getIn(), op.getType(),
                        OverflowMode::NonSat);
  }
};

/// arith.extf from FP8 -> integer expansion to f32 (and one exact cast to
/// any other result type). LLVM has no FP8, so these cannot be left to it;
/// f16/bf16 extensions are left to LLVM, whose lowering is exact (a shift
/// for bf16; vcvtph2ps or __extendhfsf2 for f16).
struct ExpandExtFFromFP8 : OpRewritePattern<arith::ExtFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::ExtFOp op,
                                PatternRewriter &rewriter) const override {
    Type inType = op.getIn().getType();
    auto inElement = dyn_cast<FloatType>(getElementTypeOrSelf(inType));
    std::optional<FloatFormat> format =
        inElement ? getFloatFormat(inElement.getFloatSemantics())
                  : std::nullopt;
    if (!format || !isFP8(*format))
      return rewriter.notifyMatchFailure(op, "not a cast from FP8");
    if (!isScalarOrVector(inType))
      return rewriter.notifyMatchFailure(op, "not a scalar or vector");
    auto outElement = cast<FloatType>(getElementTypeOrSelf(op.getType()));

    Location loc = op.getLoc();
    Value f32 = emitExtendFP8(rewriter, loc, op.getIn(),
                              getLayout(getSemantics(*format)));
    // Every FP8 value is exactly representable in f16, bf16, f32 and f64, so
    // any other result type is one more exact cast from f32.
    if (outElement.getWidth() > 32)
      f32 = arith::ExtFOp::create(rewriter, loc, op.getType(), f32);
    else if (!outElement.isF32())
      f32 = arith::TruncFOp::create(rewriter, loc, op.getType(), f32);
    rewriter.replaceOp(op, f32);
    return success();
  }
};

struct ExpandFloatCastsPass
    : lpattn::impl::LPAttnExpandFloatCastsBase<ExpandFloatCastsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateExpandFloatCastsPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();

    // Whatever is left cannot reach LLVM: say so here, by op, rather than
    // as a type-conversion failure passes later.
    auto isFP8Type = [](Type type) {
      auto floatType = dyn_cast<FloatType>(getElementTypeOrSelf(type));
      std::optional<FloatFormat> format =
          floatType ? getFloatFormat(floatType.getFloatSemantics())
                    : std::nullopt;
      return format && isFP8(*format);
    };
    bool leftOver = false;
    getOperation()->walk([&](Operation *op) {
      if (!isa<TruncFOp>(op) && !(isa<arith::ExtFOp, arith::TruncFOp>(op) &&
                                  (isFP8Type(op->getOperand(0).getType()) ||
                                   isFP8Type(op->getResult(0).getType()))))
        return;
      op->emitOpError()
          << "cannot be expanded into integer arithmetic (supported: "
             "lpattn.truncf and arith.truncf from f32, arith.extf from FP8, "
             "on scalars and vectors; bufferize and vectorize tensors first)";
      leftOver = true;
    });
    if (leftOver)
      signalPassFailure();
  }
};

} // namespace

void lpattn::populateExpandFloatCastsPatterns(RewritePatternSet &patterns) {
  patterns.add<ExpandTruncF, ExpandArithTruncFToFP8, ExpandExtFFromFP8>(
      patterns.getContext());
}
