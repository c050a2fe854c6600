//===- GpuCheckTest.cpp - lpattn-gpu-run's helpers against lpattn's own ----===//
//
// lpattn-gpu-run is built without LLVM, so it has its own .npy files, float
// formats, metrics and random inputs (runtime/tools). Each must agree with
// the LLVM-side code the CPU emulation uses, or the GPU check would compare
// different things: the formats with lpattn::encodeRNE / decode (APFloat) on
// every code and every rounding boundary, the .npy bytes with lpattn::lab's,
// the metrics with lab::computeMetrics, the random inputs with
// `lpattn-run --inputs random`'s.
//
//===----------------------------------------------------------------------===//

#include "GpuCheck.h"
#include "HostFormats.h"
#include "NpyFile.h"

#include "lpattn/Lab/Generators.h"
#include "lpattn/Lab/Metrics.h"
#include "lpattn/Lab/Npy.h"
#include "lpattn/Numerics/Formats.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <unistd.h>

using namespace lpattn;
namespace rt = lpattn::rt;
namespace gc = lpattn::rt::gpucheck;

namespace {

constexpr FloatFormat kFormats[] = {FloatFormat::F32, FloatFormat::F16,
                                    FloatFormat::BF16, FloatFormat::F8E4M3FN,
                                    FloatFormat::F8E5M2};

std::string formatName(FloatFormat f) { return getFormatName(f).str(); }

bool sameFloat(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) ||
         (a == b && std::signbit(a) == std::signbit(b));
}

//===----------------------------------------------------------------------===//
// Formats
//===----------------------------------------------------------------------===//

TEST(GpuCheckFormats, EveryCodeDecodesAsAPFloat) {
  for (FloatFormat f : kFormats) {
    if (f == FloatFormat::F32)
      continue;
    uint32_t codes = 1u << getBitWidth(f);
    for (uint32_t bits = 0; bits < codes; ++bits)
      ASSERT_TRUE(sameFloat(rt::decodeBits(bits, f), decode(bits, f)))
          << formatName(f) << " code " << bits;
  }
}

TEST(GpuCheckFormats, MaxFiniteAndStorage) {
  for (FloatFormat f : kFormats) {
    EXPECT_EQ(rt::maxFinite(f), getMaxFinite(f)) << formatName(f);
    EXPECT_EQ(rt::storageBytes(f) * 8, getBitWidth(f)) << formatName(f);
  }
  EXPECT_EQ(rt::storageDescr(FloatFormat::F8E4M3FN), "|u1");
  EXPECT_EQ(rt::storageDescr(FloatFormat::BF16), "<u2");
  EXPECT_EQ(rt::storageDescr(FloatFormat::F32), "<f4");
}

/// encodeBits == lpattn::encodeRNE for `x` in both overflow modes.
void expectSameEncoding(float x, FloatFormat f) {
  // f32 passes through; through double a signaling NaN comes back quiet.
  if (f == FloatFormat::F32 && std::isnan(x))
    return;
  for (OverflowMode mode : {OverflowMode::SatFinite, OverflowMode::NonSat}) {
    uint32_t expected = encodeRNE(x, f, mode);
    uint32_t actual =
        rt::encodeBits(double(x), f, mode == OverflowMode::SatFinite);
    ASSERT_EQ(actual, expected)
        << formatName(f) << " " << stringifyOverflowMode(mode) << " x = "
        << x << " (bits 0x" << std::hex << llvm::bit_cast<uint32_t>(x)
        << ")";
  }
}

TEST(GpuCheckFormats, EncodingMatchesAPFloatOnEveryBoundary) {
  for (FloatFormat f : kFormats) {
    if (f == FloatFormat::F32)
      continue;
    // Every value, every midpoint between neighbours, and the floats on
    // either side of each: all rounding boundaries, subnormals, overflow.
    std::vector<double> values;
    for (uint32_t bits = 0; bits < (1u << getBitWidth(f)); ++bits) {
      double v = decode(bits, f);
      if (std::isfinite(v) && !std::signbit(v))
        values.push_back(v);
    }
    std::sort(values.begin(), values.end());
    values.push_back(2 * values.back()); // past max finite
    for (size_t i = 0; i < values.size(); ++i) {
      std::vector<double> points{values[i]};
      if (i + 1 < values.size())
        points.push_back((values[i] + values[i + 1]) / 2);
      for (double p : points) {
        float x = float(p);
        for (float y : {x, std::nextafter(x, 0.0f),
                        std::nextafter(x, INFINITY)})
          for (float s : {y, -y}) {
            expectSameEncoding(s, f);
            if (HasFatalFailure())
              return;
          }
      }
    }
  }
}

