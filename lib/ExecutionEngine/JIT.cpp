//===- JIT.cpp - JIT-compile LLVM-dialect modules for the host -*- C++ -*-===//

#include "lpattn/ExecutionEngine/JIT.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/TargetSelect.h"

using namespace mlir;

llvm::Expected<std::unique_ptr<ExecutionEngine>>
lpattn::compileToJIT(ModuleOp module, unsigned optLevel) {
  if (optLevel > 3)
    return llvm::createStringError(
        "optimization level " + std::to_string(optLevel) + " is not in 0..3");
  MLIRContext *context = module.getContext();

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
