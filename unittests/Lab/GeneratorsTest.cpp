//===- GeneratorsTest.cpp - tests of the reproducible input generators ----===//
//
// Each generator is checked for what it promises in Generators.h, measured
// on the realized float tensors: reproducibility, the sink gap, the common
// offset that cancels in the softmax, exact ties. Statistical tolerances are
// a few standard errors of the estimate, derived next to each check.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Lab/Generators.h"

#include "llvm/ADT/bit.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>

using namespace lpattn::lab;

namespace {

std::vector<uint32_t> bitsOf(const HostTensor &tensor) {
  std::vector<uint32_t> bits;
  for (float value : tensor.data)
    bits.push_back(llvm::bit_cast<uint32_t>(value));
  return bits;
}

/// Raw score q.k of query m and key n of head h, in double.
double score(const AttentionInputs &in, int64_t h, int64_t m, int64_t n,
             int64_t firstCoordinate = 0) {
  double dot = 0.0;
  for (int64_t i = firstCoordinate; i < in.q.shape[3]; ++i)
    dot += double(in.q.at(0, h, m, i)) * double(in.k.at(0, h, n, i));
  return dot;
}

struct Moments {
  double mean = 0.0, variance = 0.0;
};
Moments momentsOf(const std::vector<double> &values) {
  Moments moments;
  for (double value : values)
    moments.mean += value;
  moments.mean /= double(values.size());
  for (double value : values)
    moments.variance += (value - moments.mean) * (value - moments.mean);
  moments.variance /= double(values.size() - 1);
  return moments;
}

TEST(GeneratorsTest, NormalSamplerIsStandardNormal) {
  // N = 2^20 deviates: standard errors are 1/sqrt(N) ~ 0.001 for the mean,
  // sqrt(2/N) ~ 0.0014 for the variance and sqrt(p(1-p)/N) ~ 0.00045 for
  // P(|z| < 1) = erf(1/sqrt(2)) = 0.6827; the tolerances are ~5 of them.
  NormalSampler normal(42);
  std::vector<double> values(1 << 20);
  int64_t withinOne = 0;
  for (double &value : values) {
    value = normal.next();
    withinOne += std::fabs(value) < 1.0;
  }
  Moments moments = momentsOf(values);
  EXPECT_NEAR(moments.mean, 0.0, 0.005);
  EXPECT_NEAR(moments.variance, 1.0, 0.007);
  EXPECT_NEAR(double(withinOne) / double(values.size()),
              std::erf(1.0 / std::sqrt(2.0)), 0.0025);
}

TEST(GeneratorsTest, RandomNormalIsReproducible) {
  HostTensor a = randomNormal({2, 3, 17, 8}, 7);
  HostTensor b = randomNormal({2, 3, 17, 8}, 7);
  HostTensor c = randomNormal({2, 3, 17, 8}, 8);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3, 17, 8}));
  EXPECT_EQ(bitsOf(a), bitsOf(b));
  EXPECT_NE(bitsOf(a), bitsOf(c));
  // mean + stddev * z from the same z.
  HostTensor shifted = randomNormal({2, 3, 17, 8}, 7, 3.0, 2.0);
  for (size_t i = 0; i < a.data.size(); ++i)
    EXPECT_NEAR(shifted.data[i], 3.0 + 2.0 * a.data[i], 1e-5);
}