TEST(GpuCheckFormats, EncodingMatchesAPFloatOnSpecialAndRandomFloats) {
  const float specials[] = {0.0f,
                            -0.0f,
                            INFINITY,
                            -INFINITY,
                            std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::denorm_min(),
                            std::numeric_limits<float>::min(),
                            std::numeric_limits<float>::max(),
                            -std::numeric_limits<float>::max(),
                            464.0f,
                            465.0f,
                            61440.0f,
                            65520.0f};
  std::mt19937_64 rng(7);
  for (FloatFormat f : kFormats) {
    for (float x : specials)
      expectSameEncoding(x, f);
    for (int i = 0; i < 200000; ++i) {
      // Random bit patterns over the whole float range, and normals near 1.
      uint32_t bits = uint32_t(rng());
      expectSameEncoding(llvm::bit_cast<float>(bits), f);
      expectSameEncoding(float(std::ldexp(double(rng() >> 11) * 0x1p-53,
                                          int(rng() % 40) - 30)),
                         f);
      if (HasFatalFailure())
        return;
    }
  }
}

TEST(GpuCheckFormats, UlpAt) {
  EXPECT_EQ(rt::ulpAt(1.0, FloatFormat::BF16), 0x1p-7);
  EXPECT_EQ(rt::ulpAt(1.9, FloatFormat::BF16), 0x1p-7);
  EXPECT_EQ(rt::ulpAt(-0.1, FloatFormat::BF16), 0x1p-11);
  EXPECT_EQ(rt::ulpAt(0.0, FloatFormat::BF16), 0x1p-133);
  EXPECT_EQ(rt::ulpAt(448.0, FloatFormat::F8E4M3FN), 32.0);
  EXPECT_EQ(rt::ulpAt(0.001, FloatFormat::F8E4M3FN), 0x1p-9);
  EXPECT_EQ(rt::ulpAt(1.0, FloatFormat::F16), 0x1p-10);
  EXPECT_EQ(rt::ulpAt(1.0, FloatFormat::F32), 0x1p-23);
  EXPECT_TRUE(std::isinf(rt::ulpAt(NAN, FloatFormat::F32)));
}

//===----------------------------------------------------------------------===//
// Random inputs and metrics
//===----------------------------------------------------------------------===//

//===----------------------------------------------------------------------===//
// The P cast of a debug artifact
//===----------------------------------------------------------------------===//

