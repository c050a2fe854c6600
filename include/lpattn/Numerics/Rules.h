//===- Rules.h - numerics defaults and rules of an attention ----*- C++ -*-===//
//
// Every numerics default (softmax scale, P scale, softmax-variant parameters,
// tile sizes) and every rule on a numerics parameter, with its one message,
// written once. The IR verifier, the safeguard passes, the tools and the
// runners call these; none restates a default or a bound. No MLIR include.
//
// A check returns an empty string when the value is valid, otherwise one
// sentence saying what is wrong, the bound and the offending value.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_NUMERICS_RULES_H
#define LPATTN_NUMERICS_RULES_H

#include "lpattn/Numerics/Enums.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lpattn {

//===----------------------------------------------------------------------===//
// Defaults
//===----------------------------------------------------------------------===//

/// Tile sizes [Br, Bc] when neither the op nor an option sets them.
inline constexpr int64_t kDefaultTileQ = 64;
inline constexpr int64_t kDefaultTileKV = 64;

/// The default softmax scale c = 1/sqrt(D), exactly (the float64 reference
/// and the input generators of the lab).
double getExactDefaultSoftmaxScale(int64_t headDim);
/// The same, as the f32 the op stores and the lowering uses.
float getDefaultSoftmaxScale(int64_t headDim);

/// The default P-Cast scale of a p type: the largest power of two S with
/// 1 * S <= max finite (256 for f8E4M3FN, 32768 for f8E5M2 and f16) where
/// the p type flushes values f32 still holds; 1 for bf16 and f32, whose
/// range is f32's: P = exp(s - m) is computed in f32, so they lose no
/// small P to the cast, and S = 2^127 would only overflow l * S.
double getDefaultPScale(FloatFormat p);

/// The default beta and tol of a softmax variant; nullopt where the variant
/// takes no such parameter. bias_corrected: beta 2 (m' = beta * m, the LPTF
/// authors' code), tol 1e-3; pasa: beta 1 (the full mean).
std::optional<double> getDefaultSoftmaxBeta(SoftmaxVariant variant);
std::optional<double> getDefaultSoftmaxTol(SoftmaxVariant variant);

//===----------------------------------------------------------------------===//
// Rules
//===----------------------------------------------------------------------===//

/// The softmax scale c: finite and positive.
std::string checkSoftmaxScale(double scale);

/// The P scale S for p type `p`, when the running max may lag the true max
/// by `lagLog2` (log2 units, lazy rescaling; 0 for exact online softmax):
/// S is a power of two (so multiplying and dividing by it are exact) and
/// log2(S) + lag <= log2(max finite of p) (P * S never saturates).
std::string checkPScale(double pScale, FloatFormat p, double lagLog2 = 0.0);

/// The P scale S against the accumulation over `numKeys` keys: a row of
/// equal scores with V = 1 accumulates numKeys * S in `acc` and divides by
/// l * S in f32 (SPEC.md, O = acc / (l * S)), so numKeys * S must stay
/// within the max finite value of `acc` (at most f32's). Checked only for
/// S > 1: the overflow it rules out is then the P scale's doing (S = 2^127
/// is legal for p = bf16 by checkPScale and gives NaN from 2 keys on).
std::string checkPScaleAccumulation(double pScale, int64_t numKeys,
                                    FloatFormat acc);

/// The parameters of a softmax variant: present exactly when the variant
/// takes them; bias_corrected beta in (1, 1e6) (m' = beta * m must move
/// away from m), tol in [0, 1); pasa beta in (0, 1].
std::string checkSoftmaxParameters(SoftmaxVariant variant,
                                   std::optional<double> beta,
                                   std::optional<double> tol);

//===----------------------------------------------------------------------===//
// Values the lowering turns into f32 constants
//===----------------------------------------------------------------------===//
//
// The lowering turns f64 attributes into f32 constants: a value f32 cannot
// hold would silently change the computation (2^-200 becomes 0 and the
// result all zeros), so these rules refuse it where it is stated, in the
// verifier and in lpattn-run.

/// For a value the lowering must apply exactly (the P scale: multiplying P
/// by it and dividing it out must not round): empty if `value` is finite,
/// non-zero and exactly a normal f32 number, the arithmetic the lowering
/// turns it into; otherwise one sentence, starting with "`what` = value",
/// saying what f32 makes of it (for example 2^-200 becomes 0).
std::string checkExactInF32(std::string_view what, double value);

/// For a parameter the lowering rounds to an f32 constant (the softmax
/// scale, beta, tol): empty if `value` is finite and, unless it is 0, rounds
/// to a finite, non-zero, normal f32 (so the rounding changes it by at most
/// half an f32 ulp, 2^-24 relative); otherwise one sentence as above.
std::string checkRoundsToF32(std::string_view what, double value);

//===----------------------------------------------------------------------===//
// P-Cast collapse threshold
//===----------------------------------------------------------------------===//
//
// A non-sink P = exp(s - m) collapses when its cast rounds P * S to 0, i.e.
// when P * S <= u, u = getLargestFlushedToZero(p) (2^-10 for e4m3). With the
// running max set by a sink whose logit is Delta + delta_k above the N(0, 1)
// non-sink logits, half of those collapse at the sink strength
//   Delta_c = ln(1/u) + ln S - delta_k       (P-Cast; 6.93 + ln S - 1.03
//                                             for e4m3, 4 sinks, jitter 1)
// where delta_k = jitter * E[max of k standard normals].

/// E[max of k i.i.d. N(0, 1)] for k >= 1 (0 for k = 1; 0.5642 for k = 2;
/// 1.0294 for k = 4): the integral of x k phi(x) Phi(x)^(k-1) over x,
/// by composite Simpson on [-12, 12] (error below 1e-9 for k <= 10^6).
double getExpectedMaxOfNormals(int64_t k);

/// delta_k: the expected excess of the largest of `numSinks` sink logits
/// over the sink strength, with N(0, jitter^2) jitter on each.
double getSinkExcess(int64_t numSinks, double jitter);

/// ln(1/u) + ln S - delta_k for p type `p`, P scale `pScale`.
double getCollapseThreshold(FloatFormat p, double pScale, int64_t numSinks,
                            double jitter);

/// The non-sink keys that still share a KV tile with a sink (in reverse
/// order these are the only ones that can collapse): min(ceil(sinks / Bc)
/// * Bc, Nk) - sinks.
int64_t getSinkTileExposedKeys(int64_t numKeys, int64_t tileKV,
                               int64_t numSinks);

/// The sink hint: strength Delta finite and >= 0, 1 <= sinks <= 10^6,
/// jitter finite and >= 0.
std::string checkSinkHint(double strength, int64_t numSinks, double jitter);

} // namespace lpattn

#endif // LPATTN_NUMERICS_RULES_H
