//===- SM90ToLLVM.cpp - an lpattn sm_90a kernel to the LLVM dialect ------===//
//
// What lpattn-tile-to-sm90 leaves in a kernel besides LLVM/NVVM ops: the
// tile IR's cloned step bodies (arith, math), lpattn.truncf casts and the
// scf loops/branches of the pipeline. Casts are expanded with the CPU path's
// patterns (one definition of every rounding), the rest is upstream's
// conversions with a 32-bit index.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Target/NVIDIA/Passes.h"

#include "lpattn/Dialect/LPAttn/Transforms/Passes.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/LLVMCommon/ConversionTarget.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace lpattn {
#define GEN_PASS_DEF_LPATTNSM90TOLLVM
#include "lpattn/Target/NVIDIA/Passes.h.inc"
} // namespace lpattn

using namespace mlir;

namespace {

struct LPAttnSM90ToLLVMPass
    : lpattn::impl::LPAttnSM90ToLLVMBase<LPAttnSM90ToLLVMPass> {
  void runOnOperation() override {
    gpu::GPUModuleOp module = getOperation();
    MLIRContext *context = &getContext();

    RewritePatternSet casts(context);
    lpattn::populateExpandFloatCastsPatterns(casts);
    // ceildivsi & co. (the causal tile count) have no LLVM lowering.
    arith::populateArithExpandOpsPatterns(casts);
    if (failed(applyPatternsGreedily(module, std::move(casts))))
      return signalPassFailure();

    LowerToLLVMOptions options(context);
    options.overrideIndexBitwidth(32);
    LLVMTypeConverter converter(context, options);
    RewritePatternSet patterns(context);
    populateSCFToControlFlowConversionPatterns(patterns);
    arith::populateArithToLLVMConversionPatterns(converter, patterns);
    cf::populateControlFlowToLLVMConversionPatterns(converter, patterns);
    index::populateIndexToLLVMConversionPatterns(converter, patterns);
    populateMathToLLVMConversionPatterns(converter, patterns);
    ub::populateUBToLLVMConversionPatterns(converter, patterns);
    LLVMConversionTarget target(*context);
    target.addLegalOp<gpu::GPUModuleOp>();
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
