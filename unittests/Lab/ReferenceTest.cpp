//===- ReferenceTest.cpp - tests of the float64 reference attention -------===//
//
// A case small enough to derive by hand, then the structural properties:
// causal alignment, GQA against explicit head expansion, masks.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Lab/Reference.h"

#include "lpattn/Lab/Generators.h"

#include "gtest/gtest.h"

#include <cmath>
#include <limits>

using namespace lpattn::lab;

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

HostTensorF64 attend(const HostTensor &q, const HostTensor &k,
                     const HostTensor &v,
                     const ReferenceOptions &options = {}) {
  llvm::Expected<HostTensorF64> out = referenceAttention(q, k, v, options);
  EXPECT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  return out ? std::move(*out) : HostTensorF64();
}

/// The hand case: Q rows (1, 0) and (0, 0); keys (2, 0) and (0, 0); values
/// e0 = (1, 0) and e1 = (0, 1). Row 0 has raw scores (2, 0), row 1 (0, 0).
struct HandCase {
  HostTensor q{{1, 1, 2, 2}, {1, 0, 0, 0}};
  HostTensor k{{1, 1, 2, 2}, {2, 0, 0, 0}};
  HostTensor v{{1, 1, 2, 2}, {1, 0, 0, 1}};
};

TEST(ReferenceTest, HandComputedCase) {
  HandCase in;
  ReferenceOptions options;
  options.scale = 0.5;
  // Row 0: logits 0.5 * (2, 0) = (1, 0), softmax (e, 1) / (e + 1), and
  // with V = identity the output is the softmax itself. Row 1: logits
  // (0, 0), uniform: (0.5, 0.5).
  HostTensorF64 out = attend(in.q, in.k, in.v, options);
  const double e = std::exp(1.0);
  EXPECT_EQ(out.shape, (std::vector<int64_t>{1, 1, 2, 2}));
  EXPECT_NEAR(out.data[0], e / (e + 1), 1e-15);
  EXPECT_NEAR(out.data[1], 1 / (e + 1), 1e-15);
  EXPECT_EQ(out.data[2], 0.5);
  EXPECT_EQ(out.data[3], 0.5);

  // Descales: q_ds * k_ds = 2 doubles the logits, (2, 0) -> (e^2, 1) /
  // (e^2 + 1); v_ds = 3 scales the output.
  options.qDescale = 4.0;
  options.kDescale = 0.5;
  options.vDescale = 3.0;
  out = attend(in.q, in.k, in.v, options);
  EXPECT_NEAR(out.data[0], 3 * e * e / (e * e + 1), 1e-14);
  EXPECT_NEAR(out.data[1], 3 / (e * e + 1), 1e-14);
  EXPECT_EQ(out.data[2], 1.5);

  // Default scale 1/sqrt(D) = 1/sqrt(2): logits (sqrt(2), 0).
  out = attend(in.q, in.k, in.v);
  const double r = std::exp(std::sqrt(2.0));
  EXPECT_NEAR(out.data[0], r / (r + 1), 1e-15);
  EXPECT_NEAR(out.data[1], 1 / (r + 1), 1e-15);
}

TEST(ReferenceTest, CausalIsBottomRightAligned) {
  // Nq = 4 > Nk = 2: query i sees key j iff j <= i - 2. Rows 0 and 1 see
  // nothing and are exactly 0; row 2 sees only key 0, so p = (1) and the
  // output is V[0] exactly; row 3 sees both keys, as without the mask.
  HostTensor q = randomNormal({1, 1, 4, 8}, 1);
  HostTensor k = randomNormal({1, 1, 2, 8}, 2);
  HostTensor v = randomNormal({1, 1, 2, 4}, 3);
  ReferenceOptions causal;
  causal.causal = true;
  HostTensorF64 out = attend(q, k, v, causal);
  HostTensorF64 full = attend(q, k, v);
  for (int64_t d = 0; d < 4; ++d) {
    EXPECT_EQ(out.at(0, 0, 0, d), 0.0);
    EXPECT_EQ(out.at(0, 0, 1, d), 0.0);
    EXPECT_EQ(out.at(0, 0, 2, d), double(v.at(0, 0, 0, d)));
    EXPECT_EQ(out.at(0, 0, 3, d), full.at(0, 0, 3, d));
  }
}

TEST(ReferenceTest, CausalEqualsItsMask) {
  // Nq = 3 < Nk = 5: query i sees keys 0..i + 2. The same pattern as an
  // additive -inf mask gives the same bits (visible logits get + 0).
  HostTensor q = randomNormal({2, 2, 3, 4}, 4);
  HostTensor k = randomNormal({2, 2, 5, 4}, 5);
  HostTensor v = randomNormal({2, 2, 5, 3}, 6);
  HostTensor mask = HostTensor::zeros({1, 1, 3, 5});
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = i + 3; j < 5; ++j)
      mask.at(0, 0, i, j) = kNegInf;
  ReferenceOptions causal, masked;
  causal.causal = true;
  masked.mask = &mask;
  EXPECT_EQ(attend(q, k, v, causal).data, attend(q, k, v, masked).data);
}

