//===- RulesTest.cpp - the MLIR-free numerics core ------------------------===//
//
// Enum spellings round-trip; the defaults and the rules of
// lpattn/Numerics/Rules.h say what the SPEC says, and each check accepts its
// boundary values and refuses the ones just past them.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Numerics/Enums.h"
#include "lpattn/Numerics/Formats.h"
#include "lpattn/Numerics/KernelABI.h"
#include "lpattn/Numerics/Rules.h"

#include "gtest/gtest.h"

#include <cmath>
#include <limits>

using namespace lpattn;

namespace {

template <typename EnumT, typename Stringify, typename Symbolize>
void expectRoundTrip(std::initializer_list<EnumT> values, Stringify stringify,
                     Symbolize symbolize) {
  for (EnumT value : values) {
    std::string_view name = stringify(value);
    ASSERT_NE(name, "<invalid>");
    std::optional<EnumT> back = symbolize(name);
    ASSERT_TRUE(back.has_value()) << name;
    EXPECT_EQ(*back, value) << name;
  }
  EXPECT_FALSE(symbolize("no-such-spelling").has_value());
}

TEST(EnumsTest, SpellingsRoundTrip) {
  expectRoundTrip({FloatFormat::F32, FloatFormat::F16, FloatFormat::BF16,
                   FloatFormat::F8E4M3FN, FloatFormat::F8E5M2},
                  stringifyFloatFormat, symbolizeFloatFormat);
  expectRoundTrip({KVOrder::Forward, KVOrder::Reverse}, stringifyKVOrder,
                  symbolizeKVOrder);
  expectRoundTrip({SoftmaxVariant::Standard, SoftmaxVariant::BiasCorrected,
                   SoftmaxVariant::Pasa},
                  stringifySoftmaxVariant, symbolizeSoftmaxVariant);
  expectRoundTrip({OverflowMode::SatFinite, OverflowMode::NonSat},
                  stringifyOverflowMode, symbolizeOverflowMode);
  EXPECT_EQ(stringifyFloatFormat(FloatFormat::F8E4M3FN), "f8E4M3FN");
  EXPECT_EQ(stringifySoftmaxVariant(SoftmaxVariant::BiasCorrected),
            "bias_corrected");
}

TEST(RulesTest, Defaults) {
  EXPECT_EQ(getDefaultSoftmaxScale(64), 0.125f);
  EXPECT_EQ(getDefaultSoftmaxScale(128),
            static_cast<float>(1.0 / std::sqrt(128.0)));
  EXPECT_EQ(getDefaultPScale(FloatFormat::F8E4M3FN), 256.0);
  EXPECT_EQ(getDefaultPScale(FloatFormat::F8E5M2), 32768.0);
  EXPECT_EQ(getDefaultSoftmaxBeta(SoftmaxVariant::BiasCorrected), 2.0);
  EXPECT_EQ(getDefaultSoftmaxTol(SoftmaxVariant::BiasCorrected), 1e-3);
  EXPECT_EQ(getDefaultSoftmaxBeta(SoftmaxVariant::Pasa), 1.0);
  EXPECT_FALSE(getDefaultSoftmaxTol(SoftmaxVariant::Pasa).has_value());
  EXPECT_FALSE(getDefaultSoftmaxBeta(SoftmaxVariant::Standard).has_value());
  // Every default passes its own rule.
  for (SoftmaxVariant v : {SoftmaxVariant::Standard,
                           SoftmaxVariant::BiasCorrected,
                           SoftmaxVariant::Pasa})
    EXPECT_EQ(checkSoftmaxParameters(v, getDefaultSoftmaxBeta(v),
                                     getDefaultSoftmaxTol(v)),
              "");
  for (FloatFormat p : {FloatFormat::F8E4M3FN, FloatFormat::F8E5M2,
                        FloatFormat::F16, FloatFormat::BF16})
    EXPECT_EQ(checkPScale(getDefaultPScale(p), p), "");
}

TEST(RulesTest, PScale) {
  EXPECT_EQ(checkPScale(256, FloatFormat::F8E4M3FN), "");
  EXPECT_EQ(checkPScale(1, FloatFormat::F8E4M3FN), "");
  EXPECT_EQ(checkPScale(0.25, FloatFormat::F8E4M3FN), "");
  EXPECT_EQ(checkPScale(448, FloatFormat::F8E4M3FN),
            "p_scale = 448 is not a power of two: multiplying P by it and "
            "dividing it out would not be exact");
  EXPECT_EQ(checkPScale(512, FloatFormat::F8E4M3FN),
            "p_scale = 512 saturates P = 1: 1 * p_scale exceeds the max "
            "finite value 448 of p = f8E4M3FN (largest allowed power of "
            "two: 256)");
  EXPECT_NE(checkPScale(0, FloatFormat::F8E4M3FN), "");
  EXPECT_NE(checkPScale(-256, FloatFormat::F8E4M3FN), "");
  EXPECT_NE(checkPScale(std::numeric_limits<double>::infinity(),
                        FloatFormat::F8E4M3FN),
            "");
  // A lagging running max: 2^8 * 2^0.8 <= 448 < 2^8 * 2^1.
  EXPECT_EQ(checkPScale(128, FloatFormat::F8E4M3FN, 0.8), "");
  EXPECT_NE(checkPScale(256, FloatFormat::F8E4M3FN, 1.0)
                .find("P * S can reach 2^(8 + lag) = 512 > 448"),
            std::string::npos);
  EXPECT_NE(checkPScale(256, FloatFormat::F8E4M3FN, -1.0), "");
}

TEST(RulesTest, SoftmaxParameters) {
  using V = SoftmaxVariant;
  EXPECT_EQ(checkSoftmaxParameters(V::Standard, 2.0, std::nullopt),
            "softmax = standard takes no beta");
  EXPECT_EQ(checkSoftmaxParameters(V::Pasa, 1.0, 1e-3),
            "softmax = pasa takes no tol");
  EXPECT_EQ(checkSoftmaxParameters(V::BiasCorrected, std::nullopt, 1e-3),
            "softmax = bias_corrected needs a beta");
  EXPECT_EQ(checkSoftmaxParameters(V::BiasCorrected, 2.0, std::nullopt),
            "softmax = bias_corrected needs a tol");
  EXPECT_EQ(checkSoftmaxParameters(V::BiasCorrected, 1.0, 1e-3),
            "bias_corrected beta must be in (1, 1e6), got 1");
  EXPECT_EQ(checkSoftmaxParameters(V::BiasCorrected, 2.0, 1.0),
            "bias_corrected tol must be in [0, 1), got 1");
  EXPECT_EQ(checkSoftmaxParameters(V::BiasCorrected, 2.0, 0.0), "");
  EXPECT_EQ(checkSoftmaxParameters(V::Pasa, 1.0, std::nullopt), "");
  EXPECT_EQ(checkSoftmaxParameters(V::Pasa, 1.5, std::nullopt),
            "pasa beta must be in (0, 1], got 1.5");
  EXPECT_NE(checkSoftmaxParameters(V::Pasa, std::nan(""), std::nullopt), "");
}

TEST(RulesTest, SoftmaxScale) {
  EXPECT_EQ(checkSoftmaxScale(0.125), "");
  EXPECT_EQ(checkSoftmaxScale(0), "softmax scale must be finite and "
                                  "positive, got 0");
  EXPECT_NE(checkSoftmaxScale(-1), "");
  EXPECT_NE(checkSoftmaxScale(std::nan("")), "");
}

TEST(KernelABITest, ArgumentOrder) {
  using A = KernelArg;
  EXPECT_EQ(KernelSignature{}.arguments(),
            (std::vector<A>{A::Query, A::Key, A::Value}));
  EXPECT_EQ((KernelSignature{true, true, true}.arguments()),
            (std::vector<A>{A::Query, A::Key, A::Value, A::Mask,
                            A::QueryDescale, A::KeyDescale, A::ValueDescale,
                            A::CollapseStats}));
  EXPECT_EQ((KernelSignature{false, true, false}.arguments()),
            (std::vector<A>{A::Query, A::Key, A::Value, A::QueryDescale,
                            A::KeyDescale, A::ValueDescale}));
  EXPECT_EQ(getKernelArgName(A::KeyDescale), "k_ds");
  // Per-(batch, KV head) descales are the same arguments, as tensors.
  EXPECT_EQ((KernelSignature{false, true, false, true}.arguments()),
            (KernelSignature{false, true, false}.arguments()));
  EXPECT_TRUE(isDescaleArg(A::ValueDescale));
  EXPECT_FALSE(isDescaleArg(A::Mask));
}

} // namespace