TEST(GeneratorsTest, SinkLogitsHaveTheGap) {
  for (bool perHead : {false, true}) {
  SCOPED_TRACE(perHead ? "jitter per head" : "jitter per row");
  SinkAttentionOptions options;
  options.numHeads = 2;
  options.numQueries = 256;
  options.numKeys = 512;
  options.headDim = 64;
  options.sinks = {/*numSinks=*/4, /*delta=*/10.0, /*jitterStddev=*/1.0,
                   perHead};
  options.alpha = 0.75;
  // Not 1/sqrt(D), where sigma = (c^2 (D - 1))^(-1/4) would be ~1 anyway.
  options.scale = 0.5;
  options.seed = 3;
  llvm::Expected<SinkAttention> in = generateSinkAttention(options);
  ASSERT_TRUE(static_cast<bool>(in)) << llvm::toString(in.takeError());
  EXPECT_EQ(in->scale, 0.5);
  ASSERT_EQ(in->sinkJitter.size(), perHead ? 2u * 4u : 2u * 256u * 4u);
  EXPECT_EQ(in->v.shape, (std::vector<int64_t>{1, 2, 512, 64}));

  std::vector<double> nonSink;
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t m = 0; m < 256; ++m)
      for (int64_t n = 0; n < 512; ++n) {
        double logit = in->scale * score(*in, h, m, n);
        if (n >= 4) {
          nonSink.push_back(logit);
          continue;
        }
        // Exact up to the float rounding of K[s, 0] (relative 2^-24).
        size_t index = perHead ? h * 4 + n : (h * 256 + m) * 4 + n;
        EXPECT_NEAR(logit - 10.0, in->sinkJitter[index], 1e-5);
      }
  // The logits share query rows and key columns, so they are not
  // independent: the standard error of the mean is ~1/sqrt(Nq Nk) ~ 0.003 and
  // of the variance ~0.015 (fluctuation of the 63 per-coordinate second
  // moments); the tolerances are ~5 of them.
  Moments moments = momentsOf(nonSink);
  EXPECT_NEAR(moments.mean, 0.0, 0.02);
  EXPECT_NEAR(moments.variance, 1.0, 0.08);
  // The jitter is a real N(0, 1) draw per sink, not all zero or equal.
  EXPECT_NE(in->sinkJitter[0], in->sinkJitter[1]);
  if (!perHead) {
    // 2048 draws per row: N(0, 1) (standard errors 0.022 and 0.031), and
    // delta_k near E[max of 4 N(0, 1)] = 1.029 (standard error ~0.015).
    Moments jitter = momentsOf(in->sinkJitter);
    EXPECT_NEAR(jitter.mean, 0.0, 0.1);
    EXPECT_NEAR(jitter.variance, 1.0, 0.15);
    EXPECT_NEAR(realizedSinkExcess(in->sinkJitter, 4), 1.029, 0.08);
    // Jitter and non-sink logits of a row are uncorrelated.
    double cross = 0.0;
    for (int64_t m = 0; m < 256; ++m)
      cross += in->sinkJitter[m * 4] * in->scale * score(*in, 0, m, 4);
    EXPECT_NEAR(cross / 256.0, 0.0, 0.35);
  }

  llvm::Expected<SinkAttention> again = generateSinkAttention(options);
  ASSERT_TRUE(static_cast<bool>(again));
  EXPECT_EQ(bitsOf(again->q), bitsOf(in->q));
  EXPECT_EQ(bitsOf(again->k), bitsOf(in->k));
  EXPECT_EQ(bitsOf(again->v), bitsOf(in->v));
  options.seed = 4;
  llvm::Expected<SinkAttention> other = generateSinkAttention(options);
  ASSERT_TRUE(static_cast<bool>(other));
  EXPECT_NE(bitsOf(other->k), bitsOf(in->k));
  }
}

TEST(GeneratorsTest, RealizedSinkExcess) {
  // Mean over groups of the largest: (3 + 1) / 2.
  EXPECT_EQ(realizedSinkExcess({1.0, 3.0, -2.0, 1.0}, 2), 2.0);
  EXPECT_EQ(realizedSinkExcess({}, 4), 0.0);
}

TEST(GeneratorsTest, SinkWithoutJitterSitsAtDelta) {
  SinkAttentionOptions options;
  options.numQueries = 8;
  options.numKeys = 16;
  options.headDim = 16;
  options.sinks = {/*numSinks=*/2, /*delta=*/12.0, /*jitterStddev=*/0.0};
  options.scale = 0.5;
  llvm::Expected<SinkAttention> in = generateSinkAttention(options);
  ASSERT_TRUE(static_cast<bool>(in));
  // alpha = 1, c = 0.5: K[s, 0] = 12 / 0.5 = 24 exactly, logit 0.5 * 24.
  for (int64_t m = 0; m < 8; ++m)
    for (int64_t s = 0; s < 2; ++s)
      EXPECT_EQ(0.5 * score(*in, 0, m, s), 12.0);
}

TEST(GeneratorsTest, SinkLogitsDirectly) {
  SinkParams sinks{/*numSinks=*/4, /*delta=*/9.0, /*jitterStddev=*/1.0,
                   /*perHeadJitter=*/true};
  llvm::Expected<SinkLogits> logits = generateSinkLogits(3, 128, 256, sinks, 5);
  ASSERT_TRUE(static_cast<bool>(logits));
  EXPECT_EQ(logits->logits.shape, (std::vector<int64_t>{1, 3, 128, 256}));
  ASSERT_EQ(logits->sinkJitter.size(), 3u * 4u);
  std::vector<double> nonSink;
  for (int64_t h = 0; h < 3; ++h)
    for (int64_t m = 0; m < 128; ++m)
      for (int64_t n = 0; n < 256; ++n) {
        float logit = logits->logits.at(0, h, m, n);
        if (n < 4)
          EXPECT_EQ(logit, float(9.0 + logits->sinkJitter[h * 4 + n]));
        else
          nonSink.push_back(logit);
      }
  // ~97k independent N(0, 1): standard errors 0.0032 (mean), 0.0045 (var).
  Moments moments = momentsOf(nonSink);
  EXPECT_NEAR(moments.mean, 0.0, 0.016);
  EXPECT_NEAR(moments.variance, 1.0, 0.025);
}

