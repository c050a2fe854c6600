//===- CastKernels.h - JIT-compiled cast kernels for tests ---- -*- C++ -*-===//
//
// Support shared by the cast execution tests and lpattn-check-casts: an MLIR
// module of elementwise cast kernels over memrefs (lpattn.truncf for every
// target format and overflow mode, arith.truncf f32 -> FP8, arith.extf back
// to f32), each in a vector form (16 lanes plus a scalar tail) and a scalar
// form, lowered with lpattn::buildCPULoweringPipeline and JIT-compiled with
// lpattn::compileToJIT (lowerAndJIT); and the input sets the tests sweep.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_UNITTESTS_CONVERSION_CASTKERNELS_H
#define LPATTN_UNITTESTS_CONVERSION_CASTKERNELS_H

#include "lpattn/Numerics/Formats.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lpattn::casts {

/// One f32 -> narrow cast: the target format, the overflow mode, and
/// whether it is spelled `arith.truncf` (FP8 only, always nonsat) instead of
/// `lpattn.truncf`.
struct TruncCast {
  FloatFormat format;
  OverflowMode overflow;
  bool viaArith = false;
};

/// Lowers loop-level `module` with lpattn-cpu-pipeline's loops-to-LLVM half
/// (buildLPAttnCPULoopsToLLVMPipeline) and JIT-compiles it; a failing pass
/// gives an error carrying its diagnostics.
llvm::Expected<std::unique_ptr<mlir::ExecutionEngine>>
lowerAndJIT(mlir::ModuleOp module, unsigned optLevel = 3);

/// The eight lpattn.truncf casts: {f16, bf16, f8E4M3FN, f8E5M2} x
/// {satfinite, nonsat}.
std::vector<TruncCast> allTruncCasts();
/// The two arith.truncf casts to FP8.
std::vector<TruncCast> arithTruncCasts();
/// The formats arith.extf is tested from: both FP8 formats, f16 and bf16.
std::vector<FloatFormat> extendFormats();
/// "lpattn.truncf f8E4M3FN satfinite", for messages.
std::string describe(const TruncCast &cast);

/// Which kernel body runs: vector<16xf32> steps (with a scalar tail), or
/// scalar steps only.
enum class KernelForm { Vector, Scalar };
const char *describe(KernelForm form);

/// The MLIR source of the kernel module (before lowering).
std::string kernelModuleSource();

/// The JIT-compiled kernel module. Kernels are pure functions of their
/// input buffers, safe to call from several threads at once.
class CastKernels {
public:
  /// Parses the kernel module, lowers it and JIT-compiles it at `optLevel`.
  static llvm::Expected<std::unique_ptr<CastKernels>>
  create(unsigned optLevel = 3);

  /// Writes the storage bits of cast(in[i]) to out[i] for i < n; `out`
  /// holds n elements of getBitWidth(cast.format) / 8 bytes each.
  llvm::Error truncate(const TruncCast &cast, KernelForm form, const float *in,
                       void *out, int64_t n) const;
  /// truncate() with the bits widened to uint32_t.
  llvm::Expected<std::vector<uint32_t>>
  truncateToBits(const TruncCast &cast, KernelForm form,
                 const std::vector<float> &in) const;
  /// out[i] = arith.extf(in[i]) to f32; `in` holds n codes of `from`.
  llvm::Error extend(FloatFormat from, KernelForm form, const void *in,
                     float *out, int64_t n) const;

private:
  CastKernels() = default;
  llvm::Error call(const std::string &name, void *in, void *out,
                   int64_t n) const;

  mlir::MLIRContext context;
  std::unique_ptr<mlir::ExecutionEngine> engine;
  /// Packed entry points by kernel name, resolved once at creation.
  llvm::StringMap<void (*)(void **)> kernels;
};

//===----------------------------------------------------------------------===//
// Inputs
//===----------------------------------------------------------------------===//

/// The inputs on which every cast must be exact, as f32 bit patterns: for
/// every finite code of f8E4M3FN, f8E5M2, f16 and bf16, its value, the
/// midpoint to the next code up in magnitude (the rounding boundary; for the
/// largest finite value, the overflow boundary), and the f32 neighbours of
/// both; each with both signs. Plus +-0, +-Inf, NaNs (quiet, signalling,
/// both signs, several payloads), f32 subnormals and FLT_MAX.
std::vector<uint32_t> boundaryInputs();

/// Every storage code of a 8- or 16-bit format, in order, as little-endian
/// bytes (the input of the extension kernels).
std::vector<uint8_t> allCodes(FloatFormat format);

/// `count` f32 bit patterns from a fixed-seed generator: half uniform over
/// all 2^32 patterns, half with exponents in the ranges of the narrow
/// formats (where uniform patterns rarely land).
std::vector<uint32_t> randomInputs(size_t count, uint32_t seed);

float bitsToFloat(uint32_t bits);
uint32_t floatToBits(float value);

} // namespace lpattn::casts

#endif // LPATTN_UNITTESTS_CONVERSION_CASTKERNELS_H
