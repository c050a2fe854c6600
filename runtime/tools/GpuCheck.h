//===- GpuCheck.h - what lpattn-gpu-run measures and checks ----*- C++ -*-===//
//
// The host side of a GPU check, without LLVM: the error metrics lpattn-run
// prints (computed as lib/Lab/Metrics.cpp computes them), the comparison of
// the kernel's O with the CPU emulation's under the tolerance a case file
// states (docs/gpu-check.md), the case file itself (case.json, written by
// `lpattn-run --save-case`), and the random FP8 inputs the tool makes for
// speed runs (the same values as `lpattn-run --inputs random`).
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_RT_TOOLS_GPUCHECK_H
#define LPATTN_RT_TOOLS_GPUCHECK_H

#include "lpattn/Numerics/Enums.h"

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace lpattn::rt::gpucheck {

//===----------------------------------------------------------------------===//
// Metrics
//===----------------------------------------------------------------------===//

/// The fields of lpattn::lab::ErrorMetrics, with the same meaning: NaN and
/// Inf outputs are counted and left out, as are outputs whose reference is
/// not finite; with nothing left the error statistics are NaN.
struct ErrorMetrics {
  double mse = 0, meanError = 0, maxAbsError = 0, relativeRMSE = 0,
         biasT = 0;
  int64_t numNaN = 0, numInf = 0, numFinite = 0, numReferenceNonFinite = 0;
};

/// Metrics of `output` against `reference`; rows of `rowLength` consecutive
/// entries are the samples of biasT. The sizes must agree.
ErrorMetrics computeMetrics(const std::vector<float> &output,
                            const std::vector<double> &reference,
                            int64_t rowLength);

//===----------------------------------------------------------------------===//
// Inputs
//===----------------------------------------------------------------------===//

/// Standard normal deviates, exactly as lpattn::lab::NormalSampler draws
/// them: Box-Muller on std::mt19937_64 (53-bit uniforms from the top bits,
/// u1 in (0, 1], u2 in [0, 1)), two deviates per pair of draws.
class NormalSampler {
public:
  explicit NormalSampler(uint64_t seed) : engine(seed) {}
  double next();

private:
  std::mt19937_64 engine;
  std::optional<double> spare;
};

/// Storage codes of `count` N(0, 1) values (rounded to float, then to
/// `format`, nearest even, satfinite) from `seed`: lpattn-run's
/// `--inputs random` tensor of that seed, as the kernel consumes it.
std::vector<unsigned char> randomCodes(int64_t count, FloatFormat format,
                                       uint64_t seed);

/// Faster codes of the same distribution for speed runs (not the values of
/// randomCodes): element i is table[h(seed, i) >> 48], h the splitmix64
/// hash, the table the format's codes of the N(0, 1) quantiles at the
/// midpoints of 65536 equiprobable bins. About a nanosecond per element.
std::vector<unsigned char> fastRandomCodes(int64_t count, FloatFormat format,
                                           uint64_t seed);

//===----------------------------------------------------------------------===//
// Comparison with the CPU emulation
//===----------------------------------------------------------------------===//

/// The rule of docs/gpu-check.md, as a case file states it:
///   |gpu - cpu| <= ulps * ulp_out(|cpu|) + atol[row]
/// for every output element (NaN only where the CPU has NaN, Inf only where
/// it has the same Inf), plus the statistics against the float64 reference:
///   |MSE_gpu - MSE_cpu| <= mseRel * MSE_cpu
///   max|err|_gpu <= maxErrFactor * max|err|_cpu + ulps * ulp_out(max|ref|)
///   |collapse_gpu - collapse_cpu| <= collapseRel * max(collapse_cpu, 0.01)
/// (the last only where the kernel counts collapse).
struct Tolerance {
  double ulps = 2;
  /// Per output row (B * Hq * Nq entries); empty: `atol` for every row.
  std::vector<float> rowAtol;
  double atol = 0;
  double mseRel = 0.05;
  double maxErrFactor = 2;
  double collapseRel = 0.05;
};

struct Comparison {
  double maxAbsDiff = 0;    ///< over elements finite on both sides
  int64_t numDiffering = 0; ///< elements whose bits differ
  int64_t numOutside = 0;   ///< elements outside the tolerance
  double worstRatio = 0;    ///< max |gpu - cpu| / tolerance (finite pairs)
  int64_t worstIndex = -1;  ///< flat index of the worst element
  int64_t firstOutside = -1;
  double worstUlps = 0; ///< max |gpu - cpu| in ulps of out at |cpu|
};

/// Elementwise comparison of the kernel's O with the CPU emulation's (both
/// values of `out`, widened to float), rows of `rowLength` elements.
Comparison compareWithCpu(const std::vector<float> &gpu,
                          const std::vector<float> &cpu, FloatFormat out,
                          const Tolerance &tolerance, int64_t rowLength);

//===----------------------------------------------------------------------===//
// The P cast of a debug artifact (signature.debug_p)
//===----------------------------------------------------------------------===//

/// One code that is not the RNE cast of its input.
struct PCastMismatch {
  int64_t row = 0, key = 0;
  float input = 0;
  uint32_t expected = 0, got = 0;
};

/// What checkPCast found in a P dump of `rows` x `keys` entries.
struct PCastCheck {
  int64_t entries = 0;   ///< rows * keys
  int64_t checked = 0;   ///< entries with both P * S and the code written
  int64_t mismatches = 0;
  int64_t unwritten = 0; ///< entries still holding a fill pattern
  std::vector<PCastMismatch> first; ///< the first few mismatches
  bool passed() const { return mismatches == 0 && unwritten == 0; }
};

/// The P dump's fill patterns, written before the launch so that an entry
/// the kernel never wrote shows: all-ones bytes (an f32 NaN, and the FP8
/// code 0xFF, a NaN that no finite or NaN input rounds to).
constexpr uint32_t kPScaledFill = 0xffffffffu;
constexpr uint8_t kPCodeFill = 0xff;

/// Checks every code of the dump (`scaled`: P * S before the cast, `codes`:
/// the kernel's codes, both row-major rows x keys) against encodeBits of
/// its input, the host twin of lpattn::encodeRNE (RNE; satfinite or not as
/// the policy's overflow). An entry whose input or code still holds the
/// fill pattern is unwritten, not checked. Keeps the first `keep`
/// mismatches.
PCastCheck checkPCast(const std::vector<float> &scaled,
                      const std::vector<uint8_t> &codes, int64_t rows,
                      int64_t keys, FloatFormat p, bool satfinite,
                      size_t keep = 8);

//===----------------------------------------------------------------------===//
// Case files
//===----------------------------------------------------------------------===//

/// What `lpattn-run --save-case DIR` writes to DIR/case.json (format
/// "lpattn-gpu-case", version 1): the problem, the files, the descales, the
/// numerics it was run with, the CPU's own metrics and the tolerance.
struct CaseFile {
  std::string dir;
  std::vector<int64_t> query, key, value, result;
  std::string qFile = "q.npy", kFile = "k.npy", vFile = "v.npy", maskFile,
              oCpuFile = "o_cpu.npy", oRefFile = "o_ref.npy", atolFile;
  bool hasDescales = false, hasMask = false;
  float qDescale = 1, kDescale = 1, vDescale = 1;
  /// Numerics, as the descriptor spells them ("" where absent).
  std::string qk, score, p, v, acc, out, overflow, kvOrder, softmax;
  double scale = 0, pScale = 0;
  bool causal = false;
  int64_t tileQ = 0, tileKV = 0;
  std::string generator;
  /// The CPU's collapse count (-1: not counted) and fraction.
  int64_t collapsed = -1, positive = -1;
  double collapseFraction = 0;
  Tolerance tolerance;
};

/// Reads DIR/case.json; false with one message naming the file and member.
bool readCaseFile(const std::string &dir, CaseFile &result,
                  std::string &error);

//===----------------------------------------------------------------------===//
// Output
//===----------------------------------------------------------------------===//

/// A JSON number, or null for NaN and Inf (JSON has neither).
std::string jsonNumber(double x);
/// A JSON string literal.
std::string jsonString(const std::string &s);

} // namespace lpattn::rt::gpucheck

#endif // LPATTN_RT_TOOLS_GPUCHECK_H