TEST(GpuCheckPCast, CodesOfEncodeRNEPassAndEachFaultIsFound) {
  // A [64, 128] dump of P * S values (P in (0, 1], S = 256, plus every
  // midpoint between neighbouring codes and the floats beside it) with
  // lpattn::encodeRNE's codes: checkPCast agrees with every one.
  for (FloatFormat f : {FloatFormat::F8E4M3FN, FloatFormat::F8E5M2}) {
    const int64_t rows = 64, keys = 128, n = rows * keys;
    std::vector<float> scaled;
    std::vector<double> codeValues;
    for (uint32_t bits = 0; bits < 256; ++bits) {
      double v = decode(bits, f);
      if (std::isfinite(v) && !std::signbit(v) && v <= 256)
        codeValues.push_back(v);
    }
    std::sort(codeValues.begin(), codeValues.end());
    for (size_t i = 0; i + 1 < codeValues.size(); ++i) {
      float mid = float((codeValues[i] + codeValues[i + 1]) / 2);
      for (float x : {mid, std::nextafter(mid, 0.0f),
                      std::nextafter(mid, INFINITY)})
        scaled.push_back(x);
    }
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> u(0, 1);
    while (int64_t(scaled.size()) < n)
      scaled.push_back(float(std::exp(-20 * u(rng)) * 256));
    scaled.resize(size_t(n));
    std::vector<uint8_t> codes(static_cast<size_t>(n), 0);
    for (int64_t i = 0; i < n; ++i)
      codes[size_t(i)] =
          uint8_t(encodeRNE(scaled[size_t(i)], f, OverflowMode::SatFinite));
    gc::PCastCheck c = gc::checkPCast(scaled, codes, rows, keys, f, true);
    EXPECT_EQ(c.entries, n);
    EXPECT_EQ(c.checked, n);
    EXPECT_EQ(c.mismatches, 0) << formatName(f);
    EXPECT_EQ(c.unwritten, 0);
    EXPECT_TRUE(c.passed());

    // A code off by one at (7, 33); two entries left unwritten.
    codes[7 * keys + 33] ^= 1;
    codes[n - 1] = gc::kPCodeFill;
    uint32_t fill = gc::kPScaledFill;
    std::memcpy(&scaled[size_t(n - 2)], &fill, 4);
    c = gc::checkPCast(scaled, codes, rows, keys, f, true);
    EXPECT_EQ(c.checked, n - 2);
    EXPECT_EQ(c.mismatches, 1);
    EXPECT_EQ(c.unwritten, 2);
    EXPECT_FALSE(c.passed());
    ASSERT_EQ(c.first.size(), 1u);
    EXPECT_EQ(c.first[0].row, 7);
    EXPECT_EQ(c.first[0].key, 33);
    EXPECT_EQ(c.first[0].expected, uint32_t(codes[7 * keys + 33] ^ 1));
    EXPECT_EQ(c.first[0].got, uint32_t(codes[7 * keys + 33]));
  }
}

TEST(GpuCheckInputs, RandomCodesAreLpattnRunsRandomInputs) {
  for (FloatFormat f : {FloatFormat::F8E4M3FN, FloatFormat::F8E5M2,
                        FloatFormat::BF16, FloatFormat::F16}) {
    for (uint64_t seed : {0ull, 1ull, 12345ull}) {
      lab::HostTensor t = lab::randomNormal({1, 3, 17, 8}, seed);
      std::vector<unsigned char> codes =
          gc::randomCodes(t.numElements(), f, seed);
      unsigned width = getBitWidth(f) / 8;
      ASSERT_EQ(codes.size(), t.data.size() * width);
      for (size_t i = 0; i < t.data.size(); ++i) {
        uint32_t bits = 0;
        std::memcpy(&bits, &codes[i * width], width);
        ASSERT_EQ(bits, encodeRNE(t.data[i], f, OverflowMode::SatFinite))
            << formatName(f) << " seed " << seed << " element " << i;
      }
    }
  }
}

TEST(GpuCheckInputs, FastRandomCodesAreStandardNormal) {
  for (FloatFormat f : {FloatFormat::F8E4M3FN, FloatFormat::F8E5M2}) {
    const int64_t n = 1 << 20;
    std::vector<unsigned char> a = gc::fastRandomCodes(n, f, 1);
    EXPECT_EQ(a, gc::fastRandomCodes(n, f, 1)); // deterministic
    EXPECT_NE(a, gc::fastRandomCodes(n, f, 2));
    double sum = 0, sumSq = 0;
    for (unsigned char c : a) {
      double x = decode(c, f);
      ASSERT_TRUE(std::isfinite(x));
      sum += x;
      sumSq += x * x;
    }
    // The quantized N(0, 1): mean 0, variance 1 within the sampling error
    // and the format's rounding.
    EXPECT_NEAR(sum / n, 0.0, 0.01) << formatName(f);
    EXPECT_NEAR(sumSq / n, 1.0, 0.03) << formatName(f);
  }
}