TEST(GeneratorsTest, SinkLogitsDirectlyPerRow) {
  SinkParams sinks{/*numSinks=*/2, /*delta=*/9.0, /*jitterStddev=*/1.0};
  llvm::Expected<SinkLogits> logits = generateSinkLogits(2, 64, 32, sinks, 5);
  ASSERT_TRUE(static_cast<bool>(logits));
  ASSERT_EQ(logits->sinkJitter.size(), 2u * 64u * 2u);
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t m = 0; m < 64; ++m)
      for (int64_t s = 0; s < 2; ++s)
        EXPECT_EQ(logits->logits.at(0, h, m, s),
                  float(9.0 + logits->sinkJitter[(h * 64 + m) * 2 + s]));
  EXPECT_NE(logits->sinkJitter[0], logits->sinkJitter[2]);
}

TEST(GeneratorsTest, SinkOptionsAreChecked) {
  SinkAttentionOptions options;
  options.numKeys = 3;
  llvm::Expected<SinkAttention> tooManySinks = generateSinkAttention(options);
  ASSERT_FALSE(static_cast<bool>(tooManySinks));
  EXPECT_EQ(llvm::toString(tooManySinks.takeError()),
            "generateSinkAttention: numSinks = 4 must be in [0, numKeys = 3]");
  options.numKeys = 8;
  options.headDim = 1;
  llvm::Expected<SinkAttention> noRoom = generateSinkAttention(options);
  ASSERT_FALSE(static_cast<bool>(noRoom));
  EXPECT_NE(llvm::toString(noRoom.takeError())
                .find("headDim must be >= 2 (coordinate 0 is reserved)"),
            std::string::npos);
  // Per-row jitter needs a coordinate per sink.
  options.headDim = 4;
  llvm::Expected<SinkAttention> noJitterRoom = generateSinkAttention(options);
  ASSERT_FALSE(static_cast<bool>(noJitterRoom));
  EXPECT_EQ(llvm::toString(noJitterRoom.takeError()),
            "generateSinkAttention: per-row jitter needs numSinks = 4 <= "
            "headDim - 1 = 3");
  options.sinks.perHeadJitter = true;
  EXPECT_TRUE(static_cast<bool>(generateSinkAttention(options)));
}

/// Softmax of c * scores of one row, in double.
std::vector<double> softmaxRow(const std::vector<double> &scores, double c) {
  double max = -INFINITY, sum = 0.0;
  for (double s : scores)
    max = std::max(max, c * s);
  std::vector<double> p;
  for (double s : scores) {
    p.push_back(std::exp(c * s - max));
    sum += p.back();
  }
  for (double &value : p)
    value /= sum;
  return p;
}

TEST(GeneratorsTest, OffsetOverflowsFp16ButCancelsInSoftmax) {
  for (double offset : {1e3, 1e4, 1e5, 1e6}) {
    OffsetAttentionOptions options;
    options.numHeads = 2;
    options.numQueries = 32;
    options.numKeys = 64;
    options.headDim = 64;
    options.offset = offset;
    options.seed = 11;
    llvm::Expected<OffsetAttention> in = generateOffsetAttention(options);
    ASSERT_TRUE(static_cast<bool>(in)) << llvm::toString(in.takeError());
    EXPECT_NEAR(in->offset, offset, offset * 1e-6);
    // Every input fits fp16 even where the product does not.
    for (const HostTensor *t : {&in->q, &in->k, &in->v})
      for (float value : t->data)
        EXPECT_LE(std::fabs(value), 65504.0f);

    double maxError = 0.0;
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t m = 0; m < 32; ++m) {
        std::vector<double> withOffset, without;
        for (int64_t n = 0; n < 64; ++n) {
          withOffset.push_back(score(*in, h, m, n));
          without.push_back(score(*in, h, m, n, /*firstCoordinate=*/1));
          EXPECT_GT(withOffset.back(), offset / 2);
          if (offset > 65504 * 2) {
            EXPECT_GT(withOffset.back(), 65504.0);
          }
        }
        std::vector<double> p = softmaxRow(withOffset, in->scale);
        std::vector<double> p0 = softmaxRow(without, in->scale);
        for (int64_t n = 0; n < 64; ++n)
          maxError = std::max(maxError, std::fabs(p[n] - p0[n]) / p0[n]);
      }
    EXPECT_LE(maxError, 1e-9) << "offset " << offset;
  }
}

TEST(GeneratorsTest, NegativeOffset) {
  OffsetAttentionOptions options;
  options.numQueries = options.numKeys = 4;
  options.headDim = 8;
  options.offset = -4e4;
  llvm::Expected<OffsetAttention> in = generateOffsetAttention(options);
  ASSERT_TRUE(static_cast<bool>(in));
  // a = sqrt(4e4) = 200, b = -200, both exact in float.
  EXPECT_EQ(in->offset, -4e4);
  EXPECT_EQ(in->q.at(0, 0, 2, 0), 200.0f);
  EXPECT_EQ(in->k.at(0, 0, 3, 0), -200.0f);
}