TEST(ReferenceTest, GQAMatchesExplicitHeadExpansion) {
  // Hq = 6 query heads over Hkv = 2 (groups of 3), and MQA (Hkv = 1).
  HostTensor q = randomNormal({2, 6, 5, 8}, 7);
  for (int64_t numKVHeads : {2, 1}) {
    HostTensor k = randomNormal({2, numKVHeads, 7, 8}, 8);
    HostTensor v = randomNormal({2, numKVHeads, 7, 4}, 9);
    HostTensor kExpanded = HostTensor::zeros({2, 6, 7, 8});
    HostTensor vExpanded = HostTensor::zeros({2, 6, 7, 4});
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t h = 0; h < 6; ++h)
        for (int64_t n = 0; n < 7; ++n) {
          int64_t kvHead = h / (6 / numKVHeads);
          for (int64_t d = 0; d < 8; ++d)
            kExpanded.at(b, h, n, d) = k.at(b, kvHead, n, d);
          for (int64_t d = 0; d < 4; ++d)
            vExpanded.at(b, h, n, d) = v.at(b, kvHead, n, d);
        }
    EXPECT_EQ(attend(q, k, v).data, attend(q, kExpanded, vExpanded).data)
        << "Hkv = " << numKVHeads;
  }
}

/// Per-(batch, KV head) descales: head (b, h) of the result is the
/// per-tensor attention with the descales of entry [b, h / (Hq / Hkv)].
TEST(ReferenceTest, PerHeadDescalesAreTheirKVHeadsPerTensorOnes) {
  HostTensor q = randomNormal({2, 4, 5, 8}, 21);
  HostTensor k = randomNormal({2, 2, 7, 8}, 22);
  HostTensor v = randomNormal({2, 2, 7, 3}, 23);
  HostTensor qd{{2, 2}, {0.5f, 2.0f, 0.25f, 1.0f}};
  HostTensor kd{{2, 2}, {4.0f, 0.5f, 1.5f, 3.0f}};
  HostTensor vd{{2, 2}, {1.0f, 0.75f, 2.0f, 8.0f}};
  ReferenceOptions perHead;
  perHead.causal = true;
  perHead.qHeadDescale = &qd;
  perHead.kHeadDescale = &kd;
  perHead.vHeadDescale = &vd;
  HostTensorF64 out = attend(q, k, v, perHead);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t kvh = 0; kvh < 2; ++kvh) {
      ReferenceOptions perTensor;
      perTensor.causal = true;
      perTensor.qDescale = qd.data[b * 2 + kvh];
      perTensor.kDescale = kd.data[b * 2 + kvh];
      perTensor.vDescale = vd.data[b * 2 + kvh];
      HostTensorF64 ref = attend(q, k, v, perTensor);
      for (int64_t h = 2 * kvh; h < 2 * kvh + 2; ++h)
        for (int64_t i = 0; i < 5; ++i)
          for (int64_t d = 0; d < 3; ++d)
            EXPECT_EQ(out.at(b, h, i, d), ref.at(b, h, i, d))
                << b << " " << h << " " << i << " " << d;
    }

  // All three or none, each [B, Hkv].
  perHead.vHeadDescale = nullptr;
  auto partial = referenceAttention(q, k, v, perHead);
  ASSERT_FALSE(bool(partial));
  EXPECT_EQ(llvm::toString(partial.takeError()),
            "referenceAttention: per-(batch, KV head) descales are all three "
            "(q, k, v) or none");
  HostTensor perQueryHead{{2, 4}, std::vector<float>(8, 1.0f)};
  perHead.vHeadDescale = &perQueryHead;
  auto wrong = referenceAttention(q, k, v, perHead);
  ASSERT_FALSE(bool(wrong));
  EXPECT_EQ(llvm::toString(wrong.takeError()),
            "referenceAttention: v per-head descale has shape [2, 4] (8 "
            "values); it must be [B, Hkv] = [2, 2]");
}