TEST(GpuCheckMetrics, SameAsTheLab) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal;
  std::vector<float> out(4096);
  std::vector<double> ref(4096);
  for (size_t i = 0; i < out.size(); ++i) {
    ref[i] = normal(rng);
    out[i] = float(ref[i] + 0.01 * normal(rng) + 0.001);
  }
  out[5] = NAN;
  out[7] = INFINITY;
  ref[9] = NAN;
  lab::HostTensor o{{1, 2, 32, 64}, out};
  lab::HostTensorF64 r{{1, 2, 32, 64}, ref};
  lab::ErrorMetrics expected = *lab::computeMetrics(o, r);
  gc::ErrorMetrics actual = gc::computeMetrics(out, ref, 64);
  EXPECT_EQ(actual.mse, expected.mse);
  EXPECT_EQ(actual.meanError, expected.meanError);
  EXPECT_EQ(actual.maxAbsError, expected.maxAbsError);
  EXPECT_EQ(actual.relativeRMSE, expected.relativeRMSE);
  EXPECT_EQ(actual.biasT, expected.biasT);
  EXPECT_EQ(actual.numNaN, expected.numNaN);
  EXPECT_EQ(actual.numInf, expected.numInf);
  EXPECT_EQ(actual.numFinite, expected.numFinite);
  EXPECT_EQ(actual.numReferenceNonFinite, expected.numReferenceNonFinite);
  EXPECT_EQ(actual.numNaN, 1);
}

//===----------------------------------------------------------------------===//
// Comparison
//===----------------------------------------------------------------------===//

TEST(GpuCheckCompare, UlpsPlusRowAtol) {
  // Two rows of 2; bf16 values around 1 (ulp 2^-7).
  std::vector<float> cpu{1.0f, 1.0f, 1.0f, 1.0f};
  gc::Tolerance tol;
  tol.ulps = 2;
  tol.rowAtol = {0.0f, 0.1f};
  std::vector<float> gpu{1.0f + 0x1p-6f, 1.0f, 1.05f, 1.0f};
  gc::Comparison c = gc::compareWithCpu(gpu, cpu, FloatFormat::BF16, tol, 2);
  EXPECT_EQ(c.numOutside, 0);
  EXPECT_EQ(c.numDiffering, 2);
  EXPECT_NEAR(c.maxAbsDiff, 0.05, 1e-6);
  EXPECT_EQ(c.worstIndex, 0); // 2 ulps of 2: ratio 1
  EXPECT_DOUBLE_EQ(c.worstRatio, 1.0);
  // One more ulp in the row without atol is outside.
  gpu[0] = 1.0f + 3 * 0x1p-7f;
  c = gc::compareWithCpu(gpu, cpu, FloatFormat::BF16, tol, 2);
  EXPECT_EQ(c.numOutside, 1);
  EXPECT_EQ(c.firstOutside, 0);
  EXPECT_NEAR(c.worstUlps, double(1.05f - 1.0f) / 0x1p-7, 1e-9);
  gpu[2] = 1.0f;
  c = gc::compareWithCpu(gpu, cpu, FloatFormat::BF16, tol, 2);
  EXPECT_DOUBLE_EQ(c.worstUlps, 3.0);
  EXPECT_DOUBLE_EQ(c.worstRatio, 1.5);
}

TEST(GpuCheckCompare, NonFiniteMustMatch) {
  gc::Tolerance tol;
  std::vector<float> cpu{NAN, 1.0f, INFINITY, 0.0f};
  std::vector<float> gpu{NAN, NAN, INFINITY, -INFINITY};
  gc::Comparison c = gc::compareWithCpu(gpu, cpu, FloatFormat::BF16, tol, 4);
  EXPECT_EQ(c.numOutside, 2);
  EXPECT_EQ(c.firstOutside, 1);
  // An unwritten output (all-ones bytes, NaN) is never within tolerance.
  std::vector<float> unwritten(4, NAN), zeros(4, 0.0f);
  EXPECT_EQ(gc::compareWithCpu(unwritten, zeros, FloatFormat::BF16, tol, 4)
                .numOutside,
            4);
}

//===----------------------------------------------------------------------===//
// .npy
//===----------------------------------------------------------------------===//

