//===- CastsTest.cpp - execution tests of the expanded casts -- -*- C++ -*-===//
//
// Runs lpattn.truncf (every target format and overflow mode), arith.truncf
// to FP8 and arith.extf, expanded by lpattn-expand-float-casts, lowered by
// lpattn::buildLPAttnCPULoopsToLLVMPipeline and JIT-compiled, in both vector and
// scalar form, and compares the bits with lpattn::encodeRNE / decode:
// on every rounding boundary of every format (each code's value, the
// midpoint to its neighbour and the f32 neighbours of both), on 10 million
// fixed-seed random f32 patterns, and on every FP8, f16 and bf16 code for
// the extensions. The only bits written here are the documented special
// values (canonical NaNs, saturation).
//
//===----------------------------------------------------------------------===//

#include "CastKernelsFixture.h"

#include "lpattn/ExecutionEngine/JIT.h"
#include "lpattn/Dialect/LPAttn/IR/LPAttnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>

using namespace lpattn;
using namespace lpattn::casts;

namespace {

constexpr KernelForm kForms[] = {KernelForm::Vector, KernelForm::Scalar};

std::string hex(uint32_t bits, unsigned width) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::format_hex(bits, 2 + width / 4);
  return text;
}

/// Success if the kernel of `cast` in `form` gives encodeRNE's bits on every
/// input; otherwise the count and the first few differences.
::testing::AssertionResult matchesEncodeRNE(const CastKernels &kernels,
                                            const TruncCast &cast,
                                            KernelForm form,
                                            const std::vector<uint32_t> &bits) {
  std::vector<float> inputs(bits.size());
  for (size_t i = 0; i < bits.size(); ++i)
    inputs[i] = bitsToFloat(bits[i]);
  auto got = kernels.truncateToBits(cast, form, inputs);
  if (!got)
    return ::testing::AssertionFailure()
           << describe(cast) << ": " << llvm::toString(got.takeError());
  unsigned width = getBitWidth(cast.format);
  size_t mismatches = 0;
  std::string examples;
  llvm::raw_string_ostream os(examples);
  for (size_t i = 0; i < inputs.size(); ++i) {
    uint32_t expected = encodeRNE(inputs[i], cast.format, cast.overflow);
    if ((*got)[i] == expected)
      continue;
    if (++mismatches <= 8)
      os << "\n  x = " << hex(bits[i], 32) << " (" << inputs[i]
         << "): encodeRNE " << hex(expected, width) << ", JIT "
         << hex((*got)[i], width);
  }
  if (mismatches == 0)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << describe(cast) << " (" << describe(form) << "): " << mismatches
         << " of " << inputs.size() << " inputs differ from encodeRNE"
         << examples;
}

class CastsTest : public CastKernelsFixture {
protected:
  static std::vector<TruncCast> everyTruncCast() {
    std::vector<TruncCast> all = allTruncCasts();
    for (const TruncCast &cast : arithTruncCasts())
      all.push_back(cast);
    return all;
  }
};

TEST_F(CastsTest, TruncExactOnRoundingBoundaries) {
  std::vector<uint32_t> inputs = boundaryInputs();
  // Each finite magnitude code adds 12 inputs (value and midpoint, both
  // signs, each with its two neighbours); e4m3/e5m2 have 127/124 of them,
  // f16/bf16 31744/32640.
  ASSERT_GE(inputs.size(), 12u * (127 + 124 + 31744 + 32640));
  for (const TruncCast &cast : everyTruncCast())
    for (KernelForm form : kForms)
      EXPECT_TRUE(matchesEncodeRNE(*kernels, cast, form, inputs));
}

TEST_F(CastsTest, TruncExactOnRandomInputs) {
  std::vector<uint32_t> inputs = randomInputs(10'000'000, /*seed=*/20260601);
  for (const TruncCast &cast : everyTruncCast())
    for (KernelForm form : kForms)
      EXPECT_TRUE(matchesEncodeRNE(*kernels, cast, form, inputs));
}

