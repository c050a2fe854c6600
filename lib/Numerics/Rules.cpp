//===- Rules.cpp - numerics defaults and rules of an attention ------------===//

#include "lpattn/Numerics/Rules.h"
#include "lpattn/Numerics/Formats.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cassert>
#include <cfloat>
#include <cmath>

using namespace lpattn;

double lpattn::getExactDefaultSoftmaxScale(int64_t headDim) {
  return 1.0 / std::sqrt(static_cast<double>(headDim));
}

float lpattn::getDefaultSoftmaxScale(int64_t headDim) {
  return static_cast<float>(getExactDefaultSoftmaxScale(headDim));
}

double lpattn::getDefaultPScale(FloatFormat p) {
  if (getSmallestNormal(p) <= getSmallestNormal(FloatFormat::F32))
    return 1.0;
  return getLargestPScale(p);
}

std::optional<double> lpattn::getDefaultSoftmaxBeta(SoftmaxVariant variant) {
  switch (variant) {
  case SoftmaxVariant::Standard:
    return std::nullopt;
  case SoftmaxVariant::BiasCorrected:
    return 2.0;
  case SoftmaxVariant::Pasa:
    return 1.0;
  }
  return std::nullopt;
}

std::optional<double> lpattn::getDefaultSoftmaxTol(SoftmaxVariant variant) {
  if (variant == SoftmaxVariant::BiasCorrected)
    return 1e-3;
  return std::nullopt;
}

std::string lpattn::checkSoftmaxScale(double scale) {
  if (!std::isfinite(scale) || !(scale > 0.0))
    return "softmax scale must be finite and positive, got " +
           formatNumber(scale);
  return checkRoundsToF32("scale", scale);
}

std::string lpattn::checkPScale(double pScale, FloatFormat p, double lagLog2) {
  if (!isPowerOfTwo(pScale))
    return "p_scale = " + formatNumber(pScale) +
           " is not a power of two: multiplying P by it and dividing it out "
           "would not be exact";
  // A power of two in f64 can still be 0 or Inf in f32 (2^-200), and the
  // lowering multiplies by an f32 constant: the run would return all zeros.
  if (std::string problem = checkExactInF32("p_scale", pScale);
      !problem.empty())
    return problem;
  if (!std::isfinite(lagLog2) || !(lagLog2 >= 0.0))
    return "rescale lag must be finite and non-negative, got " +
           formatNumber(lagLog2);
  double maxFinite = getMaxFinite(p);
  double log2Scale = std::log2(pScale), log2Max = std::log2(maxFinite);
  if (log2Scale + lagLog2 <= log2Max)
    return "";
  std::string type = std::string(stringifyFloatFormat(p));
  if (lagLog2 == 0.0)
    return "p_scale = " + formatNumber(pScale) +
           " saturates P = 1: 1 * p_scale exceeds the max finite value " +
           formatNumber(maxFinite) + " of p = " + type +
           " (largest allowed power of two: " +
           formatNumber(getLargestPScale(p)) + ")";
  // With a running max that lags by `lag`, P = exp(s - m) reaches 2^lag.
  return "P * S can reach 2^(" + formatNumber(log2Scale) + " + lag) = " +
         formatNumber(std::exp2(log2Scale + lagLog2)) + " > " +
         formatNumber(maxFinite) + ", the max finite value of p = " + type +
         ": need " + formatNumber(log2Scale) + " + lag <= log2(" +
         formatNumber(maxFinite) + ") = " + formatNumber(log2Max) +
         " (lag = " + formatNumber(lagLog2) + ")";
}

std::string lpattn::checkPScaleAccumulation(double pScale, int64_t numKeys,
                                            FloatFormat acc) {
  if (!(pScale > 1.0) || numKeys < 1)
    return "";
  double maxFinite = getMaxFinite(acc);
  double worst = static_cast<double>(numKeys) * pScale;
  if (worst <= maxFinite)
    return "";
  return "p_scale = " + formatNumber(pScale) + " overflows the accumulation: " +
         std::to_string(numKeys) + " keys of P * p_scale = " +
         formatNumber(pScale) + " (equal scores, V = 1) sum to " +
         formatNumber(worst) + " > " + formatNumber(maxFinite) +
         ", the max finite value of acc = " +
         std::string(stringifyFloatFormat(acc)) + " (largest safe p_scale: " +
         formatNumber(std::exp2(std::floor(
             std::log2(maxFinite / static_cast<double>(numKeys))))) +
         ")";
}

std::string lpattn::checkSoftmaxParameters(SoftmaxVariant variant,
                                           std::optional<double> beta,
                                           std::optional<double> tol) {
  std::string name(stringifySoftmaxVariant(variant));
  bool takesBeta = getDefaultSoftmaxBeta(variant).has_value();
  bool takesTol = getDefaultSoftmaxTol(variant).has_value();
  if (beta && !takesBeta)
    return "softmax = " + name + " takes no beta";
  if (tol && !takesTol)
    return "softmax = " + name + " takes no tol";
  if (takesBeta && !beta)
    return "softmax = " + name + " needs a beta";
  if (takesTol && !tol)
    return "softmax = " + name + " needs a tol";
  // beta and tol become f32 constants (beta - 1 for bias_corrected).
  for (auto [what, value] : {std::pair{"beta", beta}, std::pair{"tol", tol}})
    if (value)
      if (std::string problem = checkRoundsToF32(name + " " + what, *value);
          !problem.empty())
        return problem;
  if (variant == SoftmaxVariant::BiasCorrected && !(*beta > 1.0 && *beta < 1e6))
    return "bias_corrected beta must be in (1, 1e6), got " +
           formatNumber(*beta);
  if (variant == SoftmaxVariant::Pasa && !(*beta > 0.0 && *beta <= 1.0))
    return "pasa beta must be in (0, 1], got " + formatNumber(*beta);
  if (tol && !(*tol >= 0.0 && *tol < 1.0))
    return "bias_corrected tol must be in [0, 1), got " + formatNumber(*tol);
  return "";
}

