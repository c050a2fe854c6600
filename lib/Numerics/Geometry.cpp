//===- Geometry.cpp - geometry-aware logit bounds (RASB) ------------------===//

#include "lpattn/Numerics/Geometry.h"
#include "lpattn/Numerics/Formats.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

using namespace lpattn;

std::string
lpattn::checkPowerIterationOptions(const PowerIterationOptions &options) {
  if (options.maxIterations < 1)
    return "power iteration needs at least 1 iteration, got " +
           std::to_string(options.maxIterations);
  if (!std::isfinite(options.relativeTolerance) ||
      !(options.relativeTolerance > 0.0))
    return "power iteration tolerance must be finite and positive, got " +
           formatNumber(options.relativeTolerance);
  return "";
}

namespace {

/// A non-finite weight, as "`what` has a non-finite value (nan) at row r,
/// column c"; empty if all are finite.
std::string findNonFinite(const char *what, const float *rows, int64_t numRows,
                          int64_t numColumns) {
  for (int64_t r = 0; r < numRows; ++r)
    for (int64_t c = 0; c < numColumns; ++c) {
      float value = rows[r * numColumns + c];
      if (!std::isfinite(value))
        return std::string(what) + " has a non-finite value (" +
               formatNumber(value) + ") at row " + std::to_string(r) +
               ", column " + std::to_string(c);
    }
  return "";
}

/// out = W x for W [rows x cols] row-major (out has rows entries).
void multiply(const float *w, int64_t rows, int64_t cols,
              const std::vector<double> &x, std::vector<double> &out) {
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0.0;
    const float *row = w + r * cols;
    for (int64_t c = 0; c < cols; ++c)
      sum += static_cast<double>(row[c]) * x[c];
    out[r] = sum;
  }
}

/// out = W^T y for W [rows x cols] row-major (out has cols entries).
void multiplyTransposed(const float *w, int64_t rows, int64_t cols,
                        const std::vector<double> &y,
                        std::vector<double> &out) {
  std::fill(out.begin(), out.end(), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = w + r * cols;
    for (int64_t c = 0; c < cols; ++c)
      out[c] += static_cast<double>(row[c]) * y[r];
  }
}

double norm(const std::vector<double> &v) {
  // Scaled sum of squares: entries near 1e300 would overflow a plain sum.
  double largest = 0.0;
  for (double x : v)
    largest = std::max(largest, std::fabs(x));
  if (largest == 0.0)
    return 0.0;
  double sum = 0.0;
  for (double x : v)
    sum += (x / largest) * (x / largest);
  return largest * std::sqrt(sum);
}

} // namespace

std::string lpattn::estimateQKSpectralNorm(const float *queryRows,
                                           const float *keyRows,
                                           int64_t headDim, int64_t modelDim,
                                           const PowerIterationOptions &options,
                                           SpectralNormEstimate &estimate) {
  estimate = SpectralNormEstimate();
  if (headDim < 1 || modelDim < 1)
    return "projection weights need dHead >= 1 and dModel >= 1, got " +
           std::to_string(headDim) + " x " + std::to_string(modelDim);
  if (std::string problem = checkPowerIterationOptions(options);
      !problem.empty())
    return problem;
  if (std::string problem =
          findNonFinite("query weight", queryRows, headDim, modelDim);
      !problem.empty())
    return problem;
  if (std::string problem =
          findNonFinite("key weight", keyRows, headDim, modelDim);
      !problem.empty())
    return problem;

  // Deterministic start: a fixed 64-bit LCG mapped to [-1, 1). Any fixed
  // vector works unless it is orthogonal to the top right singular vector;
  // all-ones is for structured (e.g. permutation-like) weights.
  std::vector<double> v(modelDim);
  uint64_t state = 0x9E3779B97F4A7C15ull;
  for (double &x : v) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<double>(state >> 11) * 0x1.0p-52 - 1.0;
  }
  double vNorm = norm(v);
  for (double &x : v)
    x /= vNorm;

  std::vector<double> headSpace(headDim), modelSpace(modelDim);
  double previous = 0.0;
  for (int64_t iteration = 1; iteration <= options.maxIterations;
       ++iteration) {
    // modelSpace = M v = W_q^T (W_k v); ||M v|| -> sigma for the top v.
    multiply(keyRows, headDim, modelDim, v, headSpace);
    multiplyTransposed(queryRows, headDim, modelDim, headSpace, modelSpace);
    double sigma = norm(modelSpace);
    estimate.sigma = sigma;
    estimate.iterations = iteration;
    if (sigma == 0.0) {
      // v is in the null space of M; from a generic start that means M = 0.
      estimate.converged = true;
      return "";
    }
    if (iteration > 1 &&
        std::fabs(sigma - previous) <= options.relativeTolerance * sigma) {
      estimate.converged = true;
      return "";
    }
    previous = sigma;
    // v = M^T (M v) / ||.|| = W_k^T (W_q (M v)) / ||.||.
    multiply(queryRows, headDim, modelDim, modelSpace, headSpace);
    multiplyTransposed(keyRows, headDim, modelDim, headSpace, v);
    double next = norm(v);
    if (next == 0.0) {
      estimate.converged = true;
      return "";
    }
    for (double &x : v)
      x /= next;
  }
  return "";
}