TEST(GpuCheckNpy, SameBytesAsTheLab) {
  std::vector<unsigned char> u1{1, 2, 3, 4, 5, 6};
  std::vector<uint16_t> u2{1, 0xffff, 0x3f80, 7};
  std::vector<float> f4{1.5f, -2.0f, 0.0f};
  std::string lab1 = *lab::encodeNpyRaw(
      "|u1", {1, 2, 3}, llvm::StringRef((const char *)u1.data(), u1.size()));
  EXPECT_EQ(rt::npy::encode("|u1", {1, 2, 3}, u1.data(), u1.size()), lab1);
  std::string lab2 = *lab::encodeNpyRaw(
      "<u2", {4}, llvm::StringRef((const char *)u2.data(), 8));
  EXPECT_EQ(rt::npy::encode("<u2", {4}, u2.data(), 8), lab2);
  std::string lab4 = *lab::encodeNpy(lab::HostTensor{{3}, f4});
  EXPECT_EQ(rt::npy::encode("<f4", {3}, f4.data(), 12), lab4);
  // A scalar and an empty array.
  float one = 1;
  EXPECT_EQ(rt::npy::encode("<f4", {}, &one, 4),
            *lab::encodeNpy(lab::HostTensor{{}, {1.0f}}));

  rt::npy::Array a;
  std::string error;
  ASSERT_TRUE(rt::npy::parse(lab1, "x.npy", a, error)) << error;
  EXPECT_EQ(a.descr, "|u1");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(a.bytes, u1);
  lab::NpyRaw raw = *lab::parseNpyRaw(lab2);
  EXPECT_EQ(raw.descr, "<u2");
  EXPECT_EQ(raw.data.size(), 8u);
}

TEST(GpuCheckNpy, MalformedFilesGiveOneError) {
  std::vector<unsigned char> u1(6, 9);
  std::string good = rt::npy::encode("|u1", {2, 3}, u1.data(), u1.size());
  rt::npy::Array a;
  std::string error;
  EXPECT_FALSE(rt::npy::parse("hello", "x.npy", a, error));
  EXPECT_EQ(error, "x.npy: not a .npy file (bad magic; expected "
                   "\"\\x93NUMPY\")");
  EXPECT_FALSE(rt::npy::parse(good.substr(0, good.size() - 2), "x.npy", a,
                              error));
  EXPECT_EQ(error, "x.npy: data too short: the shape needs 6 bytes of '|u1' "
                   "but the file has 4");
  std::string bad = good;
  bad.replace(bad.find("|u1"), 3, "<i4");
  EXPECT_FALSE(rt::npy::parse(bad, "x.npy", a, error));
  EXPECT_EQ(error, "x.npy: unsupported dtype '<i4' (supported: '|u1', "
                   "'<u2', '<f2', '<f4', '<f8', '<i8')");
  bad = good;
  bad.replace(bad.find("False"), 5, "True ");
  EXPECT_FALSE(rt::npy::parse(bad, "x.npy", a, error));
  EXPECT_EQ(error, "x.npy: fortran_order is True; only C-order arrays are "
                   "supported");
  // Every truncation is an error, never a crash.
  for (size_t n = 0; n < good.size(); ++n)
    EXPECT_FALSE(rt::npy::parse(good.substr(0, n), "x.npy", a, error)) << n;
  EXPECT_FALSE(rt::npy::read("/nonexistent/q.npy", a, error));
  EXPECT_EQ(error, "/nonexistent/q.npy: cannot read: No such file or "
                   "directory");
}

//===----------------------------------------------------------------------===//
// Case files
//===----------------------------------------------------------------------===//

class GpuCheckCase : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lpattn-gpucheck-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  void TearDown() override {
    std::remove((dir + "/case.json").c_str());
    rmdir(dir.c_str());
  }
  void write(const std::string &text) {
    std::ofstream(dir + "/case.json") << text;
  }
  std::string dir;
};

