//===- NumericsTest.cpp - numerics facts pinned on the CPU pipeline -------===//
//
// End-to-end runs of lpattn.attention through the CPU pipeline (tile-level
// form, safeguards, bit-exact casts, JIT) against the float64 reference.
// Each test pins a fact that breaks if the numerics break: correctness of
// the tile-level form (ragged, causal, GQA, masks, fully masked rows), and
// the reproduced P-Cast and PASA results.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Lab/Generators.h"
#include "lpattn/Lab/Metrics.h"
#include "lpattn/Lab/Reference.h"
#include "lpattn/Runner/CPUAttention.h"
#include "lpattn/Runner/RunReference.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace lpattn;

namespace {

PrecisionPolicy allF32() { return PrecisionPolicy{}; }

/// The isolating setting of P-Cast: Q/K/V and output in f32, only P cast
/// to e4m3.
PrecisionPolicy isolatingE4M3() {
  PrecisionPolicy p;
  p.p = FloatFormat::F8E4M3FN;
  return p;
}

struct Outcome {
  CPURunResult run;
  lab::ErrorMetrics metrics;
};

Outcome runProblem(const AttentionProblem &problem, const lab::HostTensor &q,
                   const lab::HostTensor &k, const lab::HostTensor &v,
                   std::optional<int64_t> sinkKeys = std::nullopt,
                   const lab::HostTensor *mask = nullptr) {
  CPUCompileOptions options;
  options.collapseSinkKeys = sinkKeys;
  auto compiled = CPUAttention::compile(problem, options);
  if (!compiled) {
    ADD_FAILURE() << llvm::toString(compiled.takeError());
    return {};
  }
  auto run = (*compiled)->run(q, k, v, mask);
  if (!run) {
    ADD_FAILURE() << llvm::toString(run.takeError());
    return {};
  }
  lab::ReferenceOptions ref;
  ref.scale = problem.softmaxScale > 0 ? problem.softmaxScale
                                       : 1.0 / std::sqrt(problem.headDim);
  ref.causal = problem.causal;
  ref.mask = mask;
  auto expected = lab::referenceAttention(q, k, v, ref);
  EXPECT_TRUE(bool(expected)) << llvm::toString(expected.takeError());
  auto metrics = lab::computeMetrics(run->output, *expected);
  EXPECT_TRUE(bool(metrics)) << llvm::toString(metrics.takeError());
  return {std::move(*run), *metrics};
}

AttentionProblem shape(int64_t b, int64_t hq, int64_t hkv, int64_t nq,
                       int64_t nk, int64_t d, int64_t tq, int64_t tk) {
  AttentionProblem p;
  p.batch = b, p.qHeads = hq, p.kvHeads = hkv, p.qLen = nq, p.kvLen = nk;
  p.headDim = d, p.tileQ = tq, p.tileKV = tk;
  return p;
}

//===----------------------------------------------------------------------===//
// The tile-level form computes attention
//===----------------------------------------------------------------------===//

/// Ragged tiles (Nq, Nk not multiples of the tiles), GQA and reverse order
/// with P scaling in f32: the same attention as the reference to f32
/// accuracy.
TEST(NumericsTest, RaggedGQAReverseMatchesReference) {
  AttentionProblem p = shape(2, 4, 2, 37, 53, 16, 8, 16);
  p.policy = allF32();
  p.kvOrder = KVOrder::Reverse;
  p.pScale = 1024;
  Outcome o = runProblem(p, lab::randomNormal({2, 4, 37, 16}, 1),
                         lab::randomNormal({2, 2, 53, 16}, 2),
                         lab::randomNormal({2, 2, 53, 16}, 3));
  EXPECT_EQ(o.metrics.numNaN + o.metrics.numInf, 0);
  EXPECT_LT(o.metrics.maxAbsError, 1e-5);
}

/// Causal, bottom-right aligned, with Nq > Nk: the first Nq - Nk rows see no
/// key and must be exactly 0 (never NaN); the others match the reference.
TEST(NumericsTest, CausalFullyMaskedRowsAreZero) {
  AttentionProblem p = shape(1, 2, 2, 20, 12, 8, 8, 4);
  p.policy = allF32();
  p.causal = true;
  lab::HostTensor q = lab::randomNormal({1, 2, 20, 8}, 4);
  Outcome o = runProblem(p, q, lab::randomNormal({1, 2, 12, 8}, 5),
                         lab::randomNormal({1, 2, 12, 8}, 6));
  EXPECT_EQ(o.metrics.numNaN, 0);
  EXPECT_LT(o.metrics.maxAbsError, 1e-5);
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t row = 0; row < 20 - 12; ++row)
      for (int64_t d = 0; d < 8; ++d)
        EXPECT_EQ(o.run.output.at(0, h, row, d), 0.0f);
}

