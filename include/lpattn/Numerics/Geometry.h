//===- Geometry.h - geometry-aware logit bounds (RASB) -----------*- C++ -*-===//
//
// The numerics of the geometry-aware logit scale (RASB, "Rank-Aware Spectral
// Bounds on Attention Logits", SPEC.md): the spectral norm
// sigma = ||W_q^T W_k||_2 of one head's query/key interaction matrix by
// implicit power iteration (the dModel x dModel product is never formed), the
// per-head driver over fused projection weights (GQA), the bound on the
// logits from sigma and a token-norm bound, the power-of-two scale that puts
// that bound inside a format's max finite value, and the automatic alpha.
// No MLIR; this header includes only the standard library (and Enums.h), so
// a checkpoint tool can use it with LPAttnNumerics alone.
//
// Weights are PyTorch nn.Linear weights: row-major [heads * dHead x dModel],
// query head h owns rows h*dHead .. (h+1)*dHead; q = W_q x, k = W_k x, so
// q . k = x^T (W_q^T W_k) x' and |q . k| <= ||x|| ||x'|| sigma.
//
// RoPE does not keep that bound: it rotates q and k by position-dependent
// block rotations, so q_m . k_n = x^T W_q^T R_{n-m} W_k x', and
// ||W_q^T R W_k||_2 can exceed ||W_q^T W_k||_2 (W_q^T W_k = 0 while
// W_q^T R W_k != 0 when W_k's rows are W_q's turned by 90 degrees in each
// RoPE plane). What holds under any orthogonal position map R is
// |q . k| <= ||q|| ||k|| <= B_X^2 ||W_q||_2 ||W_k||_2, the RoPE-safe sigma
// (estimatePerHeadRoPESafeQKSigmas).
//
// Attributes on lpattn.attention (declared in LPAttnBase.td) that carry these
// numbers between tools and passes:
//   lpattn.qk_sigma    DenseF64ArrayAttr, sigma per query head, for the Q and
//                      K operands exactly as the op receives them (a
//                      checkpoint tool, lpattn-calibrate, writes it;
//                      lpattn-geometry-scale reads it or computes it).
//   lpattn.qk_sigma_rope_safe  UnitAttr: qk_sigma is the RoPE-safe
//                      ||W_q||_2 ||W_k||_2, a bound under any rotation.
//   lpattn.logit_bound FloatAttr f64: bound on |scores| fed to the softmax
//                      (after the softmax scale and descales), max over heads.
//   lpattn.qk_scale    FloatAttr f64: the power-of-two scale applied to Q K^T
//                      (lpattn-geometry-scale).
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_NUMERICS_GEOMETRY_H
#define LPATTN_NUMERICS_GEOMETRY_H

#include "lpattn/Numerics/Enums.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lpattn {

//===----------------------------------------------------------------------===//
// Spectral norm by implicit power iteration
//===----------------------------------------------------------------------===//

/// Defaults of the power iteration (the pass options' defaults too).
inline constexpr int64_t kDefaultPowerIterations = 200;
inline constexpr double kDefaultPowerTolerance = 1e-7;

struct PowerIterationOptions {
  /// At least 1.
  int64_t maxIterations = kDefaultPowerIterations;
  /// Stop when the estimate changes by at most this, relative; finite, > 0.
  double relativeTolerance = kDefaultPowerTolerance;
};

struct SpectralNormEstimate {
  /// The estimate of ||W_q^T W_k||_2. Power iteration approaches sigma from
  /// below, so an unconverged estimate is low, never high.
  double sigma = 0.0;
  int64_t iterations = 0;
  bool converged = false;
};

/// The power-iteration options: empty if valid, else one sentence.
std::string checkPowerIterationOptions(const PowerIterationOptions &options);

/// sigma = ||W_q^T W_k||_2 for one query head and its KV head. `queryRows`
/// and `keyRows` are that head's projection rows, [dHead x dModel] row-major
/// each. Iterates v <- M^T M v / ||.|| with M v = W_q^T (W_k v) and
/// M^T u = W_k^T (W_q u) (4 dHead dModel multiply-adds per step, sums in
/// double) from a fixed pseudo-random start vector (deterministic, and not
/// orthogonal to the top singular vector of any structured weight in
/// practice, unlike all-ones). A zero M gives sigma = 0, converged.
/// Returns empty on success; one sentence for bad sizes, bad options or a
/// non-finite weight (naming the matrix, row and column).
std::string estimateQKSpectralNorm(const float *queryRows,
                                   const float *keyRows, int64_t headDim,
                                   int64_t modelDim,
                                   const PowerIterationOptions &options,
                                   SpectralNormEstimate &estimate);

/// ||W||_2 of one head's projection rows, [numRows x numColumns] row-major,
/// by the same power iteration (on W^T W, from the same start vector).
/// Errors as estimateQKSpectralNorm.
std::string estimateSpectralNorm(const float *rows, int64_t numRows,
                                 int64_t numColumns,
                                 const PowerIterationOptions &options,
                                 SpectralNormEstimate &estimate);

/// The KV head query head `queryHead` attends with under GQA/MQA:
/// queryHead / (numQueryHeads / numKVHeads).
int64_t getKVHeadOfQueryHead(int64_t queryHead, int64_t numQueryHeads,
                             int64_t numKVHeads);

