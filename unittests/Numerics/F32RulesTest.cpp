//===- F32RulesTest.cpp - the f32 rules of scales and parameters -------===//
//
// checkExactInF32 and checkRoundsToF32 decide what the verifier and
// lpattn-run refuse: values the lowering's f32 constants would change.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Numerics/Rules.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>

using namespace lpattn;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(F32RulesTest, ExactInF32AcceptsNormalF32Values) {
  for (double v : {1.0, 256.0, 32768.0, 0.125, std::ldexp(1.0, -126),
                   std::ldexp(1.0, 127), 448.0, -2.0, double(FLT_MAX)})
    EXPECT_EQ(checkExactInF32("p_scale", v), "") << v;
}

TEST(F32RulesTest, ExactInF32RefusesWhatF32Changes) {
  struct Case {
    double value;
    const char *message;
  };
  const Case cases[] = {
      {std::ldexp(1.0, -200),
       "p_scale = 6.22302e-61 is not an exact, finite, non-zero f32 value, "
       "the arithmetic the lowering uses: it underflows f32 and would become "
       "0"},
      {std::ldexp(1.0, -140),
       "it is below the smallest normal f32 (1.17549e-38) and would lose "
       "precision (becoming 7.17465e-43)"},
      {std::ldexp(1.0, 128),
       "it overflows f32 (max 3.40282e+38) and would become inf"},
      {0.1, "it would round to 0.100000001"},
      {0.0, "it is 0"},
      {kNaN, "p_scale = nan is not an exact"},
      {kInf, "it is infinite"},
  };
  for (const Case &c : cases) {
    std::string message = checkExactInF32("p_scale", c.value);
    EXPECT_NE(message.find(c.message), std::string::npos)
        << c.value << ": " << message;
  }
}

TEST(F32RulesTest, RoundsToF32AllowsRoundingButNotLoss) {
  // 1e-3 (the default tol) and 1.1 round by less than an f32 ulp: accepted.
  for (double v : {0.0, 1e-3, 1.1, 2.0, 1e6, -0.5, 1e-37})
    EXPECT_EQ(checkRoundsToF32("tol", v), "") << v;
  EXPECT_NE(checkRoundsToF32("tol", 1e-50).find(
                "tol = 1e-50 is not representable in f32, the arithmetic the "
                "lowering uses: it underflows f32 and would become 0"),
            std::string::npos);
  EXPECT_NE(checkRoundsToF32("beta", 1e-40).find("below the smallest normal"),
            std::string::npos);
  EXPECT_NE(checkRoundsToF32("beta", 1e39).find("overflows f32"),
            std::string::npos);
  EXPECT_NE(checkRoundsToF32("beta", kNaN).find("it is NaN"),
            std::string::npos);
  EXPECT_NE(checkRoundsToF32("beta", -kInf).find("it is infinite"),
            std::string::npos);
}

} // namespace
