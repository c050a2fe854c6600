//===- HostFormats.h - lpattn's float formats on the host, no LLVM -*- C++ -*-===//
//
// The GPU tools exchange tensors as storage codes (FP8 bytes, f16/bf16
// halfwords) and must turn the kernel's output back into numbers, on a
// machine without LLVM (whose APFloat the compiler side uses,
// lpattn/Numerics/Formats.h). These are the same formats, from their bit
// layouts: decoding is exact, encoding rounds to nearest even with
// satfinite or non-saturating overflow, exactly as lpattn::encodeRNE does
// (unittests/Runtime/GpuRunSupportTest.cpp checks every code and every
// rounding boundary against it).
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_RT_TOOLS_HOSTFORMATS_H
#define LPATTN_RT_TOOLS_HOSTFORMATS_H

#include "lpattn/Numerics/Enums.h"

#include <cstdint>
#include <string_view>

namespace lpattn::rt {

/// The bit layout of a format.
struct FormatLayout {
  unsigned exponentBits, mantissaBits;
  int bias;
  /// False for f8E4M3FN: no infinity, S.1111.111 is its only NaN.
  bool hasInfinity;
};
FormatLayout getLayout(FloatFormat format);

/// Storage bytes per element (1 for FP8).
unsigned storageBytes(FloatFormat format);

/// The numpy dtype a tensor of this format is exchanged as: '|u1' for FP8
/// codes, '<u2' for f16/bf16 codes, '<f4' for f32.
std::string_view storageDescr(FloatFormat format);

/// The exact value of storage bits `bits`.
double decodeBits(uint32_t bits, FloatFormat format);

/// Rounds `x` to `format` (nearest, ties to even) and returns its bits.
/// satfinite: overflow and +-Inf give +-max finite (CUDA __NV_SATFINITE);
/// otherwise Inf, or NaN (of x's sign) for f8E4M3FN. NaN gives the positive
/// all-ones NaN. f32 passes through unchanged (the bits of float(x); a
/// signaling NaN comes back quiet).
uint32_t encodeBits(double x, FloatFormat format, bool satfinite = true);

/// Largest finite value of the format.
double maxFinite(FloatFormat format);

/// The spacing of the format's values at |x|: the ulp of the binade of |x|
/// (the subnormal spacing below the smallest normal). Inf for non-finite x.
double ulpAt(double x, FloatFormat format);

} // namespace lpattn::rt

#endif // LPATTN_RT_TOOLS_HOSTFORMATS_H
