//===- GeometryTest.cpp - geometry-aware logit bounds (RASB) --------------===//
//
// sigma by implicit power iteration against a dense reference computed here
// (M = W_q^T W_k formed in double, the eigenvalues of M^T M by cyclic Jacobi),
// the GQA head mapping, zero and non-finite weights, and the bound, scale,
// token-norm and auto-alpha rules checked against the inequalities they
// claim, not against numbers copied from the implementation.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Numerics/Formats.h"
#include "lpattn/Numerics/Geometry.h"

#include "gtest/gtest.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

using namespace lpattn;

namespace {

std::vector<float> randomMatrix(int64_t rows, int64_t cols, unsigned seed,
                                double stddev = 1.0) {
  std::mt19937 engine(seed);
  std::normal_distribution<double> normal(0.0, stddev);
  std::vector<float> m(rows * cols);
  for (float &x : m)
    x = static_cast<float>(normal(engine));
  return m;
}

/// Largest eigenvalue of the symmetric matrix `a` (n x n, row-major) by
/// cyclic Jacobi rotations, in double.
double largestEigenvalue(std::vector<double> a, int64_t n) {
  for (int sweep = 0; sweep < 100; ++sweep) {
    double offDiagonal = 0.0;
    for (int64_t p = 0; p < n; ++p)
      for (int64_t q = p + 1; q < n; ++q)
        offDiagonal += a[p * n + q] * a[p * n + q];
    if (offDiagonal < 1e-30)
      break;
    for (int64_t p = 0; p < n; ++p)
      for (int64_t q = p + 1; q < n; ++q) {
        double apq = a[p * n + q];
        if (std::fabs(apq) < 1e-300)
          continue;
        double theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
        double t = (theta >= 0 ? 1.0 : -1.0) /
                   (std::fabs(theta) + std::sqrt(theta * theta + 1.0));
        double c = 1.0 / std::sqrt(t * t + 1.0), s = t * c;
        for (int64_t k = 0; k < n; ++k) { // columns p, q
          double akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (int64_t k = 0; k < n; ++k) { // rows p, q
          double apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
  }
  double largest = -std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i)
    largest = std::max(largest, a[i * n + i]);
  return largest;
}

/// ||W_q^T W_k||_2 formed densely: sqrt(lambda_max(M^T M)).
double denseSigma(const float *wq, const float *wk, int64_t dHead,
                  int64_t dModel) {
  std::vector<double> m(dModel * dModel, 0.0);
  for (int64_t i = 0; i < dModel; ++i)
    for (int64_t j = 0; j < dModel; ++j)
      for (int64_t r = 0; r < dHead; ++r)
        m[i * dModel + j] += static_cast<double>(wq[r * dModel + i]) *
                             static_cast<double>(wk[r * dModel + j]);
  std::vector<double> mtm(dModel * dModel, 0.0);
  for (int64_t i = 0; i < dModel; ++i)
    for (int64_t j = 0; j < dModel; ++j)
      for (int64_t k = 0; k < dModel; ++k)
        mtm[i * dModel + j] += m[k * dModel + i] * m[k * dModel + j];
  return std::sqrt(std::max(0.0, largestEigenvalue(mtm, dModel)));
}

/// ||A||_2 formed densely, A [rows x cols] row-major: sqrt(lambda_max(A A^T)).
template <typename T>
double denseNorm(const T *a, int64_t rows, int64_t cols) {
  std::vector<double> aat(rows * rows, 0.0);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < rows; ++j)
      for (int64_t c = 0; c < cols; ++c)
        aat[i * rows + j] += static_cast<double>(a[i * cols + c]) *
                             static_cast<double>(a[j * cols + c]);
  return std::sqrt(std::max(0.0, largestEigenvalue(aat, rows)));
}

/// ||A^T B||_2 formed densely in double, A and B [rows x cols] row-major.
double denseProductNorm(const std::vector<double> &a,
                        const std::vector<double> &b, int64_t rows,
                        int64_t cols) {
  std::vector<double> m(cols * cols, 0.0); // A^T B
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < cols; ++j)
      for (int64_t r = 0; r < rows; ++r)
        m[i * cols + j] += a[r * cols + i] * b[r * cols + j];
  return denseNorm(m.data(), cols, cols);
}

/// The rows `first .. first + dHead` of `w` [* x cols], in double, rotated
/// as RoPE rotates a head's features: plane i (rows 2i, 2i+1) by angles[i].
std::vector<double> rotateHeadRows(const std::vector<float> &w, int64_t first,
                                   int64_t dHead, int64_t cols,
                                   const std::vector<double> &angles) {
  std::vector<double> out(dHead * cols);
  for (int64_t i = 0; i < dHead / 2; ++i)
    for (int64_t c = 0; c < cols; ++c) {
      double a = w[(first + 2 * i) * cols + c],
             b = w[(first + 2 * i + 1) * cols + c];
      out[2 * i * cols + c] = std::cos(angles[i]) * a - std::sin(angles[i]) * b;
      out[(2 * i + 1) * cols + c] =
          std::sin(angles[i]) * a + std::cos(angles[i]) * b;
    }
  return out;
}

/// RoPE's angles at relative position `position`: theta_i =
/// position * base^(-2i / dHead).
std::vector<double> ropeAngles(double position, double base, int64_t dHead) {
  std::vector<double> angles(dHead / 2);
  for (int64_t i = 0; i < dHead / 2; ++i)
    angles[i] = position * std::pow(base, -2.0 * i / double(dHead));
  return angles;
}

PowerIterationOptions tight() {
  PowerIterationOptions options;
  options.maxIterations = 100000;
  options.relativeTolerance = 1e-13;
  return options;
}

} // namespace

