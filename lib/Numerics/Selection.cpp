//===- Selection.cpp - the cheapest safe precision policy -----------------===//

#include "lpattn/Numerics/Selection.h"
#include "lpattn/Numerics/Rules.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <iterator>

using namespace lpattn;

namespace {
using F = FloatFormat;

// Cheapest first. An FP8 product runs at twice the 16-bit tensor-core rate
// (FP8 MMAs take both inputs in FP8, so p and v are FP8 together); an f16
// score tile accumulates in half the registers of an f32 one; f16 and bf16
// cost the same, f16 has 3 more mantissa bits and bf16 f32's range; f32
// Q K^T runs on no tensor core at the low-precision rate.
const CandidatePolicy kCandidates[] = {
    {"fp8", F::F8E4M3FN, F::F32, F::F8E4M3FN, F::F8E4M3FN,
     "both products in FP8 (twice the 16-bit rate)"},
    {"f16qk-fp8pv", F::F16, F::F16, F::F8E4M3FN, F::F8E4M3FN,
     "Q K^T in f16 with an f16 score tile, P V in FP8"},
    {"bf16qk-fp8pv", F::BF16, F::F32, F::F8E4M3FN, F::F8E4M3FN,
     "Q K^T in bf16 with an f32 score tile, P V in FP8"},
    {"f16", F::F16, F::F16, F::F16, F::F16,
     "both products in f16, f16 score tile"},
    {"bf16", F::BF16, F::F32, F::BF16, F::BF16,
     "both products in bf16, f32 score tile"},
    {"f32qk-bf16pv", F::F32, F::F32, F::BF16, F::BF16,
     "Q K^T in f32 (no low-precision tensor-core rate), P V in bf16"},
};

std::string fixed2(double value) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%.2f", value);
  return text;
}

std::string name(FloatFormat format) { return getFormatName(format).str(); }

/// The Q K^T half of a candidate: nullopt-free failure text or "".
std::string checkProducts(const CandidatePolicy &c, const SelectionHints &h,
                          PrecisionChoice &choice) {
  bool f16Score = c.score == F::F16;
  if (!h.logitBound) {
    if (isFP8(c.qk) || f16Score)
      return std::string(isFP8(c.qk) ? "qk = " + name(c.qk)
                                     : "score = f16") +
             " needs a logit bound, and none is known (lpattn.logit_bound or "
             "logit-bound)";
    choice.reasons.push_back(
        "qk = " + name(c.qk) + ", score = " + name(c.score) +
        ": logit bound unknown, so nothing is assumed about the scores: " +
        name(c.qk) + " keeps f32's exponent range and the f32 score tile "
        "cannot overflow");
    return "";
  }
  double bound = *h.logitBound;
  // A known common offset is shared by every key of a row: its rounding is
  // the same for the whole row and cancels in the softmax, so the Q/K
  // rounding error scales with the rest, L - O.
  double spread = h.scoreOffset ? bound - *h.scoreOffset : bound;
  double tileBound = bound;
  if (f16Score) {
    double maxF16 = getMaxFinite(F::F16);
    if (h.hasDescales)
      return "score = f16 holds the raw Q K^T = L / (c q_ds k_ds), unknown "
             "with descale operands";
    double raw = bound / h.softmaxScale;
    bool overflows = raw > maxF16;
    // Rounding raw scores near 65504 to f16 moves them by up to 16, which
    // a shift to their common offset avoids as well.
    double unshifted = getLogitRoundingError(c.qk, c.score, spread, bound);
    bool canShift = h.scoreOffset && *h.scoreOffset > 0.0 && !h.biasCorrected;
    std::string rawText = "raw scores up to L / c = " + formatNumber(bound) +
                          " / " + formatNumber(h.softmaxScale) + " = " +
                          fixed2(raw);
    if ((overflows || unshifted > h.maxLogitError) && canShift) {
      double shifted = spread / h.softmaxScale;
      if (shifted > maxF16)
        return "score = f16: " + rawText + " > " + formatNumber(maxF16) +
               " even after PASA removes the offset O = " +
               formatNumber(*h.scoreOffset) + ": (L - O) / c = " +
               fixed2(shifted);
      choice.pasa = true;
      tileBound = spread;
      choice.reasons.push_back(
          "score = f16: " + rawText +
          (overflows ? " > " + formatNumber(maxF16)
                     : " round to f16 with a logit error up to " +
                           fixed2(unshifted)) +
          ": softmax = pasa, which removes the common offset O = " +
          formatNumber(*h.scoreOffset) + " and leaves (L - O) / c = " +
          fixed2(shifted));
    } else if (overflows) {
      std::string overflow =
          "score = f16: " + rawText + " > " + formatNumber(maxF16);
      if (h.biasCorrected)
        return overflow + " and PASA cannot replace the op's bias-corrected "
                          "softmax";
      return overflow + " and no score offset is known for PASA "
                        "(lpattn.score_offset or score-offset)";
    } else {
      choice.reasons.push_back("score = f16: " + rawText +
                               " <= " + formatNumber(maxF16));
    }
  }
  double error = getLogitRoundingError(c.qk, c.score, spread, tileBound);
  std::string terms =
      "(2u + u^2) " +
      (h.scoreOffset ? "(L - O) = (2u + u^2) " + formatNumber(spread)
                     : "L = (2u + u^2) " + formatNumber(bound)) +
      " with u = 2^" + std::to_string(std::ilogb(getUnitRoundoff(c.qk)));
  if (f16Score)
    terms += ", + 2^-11 " + formatNumber(tileBound) + " for the f16 tile";
  if (error > h.maxLogitError)
    return "qk = " + name(c.qk) + ": worst-case logit error " + fixed2(error) +
           " = " + terms + " > " + formatNumber(h.maxLogitError);
  choice.reasons.push_back("qk = " + name(c.qk) + ": worst-case logit error " +
                           fixed2(error) + " = " + terms + " <= " +
                           formatNumber(h.maxLogitError));
  return "";
}

