//===- FormatsTest.cpp - tests of the low-precision format library --------===//
//
// Every function of lpattn/Numerics/Formats.h, with the e4m3/e5m2 edge values
// of SPEC.md (448, 57344, 2^-9, 2^-16) and round-to-nearest-even ties. The
// expected FP8 values come from the OCP bit-field definition written out
// independently here, not from APFloat.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Numerics/Formats.h"

#include "gtest/gtest.h"

#include <cmath>
#include <limits>

using namespace lpattn;

namespace {

constexpr FloatFormat kFP8[] = {FloatFormat::F8E4M3FN, FloatFormat::F8E5M2};
constexpr OverflowMode kSat = OverflowMode::SatFinite;
constexpr OverflowMode kNonSat = OverflowMode::NonSat;

/// Independent decoding of an OCP FP8 code from its bit fields.
double decodeOCP(uint32_t code, FloatFormat format) {
  bool e4m3 = format == FloatFormat::F8E4M3FN;
  int mantBits = e4m3 ? 3 : 2, bias = e4m3 ? 7 : 15;
  int sign = (code >> 7) & 1;
  int exp = (code >> mantBits) & ((1 << (7 - mantBits)) - 1);
  int mant = code & ((1 << mantBits) - 1);
  int maxExp = (1 << (7 - mantBits)) - 1;
  if (e4m3 && exp == maxExp && mant == (1 << mantBits) - 1)
    return std::numeric_limits<double>::quiet_NaN();
  if (!e4m3 && exp == maxExp)
    return mant ? std::numeric_limits<double>::quiet_NaN()
                : (sign ? -INFINITY : INFINITY);
  double value = exp == 0 ? std::ldexp(mant, 1 - bias - mantBits)
                          : std::ldexp((1 << mantBits) + mant,
                                       exp - bias - mantBits);
  return sign ? -value : value;
}

TEST(FormatsTest, NamesRoundTrip) {
  for (FloatFormat f : {FloatFormat::F32, FloatFormat::F16, FloatFormat::BF16,
                        FloatFormat::F8E4M3FN, FloatFormat::F8E5M2}) {
    EXPECT_EQ(parseFloatFormat(getFormatName(f)), f);
    EXPECT_EQ(getFloatFormat(getSemantics(f)), f);
  }
  EXPECT_EQ(getFormatName(FloatFormat::F8E4M3FN), "f8E4M3FN");
  EXPECT_FALSE(parseFloatFormat("f8E4M3FNUZ").has_value());
  EXPECT_FALSE(parseFloatFormat("").has_value());
  EXPECT_FALSE(getFloatFormat(llvm::APFloat::IEEEdouble()).has_value());
}

TEST(FormatsTest, BitWidth) {
  EXPECT_EQ(getBitWidth(FloatFormat::F32), 32u);
  EXPECT_EQ(getBitWidth(FloatFormat::F16), 16u);
  EXPECT_EQ(getBitWidth(FloatFormat::BF16), 16u);
  EXPECT_EQ(getBitWidth(FloatFormat::F8E4M3FN), 8u);
  EXPECT_EQ(getBitWidth(FloatFormat::F8E5M2), 8u);
  EXPECT_TRUE(isFP8(FloatFormat::F8E5M2));
  EXPECT_FALSE(isFP8(FloatFormat::BF16));
}

TEST(FormatsTest, MaxFinite) {
  EXPECT_EQ(getMaxFinite(FloatFormat::F8E4M3FN), 448.0);
  EXPECT_EQ(getMaxFinite(FloatFormat::F8E5M2), 57344.0);
  EXPECT_EQ(getMaxFinite(FloatFormat::F16), 65504.0);
  EXPECT_EQ(getMaxFinite(FloatFormat::BF16), std::ldexp(255.0, 120));
  EXPECT_EQ(getMaxFinite(FloatFormat::F32),
            double(std::numeric_limits<float>::max()));
}

TEST(FormatsTest, SmallestSubnormalAndNormal) {
  EXPECT_EQ(getSmallestSubnormal(FloatFormat::F8E4M3FN), std::ldexp(1.0, -9));
  EXPECT_EQ(getSmallestSubnormal(FloatFormat::F8E5M2), std::ldexp(1.0, -16));
  EXPECT_EQ(getSmallestSubnormal(FloatFormat::F16), std::ldexp(1.0, -24));
  EXPECT_EQ(getSmallestSubnormal(FloatFormat::BF16), std::ldexp(1.0, -133));
  EXPECT_EQ(getSmallestSubnormal(FloatFormat::F32), std::ldexp(1.0, -149));
  EXPECT_EQ(getSmallestNormal(FloatFormat::F8E4M3FN), std::ldexp(1.0, -6));
  EXPECT_EQ(getSmallestNormal(FloatFormat::F8E5M2), std::ldexp(1.0, -14));
  EXPECT_EQ(getSmallestNormal(FloatFormat::F16), std::ldexp(1.0, -14));
  EXPECT_EQ(getSmallestNormal(FloatFormat::BF16), std::ldexp(1.0, -126));
}

TEST(FormatsTest, LargestPScale) {
  EXPECT_EQ(getLargestPScale(FloatFormat::F8E4M3FN), 256.0);
  EXPECT_EQ(getLargestPScale(FloatFormat::F8E5M2), 32768.0);
  EXPECT_EQ(getLargestPScale(FloatFormat::F16), 32768.0);
  EXPECT_EQ(getLargestPScale(FloatFormat::BF16), std::ldexp(1.0, 127));
  for (FloatFormat f : kFP8) {
    double s = getLargestPScale(f);
    EXPECT_TRUE(isPowerOfTwo(s));
    EXPECT_LE(s, getMaxFinite(f));
    EXPECT_GT(2 * s, getMaxFinite(f)) << "not the largest";
  }
}

TEST(FormatsTest, IsPowerOfTwo) {
  for (double v : {1.0, 2.0, 256.0, 32768.0, 0.5, std::ldexp(1.0, -20),
                   std::ldexp(1.0, -1074)})
    EXPECT_TRUE(isPowerOfTwo(v)) << v;
  for (double v : {0.0, -2.0, 3.0, 448.0, 255.0, 1.5, double(INFINITY),
                   std::nan("")})
    EXPECT_FALSE(isPowerOfTwo(v)) << v;
}

TEST(FormatsTest, DecodeAllFP8Codes) {
  for (FloatFormat f : kFP8)
    for (uint32_t code = 0; code < 256; ++code) {
      double expected = decodeOCP(code, f);
      float got = decode(code, f);
      if (std::isnan(expected)) {
        EXPECT_TRUE(std::isnan(got)) << getFormatName(f).str() << " " << code;
        continue;
      }
      EXPECT_EQ(double(got), expected) << getFormatName(f).str() << " " << code;
      // Every finite code (and +-0, +-Inf) re-encodes to itself.
      EXPECT_EQ(encodeRNE(got, f, kNonSat), code) << code;
    }
}

TEST(FormatsTest, E4M3EdgeValues) {
  FloatFormat f = FloatFormat::F8E4M3FN;
  EXPECT_EQ(encodeRNE(448.0f, f, kSat), 0x7Eu);
  EXPECT_EQ(encodeRNE(-448.0f, f, kSat), 0xFEu);
  // 464 is the tie between 448 (mantissa 110) and the NaN slot 480: even.
  EXPECT_EQ(encodeRNE(464.0f, f, kNonSat), 0x7Eu);
  EXPECT_EQ(encodeRNE(464.01f, f, kSat), 0x7Eu);
  EXPECT_EQ(encodeRNE(464.01f, f, kNonSat), 0x7Fu) << "no Inf: NaN";
  EXPECT_EQ(encodeRNE(1e30f, f, kSat), 0x7Eu);
  EXPECT_EQ(encodeRNE(INFINITY, f, kSat), 0x7Eu);
  EXPECT_EQ(encodeRNE(-INFINITY, f, kSat), 0xFEu);
  EXPECT_EQ(encodeRNE(INFINITY, f, kNonSat), 0x7Fu);
  EXPECT_EQ(encodeRNE(std::nanf(""), f, kSat), 0x7Fu);
  EXPECT_EQ(encodeRNE(-std::nanf(""), f, kSat), 0x7Fu);
  // Subnormals: 2^-9 is the smallest; 2^-10 is the tie with 0 (even: 0).
  EXPECT_EQ(encodeRNE(std::ldexp(1.0f, -9), f, kSat), 0x01u);
  EXPECT_EQ(encodeRNE(std::ldexp(1.0f, -10), f, kSat), 0x00u);
  EXPECT_EQ(encodeRNE(std::nextafter(std::ldexp(1.0f, -10), 1.0f), f, kSat),
            0x01u);
  EXPECT_EQ(encodeRNE(-std::ldexp(1.0f, -11), f, kSat), 0x80u) << "-0";
  // 3 * 2^-10: tie between codes 1 and 2 rounds to even (2).
  EXPECT_EQ(encodeRNE(3 * std::ldexp(1.0f, -10), f, kSat), 0x02u);
  // 5 * 2^-10: tie between codes 2 and 3 rounds to even (2).
  EXPECT_EQ(encodeRNE(5 * std::ldexp(1.0f, -10), f, kSat), 0x02u);
  // Smallest normal 2^-6 and the carry from the largest subnormal.
  EXPECT_EQ(encodeRNE(std::ldexp(1.0f, -6), f, kSat), 0x08u);
  EXPECT_EQ(encodeRNE(15 * std::ldexp(1.0f, -10), f, kSat), 0x08u);
  // Normal ties: 1 + 1/16 -> 1 (even), 1 + 3/16 -> 1.25 (even).
  EXPECT_EQ(castRNE(1.0625f, f, kSat), 1.0f);
  EXPECT_EQ(castRNE(1.1875f, f, kSat), 1.25f);
}

TEST(FormatsTest, E5M2EdgeValues) {
  FloatFormat f = FloatFormat::F8E5M2;
  EXPECT_EQ(encodeRNE(57344.0f, f, kSat), 0x7Bu);
  // 61440 is the tie between 57344 (mantissa 11) and 65536 (Inf): even.
  EXPECT_EQ(encodeRNE(61440.0f, f, kNonSat), 0x7Cu);
  EXPECT_EQ(encodeRNE(61440.0f, f, kSat), 0x7Bu);
  EXPECT_EQ(encodeRNE(61439.0f, f, kNonSat), 0x7Bu);
  EXPECT_EQ(encodeRNE(-1e9f, f, kNonSat), 0xFCu) << "-Inf";
  EXPECT_EQ(encodeRNE(-1e9f, f, kSat), 0xFBu);
  EXPECT_EQ(encodeRNE(INFINITY, f, kSat), 0x7Bu);
  EXPECT_EQ(encodeRNE(INFINITY, f, kNonSat), 0x7Cu);
  EXPECT_EQ(encodeRNE(std::nanf(""), f, kNonSat), 0x7Fu);
  EXPECT_EQ(encodeRNE(std::ldexp(1.0f, -16), f, kSat), 0x01u);
  EXPECT_EQ(encodeRNE(std::ldexp(1.0f, -17), f, kSat), 0x00u) << "tie to 0";
  EXPECT_EQ(encodeRNE(3 * std::ldexp(1.0f, -17), f, kSat), 0x02u);
  EXPECT_EQ(castRNE(1.125f, f, kSat), 1.0f) << "tie to even";
  EXPECT_EQ(castRNE(1.375f, f, kSat), 1.5f) << "tie to even";
}

/// Every midpoint between adjacent finite FP8 codes rounds to the even code;
/// the floats just beside it round to the nearer code.
TEST(FormatsTest, AllFP8MidpointsTieToEven) {
  for (FloatFormat f : kFP8)
    for (uint32_t code = 0; code < 0x7F; ++code) {
      double lo = decodeOCP(code, f), hi = decodeOCP(code + 1, f);
      if (!std::isfinite(lo) || !std::isfinite(hi))
        continue;
      float mid = static_cast<float>((lo + hi) / 2); // exact in f32
      uint32_t even = (code & 1) ? code + 1 : code;
      EXPECT_EQ(encodeRNE(mid, f, kSat), even) << getFormatName(f).str()
                                               << " mid " << mid;
      EXPECT_EQ(encodeRNE(std::nextafter(mid, -1.0f), f, kSat), code);
      EXPECT_EQ(encodeRNE(std::nextafter(mid, 1e9f), f, kSat), code + 1);
      EXPECT_EQ(encodeRNE(-mid, f, kSat), even | 0x80u);
    }
}

TEST(FormatsTest, SixteenBitCasts) {
  EXPECT_EQ(castRNE(1.0f + std::ldexp(1.0f, -11), FloatFormat::F16, kSat),
            1.0f);
  EXPECT_EQ(castRNE(1.0f + 3 * std::ldexp(1.0f, -11), FloatFormat::F16, kSat),
            1.0f + std::ldexp(1.0f, -9));
  EXPECT_EQ(castRNE(65520.0f, FloatFormat::F16, kSat), 65504.0f);
  EXPECT_TRUE(std::isinf(castRNE(65520.0f, FloatFormat::F16, kNonSat)));
  EXPECT_EQ(castRNE(65519.0f, FloatFormat::F16, kNonSat), 65504.0f);
  EXPECT_EQ(encodeRNE(std::nanf(""), FloatFormat::F16, kSat), 0x7FFFu);
  EXPECT_EQ(castRNE(1.0f + std::ldexp(1.0f, -8), FloatFormat::BF16, kSat),
            1.0f);
  EXPECT_EQ(castRNE(1.0f + 3 * std::ldexp(1.0f, -8), FloatFormat::BF16, kSat),
            1.0f + std::ldexp(1.0f, -6));
  EXPECT_EQ(encodeRNE(1.0f, FloatFormat::BF16, kSat), 0x3F80u);
  EXPECT_EQ(encodeRNE(std::nanf(""), FloatFormat::BF16, kSat), 0x7FFFu);
  // f32 is the identity, NaN payload included.
  EXPECT_EQ(castRNE(0.1f, FloatFormat::F32, kSat), 0.1f);
  EXPECT_EQ(encodeRNE(-0.0f, FloatFormat::F32, kSat), 0x80000000u);
}

TEST(FormatsTest, PrecisionPolicySupport) {
  PrecisionPolicy fp8;
  fp8.qk = fp8.p = fp8.v = FloatFormat::F8E4M3FN;
  fp8.out = FloatFormat::BF16;
  EXPECT_EQ(fp8.checkSupported(), "");

  PrecisionPolicy isolating; // Q/K/V f32, only P cast to e4m3
  isolating.p = FloatFormat::F8E4M3FN;
  EXPECT_EQ(isolating.checkSupported(), "");

  PrecisionPolicy allBF16;
  allBF16.qk = allBF16.score = allBF16.p = allBF16.v = allBF16.acc =
      allBF16.out = FloatFormat::BF16;
  EXPECT_EQ(allBF16.checkSupported(), "");

  PrecisionPolicy fp8Acc = fp8;
  fp8Acc.acc = FloatFormat::F8E4M3FN;
  EXPECT_NE(fp8Acc.checkSupported().find("acc = f8E4M3FN"), std::string::npos);

  PrecisionPolicy f32InF16 = isolating;
  f32InF16.score = FloatFormat::F16;
  EXPECT_NE(f32InF16.checkSupported().find("needs score = f32"),
            std::string::npos);

  PrecisionPolicy mixed16 = allBF16;
  mixed16.v = FloatFormat::F16;
  EXPECT_NE(mixed16.checkSupported().find("cannot mix"), std::string::npos);

  PrecisionPolicy narrowAcc = fp8;
  narrowAcc.acc = FloatFormat::F16;
  EXPECT_NE(narrowAcc.checkSupported().find("must be f32 or the type of p"),
            std::string::npos);
}

} // namespace