TEST(GeometryTest, JacobiReferenceIsRight) {
  // The reference itself must be able to fail: diag(3, -5, 1) has
  // lambda_max(M^T M) = 25 whatever rotation the sweeps take.
  std::vector<double> a = {9, 0, 0, 0, 25, 0, 0, 0, 1};
  EXPECT_NEAR(largestEigenvalue(a, 3), 25.0, 1e-12);
  std::vector<double> b = {2, 1, 1, 2}; // eigenvalues 1 and 3
  EXPECT_NEAR(largestEigenvalue(b, 2), 3.0, 1e-12);
}

TEST(GeometryTest, SigmaMatchesDenseSVD) {
  struct Size {
    int64_t dHead, dModel;
  };
  unsigned seed = 1;
  for (Size size : {Size{1, 5}, Size{4, 12}, Size{8, 16}, Size{16, 24}}) {
    for (int trial = 0; trial < 3; ++trial, seed += 2) {
      std::vector<float> wq = randomMatrix(size.dHead, size.dModel, seed);
      std::vector<float> wk = randomMatrix(size.dHead, size.dModel, seed + 1);
      SpectralNormEstimate estimate;
      ASSERT_EQ(estimateQKSpectralNorm(wq.data(), wk.data(), size.dHead,
                                       size.dModel, tight(), estimate),
                "");
      double reference =
          denseSigma(wq.data(), wk.data(), size.dHead, size.dModel);
      EXPECT_TRUE(estimate.converged);
      EXPECT_GT(reference, 0.0);
      EXPECT_NEAR(estimate.sigma / reference, 1.0, 1e-6)
          << size.dHead << "x" << size.dModel << " trial " << trial;
    }
  }
}

