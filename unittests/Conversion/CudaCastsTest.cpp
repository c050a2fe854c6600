//===- CudaCastsTest.cpp - casts vs. CUDA's conversions ------- -*- C++ -*-===//
//
// Both lpattn::encodeRNE (the numerics library) and the JIT-compiled
// expansion of lpattn-expand-float-casts against CUDA's conversions
// (__nv_cvt_float_to_fp8 with __NV_SATFINITE / __NV_NOSAT,
// __float2half_rn, __float2bfloat16_rn; host implementations from the
// toolkit headers), on every rounding boundary and 10 million fixed-seed
// random f32 patterns; and arith.extf on every code. Built only where the
// CUDA headers are found (see CMakeLists.txt).
//
//===----------------------------------------------------------------------===//

#include "CastKernelsFixture.h"
#include "CudaReference.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace lpattn;
using namespace lpattn::casts;

namespace {

std::string hex(uint32_t bits, unsigned width) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::format_hex(bits, 2 + width / 4);
  return text;
}

/// The sample: every rounding boundary, then 10 million random patterns.
const std::vector<uint32_t> &sampleInputs() {
  static const std::vector<uint32_t> inputs = [] {
    std::vector<uint32_t> all = boundaryInputs();
    std::vector<uint32_t> random = randomInputs(10'000'000, /*seed=*/4242);
    all.insert(all.end(), random.begin(), random.end());
    return all;
  }();
  return inputs;
}

/// Success if `bitsOf(i)` equals CUDA's bits for every sample input;
/// otherwise the count and the first differences, naming `who`.
template <typename BitsOf>
::testing::AssertionResult matchesCUDA(const TruncCast &cast,
                                       const std::vector<uint32_t> &inputs,
                                       const char *who, BitsOf bitsOf) {
  unsigned width = getBitWidth(cast.format);
  size_t mismatches = 0;
  std::string examples;
  llvm::raw_string_ostream os(examples);
  for (size_t i = 0; i < inputs.size(); ++i) {
    float x = bitsToFloat(inputs[i]);
    uint32_t expected = cudaTruncate(x, cast);
    uint32_t got = bitsOf(i);
    if (got == expected)
      continue;
    if (++mismatches <= 8)
      os << "\n  x = " << hex(inputs[i], 32) << " (" << x << "): CUDA "
         << hex(expected, width) << ", " << who << " " << hex(got, width);
  }
  if (mismatches == 0)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << describe(cast) << ": " << mismatches << " of " << inputs.size()
         << " inputs differ between CUDA and " << who << examples;
}

TEST(CudaCastsTest, EncodeRNEMatchesCUDA) {
  const std::vector<uint32_t> &inputs = sampleInputs();
  for (const TruncCast &cast : allTruncCasts())
    EXPECT_TRUE(matchesCUDA(cast, inputs, "encodeRNE", [&](size_t i) {
      return encodeRNE(bitsToFloat(inputs[i]), cast.format, cast.overflow);
    }));
}

class CudaJITCastsTest : public CastKernelsFixture {};

TEST_F(CudaJITCastsTest, ExpansionMatchesCUDA) {
  const std::vector<uint32_t> &inputs = sampleInputs();
  std::vector<float> floats(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i)
    floats[i] = bitsToFloat(inputs[i]);
  for (const TruncCast &cast : allTruncCasts()) {
    for (KernelForm form : {KernelForm::Vector, KernelForm::Scalar}) {
      auto got = kernels->truncateToBits(cast, form, floats);
      ASSERT_TRUE(static_cast<bool>(got)) << llvm::toString(got.takeError());
      std::string who = std::string("the JIT ") + describe(form) + " kernel";
      EXPECT_TRUE(matchesCUDA(cast, inputs, who.c_str(),
                              [&](size_t i) { return (*got)[i]; }));
    }
  }
}

TEST_F(CudaJITCastsTest, ExtensionMatchesCUDAOnEveryCode) {
  for (FloatFormat from : extendFormats()) {
    unsigned width = getBitWidth(from);
    size_t count = size_t(1) << width;
    std::vector<uint8_t> codes = allCodes(from);
    std::vector<float> out(count);
    llvm::Error error = kernels->extend(from, KernelForm::Vector, codes.data(),
                                        out.data(), count);
    ASSERT_FALSE(static_cast<bool>(error)) << llvm::toString(std::move(error));
    size_t mismatches = 0;
    for (size_t code = 0; code < count; ++code) {
      uint32_t expected = cudaExtend(uint32_t(code), from);
      uint32_t got = floatToBits(out[code]);
      // f16 NaNs are extended by LLVM (quieted, payload kept) where CUDA's
      // host code gives 0x7FFFFFFF: documented, compared as NaNs only.
      bool ok = got == expected ||
                (from == FloatFormat::F16 && std::isnan(bitsToFloat(got)) &&
                 std::isnan(bitsToFloat(expected)));
      if (!ok && ++mismatches <= 8)
        ADD_FAILURE() << "arith.extf " << getFormatName(from).str() << " of "
                      << hex(uint32_t(code), width) << ": CUDA "
                      << hex(expected, 32) << ", JIT " << hex(got, 32);
    }
    EXPECT_EQ(mismatches, 0u) << getFormatName(from).str();
  }
}

} // namespace
