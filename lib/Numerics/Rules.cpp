//===- Rules.cpp - numerics defaults and rules of an attention ------------===//

#include "lpattn/Numerics/Rules.h"
#include "lpattn/Numerics/Formats.h"

#include <cmath>

using namespace lpattn;

float lpattn::getDefaultSoftmaxScale(int64_t headDim) {
  return static_cast<float>(1.0 / std::sqrt(static_cast<double>(headDim)));
}

double lpattn::getDefaultPScale(FloatFormat p) { return getLargestPScale(p); }

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
  if (std::isfinite(scale) && scale > 0.0)
    return "";
  return "softmax scale must be finite and positive, got " +
         formatNumber(scale);
}

std::string lpattn::checkPScale(double pScale, FloatFormat p, double lagLog2) {
  if (!isPowerOfTwo(pScale))
    return "p_scale = " + formatNumber(pScale) +
           " is not a power of two: multiplying P by it and dividing it out "
           "would not be exact";
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
  if (variant == SoftmaxVariant::BiasCorrected && !(*beta > 1.0 && *beta < 1e6))
    return "bias_corrected beta must be in (1, 1e6), got " +
           formatNumber(*beta);
  if (variant == SoftmaxVariant::Pasa && !(*beta > 0.0 && *beta <= 1.0))
    return "pasa beta must be in (0, 1], got " + formatNumber(*beta);
  if (tol && !(*tol >= 0.0 && *tol < 1.0))
    return "bias_corrected tol must be in [0, 1), got " + formatNumber(*tol);
  return "";
}