TEST(GeometryTest, SigmaOfDiagonalProjections) {
  // Rows of W_q and W_k are multiples of the same unit vectors, so M is
  // diagonal with entries q_i k_i: sigma = max |q_i k_i| = |-3 * 4| = 12.
  const int64_t dHead = 3, dModel = 5;
  std::vector<float> wq(dHead * dModel, 0.0f), wk(dHead * dModel, 0.0f);
  float q[] = {2.0f, -3.0f, 0.5f}, k[] = {5.0f, 4.0f, -8.0f};
  for (int64_t i = 0; i < dHead; ++i) {
    wq[i * dModel + i + 1] = q[i];
    wk[i * dModel + i + 1] = k[i];
  }
  SpectralNormEstimate estimate;
  ASSERT_EQ(estimateQKSpectralNorm(wq.data(), wk.data(), dHead, dModel,
                                   tight(), estimate),
            "");
  EXPECT_NEAR(estimate.sigma, 12.0, 12.0 * 1e-9);
}

TEST(GeometryTest, SigmaScalesWithTheWeights) {
  const int64_t dHead = 4, dModel = 10;
  std::vector<float> wq = randomMatrix(dHead, dModel, 7);
  std::vector<float> wk = randomMatrix(dHead, dModel, 8);
  SpectralNormEstimate base, scaled;
  ASSERT_EQ(estimateQKSpectralNorm(wq.data(), wk.data(), dHead, dModel,
                                   tight(), base),
            "");
  for (float &x : wq)
    x *= 4.0f; // exact
  ASSERT_EQ(estimateQKSpectralNorm(wq.data(), wk.data(), dHead, dModel,
                                   tight(), scaled),
            "");
  EXPECT_NEAR(scaled.sigma / base.sigma, 4.0, 4e-9);
}

TEST(GeometryTest, UnconvergedEstimateIsFromBelow) {
  const int64_t dHead = 8, dModel = 32;
  std::vector<float> wq = randomMatrix(dHead, dModel, 11);
  std::vector<float> wk = randomMatrix(dHead, dModel, 12);
  PowerIterationOptions one;
  one.maxIterations = 1;
  SpectralNormEstimate estimate;
  ASSERT_EQ(estimateQKSpectralNorm(wq.data(), wk.data(), dHead, dModel, one,
                                   estimate),
            "");
  EXPECT_EQ(estimate.iterations, 1);
  EXPECT_FALSE(estimate.converged);
  EXPECT_GT(estimate.sigma, 0.0);
  EXPECT_LE(estimate.sigma,
            denseSigma(wq.data(), wk.data(), dHead, dModel) * (1 + 1e-12));
}

TEST(GeometryTest, ZeroInteractionGivesZero) {
  const int64_t dHead = 2, dModel = 6;
  std::vector<float> zero(dHead * dModel, 0.0f);
  std::vector<float> wk = randomMatrix(dHead, dModel, 3);
  SpectralNormEstimate estimate;
  ASSERT_EQ(estimateQKSpectralNorm(zero.data(), wk.data(), dHead, dModel,
                                   tight(), estimate),
            "");
  EXPECT_EQ(estimate.sigma, 0.0);
  EXPECT_TRUE(estimate.converged);

  // Non-zero weights with W_q^T W_k = sum_r wq_r^T wk_r = 0: the query
  // uses head feature 0 only, the key head feature 1 only.
  std::vector<float> wq(dHead * dModel, 0.0f), wk2(dHead * dModel, 0.0f);
  wq[0 * dModel + 0] = 1.0f;
  wq[0 * dModel + 1] = 2.0f;
  wk2[1 * dModel + 3] = 3.0f;
  wk2[1 * dModel + 4] = 4.0f;
  ASSERT_EQ(estimateQKSpectralNorm(wq.data(), wk2.data(), dHead, dModel,
                                   tight(), estimate),
            "");
  EXPECT_EQ(estimate.sigma, 0.0);
}

