//===- JIT.h - JIT-compile LLVM-dialect modules for the host ----*- C++ -*-===//
//
// In-process execution of a module that a pipeline (lpattn-cpu-pipeline)
// has taken to the LLVM dialect: translation to LLVM IR, optimization for
// the host CPU and mlir::ExecutionEngine. No lowering happens here.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_EXECUTIONENGINE_JIT_H
#define LPATTN_EXECUTIONENGINE_JIT_H

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <memory>

namespace lpattn {

/// JIT-compiles `module`, which must be in the LLVM dialect, for the host
/// CPU (its full feature set, so vector code uses e.g. AVX-512 where
/// present) at LLVM optimization level `optLevel` (0 to 3). MLIR's C runner
/// utils library is loaded for the runtime functions the upstream lowerings
/// call (memrefCopy). Functions to be called through
/// ExecutionEngine::invoke need the `llvm.emit_c_interface` attribute
/// before lowering.
llvm::Expected<std::unique_ptr<mlir::ExecutionEngine>>
compileToJIT(mlir::ModuleOp module, unsigned optLevel = 3);

} // namespace lpattn

#endif // LPATTN_EXECUTIONENGINE_JIT_H