/// sigma per query head from fused projection weights: `queryWeight`
/// [numQueryHeads*dHead x dModel], `keyWeight` [numKVHeads*dHead x dModel],
/// row-major; query head h pairs with KV head getKVHeadOfQueryHead(h). The
/// key rows are never expanded per query head. `perHead` gets numQueryHeads
/// estimates. Errors as estimateQKSpectralNorm (naming the head), and for
/// numQueryHeads not a positive multiple of numKVHeads.
std::string estimatePerHeadQKSpectralNorms(
    const float *queryWeight, const float *keyWeight, int64_t numQueryHeads,
    int64_t numKVHeads, int64_t headDim, int64_t modelDim,
    const PowerIterationOptions &options,
    std::vector<SpectralNormEstimate> &perHead);

/// The RoPE-safe sigma per query head, sigma_rope,h = ||W_q^h||_2 ||W_k^g||_2
/// (g = getKVHeadOfQueryHead(h)): it bounds ||W_q^h^T R W_k^g||_2 for every
/// orthogonal R, RoPE's rotations at every relative position included.
/// Each projection's norm is estimated once (a KV head's serves its whole
/// group). An estimate's `iterations` is the larger of its two factors',
/// `converged` both; both factors approach their norms from below, so an
/// unconverged product is low too. Arguments and errors as
/// estimatePerHeadQKSpectralNorms.
std::string estimatePerHeadRoPESafeQKSigmas(
    const float *queryWeight, const float *keyWeight, int64_t numQueryHeads,
    int64_t numKVHeads, int64_t headDim, int64_t modelDim,
    const PowerIterationOptions &options,
    std::vector<SpectralNormEstimate> &perHead);

//===----------------------------------------------------------------------===//
// Token-norm bound
//===----------------------------------------------------------------------===//

/// B_X after an RMSNorm with gain g over dModel features: x / rms(x) has
/// norm exactly sqrt(dModel) (the eps in rms only shrinks it), so
/// ||x / rms(x) * g|| <= sqrt(dModel) max|g|, whatever x is.
double getRMSNormTokenNormBound(double maxAbsGain, int64_t modelDim);

/// B_X after a LayerNorm with gain g and bias b: (x - mean) / std has norm
/// sqrt(dModel) as above, so ||y|| <= sqrt(dModel) max|g| + ||b||_2.
double getLayerNormTokenNormBound(double maxAbsGain, double biasNorm,
                                  int64_t modelDim);

/// A token-norm bound given as an option: finite and > 0.
std::string checkTokenNormBound(double tokenNormBound);

//===----------------------------------------------------------------------===//
// Logit bound and scale
//===----------------------------------------------------------------------===//

/// Bound on |q . k| for tokens of norm <= B_X: B_X^2 sigma (RASB's
/// interaction bound). With RoPE it holds only for the RoPE-safe sigma
/// (estimatePerHeadRoPESafeQKSigmas), not for ||W_q^T W_k||_2.
double getQKProductBound(double sigma, double tokenNormBound);

/// Bound on a score fed to the softmax, |c q . k| <= c B_X^2 sigma, for
/// softmax scale c (descales folded into c by the caller).
double getLogitBound(double sigma, double tokenNormBound, double softmaxScale);
/// The same with the default softmax scale 1/sqrt(dHead) (the paper's
/// x^T M x' / sqrt(d_h)).
double getLogitBoundForHeadDim(double sigma, double tokenNormBound,
                               int64_t headDim);

/// The calibration factor alpha: finite and > 0 (alpha < 1 trusts that real
/// logits stay below the worst case, alpha > 1 adds a margin).
std::string checkGeometryAlpha(double alpha);

/// The scale of the Q K^T product: the largest power of two s <= 1 with
/// s * alpha * bound <= max finite of `format` (1 for a zero bound).
/// A power of two so that multiplying by s and by 1/s later is exact in
/// binary floating point: the scaled computation rounds exactly as the
/// unscaled one wherever neither overflows nor goes subnormal. At most 1
/// because scaling up buys no precision above the subnormal range and
/// could overflow Q or K themselves.
double getGeometryScale(double alpha, double bound, FloatFormat format);

/// The automatic alpha: RASB's rank-aware tail bound,
///   P(max |S_ij| > alpha * bound) <= 2 Nq Nk exp(-d^2 alpha^2 / (gamma r)),
/// solved for the alpha at which that probability is `failureProbability`:
///   alpha = sqrt(gamma r ln(2 Nq Nk / delta)) / d, at most 1
/// (d = dModel, r = rank of W_q^T W_k <= dHead, gamma the typicality
/// parameter). It assumes typical (isotropic) token directions; 1 is the
/// worst case that holds for every input, and what this returns for
/// arguments outside the bound's domain (sizes < 1, delta not in (0, 1),
/// gamma not finite and positive).
inline constexpr double kDefaultAutoAlphaFailureProbability = 1e-6;
inline constexpr double kDefaultAutoAlphaTypicality = 2.0;
double getAutoAlpha(int64_t modelDim, int64_t rank, int64_t numQueries,
                    int64_t numKeys,
                    double failureProbability =
                        kDefaultAutoAlphaFailureProbability,
                    double typicality = kDefaultAutoAlphaTypicality);

} // namespace lpattn

#endif // LPATTN_NUMERICS_GEOMETRY_H