TEST(GeometryTest, NonFiniteWeightsAreAnError) {
  const int64_t dHead = 2, dModel = 4;
  std::vector<float> wq = randomMatrix(dHead, dModel, 5);
  std::vector<float> wk = randomMatrix(dHead, dModel, 6);
  SpectralNormEstimate estimate;
  std::vector<float> nanKey = wk;
  nanKey[1 * dModel + 2] = std::numeric_limits<float>::quiet_NaN();
  std::string problem = estimateQKSpectralNorm(
      wq.data(), nanKey.data(), dHead, dModel, tight(), estimate);
  EXPECT_NE(problem.find("key weight has a non-finite value"),
            std::string::npos)
      << problem;
  EXPECT_NE(problem.find("row 1, column 2"), std::string::npos) << problem;
  EXPECT_FALSE(std::isnan(estimate.sigma));

  std::vector<float> infQuery = wq;
  infQuery[0] = -std::numeric_limits<float>::infinity();
  problem = estimateQKSpectralNorm(infQuery.data(), wk.data(), dHead, dModel,
                                   tight(), estimate);
  EXPECT_NE(problem.find("query weight has a non-finite value"),
            std::string::npos)
      << problem;
}

TEST(GeometryTest, BadOptionsAndSizesAreErrors) {
  std::vector<float> w = randomMatrix(2, 3, 9);
  SpectralNormEstimate estimate;
  PowerIterationOptions options;
  options.maxIterations = 0;
  EXPECT_NE(estimateQKSpectralNorm(w.data(), w.data(), 2, 3, options,
                                   estimate),
            "");
  options = PowerIterationOptions();
  for (double tolerance : {0.0, -1e-3, std::nan("")}) {
    options.relativeTolerance = tolerance;
    EXPECT_NE(checkPowerIterationOptions(options), "") << tolerance;
  }
  EXPECT_EQ(checkPowerIterationOptions(PowerIterationOptions()), "");
  EXPECT_NE(estimateQKSpectralNorm(w.data(), w.data(), 0, 3,
                                   PowerIterationOptions(), estimate),
            "");
}

TEST(GeometryTest, GQAPairsEachQueryHeadWithItsGroupsKVHead) {
  EXPECT_EQ(getKVHeadOfQueryHead(0, 4, 2), 0);
  EXPECT_EQ(getKVHeadOfQueryHead(1, 4, 2), 0);
  EXPECT_EQ(getKVHeadOfQueryHead(2, 4, 2), 1);
  EXPECT_EQ(getKVHeadOfQueryHead(3, 4, 2), 1);
  EXPECT_EQ(getKVHeadOfQueryHead(5, 8, 1), 0); // MQA
  EXPECT_EQ(getKVHeadOfQueryHead(5, 8, 8), 5); // MHA

  const int64_t hq = 4, hkv = 2, dHead = 3, dModel = 8;
  std::vector<float> wq = randomMatrix(hq * dHead, dModel, 21);
  // KV head 1 is 16x KV head 0's scale, so a wrong pairing shows.
  std::vector<float> wk = randomMatrix(hkv * dHead, dModel, 22);
  for (int64_t i = dHead * dModel; i < hkv * dHead * dModel; ++i)
    wk[i] *= 16.0f;
  std::vector<SpectralNormEstimate> perHead;
  ASSERT_EQ(estimatePerHeadQKSpectralNorms(wq.data(), wk.data(), hq, hkv,
                                           dHead, dModel, tight(), perHead),
            "");
  ASSERT_EQ(perHead.size(), static_cast<size_t>(hq));
  for (int64_t h = 0; h < hq; ++h) {
    double reference = denseSigma(wq.data() + h * dHead * dModel,
                                  wk.data() + (h / 2) * dHead * dModel, dHead,
                                  dModel);
    EXPECT_NEAR(perHead[h].sigma / reference, 1.0, 1e-6) << "head " << h;
  }

  // A NaN in KV head 1 names the first query head that uses it.
  wk[dHead * dModel + 4] = std::numeric_limits<float>::quiet_NaN();
  std::string problem = estimatePerHeadQKSpectralNorms(
      wq.data(), wk.data(), hq, hkv, dHead, dModel, tight(), perHead);
  EXPECT_NE(problem.find("query head 2 (KV head 1)"), std::string::npos)
      << problem;
  EXPECT_TRUE(perHead.empty());

  EXPECT_NE(estimatePerHeadQKSpectralNorms(wq.data(), wk.data(), 3, 2, dHead,
                                           dModel, tight(), perHead),
            "");
}