/// An additive mask with -inf entries, through the same path.
TEST(NumericsTest, AdditiveMask) {
  AttentionProblem p = shape(1, 1, 1, 16, 24, 8, 8, 8);
  p.policy = allF32();
  p.mask = true;
  lab::HostTensor mask = lab::randomNormal({1, 1, 16, 24}, 7);
  for (int64_t j = 0; j < 24; j += 3)
    mask.at(0, 0, 5, j) = -INFINITY;
  Outcome o = runProblem(p, lab::randomNormal({1, 1, 16, 8}, 8),
                         lab::randomNormal({1, 1, 24, 8}, 9),
                         lab::randomNormal({1, 1, 24, 8}, 10), std::nullopt,
                         &mask);
  EXPECT_EQ(o.metrics.numNaN, 0);
  EXPECT_LT(o.metrics.maxAbsError, 1e-5);
}

/// The bias-corrected and PASA variants change m' and the score shift, not
/// the result: in f32 they agree with the reference like the standard one.
TEST(NumericsTest, SoftmaxVariantsAreEquivalent) {
  for (SoftmaxVariant variant :
       {SoftmaxVariant::BiasCorrected, SoftmaxVariant::Pasa}) {
    AttentionProblem p = shape(1, 2, 2, 32, 48, 16, 16, 16);
    p.policy = allF32();
    p.softmax = variant;
    Outcome o = runProblem(p, lab::randomNormal({1, 2, 32, 16}, 11),
                           lab::randomNormal({1, 2, 48, 16}, 12),
                           lab::randomNormal({1, 2, 48, 16}, 13));
    EXPECT_LT(o.metrics.maxAbsError, 1e-5) << std::string(stringifySoftmaxVariant(variant));
  }
}

/// Every combination of the safeguards (P scale, KV order, softmax variant)
/// compiles and runs, with causal masking, GQA and ragged tiles, an e4m3 P
/// and f16 scores: finite and within FP8 accuracy of the reference.
TEST(NumericsTest, EverySafeguardCombinationRuns) {
  lab::HostTensor q = lab::randomNormal({1, 4, 40, 32}, 21);
  lab::HostTensor k = lab::randomNormal({1, 2, 72, 32}, 22);
  lab::HostTensor v = lab::randomNormal({1, 2, 72, 32}, 23);
  for (double s : {1.0, 256.0})
    for (KVOrder order : {KVOrder::Forward, KVOrder::Reverse})
      for (SoftmaxVariant variant :
           {SoftmaxVariant::Standard, SoftmaxVariant::BiasCorrected,
            SoftmaxVariant::Pasa}) {
        AttentionProblem p = shape(1, 4, 2, 40, 72, 32, 16, 32);
        p.policy.qk = p.policy.score = p.policy.v = FloatFormat::F16;
        p.policy.p = FloatFormat::F8E4M3FN;
        p.policy.out = FloatFormat::BF16;
        p.pScale = s, p.kvOrder = order, p.softmax = variant;
        p.causal = true;
        Outcome o = runProblem(p, q, k, v, /*sinkKeys=*/0);
        std::string what = "S = " + std::to_string(s) + ", " +
                           std::string(stringifyKVOrder(order)) + ", " +
                           std::string(stringifySoftmaxVariant(variant));
        EXPECT_EQ(o.metrics.numNaN + o.metrics.numInf, 0) << what;
        // e4m3 P: relative rounding 2^-4 per probability.
        EXPECT_LT(o.metrics.relativeRMSE, 0.05) << what;
        EXPECT_GE(o.run.positive, 0) << what;
      }
}

//===----------------------------------------------------------------------===//
// P-Cast
//===----------------------------------------------------------------------===//

lab::SinkAttention sinks(int64_t heads, int64_t nq, int64_t nk, int64_t d,
                         double delta, uint64_t seed) {
  lab::SinkAttentionOptions o;
  o.numHeads = heads, o.numQueries = nq, o.numKeys = nk, o.headDim = d;
  o.sinks.delta = delta;
  o.seed = seed;
  auto generated = lab::generateSinkAttention(o);
  EXPECT_TRUE(bool(generated)) << llvm::toString(generated.takeError());
  return std::move(*generated);
}

