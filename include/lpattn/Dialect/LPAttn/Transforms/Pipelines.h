//===- Pipelines.h - lpattn pass pipelines ----------------------*- C++ -*-===//

#ifndef LPATTN_DIALECT_LPATTN_TRANSFORMS_PIPELINES_H
#define LPATTN_DIALECT_LPATTN_TRANSFORMS_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace lpattn {

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

/// Registers every lpattn pipeline with the global registry.
void registerLPAttnPipelines();

} // namespace lpattn

#endif // LPATTN_DIALECT_LPATTN_TRANSFORMS_PIPELINES_H