/// The P V half: P-Cast's threshold decides S and the KV order.
std::string checkPCast(const CandidatePolicy &c, const SelectionHints &h,
                       PrecisionChoice &choice) {
  double largest = std::min(getDefaultPScale(c.p), kMaxSelectedPScale);
  double atOne = getCollapseThreshold(c.p, 1.0, h.sinkCount, h.sinkJitter);
  double atLargest =
      getCollapseThreshold(c.p, largest, h.sinkCount, h.sinkJitter);
  std::string p = "p = " + name(c.p);
  std::string safeguards = "p_scale = " + formatNumber(largest) +
                           ", kv_order = reverse (Delta_c = " +
                           fixed2(atLargest) + ")";
  if (!h.sinkStrength) {
    choice.pScale = largest;
    choice.reverseKV = true;
    choice.reasons.push_back(p + ": sink strength unknown, so " + safeguards +
                             (largest > 1.0 ? ", which cost one multiply"
                                            : ", which costs nothing"));
    return "";
  }
  double delta = *h.sinkStrength;
  if (delta <= atOne) {
    choice.reasons.push_back(p + ": sink strength " + formatNumber(delta) +
                             " <= collapse threshold " + fixed2(atOne) +
                             " at p_scale = 1");
    return "";
  }
  if (delta > atLargest)
    return p + ": sink strength " + formatNumber(delta) +
           " > collapse threshold " + fixed2(atLargest) +
           " even at p_scale = " + formatNumber(largest);
  choice.pScale = largest;
  choice.reverseKV = true;
  choice.reasons.push_back(p + ": sink strength " + formatNumber(delta) +
                           " > collapse threshold " + fixed2(atOne) +
                           " at p_scale = 1: " + safeguards);
  return "";
}

} // namespace

llvm::ArrayRef<CandidatePolicy> lpattn::getCandidatePolicies() {
  return kCandidates;
}

double lpattn::getUnitRoundoff(FloatFormat format) {
  return std::ldexp(
      1.0, -static_cast<int>(
               llvm::APFloat::semanticsPrecision(getSemantics(format))));
}

double lpattn::getLogitRoundingError(FloatFormat qk, FloatFormat score,
                                     double spreadBound,
                                     double tileLogitBound) {
  double u = getUnitRoundoff(qk);
  // An f32 score tile is the MMA's own accumulator: no extra rounding.
  double tileError =
      score == F::F32 ? 0.0 : getUnitRoundoff(score) * tileLogitBound;
  return (2.0 * u + u * u) * spreadBound + tileError;
}

std::string lpattn::checkLogitHint(std::string_view what, double value) {
  if (std::isfinite(value) && value >= 0.0)
    return "";
  return std::string(what) + " must be finite and >= 0, got " +
         formatNumber(value);
}

std::string lpattn::checkMaxLogitError(double value) {
  if (std::isfinite(value) && value > 0.0)
    return "";
  return "the logit error tolerance must be finite and > 0, got " +
         formatNumber(value);
}

PrecisionChoice lpattn::selectPrecision(const SelectionHints &hints) {
  std::vector<std::string> rejected;
  PrecisionChoice attempt;
  for (const CandidatePolicy &candidate : kCandidates) {
    attempt = PrecisionChoice();
    attempt.candidate = &candidate;
    // Both halves always run, so that an unsafe last candidate still gets
    // its safeguards and every reason.
    std::string problems[] = {checkProducts(candidate, hints, attempt),
                              checkPCast(candidate, hints, attempt)};
    std::string problem = problems[0].empty() ? problems[1]
                          : problems[1].empty()
                              ? problems[0]
                              : problems[0] + "; " + problems[1];
    if (problem.empty()) {
      attempt.rejected = std::move(rejected);
      return attempt;
    }
    if (&candidate == &kCandidates[std::size(kCandidates) - 1]) {
      // Nothing met every rule: the last, most precise candidate.
      attempt.safe = false;
      attempt.reasons.insert(attempt.reasons.begin(), problem);
      attempt.rejected = std::move(rejected);
      return attempt;
    }
    rejected.push_back(std::string(candidate.name) + " (" + problem + ")");
  }
  return attempt;
}