TEST(GeometryTest, SpectralNormOfOneProjectionMatchesDense) {
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{2, 2}, {4, 6},
                            {8, 24}, {16, 5}}) {
    std::vector<float> w = randomMatrix(rows, cols, 51 + rows);
    SpectralNormEstimate estimate;
    ASSERT_EQ(estimateSpectralNorm(w.data(), rows, cols, tight(), estimate),
              "");
    EXPECT_TRUE(estimate.converged);
    double dense = denseNorm(w.data(), rows, cols);
    EXPECT_NEAR(estimate.sigma, dense, 1e-6 * dense) << rows << "x" << cols;
  }
  SpectralNormEstimate estimate;
  std::vector<float> w(6, 0.0f);
  EXPECT_EQ(estimateSpectralNorm(w.data(), 2, 3, tight(), estimate), "");
  EXPECT_EQ(estimate.sigma, 0.0);
  w[4] = std::numeric_limits<float>::infinity();
  EXPECT_NE(estimateSpectralNorm(w.data(), 2, 3, tight(), estimate)
                .find("non-finite value (inf) at row 1, column 1"),
            std::string::npos);
  EXPECT_NE(estimateSpectralNorm(w.data(), 0, 3, tight(), estimate), "");
}

TEST(GeometryTest, RoPEBreaksTheUnrotatedSigma) {
  // The smallest counterexample: q = (x_0, 0) and k = (0, x'_1) are always
  // orthogonal, so sigma = ||W_q^T W_k||_2 = 0, but RoPE turning k by theta
  // against q gives q . R k = -sin(theta) x_0 x'_1: the old bound B_X^2 * 0
  // fails for every theta that is not a multiple of pi.
  const int64_t dHead = 2, dModel = 2;
  std::vector<float> wq = {1, 0, 0, 0}, wk = {0, 0, 0, 1};
  SpectralNormEstimate unrotated;
  ASSERT_EQ(estimateQKSpectralNorm(wq.data(), wk.data(), dHead, dModel,
                                   tight(), unrotated),
            "");
  EXPECT_EQ(unrotated.sigma, 0.0);
  std::vector<SpectralNormEstimate> ropeSafe;
  ASSERT_EQ(estimatePerHeadRoPESafeQKSigmas(wq.data(), wk.data(), 1, 1, dHead,
                                            dModel, tight(), ropeSafe),
            "");
  ASSERT_EQ(ropeSafe.size(), 1u);
  std::vector<double> wqDouble(wq.begin(), wq.end());
  for (double theta = 0.05; theta < 6.3; theta += 0.1) {
    double rotated = denseProductNorm(
        wqDouble, rotateHeadRows(wk, 0, dHead, dModel, {theta}), dHead,
        dModel);
    EXPECT_NEAR(rotated, std::fabs(std::sin(theta)), 1e-9);
    EXPECT_GT(rotated, unrotated.sigma) << theta;
    EXPECT_LE(rotated, ropeSafe[0].sigma * (1 + 1e-9)) << theta;
  }

  // dHead = 4, random W_q and W_k = W_q turned by -90 degrees in each RoPE
  // plane: the rotation by +90 degrees gives W_q^T W_q, of norm
  // ||W_q||^2 = ||W_q|| ||W_k||, above ||W_q^T W_k|| (measured densely here),
  // and the RoPE-safe sigma is attained.
  const int64_t dHead4 = 4, dModel4 = 6;
  std::vector<float> wq4 = randomMatrix(dHead4, dModel4, 61);
  std::vector<double> wk4 =
      rotateHeadRows(wq4, 0, dHead4, dModel4, {-M_PI / 2, -M_PI / 2});
  std::vector<float> wk4Float(wk4.begin(), wk4.end());
  std::vector<double> wq4Double(wq4.begin(), wq4.end());
  std::vector<double> wk4Exact(wk4Float.begin(), wk4Float.end());
  double before = denseProductNorm(wq4Double, wk4Exact, dHead4, dModel4);
  double after = denseProductNorm(
      wq4Double,
      rotateHeadRows(wk4Float, 0, dHead4, dModel4, {M_PI / 2, M_PI / 2}),
      dHead4, dModel4);
  EXPECT_GT(after, 1.2 * before); // the old bound is off by over 20 %
  ASSERT_EQ(estimateQKSpectralNorm(wq4.data(), wk4Float.data(), dHead4,
                                   dModel4, tight(), unrotated),
            "");
  EXPECT_NEAR(unrotated.sigma, before, 1e-6 * before);
  ASSERT_EQ(estimatePerHeadRoPESafeQKSigmas(wq4.data(), wk4Float.data(), 1, 1,
                                            dHead4, dModel4, tight(),
                                            ropeSafe),
            "");
  EXPECT_LE(after, ropeSafe[0].sigma * (1 + 1e-6));
  EXPECT_NEAR(ropeSafe[0].sigma, after, 1e-6 * after);
}