AttentionProblem sinkProblem(int64_t heads, int64_t nq, int64_t nk, int64_t d,
                             double pScale, KVOrder order) {
  AttentionProblem p = shape(1, heads, heads, nq, nk, d, 64, 64);
  p.policy = isolatingE4M3();
  p.pScale = pScale;
  p.kvOrder = order;
  return p;
}

/// At Delta = Delta_c = ln(1024) + ln S - delta_k (delta_k: the realized
/// excess of the largest sink logit over Delta, averaged over the rows, each
/// with its own jitter), about half of the non-sink P collapse to 0 in
/// forward order.
TEST(NumericsTest, ForwardCollapseIsHalfAtThreshold) {
  for (double s : {1.0, 16.0}) {
    lab::SinkAttention probe = sinks(1, 128, 4096, 64, 0.0, 0);
    double deltaK = lab::realizedSinkExcess(probe.sinkJitter, 4);
    double threshold = std::log(1024.0) + std::log(s) - deltaK;
    lab::SinkAttention in = sinks(1, 128, 4096, 64, threshold, 0);
    Outcome o = runProblem(sinkProblem(1, 128, 4096, 64, s, KVOrder::Forward),
                           in.q, in.k, in.v, /*sinkKeys=*/4);
    EXPECT_GT(o.run.collapseFraction(), 0.35) << "S = " << s;
    EXPECT_LT(o.run.collapseFraction(), 0.65) << "S = " << s;
  }
}

/// Reverse order: only the non-sink keys in the sink's own tile can still
/// collapse, plus (with S = 1) the far tail of the non-sink logits
/// themselves: those ln(1024) = 6.93 below the running max (about 3.5 after
/// a few thousand keys). The generated logits are sums of 63 products of
/// normals, with heavier tails than N(0, 1): measured 0.11 % here.
TEST(NumericsTest, ReverseCollapseOnlyInSinkTile) {
  lab::SinkAttention in = sinks(1, 128, 4096, 64, 12.0, 1);
  double sinkTileShare = (64.0 - 4.0) / (4096.0 - 4.0);
  Outcome forward = runProblem(
      sinkProblem(1, 128, 4096, 64, 1.0, KVOrder::Forward), in.q, in.k, in.v,
      4);
  Outcome reverse = runProblem(
      sinkProblem(1, 128, 4096, 64, 1.0, KVOrder::Reverse), in.q, in.k, in.v,
      4);
  EXPECT_GT(forward.run.collapseFraction(), 0.9);
  EXPECT_LE(reverse.run.collapseFraction(), sinkTileShare + 2e-3);
  EXPECT_LT(reverse.metrics.mse, forward.metrics.mse);
  // With S = 256 the tail is safe too: only the sink tile remains.
  Outcome robust = runProblem(
      sinkProblem(1, 128, 4096, 64, 256.0, KVOrder::Reverse), in.q, in.k,
      in.v, 4);
  EXPECT_LE(robust.run.collapseFraction(), sinkTileShare);
}

/// S = 256 gives at least 3x lower MSE than S = 1 at Delta = 5, n_k = 4096
/// (isolating setting, forward order, 8 heads with their own sink jitter).
TEST(NumericsTest, PScale256LowersMSE) {
  lab::SinkAttention in = sinks(8, 64, 4096, 64, 5.0, 0);
  Outcome s1 = runProblem(sinkProblem(8, 64, 4096, 64, 1.0, KVOrder::Forward),
                          in.q, in.k, in.v, 4);
  Outcome s256 = runProblem(
      sinkProblem(8, 64, 4096, 64, 256.0, KVOrder::Forward), in.q, in.k, in.v,
      4);
  EXPECT_GE(s1.metrics.mse / s256.metrics.mse, 3.0)
      << "MSE S=1 " << s1.metrics.mse << ", S=256 " << s256.metrics.mse;
  EXPECT_LT(s256.run.collapseFraction(), s1.run.collapseFraction());
}

//===----------------------------------------------------------------------===//
// PASA
//===----------------------------------------------------------------------===//

