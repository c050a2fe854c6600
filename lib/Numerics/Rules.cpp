//===- Rules.cpp - numerics rules shared by the verifier and tools --------===//
//
// The lowering turns f64 attributes into f32 constants (Tile.cpp, the
// safeguard rewrites): a value f32 cannot hold would silently change the
// computation (2^-200 becomes 0 and the result all zeros), so these rules
// refuse it where it is stated, in the verifier and in lpattn-run.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Numerics/Rules.h"

#include "lpattn/Numerics/Formats.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cfloat>
#include <cmath>

using namespace lpattn;

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

std::string lpattn::checkExactInF32(llvm::StringRef what, double value) {
  std::string prefix = what.str() + " = " + formatNumber(value);
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

std::string lpattn::checkRoundsToF32(llvm::StringRef what, double value) {
  std::string why = describeF32Rounding(value);
  if (why.empty())
    return "";
  return what.str() + " = " + formatNumber(value) +
         " is not representable in f32, the arithmetic the lowering uses: " +
         why;
}
