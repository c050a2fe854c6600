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

/// Power iteration on A^T A for an operator A: R^inputDim -> R^outputDim
/// given as applyA(v, out) and applyAT(u, out); estimates ||A||_2. Iterates
/// v <- A^T A v / ||.|| from a fixed pseudo-random start vector
/// (deterministic, and not orthogonal to the top right singular vector of
/// any structured weight in practice, unlike all-ones). A zero A gives
/// sigma = 0, converged. Options are checked by the caller.
template <typename ApplyA, typename ApplyAT>
void iteratePower(int64_t inputDim, int64_t outputDim,
                  const PowerIterationOptions &options, ApplyA applyA,
                  ApplyAT applyAT, SpectralNormEstimate &estimate) {
  estimate = SpectralNormEstimate();
  // Deterministic start: a fixed 64-bit LCG mapped to [-1, 1).
  std::vector<double> v(inputDim);
  uint64_t state = 0x9E3779B97F4A7C15ull;
  for (double &x : v) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<double>(state >> 11) * 0x1.0p-52 - 1.0;
  }
  double vNorm = norm(v);
  for (double &x : v)
    x /= vNorm;

  std::vector<double> image(outputDim);
  double previous = 0.0;
  for (int64_t iteration = 1; iteration <= options.maxIterations;
       ++iteration) {
    // ||A v|| -> sigma for the top v.
    applyA(v, image);
    double sigma = norm(image);
    estimate.sigma = sigma;
    estimate.iterations = iteration;
    if (sigma == 0.0) {
      // v is in the null space of A; from a generic start that means A = 0.
      estimate.converged = true;
      return;
    }
    if (iteration > 1 &&
        std::fabs(sigma - previous) <= options.relativeTolerance * sigma) {
      estimate.converged = true;
      return;
    }
    previous = sigma;
    applyAT(image, v); // v = A^T (A v) / ||.||
    double next = norm(v);
    if (next == 0.0) {
      estimate.converged = true;
      return;
    }
    for (double &x : v)
      x /= next;
  }
}

/// The size rule of the estimators' projection rows.
std::string checkProjectionSizes(int64_t numRows, int64_t numColumns) {
  if (numRows < 1 || numColumns < 1)
    return "projection weights need dHead >= 1 and dModel >= 1, got " +
           std::to_string(numRows) + " x " + std::to_string(numColumns);
  return "";
}

/// ||W||_2 with `what` naming W in errors.
std::string estimateNamedSpectralNorm(const char *what, const float *rows,
                                      int64_t numRows, int64_t numColumns,
                                      const PowerIterationOptions &options,
                                      SpectralNormEstimate &estimate) {
  estimate = SpectralNormEstimate();
  if (std::string problem = checkProjectionSizes(numRows, numColumns);
      !problem.empty())
    return problem;
  if (std::string problem = checkPowerIterationOptions(options);
      !problem.empty())
    return problem;
  if (std::string problem = findNonFinite(what, rows, numRows, numColumns);
      !problem.empty())
    return problem;
  iteratePower(
      numColumns, numRows, options,
      [&](const std::vector<double> &v, std::vector<double> &out) {
        multiply(rows, numRows, numColumns, v, out);
      },
      [&](const std::vector<double> &u, std::vector<double> &out) {
        multiplyTransposed(rows, numRows, numColumns, u, out);
      },
      estimate);
  return "";
}

/// The head-count rule of the per-head drivers.
std::string checkHeadCounts(int64_t numQueryHeads, int64_t numKVHeads) {
  if (numQueryHeads < 1 || numKVHeads < 1 || numQueryHeads % numKVHeads != 0)
    return "query heads (" + std::to_string(numQueryHeads) +
           ") must be a positive multiple of KV heads (" +
           std::to_string(numKVHeads) + ")";
  return "";
}

} // namespace

std::string lpattn::estimateQKSpectralNorm(const float *queryRows,
                                           const float *keyRows,
                                           int64_t headDim, int64_t modelDim,
                                           const PowerIterationOptions &options,
                                           SpectralNormEstimate &estimate) {
  estimate = SpectralNormEstimate();
  if (std::string problem = checkProjectionSizes(headDim, modelDim);
      !problem.empty())
    return problem;
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

  // M = W_q^T W_k applied implicitly: M v = W_q^T (W_k v),
  // M^T u = W_k^T (W_q u) (4 dHead dModel multiply-adds per step).
  std::vector<double> headSpace(headDim);
  iteratePower(
      modelDim, modelDim, options,
      [&](const std::vector<double> &v, std::vector<double> &out) {
        multiply(keyRows, headDim, modelDim, v, headSpace);
        multiplyTransposed(queryRows, headDim, modelDim, headSpace, out);
      },
      [&](const std::vector<double> &u, std::vector<double> &out) {
        multiply(queryRows, headDim, modelDim, u, headSpace);
        multiplyTransposed(keyRows, headDim, modelDim, headSpace, out);
      },
      estimate);
  return "";
}

std::string lpattn::estimateSpectralNorm(const float *rows, int64_t numRows,
                                         int64_t numColumns,
                                         const PowerIterationOptions &options,
                                         SpectralNormEstimate &estimate) {
  return estimateNamedSpectralNorm("weight", rows, numRows, numColumns,
                                   options, estimate);
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
  if (std::string problem = checkHeadCounts(numQueryHeads, numKVHeads);
      !problem.empty())
    return problem;
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

std::string lpattn::estimatePerHeadRoPESafeQKSigmas(
    const float *queryWeight, const float *keyWeight, int64_t numQueryHeads,
    int64_t numKVHeads, int64_t headDim, int64_t modelDim,
    const PowerIterationOptions &options,
    std::vector<SpectralNormEstimate> &perHead) {
  perHead.clear();
  if (std::string problem = checkHeadCounts(numQueryHeads, numKVHeads);
      !problem.empty())
    return problem;
  std::vector<SpectralNormEstimate> keyNorms(numKVHeads);
  for (int64_t g = 0; g < numKVHeads; ++g)
    if (std::string problem = estimateNamedSpectralNorm(
            "key weight", keyWeight + g * headDim * modelDim, headDim,
            modelDim, options, keyNorms[g]);
        !problem.empty())
      return "KV head " + std::to_string(g) + ": " + problem;
  perHead.resize(numQueryHeads);
  for (int64_t h = 0; h < numQueryHeads; ++h) {
    SpectralNormEstimate queryNorm;
    if (std::string problem = estimateNamedSpectralNorm(
            "query weight", queryWeight + h * headDim * modelDim, headDim,
            modelDim, options, queryNorm);
        !problem.empty()) {
      perHead.clear();
      return "query head " + std::to_string(h) + ": " + problem;
    }
    const SpectralNormEstimate &keyNorm =
        keyNorms[getKVHeadOfQueryHead(h, numQueryHeads, numKVHeads)];
    perHead[h].sigma = queryNorm.sigma * keyNorm.sigma;
    perHead[h].iterations = std::max(queryNorm.iterations, keyNorm.iterations);
    perHead[h].converged = queryNorm.converged && keyNorm.converged;
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