TEST(GeometryTest, RoPESafeSigmaBoundsEveryRotation) {
  // GQA (4 query heads, 2 KV heads): sigma_rope,h = ||W_q^h|| ||W_k^g||
  // against the dense norms, and above the dense ||W_q^h^T R W_k^g|| for
  // RoPE's rotations at many relative positions and three bases.
  const int64_t hq = 4, hkv = 2, dHead = 4, dModel = 8;
  std::vector<float> wq = randomMatrix(hq * dHead, dModel, 71);
  std::vector<float> wk = randomMatrix(hkv * dHead, dModel, 72);
  std::vector<SpectralNormEstimate> perHead;
  ASSERT_EQ(estimatePerHeadRoPESafeQKSigmas(wq.data(), wk.data(), hq, hkv,
                                            dHead, dModel, tight(), perHead),
            "");
  ASSERT_EQ(perHead.size(), size_t(hq));
  std::vector<double> zero(dHead / 2, 0.0);
  int64_t exceedsUnrotated = 0;
  for (int64_t h = 0; h < hq; ++h) {
    int64_t g = h / (hq / hkv);
    double dense = denseNorm(wq.data() + h * dHead * dModel, dHead, dModel) *
                   denseNorm(wk.data() + g * dHead * dModel, dHead, dModel);
    EXPECT_NEAR(perHead[h].sigma, dense, 1e-6 * dense) << h;
    EXPECT_TRUE(perHead[h].converged);
    std::vector<double> queryRows =
        rotateHeadRows(wq, h * dHead, dHead, dModel, zero);
    double unrotated = denseProductNorm(
        queryRows, rotateHeadRows(wk, g * dHead, dHead, dModel, zero), dHead,
        dModel);
    for (double base : {10000.0, 100.0, 10.0})
      for (int position = -64; position <= 64; ++position) {
        double rotated = denseProductNorm(
            queryRows,
            rotateHeadRows(wk, g * dHead, dHead, dModel,
                           ropeAngles(position, base, dHead)),
            dHead, dModel);
        EXPECT_LE(rotated, perHead[h].sigma * (1 + 1e-6))
            << "head " << h << " base " << base << " position " << position;
        exceedsUnrotated += rotated > unrotated * (1 + 1e-6);
      }
  }
  // The old sigma is exceeded somewhere: the case is not vacuous.
  EXPECT_GT(exceedsUnrotated, 0);

  // Errors name the head and the matrix.
  std::vector<float> badKey = wk;
  badKey[dHead * dModel + 3] = std::nanf("");
  std::string problem = estimatePerHeadRoPESafeQKSigmas(
      wq.data(), badKey.data(), hq, hkv, dHead, dModel, tight(), perHead);
  EXPECT_NE(problem.find("KV head 1: key weight has a non-finite value"),
            std::string::npos)
      << problem;
  EXPECT_TRUE(perHead.empty());
  EXPECT_NE(estimatePerHeadRoPESafeQKSigmas(wq.data(), wk.data(), 3, 2, dHead,
                                            dModel, tight(), perHead),
            "");
}