const char *kCase = R"({
  "format": "lpattn-gpu-case", "version": 1, "mlir": "case.mlir",
  "query": [1, 2, 256, 64], "key": [1, 1, 256, 64],
  "value": [1, 1, 256, 64], "result": [1, 2, 256, 64],
  "files": {"q": "q.npy", "k": "k.npy", "v": "v.npy", "mask": null,
            "o_cpu": "o_cpu.npy", "o_ref": "o_ref.npy", "atol": "atol.npy"},
  "has_descales": true, "has_mask": false,
  "descales": {"q": 0.5, "k": 1.5, "v": 2},
  "policy": {"qk": "f8E4M3FN", "score": "f32", "p": "f8E4M3FN",
             "v": "f8E4M3FN", "acc": "f32", "out": "bf16",
             "overflow": "satfinite"},
  "safeguards": {"scale": 0.125, "p_scale": 256, "kv_order": "reverse",
                 "softmax": {"variant": "standard", "beta": 0, "tol": 0},
                 "causal": true},
  "tiles": [128, 128],
  "inputs": {"generator": "random", "seed": 3},
  "cpu": {"mse": 1e-5, "collapsed": 3, "positive": 100,
          "collapse_fraction": 0.03},
  "tolerance": {"ulps": 2, "atol_max": 0.01, "mse_rel": 0.05,
                "max_error_factor": 2, "collapse_rel": 0.05}
})";

TEST_F(GpuCheckCase, ReadsWhatLpattnRunWrites) {
  write(kCase);
  gc::CaseFile c;
  std::string error;
  ASSERT_TRUE(gc::readCaseFile(dir, c, error)) << error;
  EXPECT_EQ(c.query, (std::vector<int64_t>{1, 2, 256, 64}));
  EXPECT_EQ(c.key, (std::vector<int64_t>{1, 1, 256, 64}));
  EXPECT_TRUE(c.hasDescales);
  EXPECT_EQ(c.qDescale, 0.5f);
  EXPECT_EQ(c.kDescale, 1.5f);
  EXPECT_EQ(c.vDescale, 2.0f);
  EXPECT_EQ(c.maskFile, "");
  EXPECT_EQ(c.atolFile, "atol.npy");
  EXPECT_EQ(c.qk, "f8E4M3FN");
  EXPECT_EQ(c.out, "bf16");
  EXPECT_EQ(c.kvOrder, "reverse");
  EXPECT_EQ(c.softmax, "standard");
  EXPECT_TRUE(c.causal);
  EXPECT_EQ(c.pScale, 256);
  EXPECT_EQ(c.tileKV, 128);
  EXPECT_EQ(c.collapsed, 3);
  EXPECT_EQ(c.collapseFraction, 0.03);
  EXPECT_EQ(c.tolerance.ulps, 2);
  EXPECT_EQ(c.tolerance.atol, 0.01);
}

TEST_F(GpuCheckCase, ErrorsNameTheFileAndMember) {
  gc::CaseFile c;
  std::string error;
  EXPECT_FALSE(gc::readCaseFile(dir + "/missing", c, error));
  EXPECT_NE(error.find("missing/case.json: cannot read"), std::string::npos)
      << error;
  write("{");
  EXPECT_FALSE(gc::readCaseFile(dir, c, error));
  EXPECT_NE(error.find("case.json: malformed JSON: byte 1"), std::string::npos)
      << error;
  std::string text = kCase;
  write(text.replace(text.find("\"ulps\": 2"), 9, "\"ulps\": -1"));
  EXPECT_FALSE(gc::readCaseFile(dir, c, error));
  EXPECT_NE(error.find("case.json: tolerance.ulps: expected a finite number "
                       ">= 0"),
            std::string::npos)
      << error;
  text = kCase;
  write(text.replace(text.find("\"query\""), 7, "\"quorum\""));
  EXPECT_FALSE(gc::readCaseFile(dir, c, error));
  EXPECT_NE(error.find("case.json: query: missing"), std::string::npos)
      << error;
  text = kCase;
  write(text.replace(text.find("lpattn-gpu-case"), 15, "something-else"));
  EXPECT_FALSE(gc::readCaseFile(dir, c, error));
  EXPECT_NE(error.find("format: expected \"lpattn-gpu-case\""),
            std::string::npos)
      << error;
}

TEST(GpuCheckJson, NumbersAndStrings) {
  EXPECT_EQ(gc::jsonNumber(NAN), "null");
  EXPECT_EQ(gc::jsonNumber(INFINITY), "null");
  EXPECT_EQ(gc::jsonNumber(3), "3");
  EXPECT_EQ(gc::jsonNumber(0.5), "0.5");
  EXPECT_EQ(gc::jsonString("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
}

} // namespace