/// f16 scores with a common offset of 1e5 overflow: inf and NaN with
/// non-saturating casts, all scores clamped to 65504 (a uniform average)
/// with satfinite; the PASA shift keeps them finite and accurate.
TEST(NumericsTest, PasaAvoidsFP16Overflow) {
  lab::OffsetAttentionOptions o;
  o.numQueries = 64, o.numKeys = 256, o.headDim = 64, o.offset = 1e5;
  auto in = lab::generateOffsetAttention(o);
  ASSERT_TRUE(bool(in)) << llvm::toString(in.takeError());
  AttentionProblem p = shape(1, 1, 1, 64, 256, 64, 64, 64);
  p.policy.qk = p.policy.score = p.policy.p = p.policy.v = FloatFormat::F16;
  Outcome clamped = runProblem(p, in->q, in->k, in->v);
  p.policy.overflow = OverflowMode::NonSat;
  Outcome naive = runProblem(p, in->q, in->k, in->v);
  p.softmax = SoftmaxVariant::Pasa;
  Outcome pasa = runProblem(p, in->q, in->k, in->v);
  EXPECT_GT(naive.metrics.numNaN + naive.metrics.numInf, 0);
  EXPECT_GT(clamped.metrics.relativeRMSE, 0.5);
  EXPECT_EQ(pasa.metrics.numNaN + pasa.metrics.numInf, 0);
  EXPECT_LT(pasa.metrics.relativeRMSE, 1e-2);
}

/// PASA's recovery adds only the difference of each tile's shift to a
/// reference shift, so the f32 scores stay small: the error stays at the f16
/// floor whatever the offset (rel. RMSE at 1e6 within 1.25x of 1e2; adding
/// the whole shift back gave 1.7 % vs 0.23 %).
TEST(NumericsTest, PasaErrorDoesNotGrowWithTheOffset) {
  std::vector<double> relRMSE;
  for (double offset : {1e2, 1e4, 1e6, -1e6}) {
    lab::OffsetAttentionOptions o;
    o.numHeads = 2, o.numQueries = 64, o.numKeys = 512, o.headDim = 64;
    o.offset = offset;
    auto in = lab::generateOffsetAttention(o);
    ASSERT_TRUE(bool(in)) << llvm::toString(in.takeError());
    AttentionProblem p = shape(1, 2, 2, 64, 512, 64, 64, 64);
    p.policy.qk = p.policy.score = p.policy.p = p.policy.v = FloatFormat::F16;
    p.softmax = SoftmaxVariant::Pasa;
    Outcome pasa = runProblem(p, in->q, in->k, in->v);
    EXPECT_EQ(pasa.metrics.numNaN + pasa.metrics.numInf, 0) << offset;
    relRMSE.push_back(pasa.metrics.relativeRMSE);
  }
  EXPECT_LT(relRMSE[0], 5e-3);
  for (size_t i = 1; i < relRMSE.size(); ++i)
    EXPECT_LE(relRMSE[i], 1.25 * relRMSE[0])
        << "offset #" << i << ": " << relRMSE[i] << " vs " << relRMSE[0];
}

//===----------------------------------------------------------------------===//
// LPTF
//===----------------------------------------------------------------------===//

/// LPTF's setting: 2 keys tied exactly at every row max (P = 1), the others
/// >= 12 lower, V ~ N(-1.5, 0.2^2), bf16 everywhere with P~ V rounded to
/// bf16 once per tile. The standard softmax's O is biased (the tiny terms
/// break the bf16 rounding ties of V_1 + V_2 always the same way); the
/// bias-corrected softmax (no P = 1) removes at least 75 % of it. The row
/// shift makes the row maxima differ: with one max per head, its corrected
/// P = exp(-d) rounds to bf16 with one error per head, a bias of its own.
TEST(NumericsTest, LptfBiasAndItsCorrection) {
  lab::TiedMaxAttentionOptions o;
  o.numHeads = 8, o.numQueries = 128, o.numKeys = 256, o.headDim = 64;
  o.numTied = 2;
  o.minGap = 12.0;
  o.valueMean = -1.5, o.valueStddev = 0.2;
  o.rowShift = 4.0;
  auto in = lab::generateTiedMaxAttention(o);
  ASSERT_TRUE(bool(in)) << llvm::toString(in.takeError());
  AttentionProblem p = shape(1, 8, 8, 128, 256, 64, 64, 256);
  p.policy.qk = p.policy.score = p.policy.p = p.policy.v = p.policy.acc =
      FloatFormat::BF16;
  Outcome standard = runProblem(p, in->q, in->k, in->v);
  p.softmax = SoftmaxVariant::BiasCorrected;
  Outcome corrected = runProblem(p, in->q, in->k, in->v);
  EXPECT_LT(standard.metrics.meanError, 0.0);
  EXPECT_GT(std::fabs(standard.metrics.biasT), 10.0)
      << "bias " << standard.metrics.meanError;
  EXPECT_LE(std::fabs(corrected.metrics.meanError),
            0.25 * std::fabs(standard.metrics.meanError))
      << "standard " << standard.metrics.meanError << " (t = "
      << standard.metrics.biasT << "), corrected "
      << corrected.metrics.meanError << " (t = " << corrected.metrics.biasT
      << ")";
  // Zero-mean V: the tie-breaking errors cancel, no bias to find.
  o.valueMean = 0.0;
  auto zeroMean = lab::generateTiedMaxAttention(o);
  ASSERT_TRUE(bool(zeroMean));
  p.softmax = SoftmaxVariant::Standard;
  Outcome control = runProblem(p, zeroMean->q, zeroMean->k, zeroMean->v);
  EXPECT_LT(std::fabs(control.metrics.meanError),
            0.05 * std::fabs(standard.metrics.meanError));
}