/// The contract of lpattn.truncf as its documentation states it (canonical
/// NaN, saturation, overflow), independent of encodeRNE.
TEST_F(CastsTest, TruncDocumentedSpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float negNaN = bitsToFloat(0xFFC00001u);
  struct Case {
    FloatFormat format;
    OverflowMode overflow;
    float input;
    uint32_t expected;
  };
  constexpr OverflowMode sat = OverflowMode::SatFinite;
  constexpr OverflowMode nonsat = OverflowMode::NonSat;
  constexpr FloatFormat e4m3 = FloatFormat::F8E4M3FN;
  constexpr FloatFormat e5m2 = FloatFormat::F8E5M2;
  constexpr FloatFormat f16 = FloatFormat::F16;
  constexpr FloatFormat bf16 = FloatFormat::BF16;
  const Case cases[] = {
      // Any NaN: the positive all-ones NaN, whatever the mode.
      {e4m3, sat, nan, 0x7F},
      {e4m3, nonsat, negNaN, 0x7F},
      {e5m2, sat, negNaN, 0x7F},
      {e5m2, nonsat, nan, 0x7F},
      {f16, sat, negNaN, 0x7FFF},
      {f16, nonsat, nan, 0x7FFF},
      {bf16, sat, nan, 0x7FFF},
      {bf16, nonsat, negNaN, 0x7FFF},
      // satfinite: +-Inf and overflow clamp to +-max finite.
      {e4m3, sat, inf, 0x7E},
      {e4m3, sat, -inf, 0xFE},
      {e4m3, sat, 1e6f, 0x7E},
      {e5m2, sat, -inf, 0xFB},
      {e5m2, sat, 65536.0f, 0x7B},
      {f16, sat, inf, 0x7BFF},
      {f16, sat, -1e9f, 0xFBFF},
      {bf16, sat, inf, 0x7F7F},
      {bf16, sat, -inf, 0xFF7F},
      // nonsat: Inf, or NaN with the sign for e4m3 (no Inf).
      {e4m3, nonsat, inf, 0x7F},
      {e4m3, nonsat, -480.0f, 0xFF},
      {e5m2, nonsat, 61440.0f, 0x7C},
      {e5m2, nonsat, -inf, 0xFC},
      {f16, nonsat, 65520.0f, 0x7C00},
      {bf16, nonsat, -inf, 0xFF80},
      // Ties to even at the top: 464 is halfway between 448 and 480.
      {e4m3, nonsat, 464.0f, 0x7E},
      {e4m3, sat, -464.0f, 0xFE},
      // The smallest e4m3 subnormal is 2^-9; half of it ties to even (0),
      // anything above rounds up; 15/1024 rounds up to the smallest normal
      // 2^-6 (the subnormal carry into the exponent).
      {e4m3, sat, std::ldexp(1.0f, -10), 0x00},
      {e4m3, sat, std::nextafter(std::ldexp(1.0f, -10), 1.0f), 0x01},
      {e4m3, sat, 15.0f / 1024, 0x08},
      {e4m3, sat, -0.0f, 0x80},
  };
  for (const Case &c : cases) {
    for (KernelForm form : kForms) {
      auto got =
          kernels->truncateToBits({c.format, c.overflow}, form, {c.input});
      ASSERT_TRUE(static_cast<bool>(got)) << llvm::toString(got.takeError());
      EXPECT_EQ((*got)[0], c.expected)
          << describe(TruncCast{c.format, c.overflow}) << " (" << describe(form)
          << ") of " << c.input;
    }
  }
}

TEST_F(CastsTest, ExtendExactOnEveryCode) {
  for (FloatFormat from : extendFormats()) {
    unsigned width = getBitWidth(from);
    size_t count = size_t(1) << width;
    std::vector<uint8_t> codes = allCodes(from);
    for (KernelForm form : kForms) {
      std::vector<float> out(count);
      llvm::Error error =
          kernels->extend(from, form, codes.data(), out.data(), count);
      ASSERT_FALSE(static_cast<bool>(error))
          << llvm::toString(std::move(error));
      size_t mismatches = 0;
      for (size_t code = 0; code < count; ++code) {
        float expected = decode(uint32_t(code), from);
        uint32_t got = floatToBits(out[code]);
        bool ok;
        if (!std::isnan(expected))
          ok = got == floatToBits(expected);
        else if (isFP8(from))
          // Documented: an FP8 NaN extends to CUDA's canonical NaN.
          ok = got == 0x7FFFFFFFu;
        else
          // f16/bf16 are LLVM's own extensions: a NaN of the same sign
          // (the payload follows the hardware's quieting rules).
          ok = std::isnan(out[code]) &&
               std::signbit(out[code]) == std::signbit(expected);
        if (!ok && ++mismatches <= 8)
          ADD_FAILURE() << "arith.extf " << getFormatName(from).str() << " ("
                        << describe(form) << ") of " << hex(code, width)
                        << ": expected " << hex(floatToBits(expected), 32)
                        << ", got " << hex(got, 32);
      }
      EXPECT_EQ(mismatches, 0u) << getFormatName(from).str();
    }
  }
}

/// Best of `repeats` timings of `run` (which processes `elements` values),
/// in ns per element.
template <typename Run>
double bestNsPerElement(size_t elements, int repeats, Run run) {
  double best = std::numeric_limits<double>::infinity();
  for (int repeat = 0; repeat < repeats; ++repeat) {
    auto start = std::chrono::steady_clock::now();
    run();
    auto end = std::chrono::steady_clock::now();
    best = std::min(
        best, std::chrono::duration<double, std::nano>(end - start).count() /
                  elements);
  }
  return best;
}

