//===- Generators.cpp - reproducible attention inputs ---------------------===//
//
// The constructions are documented in Generators.h; this file only follows
// them. Every generator draws all of its randomness from one NormalSampler in
// a fixed loop order, so the seed alone determines the output.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Lab/Generators.h"
#include "lpattn/Numerics/Rules.h"

#include "llvm/ADT/APFloat.h"

#include <algorithm>
#include <cmath>

using namespace lpattn::lab;
using llvm::Error;
using llvm::Expected;

static constexpr double kTwoPi = 6.283185307179586476925286766559;

double NormalSampler::next() {
  if (spare) {
    double value = *spare;
    spare.reset();
    return value;
  }
  // 53-bit uniforms from the top bits of each draw; u1 is in (0, 1] so that
  // log(u1) is finite, u2 in [0, 1).
  double u1 = static_cast<double>((engine() >> 11) + 1) * 0x1.0p-53;
  double u2 = static_cast<double>(engine() >> 11) * 0x1.0p-53;
  double radius = std::sqrt(-2.0 * std::log(u1));
  spare = radius * std::sin(kTwoPi * u2);
  return radius * std::cos(kTwoPi * u2);
}

HostTensor lpattn::lab::randomNormal(llvm::ArrayRef<int64_t> shape,
                                     uint64_t seed, double mean,
                                     double stddev) {
  HostTensor tensor = HostTensor::zeros(shape);
  NormalSampler normal(seed);
  for (float &value : tensor.data)
    value = static_cast<float>(mean + stddev * normal.next());
  return tensor;
}

double lpattn::lab::realizedSinkExcess(llvm::ArrayRef<double> sinkJitter,
                                       int64_t numSinks) {
  if (numSinks <= 0 || sinkJitter.empty())
    return 0.0;
  size_t groups = sinkJitter.size() / size_t(numSinks);
  double sum = 0.0;
  for (size_t g = 0; g < groups; ++g) {
    llvm::ArrayRef<double> group = sinkJitter.slice(g * numSinks, numSinks);
    sum += *std::max_element(group.begin(), group.end());
  }
  return sum / double(groups);
}

/// Checks the sizes shared by all Q/K/V generators.
static Error checkSizes(llvm::StringRef generator, int64_t numHeads,
                        int64_t numQueries, int64_t numKeys, int64_t headDim) {
  if (numHeads < 1 || numQueries < 1 || numKeys < 1)
    return llvm::createStringError(
        generator + ": numHeads, numQueries and numKeys must be >= 1 (got " +
        llvm::Twine(numHeads) + ", " + llvm::Twine(numQueries) + ", " +
        llvm::Twine(numKeys) + ")");
  if (headDim < 2)
    return llvm::createStringError(
        generator + ": headDim must be >= 2 (coordinate 0 is reserved), got " +
        llvm::Twine(headDim));
  return Error::success();
}

static Error checkSinkParams(llvm::StringRef generator, const SinkParams &sinks,
                             int64_t numKeys) {
  if (sinks.numSinks < 0 || sinks.numSinks > numKeys)
    return llvm::createStringError(
        generator + ": numSinks = " + llvm::Twine(sinks.numSinks) +
        " must be in [0, numKeys = " + llvm::Twine(numKeys) + "]");
  if (!(sinks.jitterStddev >= 0) || !std::isfinite(sinks.delta))
    return llvm::createStringError(
        generator + ": delta must be finite and jitterStddev >= 0");
  return Error::success();
}

/// Zero Q [1, H, Nq, D], K and V [1, H, Nk, D] of a generated attention.
static void allocateInputs(AttentionInputs &inputs, int64_t numHeads,
                           int64_t numQueries, int64_t numKeys,
                           int64_t headDim) {
  inputs.q = HostTensor::zeros({1, numHeads, numQueries, headDim});
  inputs.k = HostTensor::zeros({1, numHeads, numKeys, headDim});
  inputs.v = HostTensor::zeros({1, numHeads, numKeys, headDim});
}

