//===- JIT.h - lower loop-level IR to LLVM and JIT it --------- -*- C++ -*-===//
//
// The CPU execution path shared by lpattn-run and the execution tests:
// one pass pipeline from bufferized, loop-level IR (func, scf, arith, math,
// memref, vector, and lpattn.truncf) to the LLVM dialect, and an in-process
// JIT of the result for the host CPU.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_CONVERSION_CPU_JIT_H
#define LPATTN_CONVERSION_CPU_JIT_H

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Error.h"

#include <memory>

namespace lpattn {

/// Appends to `pm` (anchored on builtin.module) the lowering of loop-level
/// IR to the LLVM dialect: lpattn-expand-float-casts first (LLVM has no FP8
/// types and no satfinite casts), then the upstream conversions of vector,
/// scf, affine, memref, arith, math, index, cf, ub and func, and
/// reconcile-unrealized-casts. Tensors and linalg must be gone already.
void buildCPULoweringPipeline(mlir::OpPassManager &pm);

/// Lowers `module` in place with buildCPULoweringPipeline and JIT-compiles
/// it for the host CPU (its full feature set, so vector code uses e.g.
/// AVX-512 where present) at LLVM optimization level `optLevel` (0 to 3).
/// MLIR's C runner utils library is loaded for the runtime functions the
/// upstream lowerings call (memrefCopy). On failure the error carries the
/// diagnostics of the failing pass.
/// Functions to be called through ExecutionEngine::invoke need the
/// `llvm.emit_c_interface` attribute.
llvm::Expected<std::unique_ptr<mlir::ExecutionEngine>>
compileToJIT(mlir::ModuleOp module, unsigned optLevel = 3);

} // namespace lpattn

#endif // LPATTN_CONVERSION_CPU_JIT_H