TEST(ReferenceTest, MaskedKeysAreIgnored) {
  // Hiding key 2 with -inf equals removing key 2 from K and V (up to the
  // rounding of a different row max).
  HostTensor q = randomNormal({1, 2, 3, 4}, 10);
  HostTensor k = randomNormal({1, 2, 4, 4}, 11);
  HostTensor v = randomNormal({1, 2, 4, 2}, 12);
  HostTensor kWithout = HostTensor::zeros({1, 2, 3, 4});
  HostTensor vWithout = HostTensor::zeros({1, 2, 3, 2});
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t n = 0; n < 3; ++n) {
      int64_t from = n < 2 ? n : n + 1;
      for (int64_t d = 0; d < 4; ++d)
        kWithout.at(0, h, n, d) = k.at(0, h, from, d);
      for (int64_t d = 0; d < 2; ++d)
        vWithout.at(0, h, n, d) = v.at(0, h, from, d);
    }
  // Per-head mask [1, Hq, Nq, Nk]: head 0 hides key 2; head 1 also gets a
  // finite per-row constant, which cancels in the softmax.
  HostTensor mask = HostTensor::zeros({1, 2, 3, 4});
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 4; ++j)
        mask.at(0, h, i, j) = j == 2 ? kNegInf : h * (1.5f + i);
  ReferenceOptions masked;
  masked.mask = &mask;
  HostTensorF64 out = attend(q, k, v, masked);
  HostTensorF64 expected = attend(q, kWithout, vWithout);
  ASSERT_EQ(out.shape, expected.shape);
  for (size_t i = 0; i < out.data.size(); ++i)
    EXPECT_NEAR(out.data[i], expected.data[i], 1e-14);

  // A row whose every key is hidden is exactly 0, not NaN.
  for (int64_t j = 0; j < 4; ++j)
    mask.at(0, 1, 2, j) = kNegInf;
  out = attend(q, k, v, masked);
  EXPECT_EQ(out.at(0, 1, 2, 0), 0.0);
  EXPECT_EQ(out.at(0, 1, 2, 1), 0.0);
}

TEST(ReferenceTest, RowWeights) {
  // The hand case at scale 1: row 0 has logits (2, 0), weights
  // e^2 / (e^2 + 1) and 1 / (e^2 + 1); row 1 has (0, 0), a tie: both 1/2.
  HandCase in;
  std::vector<double> maxWeight, secondWeight;
  ReferenceOptions options;
  options.scale = 1.0;
  options.rowMaxWeight = &maxWeight;
  options.rowSecondWeight = &secondWeight;
  attend(in.q, in.k, in.v, options);
  double e2 = std::exp(2.0);
  ASSERT_EQ(maxWeight.size(), 2u);
  EXPECT_DOUBLE_EQ(maxWeight[0], e2 / (e2 + 1));
  EXPECT_DOUBLE_EQ(secondWeight[0], 1 / (e2 + 1));
  EXPECT_DOUBLE_EQ(maxWeight[1], 0.5);
  EXPECT_DOUBLE_EQ(secondWeight[1], 0.5);
  // Causal (bottom-right): row 0 sees key 0 only, so there is no second
  // key; a row with no visible key has weights 0.
  options.causal = true;
  attend(in.q, in.k, in.v, options);
  EXPECT_DOUBLE_EQ(maxWeight[0], 1.0);
  EXPECT_DOUBLE_EQ(secondWeight[0], 0.0);
  HostTensor q3{{1, 1, 3, 2}, {1, 0, 0, 0, 0, 0}};
  attend(q3, in.k, in.v, options);
  ASSERT_EQ(maxWeight.size(), 3u);
  EXPECT_EQ(maxWeight[0], 0.0);
  EXPECT_EQ(secondWeight[0], 0.0);
  EXPECT_EQ(maxWeight[1], 1.0);
}

TEST(ReferenceTest, ShapeMismatchesAreErrors) {
  HostTensor q = HostTensor::zeros({1, 4, 3, 8});
  HostTensor k = HostTensor::zeros({1, 2, 5, 8});
  HostTensor v = HostTensor::zeros({1, 2, 5, 6});
  HostTensor mask = HostTensor::zeros({1, 4, 3, 4});
  HostTensor q3 = HostTensor::zeros({4, 3, 8});
  HostTensor kOddDim = HostTensor::zeros({1, 2, 5, 7});
  HostTensor qThreeHeads = HostTensor::zeros({1, 3, 3, 8});
  HostTensor vFewerKeys = HostTensor::zeros({1, 2, 4, 6});
  HostTensor vShort = v;
  vShort.data.pop_back();
  struct Case {
    const HostTensor &q, &k, &v;
    const HostTensor *mask;
    const char *message;
  };
  const Case cases[] = {
      {q3, k, v, nullptr,
       "Q must have rank 4 [B, Hq, Nq, D], got shape [4, 3, 8]"},
      {q, kOddDim, v, nullptr, "K head dim 7 != Q head dim 8"},
      {qThreeHeads, k, v, nullptr,
       "query heads Hq = 3 must be a multiple of KV heads Hkv = 2 (GQA/MQA)"},
      {q, k, vFewerKeys, nullptr, "V keys 4 != K keys 5"},
      {q, k, vShort, nullptr,
       "V has 59 elements but its shape [1, 2, 5, 6] needs 60"},
      {q, k, v, &mask,
       "mask shape [1, 4, 3, 4] does not broadcast to [B, Hq, Nq, Nk] = "
       "[1, 4, 3, 5]"},
  };
  for (const Case &c : cases) {
    ReferenceOptions options;
    options.mask = c.mask;
    llvm::Expected<HostTensorF64> out =
        referenceAttention(c.q, c.k, c.v, options);
    ASSERT_FALSE(static_cast<bool>(out)) << c.message;
    EXPECT_EQ(llvm::toString(out.takeError()),
              std::string("referenceAttention: ") + c.message);
  }
}

} // namespace