Expected<SinkAttention>
lpattn::lab::generateSinkAttention(const SinkAttentionOptions &options) {
  const int64_t numHeads = options.numHeads, numQueries = options.numQueries,
                numKeys = options.numKeys, headDim = options.headDim;
  if (Error err = checkSizes("generateSinkAttention", numHeads, numQueries,
                             numKeys, headDim))
    return std::move(err);
  if (Error err =
          checkSinkParams("generateSinkAttention", options.sinks, numKeys))
    return std::move(err);
  double scale = options.scale.value_or(getExactDefaultSoftmaxScale(headDim));
  if (!(scale > 0) || !std::isfinite(scale) || options.alpha == 0 ||
      !std::isfinite(options.alpha))
    return llvm::createStringError(
        "generateSinkAttention: scale must be positive and alpha nonzero");

  const SinkParams &sinks = options.sinks;
  const bool perRow = !sinks.perHeadJitter;
  if (perRow && sinks.numSinks > headDim - 1)
    return llvm::createStringError(
        "generateSinkAttention: per-row jitter needs numSinks = " +
        llvm::Twine(sinks.numSinks) + " <= headDim - 1 = " +
        llvm::Twine(headDim - 1));
  double sigma = std::pow(scale * scale * double(headDim - 1), -0.25);
  SinkAttention result;
  result.scale = scale;
  allocateInputs(result, numHeads, numQueries, numKeys, headDim);
  NormalSampler normal(options.seed);
  for (int64_t h = 0; h < numHeads; ++h) {
    for (int64_t m = 0; m < numQueries; ++m) {
      result.q.at(0, h, m, 0) = static_cast<float>(options.alpha);
      for (int64_t i = 1; i < headDim; ++i)
        result.q.at(0, h, m, i) = static_cast<float>(sigma * normal.next());
    }
    for (int64_t n = 0; n < numKeys; ++n) {
      if (n < sinks.numSinks) {
        if (perRow) {
          // The row's own coordinate 1 + n carries its jitter.
          result.k.at(0, h, n, 0) =
              static_cast<float>(sinks.delta / (scale * options.alpha));
          result.k.at(0, h, n, 1 + n) =
              static_cast<float>(sinks.jitterStddev / (scale * sigma));
          continue;
        }
        double jitter = sinks.jitterStddev * normal.next();
        result.sinkJitter.push_back(jitter);
        result.k.at(0, h, n, 0) = static_cast<float>((sinks.delta + jitter) /
                                                     (scale * options.alpha));
        continue;
      }
      for (int64_t i = 1; i < headDim; ++i)
        result.k.at(0, h, n, i) = static_cast<float>(sigma * normal.next());
    }
    for (int64_t n = 0; n < numKeys; ++n)
      for (int64_t i = 0; i < headDim; ++i)
        result.v.at(0, h, n, i) = static_cast<float>(normal.next());
    // Per row: the realized jitter of the float Q and K, in double.
    if (perRow)
      for (int64_t m = 0; m < numQueries; ++m)
        for (int64_t s = 0; s < sinks.numSinks; ++s)
          result.sinkJitter.push_back(
              scale * (double(result.q.at(0, h, m, 0)) *
                           double(result.k.at(0, h, s, 0)) +
                       double(result.q.at(0, h, m, 1 + s)) *
                           double(result.k.at(0, h, s, 1 + s))) -
              sinks.delta);
  }
  return result;
}

Expected<SinkLogits> lpattn::lab::generateSinkLogits(int64_t numHeads,
                                                     int64_t numQueries,
                                                     int64_t numKeys,
                                                     const SinkParams &sinks,
                                                     uint64_t seed) {
  if (numHeads < 1 || numQueries < 1 || numKeys < 1)
    return llvm::createStringError(
        "generateSinkLogits: numHeads, numQueries and numKeys must be >= 1");
  if (Error err = checkSinkParams("generateSinkLogits", sinks, numKeys))
    return std::move(err);

  SinkLogits result;
  result.logits = HostTensor::zeros({1, numHeads, numQueries, numKeys});
  NormalSampler normal(seed);
  for (int64_t h = 0; h < numHeads; ++h) {
    if (sinks.perHeadJitter)
      for (int64_t s = 0; s < sinks.numSinks; ++s)
        result.sinkJitter.push_back(sinks.jitterStddev * normal.next());
    for (int64_t m = 0; m < numQueries; ++m)
      for (int64_t n = 0; n < numKeys; ++n) {
        double logit;
        if (n >= sinks.numSinks) {
          logit = normal.next();
        } else if (sinks.perHeadJitter) {
          logit = sinks.delta + result.sinkJitter[h * sinks.numSinks + n];
        } else {
          result.sinkJitter.push_back(sinks.jitterStddev * normal.next());
          logit = sinks.delta + result.sinkJitter.back();
        }
        result.logits.at(0, h, m, n) = static_cast<float>(logit);
      }
  }
  return result;
}

