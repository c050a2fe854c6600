//===- Selection.h - the cheapest safe precision policy ---------*- C++ -*-===//
//
// lpattn-select-precision's numerics, without MLIR: the candidate policies
// from cheapest to most expensive (one table), the rules that decide whether
// a candidate is safe for an attention given what is known about it (logit
// bound, common score offset, sink hint), and the choice itself with one
// sentence per decision, numbers included.
//
// The rules, each written once here:
//  * Q/K rounding: rounding Q and K to a type with unit roundoff u changes a
//    logit by at most (2u + u^2) L (L the bound on |c Q K^T|, as
//    sum |q_i k_i| <= |q| |k| and the bound is the Cauchy-Schwarz one), and
//    an f16/bf16 score tile adds u_score L. A known common offset O of the
//    scores (PASA's setting: a component all keys share) is rounded alike
//    for a whole row and cancels in the softmax, so the Q/K term uses
//    L - O. Safe when that worst-case logit error is at most a tolerance
//    (default 1: each P within a factor e of its exact value).
//  * f16 score tile: it holds the raw Q K^T = L / c (descales 1), which must
//    not exceed 65504. Above it, PASA removes a known common offset O of the
//    scores: the shifted tile holds at most (L - O) / c.
//  * P cast: P-Cast's threshold (getCollapseThreshold in Rules.h): with the
//    sink strength above Delta_c at S = 1, the P scale S = the largest safe
//    power of two and reverse KV order; above Delta_c even at that S, the p
//    type is not safe.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_NUMERICS_SELECTION_H
#define LPATTN_NUMERICS_SELECTION_H

#include "lpattn/Numerics/Formats.h"

#include "llvm/ADT/ArrayRef.h"

#include <optional>
#include <string>
#include <vector>

namespace lpattn {

/// One candidate of the cost table: the types of the two products (qk and
/// score; p and v) and why it sits where it does. acc is f32 throughout;
/// out and the overflow mode stay the op's own.
struct CandidatePolicy {
  const char *name;
  FloatFormat qk, score, p, v;
  const char *cost;
};

/// The candidates, cheapest first.
llvm::ArrayRef<CandidatePolicy> getCandidatePolicies();

/// What is known about one attention. A missing bound or sink strength is
/// std::nullopt, never a guess.
struct SelectionHints {
  /// L: a bound on |c q_ds k_ds Q K^T|, the scores the softmax sees.
  std::optional<double> logitBound;
  /// O: the magnitude of a common offset of those scores along the
  /// sequence (PASA's setting), in the same units as L.
  std::optional<double> scoreOffset;
  /// Delta, number of sinks and their jitter (lpattn-predict-collapse's).
  std::optional<double> sinkStrength;
  int64_t sinkCount = 4;
  double sinkJitter = 1.0;
  /// The op's softmax scale c, and whether it has descale operands (then
  /// the raw Q K^T an f16 score tile holds is unknown).
  double softmaxScale = 1.0;
  bool hasDescales = false;
  /// The op already uses the bias-corrected softmax (exclusive with PASA).
  bool biasCorrected = false;
  /// The largest worst-case logit error the Q/K rounding may cause.
  double maxLogitError = 1.0;
};

/// The chosen policy and its safeguards.
struct PrecisionChoice {
  const CandidatePolicy *candidate = nullptr;
  double pScale = 1.0;
  bool reverseKV = false;
  bool pasa = false;
  /// False when no candidate meets every rule (the last one is returned).
  bool safe = true;
  /// One sentence per decision of the chosen candidate, with its numbers.
  std::vector<std::string> reasons;
  /// "name (why)" for each cheaper candidate that was rejected.
  std::vector<std::string> rejected;
};

/// The largest P scale the selection sets: 2^15. P * S V is accumulated in
/// f32, so S must leave room for Nk values of |V| (2^31 keys of 65504 give
/// 2^62 S); the format's own largest S (2^127 for bf16) overflows it.
inline constexpr double kMaxSelectedPScale = 32768.0;

/// The default tolerance on the worst-case logit error of the Q/K rounding.
inline constexpr double kDefaultMaxLogitError = 1.0;

/// The unit roundoff 2^-p of a format (p its precision, implicit bit
/// included): 2^-4 e4m3, 2^-3 e5m2, 2^-11 f16, 2^-8 bf16, 2^-24 f32.
double getUnitRoundoff(FloatFormat format);

/// The worst-case logit error of rounding Q and K to `qk` and the raw
/// scores to `score`: (2u_qk + u_qk^2) L_spread + u_score L_tile. L_spread
/// is L - O where a common offset O is known (its rounding is shared by the
/// row and cancels in the softmax), else L; L_tile the bound on the scores
/// the tile holds (L - O after a PASA shift, else L); no tile term for an
/// f32 score tile, the MMA's own accumulator.
double getLogitRoundingError(FloatFormat qk, FloatFormat score,
                             double spreadBound, double tileLogitBound);

/// The hint values: finite and >= 0 (`what` names it in the message).
std::string checkLogitHint(std::string_view what, double value);
/// The tolerance: finite and > 0.
std::string checkMaxLogitError(double value);

/// The cheapest candidate every rule accepts, with its P scale, KV order and
/// softmax; the hints must have passed the checks above.
PrecisionChoice selectPrecision(const SelectionHints &hints);

} // namespace lpattn

#endif // LPATTN_NUMERICS_SELECTION_H