//===----------------------------------------------------------------------===//
// P-Cast collapse threshold
//===----------------------------------------------------------------------===//

TEST(CollapseThresholdTest, LargestFlushedToZeroIsHalfTheSmallestSubnormal) {
  EXPECT_EQ(getLargestFlushedToZero(FloatFormat::F8E4M3FN), std::ldexp(1.0, -10));
  EXPECT_EQ(getLargestFlushedToZero(FloatFormat::F8E5M2), std::ldexp(1.0, -17));
  EXPECT_EQ(getLargestFlushedToZero(FloatFormat::F16), std::ldexp(1.0, -25));
  EXPECT_EQ(getLargestFlushedToZero(FloatFormat::BF16), std::ldexp(1.0, -134));
  EXPECT_EQ(getLargestFlushedToZero(FloatFormat::F32), std::ldexp(1.0, -150));
  // The cast agrees: u flushes, the next float above it does not.
  for (FloatFormat f : {FloatFormat::F8E4M3FN, FloatFormat::F8E5M2,
                        FloatFormat::F16, FloatFormat::BF16}) {
    float u = static_cast<float>(getLargestFlushedToZero(f));
    EXPECT_EQ(castRNE(u, f, OverflowMode::SatFinite), 0.0f);
    EXPECT_GT(castRNE(std::nextafter(u, 1.0f), f, OverflowMode::SatFinite),
              0.0f);
  }
}

