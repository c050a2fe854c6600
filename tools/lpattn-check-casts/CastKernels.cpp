//===- CastKernels.cpp - JIT-compiled cast kernels for tests -- -*- C++ -*-===//

#include "CastKernels.h"

#include "lpattn/ExecutionEngine/JIT.h"
#include "lpattn/Pipelines/Pipelines.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "lpattn/Dialect/LPAttn/IR/LPAttnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

using namespace lpattn;
using namespace lpattn::casts;

/// Lanes of the vector kernels: one 512-bit register of f32.
static constexpr int kLanes = 16;

static constexpr FloatFormat kNarrowFormats[] = {
    FloatFormat::F16, FloatFormat::BF16, FloatFormat::F8E4M3FN,
    FloatFormat::F8E5M2};

std::vector<TruncCast> casts::allTruncCasts() {
  std::vector<TruncCast> result;
  for (FloatFormat format : kNarrowFormats)
    for (OverflowMode mode : {OverflowMode::SatFinite, OverflowMode::NonSat})
      result.push_back({format, mode});
  return result;
}

std::vector<TruncCast> casts::arithTruncCasts() {
  return {{FloatFormat::F8E4M3FN, OverflowMode::NonSat, /*viaArith=*/true},
          {FloatFormat::F8E5M2, OverflowMode::NonSat, /*viaArith=*/true}};
}

std::vector<FloatFormat> casts::extendFormats() {
  return {FloatFormat::F8E4M3FN, FloatFormat::F8E5M2, FloatFormat::F16,
          FloatFormat::BF16};
}

std::string casts::describe(const TruncCast &cast) {
  if (cast.viaArith)
    return "arith.truncf " + getFormatName(cast.format).str();
  return "lpattn.truncf " + getFormatName(cast.format).str() + " " +
         std::string(stringifyOverflowMode(cast.overflow));
}

const char *casts::describe(KernelForm form) {
  return form == KernelForm::Vector ? "vector" : "scalar";
}

/// The kernel name of a cast, without the form suffix.
static std::string kernelBaseName(const TruncCast &cast) {
  if (cast.viaArith)
    return "arith_truncf_" + getFormatName(cast.format).str();
  return "truncf_" + getFormatName(cast.format).str() + "_" +
         std::string(stringifyOverflowMode(cast.overflow));
}

static std::string extendBaseName(FloatFormat from) {
  return "extf_" + getFormatName(from).str();
}

static std::string withForm(const std::string &base, KernelForm form) {
  return base + "_" + describe(form);
}