TEST(GeometryTest, RoPESafeBoundHoldsForRotatedTokens) {
  // |q_m . k_n| <= B_X^2 sigma_rope for tokens of norm B_X after RoPE
  // rotates q and k by different positions' angles.
  const int64_t dHead = 4, dModel = 8;
  std::vector<float> wq = randomMatrix(dHead, dModel, 31);
  std::vector<float> wk = randomMatrix(dHead, dModel, 32);
  std::vector<SpectralNormEstimate> perHead;
  ASSERT_EQ(estimatePerHeadRoPESafeQKSigmas(wq.data(), wk.data(), 1, 1, dHead,
                                            dModel, tight(), perHead),
            "");
  SpectralNormEstimate estimate = perHead[0];
  const double tokenNorm = 3.0;
  double bound = getQKProductBound(estimate.sigma, tokenNorm);
  EXPECT_DOUBLE_EQ(bound, tokenNorm * tokenNorm * estimate.sigma);

  std::mt19937 engine(33);
  std::normal_distribution<double> normal;
  auto token = [&] {
    std::vector<double> x(dModel);
    double n = 0;
    for (double &v : x) {
      v = normal(engine);
      n += v * v;
    }
    for (double &v : x)
      v *= tokenNorm / std::sqrt(n);
    return x;
  };
  auto project = [&](const std::vector<float> &w, const std::vector<double> &x,
                     double angle) {
    std::vector<double> y(dHead, 0.0);
    for (int64_t r = 0; r < dHead; ++r)
      for (int64_t c = 0; c < dModel; ++c)
        y[r] += w[r * dModel + c] * x[c];
    for (int64_t i = 0; i + 1 < dHead; i += 2) { // RoPE pairs
      double a = y[i], b = y[i + 1], t = angle * (i + 1);
      y[i] = a * std::cos(t) - b * std::sin(t);
      y[i + 1] = a * std::sin(t) + b * std::cos(t);
    }
    return y;
  };
  double largest = 0.0;
  for (int pair = 0; pair < 2000; ++pair) {
    std::vector<double> q = project(wq, token(), 0.1 * pair);
    std::vector<double> k = project(wk, token(), 0.37 * pair);
    double dot = 0;
    for (int64_t i = 0; i < dHead; ++i)
      dot += q[i] * k[i];
    largest = std::max(largest, std::fabs(dot));
  }
  EXPECT_LE(largest, bound * (1 + 1e-9));
  EXPECT_GT(largest, 0.1 * bound); // the bound is not vacuous here

  EXPECT_DOUBLE_EQ(getLogitBound(estimate.sigma, tokenNorm, 0.25),
                   0.25 * bound);
  EXPECT_DOUBLE_EQ(getLogitBoundForHeadDim(estimate.sigma, tokenNorm, 64),
                   bound / 8.0);
}

TEST(GeometryTest, TokenNormBoundOfNorms) {
  const int64_t dModel = 16;
  std::vector<float> x = randomMatrix(1, dModel, 41, 5.0);
  std::vector<float> gain = randomMatrix(1, dModel, 42);
  double maxGain = 0.0;
  for (float g : gain)
    maxGain = std::max(maxGain, std::fabs(static_cast<double>(g)));
  double meanSquare = 0.0, mean = 0.0;
  for (float v : x) {
    meanSquare += v * v / double(dModel);
    mean += v / double(dModel);
  }
  double rmsNorm = 0.0, layerNorm = 0.0, variance = meanSquare - mean * mean;
  for (int64_t i = 0; i < dModel; ++i) {
    double r = x[i] / std::sqrt(meanSquare + 1e-6) * gain[i];
    double l = (x[i] - mean) / std::sqrt(variance + 1e-5) * gain[i] + 0.5;
    rmsNorm += r * r;
    layerNorm += l * l;
  }
  EXPECT_LE(std::sqrt(rmsNorm), getRMSNormTokenNormBound(maxGain, dModel));
  EXPECT_LE(std::sqrt(layerNorm),
            getLayerNormTokenNormBound(maxGain, 0.5 * std::sqrt(16.0), dModel));
  // With a constant gain and eps = 0 the RMSNorm bound is attained.
  EXPECT_NEAR(getRMSNormTokenNormBound(-2.0, 16), 8.0, 1e-12);

  EXPECT_EQ(checkTokenNormBound(1.5), "");
  for (double bad : {0.0, -1.0, std::nan(""), HUGE_VAL})
    EXPECT_NE(checkTokenNormBound(bad), "") << bad;
}