Expected<OffsetAttention>
lpattn::lab::generateOffsetAttention(const OffsetAttentionOptions &options) {
  const int64_t numHeads = options.numHeads, numQueries = options.numQueries,
                numKeys = options.numKeys, headDim = options.headDim;
  if (Error err = checkSizes("generateOffsetAttention", numHeads, numQueries,
                             numKeys, headDim))
    return std::move(err);
  if (!std::isfinite(options.offset))
    return llvm::createStringError(
        "generateOffsetAttention: offset must be finite");

  float a = static_cast<float>(std::sqrt(std::fabs(options.offset)));
  float b = std::copysign(a, static_cast<float>(options.offset));
  OffsetAttention result;
  result.scale = getExactDefaultSoftmaxScale(headDim);
  result.offset = double(a) * double(b); // 24 x 24 bits: exact in double.
  allocateInputs(result, numHeads, numQueries, numKeys, headDim);
  NormalSampler normal(options.seed);
  for (int64_t h = 0; h < numHeads; ++h) {
    for (int64_t m = 0; m < numQueries; ++m) {
      result.q.at(0, h, m, 0) = a;
      for (int64_t i = 1; i < headDim; ++i)
        result.q.at(0, h, m, i) = static_cast<float>(normal.next());
    }
    for (int64_t n = 0; n < numKeys; ++n) {
      result.k.at(0, h, n, 0) = b;
      for (int64_t i = 1; i < headDim; ++i)
        result.k.at(0, h, n, i) = static_cast<float>(normal.next());
    }
    for (int64_t n = 0; n < numKeys; ++n)
      for (int64_t i = 0; i < headDim; ++i)
        result.v.at(0, h, n, i) = static_cast<float>(normal.next());
  }
  return result;
}

/// `value` rounded to bf16 with `mode`, returned as the (exact) float.
static float roundToBF16(double value, llvm::RoundingMode mode) {
  llvm::APFloat rounded(value);
  bool losesInfo = false;
  rounded.convert(llvm::APFloat::BFloat(), mode, &losesInfo);
  return rounded.convertToFloat();
}

static float normalBF16(NormalSampler &normal, double stddev) {
  return roundToBF16(stddev * normal.next(),
                     llvm::RoundingMode::NearestTiesToEven);
}