//===----------------------------------------------------------------------===//
// Where the roundings happen (SPEC.md): a hand-written model of the loop
//===----------------------------------------------------------------------===//

/// x rounded to `format` (RNE, per the overflow mode) and widened back.
float roundTo(float x, FloatFormat format, OverflowMode overflow) {
  return format == FloatFormat::F32 ? x : castRNE(x, format, overflow);
}

/// The SPEC.md loop for B = 1, Hq = Hkv, no mask, forward order, P scale 1,
/// written out scalar by scalar in the order lpattn's CPU pipeline uses:
/// each tile product sums k in f32 from 0 and is rounded once to the score
/// (acc) type. `perStep` instead rounds every product and partial sum to the
/// score / acc type, the model the pipeline must NOT follow (so that a test
/// comparing against the right model can tell them apart).
lab::HostTensor specModel(const PrecisionPolicy &pol, const lab::HostTensor &q,
                          const lab::HostTensor &k, const lab::HostTensor &v,
                          float scale, int64_t br, int64_t bc,
                          bool perStep = false) {
  const int64_t heads = q.shape[1], nq = q.shape[2], d = q.shape[3],
                nk = k.shape[2], dv = v.shape[3];
  OverflowMode ov = pol.overflow;
  auto in = [&](float x, FloatFormat f) {
    return roundTo(x, f, OverflowMode::SatFinite); // as CPUAttention::run
  };
  lab::HostTensor out = lab::HostTensor::zeros({1, heads, nq, dv});
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t r0 = 0; r0 < nq; r0 += br) {
      int64_t rows = std::min(br, nq - r0);
      std::vector<float> m(rows, -INFINITY), l(rows, 0.0f),
          acc(rows * dv, 0.0f);
      for (int64_t c0 = 0; c0 < nk; c0 += bc) {
        int64_t cols = std::min(bc, nk - c0);
        std::vector<float> s(rows * cols);
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t j = 0; j < cols; ++j) {
            float sum = 0.0f;
            for (int64_t x = 0; x < d; ++x) {
              float prod = in(q.at(0, h, r0 + i, x), pol.qk) *
                           in(k.at(0, h, c0 + j, x), pol.qk);
              sum = perStep ? roundTo(sum + roundTo(prod, pol.score, ov),
                                      pol.score, ov)
                            : sum + prod;
            }
            s[i * cols + j] = roundTo(sum, pol.score, ov) * scale;
          }
        for (int64_t i = 0; i < rows; ++i) {
          float mNew = m[i];
          for (int64_t j = 0; j < cols; ++j)
            mNew = std::max(mNew, s[i * cols + j]);
          float mSafe = mNew == -INFINITY ? 0.0f : mNew;
          float alpha = std::exp(m[i] - mSafe);
          std::vector<float> p(cols), pCast(cols);
          for (int64_t j = 0; j < cols; ++j) {
            p[j] = std::exp(s[i * cols + j] - mSafe);
            pCast[j] = roundTo(p[j], pol.p, ov);
          }
          float lNew = l[i] * alpha;
          for (int64_t j = 0; j < cols; ++j)
            lNew = lNew + p[j];
          for (int64_t y = 0; y < dv; ++y) {
            float &a = acc[i * dv + y];
            if (perStep) {
              a = roundTo(a * alpha, pol.acc, ov);
              for (int64_t j = 0; j < cols; ++j)
                a = roundTo(a + roundTo(pCast[j] * in(v.at(0, h, c0 + j, y),
                                                      pol.v),
                                        pol.acc, ov),
                            pol.acc, ov);
              continue;
            }
            float pv = 0.0f;
            for (int64_t j = 0; j < cols; ++j)
              pv = pv + pCast[j] * in(v.at(0, h, c0 + j, y), pol.v);
            a = roundTo(a * alpha + roundTo(pv, pol.acc, ov), pol.acc, ov);
          }
          m[i] = mNew;
          l[i] = lNew;
        }
      }
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t y = 0; y < dv; ++y) {
          float o = l[i] == 0.0f ? 0.0f : acc[i * dv + y] / l[i] * 1.0f;
          out.at(0, h, r0 + i, y) = roundTo(o, pol.out, ov);
        }
    }
  return out;
}

