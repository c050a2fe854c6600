//===- SelectionTest.cpp - the cheapest safe precision policy -------------===//
//
// The cost table holds only policies the verifier accepts; the unit
// roundoffs are the formats' (p bits of precision: 2^-p); more knowledge
// never buys a cheaper policy than the rules allow, and a larger bound or a
// stronger sink never a cheaper one.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Numerics/Rules.h"
#include "lpattn/Numerics/Selection.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace lpattn;

namespace {

size_t rank(const PrecisionChoice &choice) {
  return static_cast<size_t>(choice.candidate -
                             getCandidatePolicies().data());
}

TEST(Selection, CandidatesAreSupportedPolicies) {
  for (const CandidatePolicy &c : getCandidatePolicies()) {
    PrecisionPolicy policy;
    policy.qk = c.qk;
    policy.score = c.score;
    policy.p = c.p;
    policy.v = c.v;
    policy.acc = FloatFormat::F32;
    for (FloatFormat out : {FloatFormat::F32, FloatFormat::BF16}) {
      policy.out = out;
      EXPECT_EQ(policy.checkSupported(), "") << c.name;
    }
  }
  // The cheapest is all FP8, the last the widest.
  EXPECT_EQ(getCandidatePolicies().front().qk, FloatFormat::F8E4M3FN);
  EXPECT_EQ(getCandidatePolicies().back().qk, FloatFormat::F32);
}

TEST(Selection, UnitRoundoff) {
  // e4m3: 3 stored + 1 implicit bit; e5m2: 2 + 1; f16: 10 + 1; bf16: 7 + 1.
  EXPECT_EQ(getUnitRoundoff(FloatFormat::F8E4M3FN), std::ldexp(1.0, -4));
  EXPECT_EQ(getUnitRoundoff(FloatFormat::F8E5M2), std::ldexp(1.0, -3));
  EXPECT_EQ(getUnitRoundoff(FloatFormat::F16), std::ldexp(1.0, -11));
  EXPECT_EQ(getUnitRoundoff(FloatFormat::BF16), std::ldexp(1.0, -8));
  EXPECT_EQ(getUnitRoundoff(FloatFormat::F32), std::ldexp(1.0, -24));
}

TEST(Selection, UnknownBoundNeverGivesFP8QK) {
  SelectionHints hints;
  hints.softmaxScale = 0.125;
  for (double delta : {0.0, 5.0, 9.0, 20.0}) {
    hints.sinkStrength = delta;
    PrecisionChoice choice = selectPrecision(hints);
    EXPECT_FALSE(isFP8(choice.candidate->qk)) << delta;
    EXPECT_NE(choice.candidate->score, FloatFormat::F16) << delta;
  }
}

TEST(Selection, MonotoneInBoundAndSinkStrength) {
  SelectionHints hints;
  hints.softmaxScale = 0.125;
  size_t previous = 0;
  for (double bound = 0.5; bound < 1e9; bound *= 1.7) {
    hints.logitBound = bound;
    hints.sinkStrength = 0.0;
    size_t now = rank(selectPrecision(hints));
    EXPECT_GE(now, previous) << bound;
    previous = now;
  }
  hints.logitBound = 2.0;
  previous = 0;
  for (double delta = 0.0; delta < 100.0; delta += 0.5) {
    hints.sinkStrength = delta;
    PrecisionChoice choice = selectPrecision(hints);
    size_t now = rank(choice);
    EXPECT_GE(now, previous) << delta;
    previous = now;
    // Whatever was chosen keeps Delta at or below its threshold.
    if (choice.safe)
      EXPECT_LE(delta, getCollapseThreshold(choice.candidate->p, choice.pScale,
                                            hints.sinkCount, hints.sinkJitter))
          << delta;
  }
}

TEST(Selection, SafeguardsOnlyWhereCollapseIsPredicted) {
  SelectionHints hints;
  hints.softmaxScale = 0.125;
  hints.logitBound = 2.0;
  double atOne = getCollapseThreshold(FloatFormat::F8E4M3FN, 1.0, 4, 1.0);
  hints.sinkStrength = atOne - 0.01;
  PrecisionChoice below = selectPrecision(hints);
  EXPECT_EQ(below.pScale, 1.0);
  EXPECT_FALSE(below.reverseKV);
  hints.sinkStrength = atOne + 0.01;
  PrecisionChoice above = selectPrecision(hints);
  EXPECT_EQ(above.candidate, below.candidate);
  EXPECT_EQ(above.pScale, 256.0);
  EXPECT_TRUE(above.reverseKV);
}

TEST(Selection, PasaOnlyWhereF16ScoresOverflow) {
  SelectionHints hints;
  hints.softmaxScale = 0.125;
  hints.sinkStrength = 0.0;
  hints.maxLogitError = 1.0;
  // Raw scores L / c just above 65504 with a known offset: PASA.
  hints.logitBound = 65505.0 * 0.125;
  hints.scoreOffset = *hints.logitBound - 10.0;
  PrecisionChoice shifted = selectPrecision(hints);
  EXPECT_EQ(shifted.candidate->score, FloatFormat::F16);
  EXPECT_TRUE(shifted.pasa);
  // Without the offset: no f16 score tile.
  hints.scoreOffset.reset();
  EXPECT_NE(selectPrecision(hints).candidate->score, FloatFormat::F16);
  // Small raw scores (800) round to f16 with 2^-11 * 100 = 0.05: no PASA.
  hints.logitBound = 100.0;
  hints.scoreOffset = 50.0;
  PrecisionChoice plain = selectPrecision(hints);
  EXPECT_EQ(plain.candidate->score, FloatFormat::F16);
  EXPECT_FALSE(plain.pasa);
  // With descales the raw scores are unknown: no f16 score tile.
  hints.hasDescales = true;
  EXPECT_NE(selectPrecision(hints).candidate->score, FloatFormat::F16);
}

TEST(Selection, HintChecks) {
  EXPECT_EQ(checkLogitHint("L", 0.0), "");
  EXPECT_NE(checkLogitHint("L", -1e-300), "");
  EXPECT_NE(checkLogitHint("L", std::nan("")), "");
  EXPECT_NE(checkLogitHint("L", INFINITY), "");
  EXPECT_EQ(checkMaxLogitError(1e-300), "");
  EXPECT_NE(checkMaxLogitError(0.0), "");
  EXPECT_NE(checkMaxLogitError(INFINITY), "");
}

} // namespace

namespace {

TEST(Selection, PScaleLeavesRoomInTheF32Accumulator) {
  // Whatever the bound and sink strength, S <= 2^15: bf16's own largest
  // power of two (2^127) would overflow P * S * V in f32.
  SelectionHints hints;
  hints.softmaxScale = 0.125;
  for (double bound : {1.0, 100.0, 1e4, 1e8})
    for (std::optional<double> delta :
         {std::optional<double>(), std::optional<double>(30.0)}) {
      hints.logitBound = bound;
      hints.sinkStrength = delta;
      PrecisionChoice choice = selectPrecision(hints);
      EXPECT_LE(choice.pScale, 32768.0) << bound;
      EXPECT_EQ(checkPScale(choice.pScale, choice.candidate->p), "");
    }
}

} // namespace
