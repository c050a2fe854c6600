//===- Pipelines.cpp - lpattn pass pipelines ------------------------------===//

#include "lpattn/Dialect/LPAttn/Transforms/Pipelines.h"
#include "lpattn/Dialect/LPAttn/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;
using namespace lpattn;

void lpattn::buildRobustFP8Pipeline(OpPassManager &pm,
                                    const RobustFP8PipelineOptions &options) {
  OpPassManager &funcPM = pm.nest<func::FuncOp>();
  LPAttnInsertPScaleOptions pScale;
  pScale.scale = options.scale;
  funcPM.addPass(createLPAttnInsertPScale(pScale));
  funcPM.addPass(createLPAttnReverseKV());
}

void lpattn::registerLPAttnPipelines() {
  PassPipelineRegistration<RobustFP8PipelineOptions>(
      "lpattn-robust-fp8",
      "P-Cast's robust FP8 attention: scale P by S (default 256 for e4m3) "
      "before its cast and iterate KV tiles in reverse",
      buildRobustFP8Pipeline);
}