/// Entries of `a` and `b` whose bits differ.
int64_t countMismatches(const lab::HostTensor &a, const lab::HostTensor &b) {
  int64_t count = 0;
  for (size_t i = 0; i < a.data.size(); ++i)
    if (std::memcmp(&a.data[i], &b.data[i], sizeof(float)) != 0)
      ++count;
  return count;
}

/// Runs `problem` on the CPU pipeline; the output, or empty on failure.
lab::HostTensor runOutput(const AttentionProblem &problem,
                          const lab::HostTensor &q, const lab::HostTensor &k,
                          const lab::HostTensor &v) {
  auto compiled = CPUAttention::compile(problem.toMLIR());
  if (!compiled) {
    ADD_FAILURE() << llvm::toString(compiled.takeError());
    return {};
  }
  auto run = (*compiled)->run(q, k, v);
  if (!run) {
    ADD_FAILURE() << llvm::toString(run.takeError());
    return {};
  }
  return std::move(run->output);
}

/// f16 score tiles: every S leaves the product as round_f16 of its f32 sum,
/// so the whole attention equals the model bit for bit (ragged tiles, three
/// KV tiles, two heads), and differs from the per-step rounding model.
TEST(NumericsTest, F16ScoreTileIsRoundedF32Product) {
  for (uint64_t seed : {31, 32, 33}) {
    lab::HostTensor q = lab::randomNormal({1, 2, 24, 16}, seed, 0.0, 2.0);
    lab::HostTensor k = lab::randomNormal({1, 2, 40, 16}, seed + 100, 0.0, 2.0);
    lab::HostTensor v = lab::randomNormal({1, 2, 40, 16}, seed + 200);
    AttentionProblem p = shape(1, 2, 2, 24, 40, 16, 16, 16);
    p.policy.qk = p.policy.score = p.policy.p = p.policy.v = FloatFormat::F16;
    lab::HostTensor got = runOutput(p, q, k, v);
    ASSERT_EQ(got.data.size(), q.data.size());
    // c = 1/sqrt(16) = 0.25 exactly.
    lab::HostTensor model = specModel(p.policy, q, k, v, 0.25f, 16, 16);
    EXPECT_EQ(countMismatches(got, model), 0) << "seed " << seed;
    lab::HostTensor perStep =
        specModel(p.policy, q, k, v, 0.25f, 16, 16, /*perStep=*/true);
    EXPECT_GT(countMismatches(got, perStep), 0) << "seed " << seed;
  }
}

/// bf16 everywhere (scores, P, the accumulator, the output): P~ V_j is
/// rounded to bf16 once per tile and acc * a + P~ V_j once more; bit for
/// bit against the model, and not the per-step model.
TEST(NumericsTest, BF16AccumulatorMatchesSpecModel) {
  for (uint64_t seed : {41, 42}) {
    lab::HostTensor q = lab::randomNormal({1, 2, 20, 16}, seed);
    lab::HostTensor k = lab::randomNormal({1, 2, 56, 16}, seed + 100);
    lab::HostTensor v = lab::randomNormal({1, 2, 56, 16}, seed + 200, 1.5, 0.3);
    AttentionProblem p = shape(1, 2, 2, 20, 56, 16, 8, 16);
    p.policy.qk = p.policy.score = p.policy.p = p.policy.v = p.policy.acc =
        p.policy.out = FloatFormat::BF16;
    lab::HostTensor got = runOutput(p, q, k, v);
    ASSERT_EQ(got.data.size(), q.data.size());
    lab::HostTensor model = specModel(p.policy, q, k, v, 0.25f, 8, 16);
    EXPECT_EQ(countMismatches(got, model), 0) << "seed " << seed;
    lab::HostTensor perStep =
        specModel(p.policy, q, k, v, 0.25f, 8, 16, /*perStep=*/true);
    EXPECT_GT(countMismatches(got, perStep), 0) << "seed " << seed;
  }
}