/// Both forms of one elementwise kernel `out[i] = op(in[i])`. `op` is a
/// format string of the cast with {0} = the operand, {1} = the operand type,
/// {2} = the result type.
static std::string elementwiseKernels(const std::string &base,
                                      llvm::StringRef inType,
                                      llvm::StringRef outType,
                                      const std::string &op) {
  std::string vecIn = llvm::formatv("vector<{0}x{1}>", kLanes, inType).str();
  std::string vecOut = llvm::formatv("vector<{0}x{1}>", kLanes, outType).str();
  std::string vecOp = llvm::formatv(op.c_str(), "%x", vecIn, vecOut).str();
  std::string scalarOp = llvm::formatv(op.c_str(), "%x", inType, outType).str();
  // {0} name, {1} in, {2} out, {3} vector in, {4} vector out, {5} vector op,
  // {6} scalar op, {7} lanes.
  const char *vectorKernel = R"mlir(
func.func @{0}_vector(%in: memref<?x{1}>, %out: memref<?x{2}>)
    attributes {{llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %lanes = arith.constant {7} : index
  %n = memref.dim %in, %c0 : memref<?x{1}>
  %rem = arith.remui %n, %lanes : index
  %nv = arith.subi %n, %rem : index
  scf.for %i = %c0 to %nv step %lanes {
    %x = vector.load %in[%i] : memref<?x{1}>, {3}
    %y = {5}
    vector.store %y, %out[%i] : memref<?x{2}>, {4}
  }
  scf.for %i = %nv to %n step %c1 {
    %x = memref.load %in[%i] : memref<?x{1}>
    %y = {6}
    memref.store %y, %out[%i] : memref<?x{2}>
  }
  return
}
func.func @{0}_scalar(%in: memref<?x{1}>, %out: memref<?x{2}>)
    attributes {{llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %in, %c0 : memref<?x{1}>
  scf.for %i = %c0 to %n step %c1 {
    %x = memref.load %in[%i] : memref<?x{1}>
    %y = {6}
    memref.store %y, %out[%i] : memref<?x{2}>
  }
  return
}
)mlir";
  return llvm::formatv(vectorKernel, base, inType, outType, vecIn, vecOut,
                       vecOp, scalarOp, kLanes)
      .str();
}

std::string casts::kernelModuleSource() {
  std::string source;
  for (const TruncCast &cast : allTruncCasts())
    source += elementwiseKernels(
        kernelBaseName(cast), "f32", getFormatName(cast.format),
        "lpattn.truncf {0} rne " + std::string(stringifyOverflowMode(cast.overflow)) +
            " : {1} to {2}");
  for (const TruncCast &cast : arithTruncCasts())
    source += elementwiseKernels(kernelBaseName(cast), "f32",
                                 getFormatName(cast.format),
                                 "arith.truncf {0} : {1} to {2}");
  for (FloatFormat from : extendFormats())
    source += elementwiseKernels(extendBaseName(from), getFormatName(from),
                                 "f32", "arith.extf {0} : {1} to {2}");
  return source;
}

llvm::Expected<std::unique_ptr<mlir::ExecutionEngine>>
lpattn::casts::lowerAndJIT(mlir::ModuleOp module, unsigned optLevel) {
  std::string diagnostics;
  {
    llvm::raw_string_ostream os(diagnostics);
    mlir::ScopedDiagnosticHandler handler(
        module.getContext(), [&](mlir::Diagnostic &diag) {
          os << diag.getLocation() << ": " << diag << "\n";
          return mlir::success();
        });
    mlir::PassManager pm(module.getContext(),
                         mlir::ModuleOp::getOperationName());
    buildLPAttnCPULoopsToLLVMPipeline(pm);
    if (mlir::failed(pm.run(module)))
      return llvm::createStringError(
          "lowering to the LLVM dialect failed:\n" + diagnostics);
  }
  return compileToJIT(module, optLevel);
}

llvm::Expected<std::unique_ptr<CastKernels>>
CastKernels::create(unsigned optLevel) {
  std::unique_ptr<CastKernels> kernels(new CastKernels());
  mlir::MLIRContext &context = kernels->context;
  context.loadDialect<LPAttnDialect, mlir::arith::ArithDialect,
                      mlir::func::FuncDialect, mlir::memref::MemRefDialect,
                      mlir::scf::SCFDialect, mlir::vector::VectorDialect>();

  std::string source = kernelModuleSource();
  std::string parseErrors;
  llvm::raw_string_ostream errorStream(parseErrors);
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context, errorStream);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(source, &context);
  if (!module)
    return llvm::createStringError("the cast kernel module does not parse:\n" +
                                   parseErrors);

  auto engine = lowerAndJIT(*module, optLevel);
  if (!engine)
    return engine.takeError();
  kernels->engine = std::move(*engine);

  // Resolve (and so compile) every kernel now, not on first use.
  std::vector<std::string> names;
  for (const TruncCast &cast : allTruncCasts())
    names.push_back(kernelBaseName(cast));
  for (const TruncCast &cast : arithTruncCasts())
    names.push_back(kernelBaseName(cast));
  for (FloatFormat from : extendFormats())
    names.push_back(extendBaseName(from));
  for (const std::string &base : names) {
    for (KernelForm form : {KernelForm::Vector, KernelForm::Scalar}) {
      std::string name = withForm(base, form);
      auto fn = kernels->engine->lookupPacked("_mlir_ciface_" + name);
      if (!fn)
        return fn.takeError();
      kernels->kernels[name] = *fn;
    }
  }
  return kernels;
}

llvm::Error CastKernels::call(const std::string &name, void *in, void *out,
                              int64_t n) const {
  auto it = kernels.find(name);
  if (it == kernels.end())
    return llvm::createStringError("no cast kernel named " + name);
  // The element type does not change the descriptor layout, so byte
  // descriptors serve every memref<?xT>.
  StridedMemRefType<uint8_t, 1> inDesc{
      static_cast<uint8_t *>(in), static_cast<uint8_t *>(in), 0, {n}, {1}};
  StridedMemRefType<uint8_t, 1> outDesc{
      static_cast<uint8_t *>(out), static_cast<uint8_t *>(out), 0, {n}, {1}};
  void *inPtr = &inDesc, *outPtr = &outDesc;
  void *args[] = {&inPtr, &outPtr};
  it->second(args);
  return llvm::Error::success();
}

llvm::Error CastKernels::truncate(const TruncCast &cast, KernelForm form,
                                  const float *in, void *out, int64_t n) const {
  return call(withForm(kernelBaseName(cast), form), const_cast<float *>(in),
              out, n);
}