int64_t lpattn::getKVHeadOfQueryHead(int64_t queryHead, int64_t numQueryHeads,
                                     int64_t numKVHeads) {
  return queryHead / (numQueryHeads / numKVHeads);
}

std::string lpattn::estimatePerHeadQKSpectralNorms(
    const float *queryWeight, const float *keyWeight, int64_t numQueryHeads,
    int64_t numKVHeads, int64_t headDim, int64_t modelDim,
    const PowerIterationOptions &options,
    std::vector<SpectralNormEstimate> &perHead) {
  perHead.clear();
  if (numQueryHeads < 1 || numKVHeads < 1 || numQueryHeads % numKVHeads != 0)
    return "query heads (" + std::to_string(numQueryHeads) +
           ") must be a positive multiple of KV heads (" +
           std::to_string(numKVHeads) + ")";
  perHead.resize(numQueryHeads);
  for (int64_t h = 0; h < numQueryHeads; ++h) {
    int64_t g = getKVHeadOfQueryHead(h, numQueryHeads, numKVHeads);
    std::string problem = estimateQKSpectralNorm(
        queryWeight + h * headDim * modelDim, keyWeight + g * headDim * modelDim,
        headDim, modelDim, options, perHead[h]);
    if (!problem.empty()) {
      perHead.clear();
      return "query head " + std::to_string(h) + " (KV head " +
             std::to_string(g) + "): " + problem;
    }
  }
  return "";
}

double lpattn::getRMSNormTokenNormBound(double maxAbsGain, int64_t modelDim) {
  return std::sqrt(static_cast<double>(modelDim)) * std::fabs(maxAbsGain);
}

double lpattn::getLayerNormTokenNormBound(double maxAbsGain, double biasNorm,
                                          int64_t modelDim) {
  return getRMSNormTokenNormBound(maxAbsGain, modelDim) + std::fabs(biasNorm);
}

std::string lpattn::checkTokenNormBound(double tokenNormBound) {
  if (!std::isfinite(tokenNormBound) || !(tokenNormBound > 0.0))
    return "token-norm bound must be finite and positive, got " +
           formatNumber(tokenNormBound);
  return "";
}

double lpattn::getQKProductBound(double sigma, double tokenNormBound) {
  return tokenNormBound * tokenNormBound * sigma;
}

double lpattn::getLogitBound(double sigma, double tokenNormBound,
                             double softmaxScale) {
  return std::fabs(softmaxScale) * getQKProductBound(sigma, tokenNormBound);
}

double lpattn::getLogitBoundForHeadDim(double sigma, double tokenNormBound,
                                       int64_t headDim) {
  return getLogitBound(sigma, tokenNormBound,
                       1.0 / std::sqrt(static_cast<double>(headDim)));
}

std::string lpattn::checkGeometryAlpha(double alpha) {
  if (!std::isfinite(alpha) || !(alpha > 0.0))
    return "alpha must be finite and positive, got " + formatNumber(alpha);
  return "";
}

double lpattn::getGeometryScale(double alpha, double bound,
                                FloatFormat format) {
  double target = alpha * bound;
  double maxFinite = getMaxFinite(format);
  if (!(target > maxFinite))
    return 1.0;
  // 2^e with e = floor(log2(max / target)) < 0; frexp avoids log2 rounding.
  int exponent = 0;
  std::frexp(maxFinite / target, &exponent); // max/target = m 2^e, m in [.5,1)
  double scale = std::ldexp(1.0, exponent - 1);
  // max/target in [2^(e-1), 2^e): 2^(e-1) fits; the division's rounding can
  // only put it exactly on a boundary, which the loop settles.
  while (scale * target > maxFinite)
    scale /= 2.0;
  return scale;
}

double lpattn::getAutoAlpha(int64_t modelDim, int64_t rank, int64_t numQueries,
                            int64_t numKeys, double failureProbability,
                            double typicality) {
  // Out of the bound's domain: the worst case, which holds for every input.
  if (modelDim < 1 || rank < 1 || numQueries < 1 || numKeys < 1 ||
      !(failureProbability > 0.0 && failureProbability < 1.0) ||
      !(typicality > 0.0) || !std::isfinite(typicality))
    return 1.0;
  double pairs = 2.0 * static_cast<double>(numQueries) *
                 static_cast<double>(numKeys);
  double alpha = std::sqrt(typicality * static_cast<double>(rank) *
                           std::log(pairs / failureProbability)) /
                 static_cast<double>(modelDim);
  return std::min(alpha, 1.0);
}