bool isBF16(float value) {
  return (llvm::bit_cast<uint32_t>(value) & 0xFFFF) == 0;
}

TEST(GeneratorsTest, TiedMaximaAreExactAndBF16) {
  for (bool lptfSetting : {false, true}) {
  SCOPED_TRACE(lptfSetting ? "V mean -1.5, row shift 4" : "defaults");
  TiedMaxAttentionOptions options;
  options.numHeads = 2;
  options.numQueries = 64;
  options.numKeys = 128;
  options.headDim = 32;
  options.numTied = 3;
  options.firstTiedKey = 5;
  options.minGap = 0.5;
  options.seed = 9;
  if (lptfSetting) {
    options.valueMean = -1.5;
    options.valueStddev = 0.2;
    options.rowShift = 4.0;
  }
  llvm::Expected<AttentionInputs> in = generateTiedMaxAttention(options);
  ASSERT_TRUE(static_cast<bool>(in)) << llvm::toString(in.takeError());
  for (const HostTensor *t : {&in->q, &in->k, &in->v})
    for (float value : t->data)
      ASSERT_TRUE(isBF16(value)) << value;

  for (int64_t h = 0; h < 2; ++h)
    for (int64_t m = 0; m < 64; ++m) {
      // The pipeline's view: float scores accumulated in float.
      std::vector<float> scores;
      for (int64_t n = 0; n < 128; ++n) {
        float dot = 0.0f;
        for (int64_t i = 0; i < 32; ++i)
          dot += in->q.at(0, h, m, i) * in->k.at(0, h, n, i);
        scores.push_back(dot);
      }
      float rowMax = *std::max_element(scores.begin(), scores.end());
      int64_t numAtMax = 0;
      for (int64_t n = 0; n < 128; ++n) {
        bool tied = n >= 5 && n < 8;
        numAtMax += scores[n] == rowMax;
        if (tied) {
          EXPECT_EQ(scores[n], rowMax) << "row " << m << " key " << n;
          continue;
        }
        // In double, the gap holds up to the rounding of the bound.
        EXPECT_GE(in->scale * (score(*in, h, m, 5) - score(*in, h, m, n)),
                  0.5 * (1 - 1e-12));
      }
      EXPECT_EQ(numAtMax, 3);
    }
  std::vector<double> values(in->v.data.begin(), in->v.data.end());
  Moments moments = momentsOf(values);
  EXPECT_NEAR(moments.mean, lptfSetting ? -1.5 : 0.0, 0.05);
  EXPECT_NEAR(std::sqrt(moments.variance), lptfSetting ? 0.2 : 1.0, 0.05);
  // The tie logit of each row: one value per head, or spread over 4
  // logits with many distinct values.
  for (int64_t h = 0; h < 2; ++h) {
    std::vector<double> ties;
    for (int64_t m = 0; m < 64; ++m)
      ties.push_back(in->scale * score(*in, h, m, 5));
    double lo = *std::min_element(ties.begin(), ties.end());
    double hi = *std::max_element(ties.begin(), ties.end());
    std::sort(ties.begin(), ties.end());
    int64_t distinct = std::unique(ties.begin(), ties.end()) - ties.begin();
    if (!lptfSetting) {
      EXPECT_EQ(lo, hi);
      continue;
    }
    EXPECT_LE(hi - lo, 4.0);
    EXPECT_GT(hi - lo, 3.0);
    EXPECT_GE(distinct, 32);
  }
  }
}

TEST(GeneratorsTest, TiedOptionsAreChecked) {
  TiedMaxAttentionOptions options;
  options.numTied = 0;
  llvm::Expected<AttentionInputs> none = generateTiedMaxAttention(options);
  ASSERT_FALSE(static_cast<bool>(none));
  EXPECT_EQ(llvm::toString(none.takeError()),
            "generateTiedMaxAttention: need numTied >= 1 tied keys [0, 0) "
            "within numKeys = 128");
  options.numTied = 2;
  options.valueStddev = -1.0;
  llvm::Expected<AttentionInputs> badV = generateTiedMaxAttention(options);
  ASSERT_FALSE(static_cast<bool>(badV));
  llvm::consumeError(badV.takeError());
  options.valueStddev = 1.0;
  options.numTied = 2;
  options.firstTiedKey = 127;
  llvm::Expected<AttentionInputs> outside = generateTiedMaxAttention(options);
  EXPECT_FALSE(static_cast<bool>(outside));
  llvm::consumeError(outside.takeError());
}

} // namespace