llvm::Expected<std::vector<uint32_t>>
CastKernels::truncateToBits(const TruncCast &cast, KernelForm form,
                            const std::vector<float> &in) const {
  unsigned bytes = getBitWidth(cast.format) / 8;
  std::vector<uint8_t> raw(in.size() * bytes);
  if (llvm::Error error = truncate(cast, form, in.data(), raw.data(),
                                   static_cast<int64_t>(in.size())))
    return std::move(error);
  std::vector<uint32_t> bits(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (bytes == 1) {
      bits[i] = raw[i];
    } else {
      uint16_t value;
      std::memcpy(&value, &raw[2 * i], 2);
      bits[i] = value;
    }
  }
  return bits;
}

llvm::Error CastKernels::extend(FloatFormat from, KernelForm form,
                                const void *in, float *out, int64_t n) const {
  return call(withForm(extendBaseName(from), form), const_cast<void *>(in), out,
              n);
}

//===----------------------------------------------------------------------===//
// Inputs
//===----------------------------------------------------------------------===//

float casts::bitsToFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

uint32_t casts::floatToBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

std::vector<uint32_t> casts::boundaryInputs() {
  std::vector<uint32_t> inputs;
  auto addWithNeighbours = [&](float value) {
    for (float v : {value, -value}) {
      inputs.push_back(floatToBits(v));
      inputs.push_back(floatToBits(std::nextafter(v, INFINITY)));
      inputs.push_back(floatToBits(std::nextafter(v, -INFINITY)));
    }
  };
  for (FloatFormat format : kNarrowFormats) {
    unsigned width = getBitWidth(format);
    uint32_t magnitudeCodes = 1u << (width - 1);
    for (uint32_t code = 0; code < magnitudeCodes; ++code) {
      float value = decode(code, format);
      if (!std::isfinite(value))
        continue;
      addWithNeighbours(value);
      // The next value up in magnitude: the next code's, or above the
      // largest finite value the next power of two, where the format's
      // exponent range would continue (so the midpoint is the overflow
      // boundary). In double: for bf16 that power, 2^128, is no f32.
      double next = code + 1 < magnitudeCodes ? decode(code + 1, format) : NAN;
      if (!std::isfinite(next)) {
        int exponent;
        std::frexp(value, &exponent);
        next = std::ldexp(1.0, exponent);
      }
      // Exact in f32: a midpoint needs one more mantissa bit than the format
      // has, and lies in f32's exponent range.
      double midpoint = (double(value) + next) / 2;
      if (double(float(midpoint)) != midpoint)
        llvm::report_fatal_error("a rounding boundary of " +
                                 getFormatName(format) + " is not an f32");
      addWithNeighbours(float(midpoint));
    }
  }
  const float inf = std::numeric_limits<float>::infinity();
  const float max = std::numeric_limits<float>::max();
  const float denormMin = std::numeric_limits<float>::denorm_min();
  const float normMin = std::numeric_limits<float>::min();
  for (float value : {0.0f, inf, max, denormMin, normMin, 1.0f})
    addWithNeighbours(value);
  // NaNs: quiet and signalling, both signs, small and large payloads.
  for (uint32_t nan : {0x7FC00000u, 0x7F800001u, 0x7FFFFFFFu, 0x7FA00000u,
                       0x7FC00001u, 0x7F812345u})
    for (uint32_t sign : {0u, 0x80000000u})
      inputs.push_back(nan | sign);
  return inputs;
}

std::vector<uint32_t> casts::randomInputs(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint32_t> inputs(count);
  size_t half = count / 2;
  for (size_t i = 0; i < half; ++i)
    inputs[i] = rng();
  // f32 exponent fields from just below the smallest subnormal of f16 (the
  // format reaching lowest but bf16, whose range is f32's) to just above the
  // largest finite value of f16 and e5m2: 127 - 27 to 127 + 18.
  std::uniform_int_distribution<uint32_t> exponent(127 - 27, 127 + 18);
  for (size_t i = half; i < count; ++i) {
    uint32_t bits = rng();
    inputs[i] = (bits & 0x807FFFFFu) | (exponent(rng) << 23);
  }
  return inputs;
}

std::vector<uint8_t> lpattn::casts::allCodes(FloatFormat format) {
  unsigned width = getBitWidth(format);
  size_t count = size_t(1) << width;
  std::vector<uint8_t> codes(count * width / 8);
  for (size_t code = 0; code < count; ++code) {
    if (width == 8) {
      codes[code] = uint8_t(code);
    } else {
      uint16_t value = uint16_t(code);
      std::memcpy(&codes[2 * code], &value, 2);
    }
  }
  return codes;
}
