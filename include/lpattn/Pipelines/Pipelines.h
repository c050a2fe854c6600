//===- Pipelines.h - lpattn's named pass pipelines --------------*- C++ -*-===//
//
// The data path of lpattn as registered pipelines, layered as upstream's
// GPUToNVVMPipeline: a common part (the tile-level form with the safeguards
// the op's attributes ask for) and a target part. The CPU part takes the
// tile-level form to the LLVM dialect with every low-precision rounding
// emulated bit-exactly; the GPU part slots in beside it.
//
//   lpattn.attention
//     -> lpattn-tile (+ safeguards from the op's attributes)   common
//     -> lpattn-cpu-matmul-layout, bufferize, loops,            CPU
//        lpattn-expand-float-casts, LLVM dialect
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_PIPELINES_PIPELINES_H
#define LPATTN_PIPELINES_PIPELINES_H

#include "lpattn/Numerics/Rules.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace lpattn {

/// Options of the common (tile-level) part, shared by every target.
struct LPAttnPipelineOptions
    : public mlir::PassPipelineOptions<LPAttnPipelineOptions> {
  PassOptions::Option<int64_t> tileQ{
      *this, "tile-q",
      llvm::cl::desc("Query tile size Br for ops without `tiles`"),
      llvm::cl::init(kDefaultTileQ)};
  PassOptions::Option<int64_t> tileKV{
      *this, "tile-kv",
      llvm::cl::desc("Key tile size Bc for ops without `tiles`"),
      llvm::cl::init(kDefaultTileKV)};
  PassOptions::Option<int64_t> countCollapse{
      *this, "count-collapse",
      llvm::cl::desc("Instrumentation (lpattn-count-collapse): count P "
                     "flushed to 0 by its cast over keys >= N, into an "
                     "extra memref<2xi64> argument; -1 (default): off"),
      llvm::cl::init(-1)};
};

/// Common part, on a module: lpattn-tile, which builds the tile-level form
/// and applies the safeguards the op's attributes ask for (P scale, reverse
/// KV order, bias-corrected or PASA softmax), then the optional collapse
/// instrumentation.
void buildLPAttnTilePipeline(mlir::OpPassManager &pm,
                             const LPAttnPipelineOptions &options);

/// CPU part, first half, on a module holding tile-level IR: products as
/// vectorizable (m, k, n) loop nests, one-shot bufferization, loops.
void buildLPAttnCPUTensorToLoopsPipeline(mlir::OpPassManager &pm);

/// CPU part, second half, on loop-level IR (func, scf, arith, math, memref,
/// vector, lpattn.truncf): lpattn-expand-float-casts, then the upstream
/// conversions to the LLVM dialect.
void buildLPAttnCPULoopsToLLVMPipeline(mlir::OpPassManager &pm);

/// CPU part: both halves.
void buildLPAttnCPULoweringPipeline(mlir::OpPassManager &pm);

/// lpattn-cpu-pipeline: the common part then the CPU part.
void buildLPAttnCPUPipeline(mlir::OpPassManager &pm,
                            const LPAttnPipelineOptions &options);

/// Options of lpattn-robust-fp8.
struct RobustFP8PipelineOptions
    : public mlir::PassPipelineOptions<RobustFP8PipelineOptions> {
  PassOptions::Option<double> scale{
      *this, "scale",
      llvm::cl::desc("P scale S; 0 = the largest safe power of two for the "
                     "p type (256 for f8E4M3FN)"),
      llvm::cl::init(0.0)};
};

/// P-Cast's robust FP8 numerics: lpattn-insert-p-scale then
/// lpattn-reverse-kv, on every function. Works before or after lpattn-tile.
void buildRobustFP8Pipeline(mlir::OpPassManager &pm,
                            const RobustFP8PipelineOptions &options);

/// Options of lpattn-sm90-pipeline.
struct LPAttnSM90PipelineOptions
    : public mlir::PassPipelineOptions<LPAttnSM90PipelineOptions> {
  PassOptions::Option<int64_t> stages{
      *this, "stages",
      llvm::cl::desc("shared-memory stages of the kernel's K/V ring (2-4)"),
      llvm::cl::init(2)};
  PassOptions::Option<std::string> chip{
      *this, "chip", llvm::cl::desc("the NVVM target chip"),
      llvm::cl::init("sm_90a")};
  PassOptions::Option<std::string> features{
      *this, "features",
      llvm::cl::desc("the NVVM target features (PTX ISA 8.0 or later)"),
      llvm::cl::init("+ptx80")};
  PassOptions::Option<bool> dumpP{
      *this, "dump-p",
      llvm::cl::desc("debug: dump one tile's P * S and P codes (see "
                     "lpattn-tile-to-sm90)"),
      llvm::cl::init(false)};
};

/// lpattn-sm90-pipeline: lpattn-check-sm90, the common part (tile-q 64),
/// lpattn-tile-to-sm90 and lpattn-sm90-to-llvm: a module with one gpu.module
/// kernel in the LLVM/NVVM dialects and its `lpattn.launch` attribute, ready
/// for gpu-module-to-binary (lpattn-compile does that and runs ptxas).
void buildLPAttnSM90Pipeline(mlir::OpPassManager &pm,
                             const LPAttnSM90PipelineOptions &options);

/// Registers every lpattn pipeline with the global registry.
void registerLPAttnPipelines();

} // namespace lpattn

#endif // LPATTN_PIPELINES_PIPELINES_H