//===----------------------------------------------------------------------===//
// f32 constants
//===----------------------------------------------------------------------===//

/// Enough digits to tell an f32 rounding from the value it rounds.
static std::string formatPrecise(double value) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%.9g", value);
  return text;
}

/// What rounding `value` to f32 gives, as the end of a sentence; empty if
/// it stays a finite, non-zero, normal f32 (or is exactly 0).
static std::string describeF32Rounding(double value) {
  if (std::isnan(value))
    return "it is NaN";
  if (std::isinf(value))
    return "it is infinite";
  if (value == 0.0)
    return "";
  float rounded = static_cast<float>(value);
  if (std::isinf(rounded))
    return "it overflows f32 (max " + formatNumber(FLT_MAX) +
           ") and would become " + formatNumber(rounded);
  if (rounded == 0.0f)
    return "it underflows f32 and would become 0";
  if (std::fabs(rounded) < FLT_MIN)
    return "it is below the smallest normal f32 (" + formatNumber(FLT_MIN) +
           ") and would lose precision (becoming " + formatNumber(rounded) +
           ")";
  return "";
}

std::string lpattn::checkExactInF32(std::string_view what, double value) {
  std::string prefix = std::string(what) + " = " + formatNumber(value);
  std::string why = describeF32Rounding(value);
  if (why.empty() && value == 0.0)
    why = "it is 0";
  if (why.empty() && static_cast<double>(static_cast<float>(value)) != value)
    why = "it would round to " +
          formatPrecise(static_cast<double>(static_cast<float>(value)));
  if (why.empty())
    return "";
  return prefix + " is not an exact, finite, non-zero f32 value, the "
                  "arithmetic the lowering uses: " +
         why;
}

std::string lpattn::checkRoundsToF32(std::string_view what, double value) {
  std::string why = describeF32Rounding(value);
  if (why.empty())
    return "";
  return std::string(what) + " = " + formatNumber(value) +
         " is not representable in f32, the arithmetic the lowering uses: " +
         why;
}

//===----------------------------------------------------------------------===//
// P-Cast collapse threshold
//===----------------------------------------------------------------------===//

double lpattn::getExpectedMaxOfNormals(int64_t k) {
  assert(k >= 1 && "need at least one sample");
  if (k == 1)
    return 0.0;
  // E[max] = integral of x * k * phi(x) * Phi(x)^(k-1) dx. The integrand is
  // smooth and below 1e-30 outside [-12, 12] for the k allowed here.
  const double lo = -12.0, hi = 12.0;
  const int n = 4800; // even: Simpson's rule
  const double h = (hi - lo) / n;
  auto f = [k](double x) {
    double phi = std::exp(-0.5 * x * x) / std::sqrt(2.0 * std::acos(-1.0));
    double cdf = 0.5 * std::erfc(-x / std::sqrt(2.0));
    return x * static_cast<double>(k) * phi *
           std::pow(cdf, static_cast<double>(k - 1));
  };
  double sum = f(lo) + f(hi);
  for (int i = 1; i < n; ++i)
    sum += (i % 2 ? 4.0 : 2.0) * f(lo + i * h);
  return sum * h / 3.0;
}

double lpattn::getSinkExcess(int64_t numSinks, double jitter) {
  return jitter * getExpectedMaxOfNormals(numSinks);
}

double lpattn::getCollapseThreshold(FloatFormat p, double pScale,
                                    int64_t numSinks, double jitter) {
  return -std::log(getLargestFlushedToZero(p)) + std::log(pScale) -
         getSinkExcess(numSinks, jitter);
}

int64_t lpattn::getSinkTileExposedKeys(int64_t numKeys, int64_t tileKV,
                                       int64_t numSinks) {
  if (numSinks >= numKeys)
    return 0;
  int64_t sinkTiles = (numSinks + tileKV - 1) / tileKV;
  return std::min(sinkTiles * tileKV, numKeys) - numSinks;
}

std::string lpattn::checkSinkHint(double strength, int64_t numSinks,
                                  double jitter) {
  if (!std::isfinite(strength) || !(strength >= 0.0))
    return "sink strength must be finite and >= 0, got " +
           formatNumber(strength);
  if (numSinks < 1 || numSinks > 1000000)
    return "number of sinks must be in [1, 1000000], got " +
           std::to_string(numSinks);
  if (!std::isfinite(jitter) || !(jitter >= 0.0))
    return "sink jitter must be a finite standard deviation >= 0, got " +
           formatNumber(jitter);
  return "";
}