TEST(GeometryTest, ScaleIsThePowerOfTwoThatFits) {
  EXPECT_NE(checkGeometryAlpha(0.0), "");
  EXPECT_NE(checkGeometryAlpha(-0.5), "");
  EXPECT_NE(checkGeometryAlpha(std::nan("")), "");
  EXPECT_EQ(checkGeometryAlpha(0.5), "");

  for (FloatFormat format : {FloatFormat::F8E4M3FN, FloatFormat::F8E5M2,
                             FloatFormat::F16, FloatFormat::BF16}) {
    double maxFinite = getMaxFinite(format);
    // Bounds at, just past and far past max finite, and below it.
    for (double bound : {maxFinite, std::nextafter(maxFinite, HUGE_VAL),
                         3.0 * maxFinite, 1e6 * maxFinite, 0.01 * maxFinite}) {
      for (double alpha : {0.25, 1.0, 3.0}) {
        double scale = getGeometryScale(alpha, bound, format);
        EXPECT_TRUE(isPowerOfTwo(scale)) << scale;
        EXPECT_LE(scale, 1.0);
        EXPECT_LE(scale * alpha * bound, maxFinite)
            << getFormatName(format).str() << " " << bound << " " << alpha;
        if (scale < 1.0) // the largest that fits: twice it does not
          EXPECT_GT(2.0 * scale * alpha * bound, maxFinite);
      }
    }
  }
  EXPECT_EQ(getGeometryScale(1.0, 0.0, FloatFormat::F8E4M3FN), 1.0);
  EXPECT_EQ(getGeometryScale(1.0, 448.0, FloatFormat::F8E4M3FN), 1.0);
  EXPECT_EQ(getGeometryScale(1.0, 449.0, FloatFormat::F8E4M3FN), 0.5);
}

TEST(GeometryTest, AutoAlphaSolvesTheRankAwareTailBound) {
  const int64_t d = 4096, r = 128, n = 4096;
  const double delta = 1e-6, gamma = 2.0;
  double alpha = getAutoAlpha(d, r, n, n, delta, gamma);
  ASSERT_GT(alpha, 0.0);
  ASSERT_LT(alpha, 1.0);
  // Put alpha back into 2 Nq Nk exp(-d^2 alpha^2 / (gamma r)): it is delta.
  double tail = 2.0 * n * n *
                std::exp(-double(d) * d * alpha * alpha / (gamma * r));
  EXPECT_NEAR(tail / delta, 1.0, 1e-9);
  // Rank-aware: a lower rank or a larger delta allows a smaller alpha.
  EXPECT_LT(getAutoAlpha(d, r / 2, n, n, delta, gamma), alpha);
  EXPECT_LT(getAutoAlpha(d, r, n, n, 1e-3, gamma), alpha);
  // Small models: the tail bound says nothing below the worst case.
  EXPECT_EQ(getAutoAlpha(8, 8, 1024, 1024), 1.0);
  // Outside the domain: the worst case.
  EXPECT_EQ(getAutoAlpha(d, r, n, n, 0.0, gamma), 1.0);
  EXPECT_EQ(getAutoAlpha(d, r, n, n, delta, -1.0), 1.0);
}