//===----------------------------------------------------------------------===//
// Per-(batch, KV head) descales
//===----------------------------------------------------------------------===//

/// FP8 with tensor<B x Hkv x f32> descales whose entries equal the
/// per-tensor ones: bit-identical O (GQA, ragged tiles, reverse + P scale).
/// Different entries per (batch, KV head) in f32: the float64 attention of
/// those descales. Per-head values given to a scalar-descale op, or of the
/// wrong shape, are errors.
TEST(NumericsTest, PerHeadDescales) {
  AttentionProblem p = shape(2, 4, 2, 37, 53, 32, 16, 32);
  p.kvOrder = KVOrder::Reverse;
  p.pScale = 256;
  p.causal = true;
  p.descales = true;
  lab::HostTensor q = lab::randomNormal({2, 4, 37, 32}, 61);
  lab::HostTensor k = lab::randomNormal({2, 2, 53, 32}, 62);
  lab::HostTensor v = lab::randomNormal({2, 2, 53, 32}, 63);
  std::array<float, 3> scalars{0.5f, 2.0f, 1.5f};
  auto scalar = CPUAttention::compile(p);
  ASSERT_TRUE(bool(scalar)) << llvm::toString(scalar.takeError());
  auto scalarRun = (*scalar)->run(q, k, v, nullptr, scalars);
  ASSERT_TRUE(bool(scalarRun)) << llvm::toString(scalarRun.takeError());

  p.descalesPerHead = true;
  auto perHead = CPUAttention::compile(p);
  ASSERT_TRUE(bool(perHead)) << llvm::toString(perHead.takeError());
  const CPUAttention::Signature &sig = (*perHead)->getSignature();
  EXPECT_TRUE(sig.perHeadDescales);
  EXPECT_EQ(sig.descale, (std::vector<int64_t>{2, 2}));
  auto filled = [](float x) {
    return lab::HostTensor{{2, 2}, std::vector<float>(4, x)};
  };
  RunDescales equal(std::array<lab::HostTensor, 3>{
      filled(scalars[0]), filled(scalars[1]), filled(scalars[2])});
  for (const RunDescales &ds : {equal, RunDescales(scalars)}) {
    auto run = (*perHead)->run(q, k, v, nullptr, ds);
    ASSERT_TRUE(bool(run)) << llvm::toString(run.takeError());
    EXPECT_EQ(run->output.data, scalarRun->output.data);
  }

  // Different per (batch, KV head), all-f32 policy: the reference.
  p.policy = allF32();
  auto f32 = CPUAttention::compile(p);
  ASSERT_TRUE(bool(f32)) << llvm::toString(f32.takeError());
  RunDescales differ(std::array<lab::HostTensor, 3>{
      lab::HostTensor{{2, 2}, {0.5f, 0.25f, 1.0f, 4.0f}},
      lab::HostTensor{{2, 2}, {2.0f, 0.125f, 3.0f, 0.5f}},
      lab::HostTensor{{2, 2}, {1.5f, 0.75f, 8.0f, 0.5f}}});
  auto run = (*f32)->run(q, k, v, nullptr, differ);
  ASSERT_TRUE(bool(run)) << llvm::toString(run.takeError());
  auto expected =
      referenceFor((*f32)->getSignature(), q, k, v, nullptr, differ);
  ASSERT_TRUE(bool(expected)) << llvm::toString(expected.takeError());
  auto metrics = lab::computeMetrics(run->output, *expected);
  ASSERT_TRUE(bool(metrics));
  EXPECT_EQ(metrics->numNaN + metrics->numInf, 0);
  EXPECT_LT(metrics->relativeRMSE, 1e-5);
  // The per-tensor reference of the first entry is far from it.
  auto wrongRef = referenceFor((*f32)->getSignature(), q, k, v, nullptr,
                               std::array<float, 3>{0.5f, 2.0f, 1.5f});
  ASSERT_TRUE(bool(wrongRef));
  auto wrong = lab::computeMetrics(run->output, *wrongRef);
  ASSERT_TRUE(bool(wrong));
  EXPECT_GT(wrong->relativeRMSE, 1e-2);

  auto refused = (*scalar)->run(q, k, v, nullptr, differ);
  ASSERT_FALSE(bool(refused));
  EXPECT_EQ(llvm::toString(refused.takeError()),
            "per-(batch, KV head) descales were given, but the compiled "
            "attention takes f32 scalar descales");
  RunDescales badShape(std::array<lab::HostTensor, 3>{
      filled(1.0f), lab::HostTensor{{2, 4}, std::vector<float>(8, 1.0f)},
      filled(1.0f)});
  auto misshapen = (*f32)->run(q, k, v, nullptr, badShape);
  ASSERT_FALSE(bool(misshapen));
  EXPECT_EQ(llvm::toString(misshapen.takeError()),
            "k_ds has shape [2, 4] but the compiled attention expects [2, 2]");
}