/// The point of the expansion: far below the ~360 ns per element of the
/// arith-to-apfloat path. Measured on 16 M elements (streaming from memory)
/// and on 16 K elements (in L1/L2, so the cost of the arithmetic itself);
/// the bound leaves a wide margin for loaded machines. One thread.
TEST_F(CastsTest, VectorKernelThroughput) {
  std::vector<uint32_t> bits = randomInputs(1 << 24, /*seed=*/7);
  std::vector<float> inputs(bits.size());
  for (size_t i = 0; i < bits.size(); ++i)
    inputs[i] = bitsToFloat(bits[i]);
  std::vector<uint8_t> narrow(inputs.size() * 2);
  std::vector<float> wide(inputs.size());
  constexpr size_t kCached = 1 << 14;
  constexpr int kCachedCalls = 256;

  auto report = [](const std::string &what, double streaming, double cached) {
    std::cout << "[ throughput ] " << what << ": " << streaming
              << " ns/element streaming, " << cached
              << " ns/element in cache\n";
    EXPECT_LT(streaming, 50.0) << what;
    EXPECT_LT(cached, 50.0) << what;
  };
  bool failed = false;
  auto check = [&](llvm::Error error) {
    if (error) {
      ADD_FAILURE() << llvm::toString(std::move(error));
      failed = true;
    }
  };
  for (const TruncCast &cast : allTruncCasts()) {
    double streaming = bestNsPerElement(inputs.size(), 3, [&] {
      check(kernels->truncate(cast, KernelForm::Vector, inputs.data(),
                              narrow.data(), inputs.size()));
    });
    double cached = bestNsPerElement(kCached * kCachedCalls, 3, [&] {
      for (int call = 0; call < kCachedCalls; ++call)
        check(kernels->truncate(cast, KernelForm::Vector, inputs.data(),
                                narrow.data(), kCached));
    });
    ASSERT_FALSE(failed);
    report(describe(cast), streaming, cached);
  }
  for (FloatFormat from : extendFormats()) {
    double streaming = bestNsPerElement(inputs.size(), 3, [&] {
      check(kernels->extend(from, KernelForm::Vector, narrow.data(),
                            wide.data(), inputs.size()));
    });
    double cached = bestNsPerElement(kCached * kCachedCalls, 3, [&] {
      for (int call = 0; call < kCachedCalls; ++call)
        check(kernels->extend(from, KernelForm::Vector, narrow.data(),
                              wide.data(), kCached));
    });
    ASSERT_FALSE(failed);
    report("arith.extf " + getFormatName(from).str(), streaming, cached);
  }
}

/// A cast the expansion cannot handle fails the lowering with a message
/// that names the op, instead of a type-conversion error later.
TEST(CPULoweringTest, TensorCastIsAClearError) {
  mlir::MLIRContext context;
  context.loadDialect<LPAttnDialect, mlir::arith::ArithDialect,
                      mlir::func::FuncDialect>();
  // Keep the expected parse-free diagnostics off stderr.
  mlir::ScopedDiagnosticHandler quiet(
      &context, [](mlir::Diagnostic &) { return mlir::success(); });
  const char *source = R"mlir(
    func.func @f(%x: tensor<4xf32>) -> tensor<4xf8E4M3FN> {
      %y = lpattn.truncf %x rne satfinite : tensor<4xf32> to tensor<4xf8E4M3FN>
      return %y : tensor<4xf8E4M3FN>
    }
  )mlir";
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(source, &context);
  ASSERT_TRUE(module);
  auto engine = lowerAndJIT(*module);
  ASSERT_FALSE(static_cast<bool>(engine));
  std::string message = llvm::toString(engine.takeError());
  EXPECT_NE(message.find("lowering to the LLVM dialect failed"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("'lpattn.truncf' op cannot be expanded"),
            std::string::npos)
      << message;
}

/// memref.copy between non-contiguous memrefs lowers to a call to the
/// runtime function memrefCopy, which compileToJIT must make resolvable.
TEST(CPULoweringTest, StridedMemrefCopyRuns) {
  mlir::MLIRContext context;
  context.loadDialect<mlir::func::FuncDialect, mlir::memref::MemRefDialect>();
  const char *source = R"mlir(
    func.func @copy_column(%src: memref<4x4xf32>, %dst: memref<4xf32>)
        attributes {llvm.emit_c_interface} {
      %column = memref.subview %src[0, 1] [4, 1] [1, 1]
          : memref<4x4xf32> to memref<4xf32, strided<[4], offset: 1>>
      memref.copy %column, %dst
          : memref<4xf32, strided<[4], offset: 1>> to memref<4xf32>
      return
    }
  )mlir";
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(source, &context);
  ASSERT_TRUE(module);
  auto engine = lowerAndJIT(*module);
  ASSERT_TRUE(static_cast<bool>(engine)) << llvm::toString(engine.takeError());

  float src[16], dst[4] = {0, 0, 0, 0};
  for (int i = 0; i < 16; ++i)
    src[i] = float(i);
  StridedMemRefType<float, 2> srcDesc{src, src, 0, {4, 4}, {4, 1}};
  StridedMemRefType<float, 1> dstDesc{dst, dst, 0, {4}, {1}};
  llvm::Error error = (*engine)->invoke("copy_column", &srcDesc, &dstDesc);
  ASSERT_FALSE(static_cast<bool>(error)) << llvm::toString(std::move(error));
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(dst[i], src[4 * i + 1]) << "row " << i;
}

} // namespace
