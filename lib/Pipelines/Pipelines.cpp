//===- Pipelines.cpp - lpattn's named pass pipelines ----------------------===//
//
// The CPU lowering is spelled out pass by pass, rather than as one
// convert-to-llvm, so that the order is explicit: the float-cast expansion
// must precede every LLVM conversion (it is what makes FP8 lowerable), and
// the conversions that create arith/affine ops (vector-to-scf,
// expand-strided-metadata) must precede the ones that lower those.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Pipelines/Pipelines.h"

#include "lpattn/Dialect/LPAttn/Transforms/Passes.h"
#include "lpattn/Target/NVIDIA/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace lpattn;

//===----------------------------------------------------------------------===//
// Common part
//===----------------------------------------------------------------------===//

void lpattn::buildLPAttnTilePipeline(OpPassManager &pm,
                                     const LPAttnPipelineOptions &options) {
  OpPassManager &funcPM = pm.nest<func::FuncOp>();
  LPAttnTileOptions tile;
  tile.tileQ = options.tileQ;
  tile.tileKV = options.tileKV;
  funcPM.addPass(createLPAttnTile(tile));
  if (options.countCollapse >= 0) {
    LPAttnCountCollapseOptions count;
    count.sinkKeys = options.countCollapse;
    funcPM.addPass(createLPAttnCountCollapse(count));
  }
}

//===----------------------------------------------------------------------===//
// CPU part
//===----------------------------------------------------------------------===//

void lpattn::buildLPAttnCPUTensorToLoopsPipeline(OpPassManager &pm) {
  OpPassManager &funcPM = pm.nest<func::FuncOp>();
  funcPM.addPass(createLPAttnCPUMatmulLayout());
  // lpattn.truncf on whole tiles becomes a linalg.generic of scalar casts.
  funcPM.addPass(createConvertElementwiseToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.allowReturnAllocsFromLoops = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // Equal subviews become one value, and the copy of a result tile onto
  // itself (in-place normalize) folds away.
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  bufferization::buildBufferDeallocationPipeline(pm);
  // One host thread: the parallel (batch, head, query tile) loop runs in
  // order. The collapse counters of lpattn-count-collapse rely on it.
  pm.addNestedPass<func::FuncOp>(createForallToForLoopPass());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createCanonicalizerPass());
}

void lpattn::buildLPAttnCPULoopsToLLVMPipeline(OpPassManager &pm) {
  // FP8 casts and lpattn.truncf become integer bit arithmetic; afterwards
  // FP8 types only remain in memory and bitcasts, which convert to i8.
  pm.addPass(createLPAttnExpandFloatCasts());
  // Multi-dimensional and masked vector transfers become loops over 1-D
  // ones, which convert-vector-to-llvm handles.
  pm.addPass(createConvertVectorToSCFPass());
  // Subviews become reinterpret casts with affine offset arithmetic.
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  // Integer division forms and bf16 casts (LLVM's bf16 truncation is a
  // libcall that older libgcc lacks) become plain arith.
  arith::ArithExpandOpsPassOptions expandOptions;
  expandOptions.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expandOptions));
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void lpattn::buildLPAttnCPULoweringPipeline(OpPassManager &pm) {
  buildLPAttnCPUTensorToLoopsPipeline(pm);
  buildLPAttnCPULoopsToLLVMPipeline(pm);
}

void lpattn::buildLPAttnCPUPipeline(OpPassManager &pm,
                                    const LPAttnPipelineOptions &options) {
  buildLPAttnTilePipeline(pm, options);
  buildLPAttnCPULoweringPipeline(pm);
}

//===----------------------------------------------------------------------===//
// Safeguard pipelines
//===----------------------------------------------------------------------===//

void lpattn::buildRobustFP8Pipeline(OpPassManager &pm,
                                    const RobustFP8PipelineOptions &options) {
  OpPassManager &funcPM = pm.nest<func::FuncOp>();
  LPAttnInsertPScaleOptions pScale;
  pScale.scale = options.scale;
  funcPM.addPass(createLPAttnInsertPScale(pScale));
  funcPM.addPass(createLPAttnReverseKV());
}

//===----------------------------------------------------------------------===//
// Registration
//===----------------------------------------------------------------------===//

void lpattn::buildLPAttnSM90Pipeline(
    OpPassManager &pm, const LPAttnSM90PipelineOptions &options) {
  pm.addPass(createLPAttnCheckSM90());
  LPAttnPipelineOptions tileOptions;
  tileOptions.tileQ = 64;
  buildLPAttnTilePipeline(pm, tileOptions);
  LPAttnTileToSM90Options kernel;
  kernel.stages = options.stages;
  kernel.chip = options.chip;
  kernel.features = options.features;
  kernel.dumpP = options.dumpP;
  pm.addPass(createLPAttnTileToSM90(kernel));
  pm.addPass(createCanonicalizerPass());
  OpPassManager &gpuPM = pm.nest<gpu::GPUModuleOp>();
  gpuPM.addPass(createCSEPass());
  gpuPM.addPass(createLPAttnSM90ToLLVM());
  gpuPM.addPass(createReconcileUnrealizedCastsPass());
  gpuPM.addPass(createCanonicalizerPass());
  gpuPM.addPass(createCSEPass());
}

void lpattn::registerLPAttnPipelines() {
  PassPipelineRegistration<LPAttnPipelineOptions>(
      "lpattn-tile-pipeline",
      "The common part of every lpattn lowering: the tile-level form with the "
      "safeguards the op's attributes ask for (and optional collapse "
      "instrumentation)",
      buildLPAttnTilePipeline);
  PassPipelineRegistration<LPAttnPipelineOptions>(
      "lpattn-cpu-pipeline",
      "lpattn.attention to the LLVM dialect for the CPU: the tile-level form "
      "and its safeguards, vectorizable products, bufferization, loops and "
      "bit-exact low-precision casts",
      buildLPAttnCPUPipeline);
  PassPipelineRegistration<LPAttnSM90PipelineOptions>(
      "lpattn-sm90-pipeline",
      "lpattn.attention to an sm_90a wgmma/TMA kernel: the tile-level form "
      "and its safeguards, then one kernel in a gpu.module (LLVM/NVVM "
      "dialects) with its launch descriptor in `lpattn.launch`",
      buildLPAttnSM90Pipeline);
  PassPipelineRegistration<RobustFP8PipelineOptions>(
      "lpattn-robust-fp8",
      "P-Cast's robust FP8 attention: scale P by S (default 256 for e4m3) "
      "before its cast and iterate KV tiles in reverse",
      buildRobustFP8Pipeline);
}