Expected<AttentionInputs>
lpattn::lab::generateTiedMaxAttention(const TiedMaxAttentionOptions &options) {
  const int64_t numHeads = options.numHeads, numQueries = options.numQueries,
                numKeys = options.numKeys, headDim = options.headDim;
  if (Error err = checkSizes("generateTiedMaxAttention", numHeads, numQueries,
                             numKeys, headDim))
    return std::move(err);
  const int64_t firstTied = options.firstTiedKey, numTied = options.numTied;
  if (numTied < 1 || firstTied < 0 || firstTied + numTied > numKeys)
    return llvm::createStringError(
        "generateTiedMaxAttention: need numTied >= 1 tied keys [" +
        llvm::Twine(firstTied) + ", " + llvm::Twine(firstTied + numTied) +
        ") within numKeys = " + llvm::Twine(numKeys));
  double scale = options.scale.value_or(getExactDefaultSoftmaxScale(headDim));
  if (!(scale > 0) || !std::isfinite(scale) || !(options.minGap > 0) ||
      !std::isfinite(options.minGap))
    return llvm::createStringError(
        "generateTiedMaxAttention: scale and minGap must be positive");
  if (!std::isfinite(options.valueMean) || !(options.valueStddev >= 0) ||
      !std::isfinite(options.valueStddev) || !(options.rowShift >= 0) ||
      !std::isfinite(options.rowShift))
    return llvm::createStringError(
        "generateTiedMaxAttention: valueMean must be finite, valueStddev and "
        "rowShift >= 0");
  if (options.rowShift > 0 && headDim < 3)
    return llvm::createStringError(
        "generateTiedMaxAttention: rowShift needs headDim >= 3 (coordinate 1 "
        "carries it)");

  auto isTied = [&](int64_t n) {
    return n >= firstTied && n < firstTied + numTied;
  };
  double sigma = std::pow(scale * scale * double(headDim - 1), -0.25);
  AttentionInputs result;
  result.scale = scale;
  allocateInputs(result, numHeads, numQueries, numKeys, headDim);
  NormalSampler normal(options.seed);
  for (int64_t h = 0; h < numHeads; ++h) {
    for (int64_t m = 0; m < numQueries; ++m) {
      result.q.at(0, h, m, 0) = 1.0f;
      for (int64_t i = 1; i < headDim; ++i)
        result.q.at(0, h, m, i) = normalBF16(normal, sigma);
    }
    for (int64_t n = 0; n < numKeys; ++n)
      if (!isTied(n))
        for (int64_t i = 1; i < headDim; ++i)
          result.k.at(0, h, n, i) = normalBF16(normal, sigma);
    for (int64_t n = 0; n < numKeys; ++n)
      for (int64_t i = 0; i < headDim; ++i)
        result.v.at(0, h, n, i) = roundToBF16(
            options.valueMean + options.valueStddev * normal.next(),
            llvm::RoundingMode::NearestTiesToEven);

    // With a row shift, coordinate 1 carries it: cleared here, so that the
    // gap below only sees coordinates 2..D-1.
    const bool shiftRows = options.rowShift > 0;
    if (shiftRows) {
      for (int64_t m = 0; m < numQueries; ++m)
        result.q.at(0, h, m, 1) = 0.0f;
      for (int64_t n = 0; n < numKeys; ++n)
        result.k.at(0, h, n, 1) = 0.0f;
    }

    // The tied score is Q[m, 0] * g = g; put it minGap / c above the largest
    // other score of the head.
    bool anyOther = false;
    double maxOther = 0.0;
    for (int64_t m = 0; m < numQueries; ++m)
      for (int64_t n = 0; n < numKeys; ++n) {
        if (isTied(n))
          continue;
        double score = 0.0;
        for (int64_t i = 1; i < headDim; ++i)
          score += double(result.q.at(0, h, m, i)) * result.k.at(0, h, n, i);
        maxOther = anyOther ? std::max(maxOther, score) : score;
        anyOther = true;
      }
    float g = roundToBF16(maxOther + options.minGap / scale,
                          llvm::RoundingMode::TowardPositive);
    for (int64_t n = firstTied; n < firstTied + numTied; ++n)
      result.k.at(0, h, n, 0) = g;
    // Row m's logits all move by c kappa r_m ~ u_m rowShift (drawn last, so
    // that rowShift = 0 keeps every other value): K[n, 1] = kappa = bf16(1 /
    // c) for every key, tied or not, Q[m, 1] = r_m = bf16(u_m rowShift / (c
    // kappa)), u_m uniform in [0, 1). The softmax and the gap are unchanged;
    // the row max m' is not the same for every row.
    if (shiftRows) {
      float kappa = roundToBF16(1.0 / scale, llvm::RoundingMode::NearestTiesToEven);
      for (int64_t n = 0; n < numKeys; ++n)
        result.k.at(0, h, n, 1) = kappa;
      for (int64_t m = 0; m < numQueries; ++m) {
        double u = 0.5 * (1.0 + std::erf(normal.next() / std::sqrt(2.0)));
        result.q.at(0, h, m, 1) =
            roundToBF16(u * options.rowShift / (scale * double(kappa)),
                        llvm::RoundingMode::TowardZero);
      }
    }
  }
  return result;
}
