//===- HostFormats.cpp - lpattn's float formats on the host, no LLVM -------===//
//
// Encoding works on the exact double value: a float widens to double
// exactly, so rounding the double is rounding the float. The value is
// scaled by the quantum of its binade (a power of two, exact), rounded to an
// integer with ties to even (std::nearbyint in the default rounding mode)
// and scaled back; an even integer is an even mantissa, so ties go to the
// even code as IEEE 754 asks.
//
//===----------------------------------------------------------------------===//

#include "HostFormats.h"

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <cstring>
#include <limits>

using namespace lpattn;
using namespace lpattn::rt;

FormatLayout rt::getLayout(FloatFormat format) {
  switch (format) {
  case FloatFormat::F32:
    return {8, 23, 127, true};
  case FloatFormat::F16:
    return {5, 10, 15, true};
  case FloatFormat::BF16:
    return {8, 7, 127, true};
  case FloatFormat::F8E4M3FN:
    return {4, 3, 7, false};
  case FloatFormat::F8E5M2:
    return {5, 2, 15, true};
  }
  return {8, 23, 127, true};
}

unsigned rt::storageBytes(FloatFormat format) {
  FormatLayout l = getLayout(format);
  return (1 + l.exponentBits + l.mantissaBits) / 8;
}

std::string_view rt::storageDescr(FloatFormat format) {
  switch (storageBytes(format)) {
  case 1:
    return "|u1";
  case 2:
    return "<u2";
  default:
    return "<f4";
  }
}

double rt::maxFinite(FloatFormat format) {
  FormatLayout l = getLayout(format);
  int maxField = (1 << l.exponentBits) - (l.hasInfinity ? 2 : 1);
  // f8E4M3FN: the top binade's all-ones mantissa is the NaN.
  double maxMantissa = l.hasInfinity ? double((1u << l.mantissaBits) - 1)
                                     : double((1u << l.mantissaBits) - 2);
  return std::ldexp(double(1u << l.mantissaBits) + maxMantissa,
                    maxField - l.bias - int(l.mantissaBits));
}

double rt::decodeBits(uint32_t bits, FloatFormat format) {
  FormatLayout l = getLayout(format);
  uint32_t mantissaMask = (1u << l.mantissaBits) - 1;
  uint32_t fieldMask = (1u << l.exponentBits) - 1;
  uint32_t mantissa = bits & mantissaMask;
  uint32_t field = (bits >> l.mantissaBits) & fieldMask;
  bool negative = (bits >> (l.mantissaBits + l.exponentBits)) & 1;
  double value;
  if (field == fieldMask && l.hasInfinity)
    value = mantissa ? std::numeric_limits<double>::quiet_NaN()
                     : std::numeric_limits<double>::infinity();
  else if (field == fieldMask && mantissa == mantissaMask)
    value = std::numeric_limits<double>::quiet_NaN(); // f8E4M3FN
  else if (field == 0)
    value = std::ldexp(double(mantissa), 1 - l.bias - int(l.mantissaBits));
  else
    value = std::ldexp(double((1u << l.mantissaBits) | mantissa),
                       int(field) - l.bias - int(l.mantissaBits));
  return negative ? -value : value;
}

uint32_t rt::encodeBits(double x, FloatFormat format, bool satfinite) {
  if (format == FloatFormat::F32) {
    // As lpattn::encodeRNE: f32 passes through (NaN payloads, Inf).
    float f = static_cast<float>(x);
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    return bits;
  }
  FormatLayout l = getLayout(format);
  const unsigned m = l.mantissaBits;
  const uint32_t signBit = 1u << (l.exponentBits + m);
  const uint32_t allOnes = (signBit << 1) - 1;
  const uint32_t nan = allOnes >> 1; // positive, all-ones exponent and mantissa
  if (std::isnan(x))
    return nan;
  uint32_t sign = std::signbit(x) ? signBit : 0;
  double a = std::fabs(x);
  const double maxValue = maxFinite(format);
  const uint32_t fieldAllOnes = (1u << l.exponentBits) - 1;
  auto overflow = [&]() -> uint32_t {
    if (satfinite)
      return sign | encodeBits(maxValue, format, true);
    if (!l.hasInfinity)
      return sign | nan; // f8E4M3FN: S.1111.111, the sign kept
    return sign | (fieldAllOnes << m);
  };
  if (a == 0)
    return sign;
  if (std::isinf(a))
    return overflow();
  const int minExponent = 1 - l.bias; // of the smallest normal
  int e2;
  std::frexp(a, &e2); // a in [2^(e2-1), 2^e2)
  int quantumExp = std::max(e2 - 1, minExponent) - int(m);
  // Ties to even needs the default rounding mode; the tools never change it.
  double rounded =
      std::ldexp(std::nearbyint(std::ldexp(a, -quantumExp)), quantumExp);
  if (rounded > maxValue)
    return overflow();
  if (rounded == 0)
    return sign;
  std::frexp(rounded, &e2);
  int exponent = e2 - 1;
  if (exponent < minExponent)
    return sign | uint32_t(std::ldexp(rounded, -(minExponent - int(m))));
  uint32_t mantissa =
      uint32_t(std::ldexp(rounded, -(exponent - int(m)))) - (1u << m);
  return sign | (uint32_t(exponent + l.bias) << m) | mantissa;
}

double rt::ulpAt(double x, FloatFormat format) {
  if (!std::isfinite(x))
    return std::numeric_limits<double>::infinity();
  FormatLayout l = getLayout(format);
  const int minExponent = 1 - l.bias;
  double a = std::fabs(x);
  int e2 = minExponent + 1;
  if (a > 0)
    std::frexp(a, &e2);
  return std::ldexp(1.0, std::max(e2 - 1, minExponent) - int(l.mantissaBits));
}
