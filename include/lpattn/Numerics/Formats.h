//===- Formats.h - low-precision float formats -------------------*- C++ -*-===//
//
// Facts about the floating-point formats of lpattn (max finite, smallest
// subnormal and normal, the largest P scale) and the round-to-nearest-even
// casts into them, all derived from llvm::APFloat semantics: no hand-typed
// float tables. Used by the verifier, the passes, the CPU emulation and the
// tests. No MLIR dependency.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_NUMERICS_FORMATS_H
#define LPATTN_NUMERICS_FORMATS_H

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>

#include "lpattn/Numerics/Enums.h"

namespace lpattn {

/// MLIR spelling of a format ("f32", "f16", "bf16", "f8E4M3FN", "f8E5M2").
inline llvm::StringRef getFormatName(FloatFormat format) {
  return stringifyFloatFormat(format);
}
/// Inverse of getFormatName; nullopt for any other name.
inline std::optional<FloatFormat> parseFloatFormat(llvm::StringRef name) {
  return symbolizeFloatFormat(name);
}
/// The format of APFloat semantics `sem`; nullopt if lpattn does not use it.
std::optional<FloatFormat> getFloatFormat(const llvm::fltSemantics &sem);
const llvm::fltSemantics &getSemantics(FloatFormat format);

/// Storage width in bits (8, 16 or 32).
unsigned getBitWidth(FloatFormat format);
bool isFP8(FloatFormat format);

/// Largest finite value: 448 (e4m3), 57344 (e5m2), 65504 (f16), ...
double getMaxFinite(FloatFormat format);
/// Smallest positive subnormal: 2^-9 (e4m3), 2^-16 (e5m2), 2^-24 (f16), ...
double getSmallestSubnormal(FloatFormat format);
/// Smallest positive normal: 2^-6 (e4m3), 2^-14 (e5m2 and f16), ...
double getSmallestNormal(FloatFormat format);

/// The largest positive value that rounds to 0 in `format` (round to
/// nearest, ties to even): half the smallest subnormal, which ties to the
/// even 0. 2^-10 (e4m3), 2^-17 (e5m2), 2^-25 (f16), 2^-134 (bf16), 2^-150
/// (f32). Derived and checked with APFloat conversions.
double getLargestFlushedToZero(FloatFormat format);

/// The default P-Cast scale: the largest power of two S with 1 * S not above
/// the max finite value of `format` (256 for e4m3, 32768 for e5m2).
double getLargestPScale(FloatFormat format);

/// The shortest readable form of a number for diagnostics: 448, 0.125, inf.
std::string formatNumber(double value);

/// True for finite, positive, exact powers of two (including 2^-k).
bool isPowerOfTwo(double value);

/// Rounds `x` to `format` (round to nearest, ties to even) and returns the
/// storage bits. With SatFinite, overflow and +-Inf clamp to +-max finite
/// (CUDA __NV_SATFINITE); with NonSat they become Inf, or NaN for e4m3 which
/// has none. Any NaN becomes the positive all-ones NaN, as CUDA's
/// conversions do; f32 passes through unchanged.
uint32_t encodeRNE(float x, FloatFormat format, OverflowMode overflow);
/// The value of storage bits `bits` of `format`, exactly, as a float.
float decode(uint32_t bits, FloatFormat format);
/// decode(encodeRNE(x, ...)): the value the cast produces.
float castRNE(float x, FloatFormat format, OverflowMode overflow);

//===----------------------------------------------------------------------===//
// PrecisionPolicy
//===----------------------------------------------------------------------===//

/// The precision policy of one attention, in plain C++ (the IR form is
/// #lpattn.precision). Field meanings as in SPEC.md "The computation".
struct PrecisionPolicy {
  FloatFormat qk = FloatFormat::F32;    ///< Q K^T product inputs
  FloatFormat score = FloatFormat::F32; ///< Q K^T accumulator (score tile)
  FloatFormat p = FloatFormat::F32;     ///< P after its cast
  FloatFormat v = FloatFormat::F32;     ///< V operand of the P V product
  FloatFormat acc = FloatFormat::F32;   ///< P V accumulator
  FloatFormat out = FloatFormat::F32;   ///< result
  OverflowMode overflow = OverflowMode::SatFinite;

  /// Empty if the combination is supported, otherwise why it is not (one
  /// sentence, used verbatim by the IR verifier).
  std::string checkSupported() const;
};

} // namespace lpattn

#endif // LPATTN_NUMERICS_FORMATS_H
