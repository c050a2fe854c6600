//===- Formats.cpp - low-precision float formats --------------------------===//
//
// Everything here is derived from llvm::APFloat semantics, so that the values
// agree with MLIR's own float types by construction.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Numerics/Formats.h"

#include "llvm/ADT/bit.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cassert>
#include <cmath>

using namespace lpattn;
using llvm::APFloat;

static constexpr FloatFormat kAllFormats[] = {
    FloatFormat::F32, FloatFormat::F16, FloatFormat::BF16,
    FloatFormat::F8E4M3FN, FloatFormat::F8E5M2};

const llvm::fltSemantics &lpattn::getSemantics(FloatFormat format) {
  switch (format) {
  case FloatFormat::F32:
    return APFloat::IEEEsingle();
  case FloatFormat::F16:
    return APFloat::IEEEhalf();
  case FloatFormat::BF16:
    return APFloat::BFloat();
  case FloatFormat::F8E4M3FN:
    return APFloat::Float8E4M3FN();
  case FloatFormat::F8E5M2:
    return APFloat::Float8E5M2();
  }
  llvm_unreachable("unknown FloatFormat");
}

std::optional<FloatFormat>
lpattn::getFloatFormat(const llvm::fltSemantics &sem) {
  for (FloatFormat format : kAllFormats)
    if (&getSemantics(format) == &sem)
      return format;
  return std::nullopt;
}

unsigned lpattn::getBitWidth(FloatFormat format) {
  return APFloat::getSizeInBits(getSemantics(format));
}

bool lpattn::isFP8(FloatFormat format) { return getBitWidth(format) == 8; }

/// Converts an APFloat of any lpattn format to double; exact, since every
/// lpattn format is a subset of binary64.
static double toDouble(APFloat value) {
  bool losesInfo = false;
  value.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven,
                &losesInfo);
  return value.convertToDouble();
}

double lpattn::getMaxFinite(FloatFormat format) {
  return toDouble(APFloat::getLargest(getSemantics(format)));
}

double lpattn::getSmallestSubnormal(FloatFormat format) {
  return toDouble(APFloat::getSmallest(getSemantics(format)));
}

double lpattn::getSmallestNormal(FloatFormat format) {
  return toDouble(APFloat::getSmallestNormalized(getSemantics(format)));
}

/// True if `x` (an f64) rounds to zero in `sem`, ties to even.
static bool roundsToZero(double x, const llvm::fltSemantics &sem) {
  APFloat value(x);
  bool losesInfo = false;
  value.convert(sem, APFloat::rmNearestTiesToEven, &losesInfo);
  return value.isZero();
}

double lpattn::getLargestFlushedToZero(FloatFormat format) {
  const llvm::fltSemantics &sem = getSemantics(format);
  // Candidate: half the smallest subnormal (exact in f64 for every format
  // here), the tie between 0 and the smallest subnormal.
  APFloat candidate = APFloat::getSmallest(sem);
  bool losesInfo = false;
  candidate.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven,
                    &losesInfo);
  double u = std::ldexp(candidate.convertToDouble(), -1);
  // Ties to even take the tie to 0; were it not so, the largest value that
  // flushes would be the f64 just below the tie.
  if (!roundsToZero(u, sem))
    u = std::nextafter(u, 0.0);
  assert(roundsToZero(u, sem) &&
         !roundsToZero(std::nextafter(u, HUGE_VAL), sem) &&
         "u must be the largest f64 that rounds to 0");
  return u;
}

std::string lpattn::formatNumber(double value) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%g", value);
  return text;
}

bool lpattn::isPowerOfTwo(double value) {
  if (!std::isfinite(value) || value <= 0.0)
    return false;
  int exponent = 0;
  return std::frexp(value, &exponent) == 0.5;
}

double lpattn::getLargestPScale(FloatFormat format) {
  int exponent = 0;
  // frexp gives max = m * 2^e with m in [0.5, 1): the largest power of two
  // not above max is 2^(e-1).
  std::frexp(getMaxFinite(format), &exponent);
  return std::ldexp(1.0, exponent - 1);
}

uint32_t lpattn::encodeRNE(float x, FloatFormat format,
                           OverflowMode overflow) {
  const llvm::fltSemantics &sem = getSemantics(format);
  APFloat value(x);
  if (format == FloatFormat::F32)
    return llvm::bit_cast<uint32_t>(x);
  if (value.isNaN()) {
    // CUDA canonicalizes every NaN to the positive all-ones pattern
    // (0x7F for both FP8 formats, 0x7FFF for f16 and bf16); so do we.
    return (1u << (getBitWidth(format) - 1)) - 1;
  }
  bool losesInfo = false;
  APFloat::opStatus status =
      value.convert(sem, APFloat::rmNearestTiesToEven, &losesInfo);
  bool overflowed = (status & APFloat::opOverflow) || value.isInfinity() ||
                    value.isNaN();
  if (overflowed && overflow == OverflowMode::SatFinite)
    value = APFloat::getLargest(sem, /*Negative=*/std::signbit(x));
  return static_cast<uint32_t>(value.bitcastToAPInt().getZExtValue());
}

float lpattn::decode(uint32_t bits, FloatFormat format) {
  const llvm::fltSemantics &sem = getSemantics(format);
  APFloat value(sem, llvm::APInt(getBitWidth(format), bits));
  bool losesInfo = false;
  value.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven,
                &losesInfo);
  return value.convertToFloat();
}

float lpattn::castRNE(float x, FloatFormat format, OverflowMode overflow) {
  return decode(encodeRNE(x, format, overflow), format);
}

//===----------------------------------------------------------------------===//
// PrecisionPolicy
//===----------------------------------------------------------------------===//

std::string PrecisionPolicy::checkSupported() const {
  auto name = [](FloatFormat f) { return getFormatName(f).str(); };
  for (auto [field, format] :
       {std::pair{"score", score}, {"acc", acc}, {"out", out}})
    if (isFP8(format))
      return std::string(field) + " = " + name(format) +
             " is not supported: score, acc and out must be f32, f16 or bf16";
  // No tensor core accumulates a product of f32 inputs in 16 bits.
  if (qk == FloatFormat::F32 && score != FloatFormat::F32)
    return "qk = f32 needs score = f32 (got " + name(score) + ")";
  // 16-bit tensor-core products accumulate in f32 or in their own type.
  if (getBitWidth(qk) == 16 && score != FloatFormat::F32 && score != qk)
    return "qk = " + name(qk) + " accumulates in f32 or " + name(qk) +
           ", not " + name(score);
  if (getBitWidth(p) == 16 && getBitWidth(v) == 16 && p != v)
    return "the P V product cannot mix p = " + name(p) + " and v = " +
           name(v);
  if (acc == FloatFormat::F32 || acc == p || acc == v)
    return "";
  return "acc = " + name(acc) + " must be f32 or the type of p or v (p = " +
         name(p) + ", v = " + name(v) + ")";
}
