//===- MetricsTest.cpp - tests of the error metrics -----------------------===//
//
// Hand-made vectors whose metrics are derived in the comments.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Lab/Metrics.h"

#include "gtest/gtest.h"

#include <cmath>
#include <limits>

using namespace lpattn::lab;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

ErrorMetrics metricsOf(std::vector<float> output,
                       std::vector<double> reference) {
  llvm::Expected<ErrorMetrics> metrics = computeMetrics(output, reference);
  EXPECT_TRUE(static_cast<bool>(metrics))
      << llvm::toString(metrics.takeError());
  return metrics ? *metrics : ErrorMetrics();
}

TEST(MetricsTest, FiniteVectors) {
  // Errors (0, 0.5, 0, 2): squares sum to 4.25, MSE = 4.25 / 4 = 1.0625,
  // max |err| = 2; sum ref^2 = 1 + 2.25 + 9 + 4 = 16.25, so the relative
  // RMSE is sqrt(4.25 / 16.25) = sqrt(17 / 65).
  ErrorMetrics m = metricsOf({1, 2, 3, 4}, {1, 1.5, 3, 2});
  EXPECT_EQ(m.mse, 1.0625);
  EXPECT_EQ(m.maxAbsError, 2.0);
  EXPECT_NEAR(m.relativeRMSE, std::sqrt(17.0 / 65.0), 1e-15);
  EXPECT_EQ(m.numFinite, 4);
  EXPECT_EQ(m.numNaN, 0);
  EXPECT_EQ(m.numInf, 0);
}

TEST(MetricsTest, NaNAndInfAreCountedNotAveraged) {
  // Only the last two entries are finite: errors (0, 2), MSE = 4 / 2 = 2,
  // max 2, relative RMSE = 2 / sqrt(1 + 1) = sqrt(2).
  ErrorMetrics m = metricsOf({kNaN, kInf, -kInf, 1, 3}, {0, 0, 0, 1, 1});
  EXPECT_EQ(m.numNaN, 1);
  EXPECT_EQ(m.numInf, 2);
  EXPECT_EQ(m.numFinite, 2);
  EXPECT_EQ(m.mse, 2.0);
  EXPECT_EQ(m.maxAbsError, 2.0);
  EXPECT_NEAR(m.relativeRMSE, std::sqrt(2.0), 1e-15);

  ErrorMetrics allBad = metricsOf({kNaN, kInf}, {1, 1});
  EXPECT_EQ(allBad.numFinite, 0);
  EXPECT_TRUE(std::isnan(allBad.mse));
  EXPECT_TRUE(std::isnan(allBad.maxAbsError));
  EXPECT_TRUE(std::isnan(allBad.relativeRMSE));
}

TEST(MetricsTest, NonFiniteReferenceIsCountedNotAveraged) {
  // A NaN input makes the float64 reference NaN where the low-precision
  // output may be finite (satfinite casts): such entries must not mix into
  // the statistics (MSE NaN next to max error 0 was the symptom).
  ErrorMetrics m = metricsOf({1, 2, 5}, {std::nan(""), HUGE_VAL, 4});
  EXPECT_EQ(m.numReferenceNonFinite, 2);
  EXPECT_EQ(m.numFinite, 1);
  EXPECT_EQ(m.mse, 1.0);
  EXPECT_EQ(m.maxAbsError, 1.0);

  ErrorMetrics none = metricsOf({1}, {std::nan("")});
  EXPECT_EQ(none.numFinite, 0);
  EXPECT_TRUE(std::isnan(none.mse));
  EXPECT_TRUE(std::isnan(none.maxAbsError));
}

TEST(MetricsTest, ZeroReference) {
  EXPECT_EQ(metricsOf({0, 0}, {0, 0}).relativeRMSE, 0.0);
  EXPECT_EQ(metricsOf({0, 1e-30f}, {0, 0}).relativeRMSE, kInf);
}

TEST(MetricsTest, FloatRoundingIsMeasuredInDouble) {
  // 0.1f differs from 0.1 by 1.4901161138336505e-09 (0.1f =
  // 13421773 * 2^-27 = 0.100000001490116...); a float computation would
  // lose it.
  ErrorMetrics m = metricsOf({0.1f}, {0.1});
  EXPECT_NEAR(m.maxAbsError, 1.4901161138336505e-09, 1e-24);
}

TEST(MetricsTest, SizeAndShapeMismatches) {
  llvm::Expected<ErrorMetrics> sizes =
      computeMetrics(std::vector<float>{1, 2}, std::vector<double>{1});
  ASSERT_FALSE(static_cast<bool>(sizes));
  EXPECT_EQ(llvm::toString(sizes.takeError()),
            "computeMetrics: the output has 2 elements but the reference has "
            "1");
  llvm::Expected<ErrorMetrics> shapes =
      computeMetrics(HostTensor::zeros({2, 3}), HostTensorF64::zeros({3, 2}));
  ASSERT_FALSE(static_cast<bool>(shapes));
  EXPECT_EQ(llvm::toString(shapes.takeError()),
            "computeMetrics: output shape [2, 3] differs from reference shape "
            "[3, 2]");
}

TEST(MetricsTest, BiasTOverRows) {
  // Three rows of two entries; row mean errors 1, 2, 3: mean 2, stddev 1,
  // t = 2 / (1 / sqrt(3)).
  HostTensor out = HostTensor::zeros({3, 2});
  out.data = {1, 1, 2, 2, 4, 2};
  HostTensorF64 ref = HostTensorF64::zeros({3, 2});
  llvm::Expected<ErrorMetrics> m = computeMetrics(out, ref);
  ASSERT_TRUE(static_cast<bool>(m));
  EXPECT_NEAR(m->biasT, 2.0 * std::sqrt(3.0), 1e-12);
  // Opposite errors: no bias.
  out.data = {1, 1, -1, -1, 0, 0};
  EXPECT_EQ(computeMetrics(out, ref)->biasT, 0.0);
  // One row: no spread to compare with.
  EXPECT_EQ(computeBiasT({1, 2}, {0, 0}, 2), 0.0);
}

} // namespace
