//===- JIT.cpp - lower loop-level IR to LLVM and JIT it ------- -*- C++ -*-===//
//
// The pipeline is spelled out pass by pass, rather than as one
// convert-to-llvm, so that the order is explicit: the float-cast expansion
// must precede every LLVM conversion (it is what makes FP8 lowerable), and
// the conversions that create arith/affine ops (vector-to-scf,
// expand-strided-metadata) must precede the ones that lower those.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Conversion/CPU/JIT.h"

#include "lpattn/Dialect/LPAttn/Transforms/Passes.h"

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
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/TargetSelect.h"

using namespace mlir;

void lpattn::buildCPULoweringPipeline(OpPassManager &pm) {
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

llvm::Expected<std::unique_ptr<ExecutionEngine>>
lpattn::compileToJIT(ModuleOp module, unsigned optLevel) {
  if (optLevel > 3)
    return llvm::createStringError(
        "optimization level " + std::to_string(optLevel) + " is not in 0..3");
  MLIRContext *context = module.getContext();

  // Collect the diagnostics of a failing pass into the returned error
  // instead of printing them to stderr, so callers decide what to show.
  std::string diagnostics;
  {
    llvm::raw_string_ostream os(diagnostics);
    ScopedDiagnosticHandler handler(context, [&](Diagnostic &diag) {
      os << diag.getLocation() << ": " << diag << "\n";
      for (Diagnostic &note : diag.getNotes())
        os << note.getLocation() << ": note: " << note << "\n";
      return success();
    });
    PassManager pm(context, ModuleOp::getOperationName());
    buildCPULoweringPipeline(pm);
    if (failed(pm.run(module)))
      return llvm::createStringError("lowering to the LLVM dialect failed:\n" +
                                     diagnostics);
  }

  // Translation to LLVM IR needs these interfaces in the module's context.
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  context->appendDialectRegistry(registry);

  // Idempotent; the JIT needs the host target and its assembler.
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();

  // The host's own CPU and features. ExecutionEngine compiles with the
  // target machine it is given, so the codegen level is set here.
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return builder.takeError();
  builder->setCodeGenOptLevel(static_cast<llvm::CodeGenOptLevel>(optLevel));
  auto targetMachine = builder->createTargetMachine();
  if (!targetMachine)
    return targetMachine.takeError();

  // The transformer runs inside ExecutionEngine::create, so both it and the
  // target machine it points to outlive their use.
  auto transformer = makeOptimizingTransformer(optLevel, /*sizeLevel=*/0,
                                               targetMachine->get());
  ExecutionEngineOptions options;
  options.transformer = transformer;
  // Runtime functions the upstream lowerings call (memrefCopy for
  // memref.copy between non-contiguous memrefs).
  llvm::SmallVector<llvm::StringRef, 1> sharedLibs;
#ifdef LPATTN_MLIR_C_RUNNER_UTILS
  if (!llvm::sys::fs::exists(LPATTN_MLIR_C_RUNNER_UTILS))
    return llvm::createStringError(
        "MLIR's C runner utils library " LPATTN_MLIR_C_RUNNER_UTILS
        " (from libmlir-22-dev) is missing");
  sharedLibs.push_back(LPATTN_MLIR_C_RUNNER_UTILS);
#endif
  options.sharedLibPaths = sharedLibs;
  options.jitCodeGenOptLevel = static_cast<llvm::CodeGenOptLevel>(optLevel);
  return ExecutionEngine::create(module, options,
                                 std::move(targetMachine.get()));
}