TEST(CollapseThresholdTest, ExpectedMaxOfNormals) {
  // Closed forms for k = 2, 3 and the tabulated values for 4, 5.
  EXPECT_EQ(getExpectedMaxOfNormals(1), 0.0);
  EXPECT_NEAR(getExpectedMaxOfNormals(2), 1.0 / std::sqrt(M_PI), 1e-9);
  EXPECT_NEAR(getExpectedMaxOfNormals(3), 1.5 / std::sqrt(M_PI), 1e-9);
  EXPECT_NEAR(getExpectedMaxOfNormals(4), 1.0293754, 1e-6);
  EXPECT_NEAR(getExpectedMaxOfNormals(5), 1.1629645, 1e-6);
  EXPECT_NEAR(getSinkExcess(4, 2.0), 2.0 * 1.0293754, 2e-6);
}

TEST(CollapseThresholdTest, Threshold) {
  // P-Cast: 6.93 + ln S - 1.03 for e4m3, 4 sinks with N(0, 1) jitter.
  EXPECT_NEAR(getCollapseThreshold(FloatFormat::F8E4M3FN, 1.0, 4, 1.0),
              std::log(1024.0) - 1.0293754, 1e-6);
  EXPECT_NEAR(getCollapseThreshold(FloatFormat::F8E4M3FN, 256.0, 4, 1.0),
              std::log(1024.0 * 256.0) - 1.0293754, 1e-6);
  EXPECT_NEAR(getCollapseThreshold(FloatFormat::F8E5M2, 1.0, 1, 0.0),
              17.0 * std::log(2.0), 1e-12);
  EXPECT_EQ(getSinkTileExposedKeys(4096, 64, 4), 60);
  EXPECT_EQ(getSinkTileExposedKeys(4096, 64, 64), 0);
  EXPECT_EQ(getSinkTileExposedKeys(4096, 64, 65), 63);
  EXPECT_EQ(getSinkTileExposedKeys(40, 64, 4), 36);
  EXPECT_EQ(checkSinkHint(8.0, 4, 1.0), "");
  EXPECT_EQ(checkSinkHint(-1.0, 4, 1.0),
            "sink strength must be finite and >= 0, got -1");
  EXPECT_EQ(checkSinkHint(8.0, 0, 1.0),
            "number of sinks must be in [1, 1000000], got 0");
  EXPECT_EQ(checkSinkHint(8.0, 4, -0.5),
            "sink jitter must be a finite standard deviation >= 0, got -0.5");
}