//===----------------------------------------------------------------------===//
// The reference is the attention that ran
//===----------------------------------------------------------------------===//

/// Every all-f32 variant of the op agrees with the float64 reference built
/// from the compiled op's own attributes and operands (scale, causal, mask,
/// descales, GQA): relative RMSE < 1e-5.
TEST(NumericsTest, F32PoliciesMatchTheirReference) {
  struct Case {
    const char *name;
    AttentionProblem problem;
  };
  std::vector<Case> cases;
  auto base = [](int64_t hq, int64_t hkv, int64_t nq, int64_t nk) {
    AttentionProblem p = shape(1, hq, hkv, nq, nk, 16, 16, 16);
    p.policy = allF32();
    return p;
  };
  cases.push_back({"causal square", base(2, 2, 40, 40)});
  cases.back().problem.causal = true;
  cases.push_back({"causal rectangular", base(2, 2, 24, 56)});
  cases.back().problem.causal = true;
  cases.push_back({"scale 0.5", base(2, 2, 32, 48)});
  cases.back().problem.softmaxScale = 0.5;
  cases.push_back({"mask", base(2, 2, 32, 48)});
  cases.back().problem.mask = true;
  cases.push_back({"descales", base(2, 2, 32, 48)});
  cases.back().problem.descales = true;
  cases.push_back({"GQA reverse", base(4, 2, 32, 48)});
  cases.back().problem.kvOrder = KVOrder::Reverse;
  cases.push_back({"bias_corrected", base(2, 2, 32, 48)});
  cases.back().problem.softmax = SoftmaxVariant::BiasCorrected;
  cases.push_back({"pasa causal", base(2, 2, 32, 48)});
  cases.back().problem.softmax = SoftmaxVariant::Pasa;
  cases.back().problem.causal = true;
  for (const Case &c : cases) {
    const AttentionProblem &p = c.problem;
    auto compiled = CPUAttention::compile(p.toMLIR());
    ASSERT_TRUE(bool(compiled)) << llvm::toString(compiled.takeError());
    lab::HostTensor q = lab::randomNormal({1, p.qHeads, p.qLen, 16}, 51);
    lab::HostTensor k = lab::randomNormal({1, p.kvHeads, p.kvLen, 16}, 52);
    lab::HostTensor v = lab::randomNormal({1, p.kvHeads, p.kvLen, 16}, 53);
    lab::HostTensor mask = lab::randomNormal({1, 1, p.qLen, p.kvLen}, 54);
    for (int64_t j = 0; j < p.kvLen; j += 3)
      mask.at(0, 0, 1, j) = -INFINITY;
    std::array<float, 3> descales{0.5f, 2.0f, 1.5f};
    auto run = (*compiled)->run(q, k, v, &mask, descales);
    ASSERT_TRUE(bool(run)) << llvm::toString(run.takeError());
    auto expected = referenceFor((*compiled)->getSignature(), q, k, v, &mask,
                                 descales);
    ASSERT_TRUE(bool(expected)) << llvm::toString(expected.takeError());
    auto metrics = lab::computeMetrics(run->output, *expected);
    ASSERT_TRUE(bool(metrics));
    EXPECT_EQ(metrics->numNaN + metrics->numInf, 0) << c.name;
    EXPECT_LT(metrics->relativeRMSE, 1e-5) << c.name;
  }
}

} // namespace
