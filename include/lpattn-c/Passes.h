//===- Passes.h - C API of lpattn's passes and pipelines ----------*- C -*-===//
//
// Registers lpattn's passes (lpattn-tile, the safeguards, the CPU helpers)
// and named pipelines (lpattn-tile-pipeline, lpattn-cpu-pipeline,
// lpattn-robust-fp8) with MLIR's global pass registry, so that
// mlirParsePassPipeline / mlirOpPassManagerAddPipeline find them by name, and
// runs a named pipeline on a module with its diagnostics kept as text.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_C_PASSES_H
#define LPATTN_C_PASSES_H

#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Registers every lpattn pass (lpattn-tile, lpattn-insert-p-scale, ...).
/// Both registration calls may be called any number of times (once takes
/// effect).
MLIR_CAPI_EXPORTED void mlirLPAttnRegisterPasses(void);

/// Registers lpattn's pipelines (lpattn-tile-pipeline, lpattn-cpu-pipeline,
/// lpattn-robust-fp8).
MLIR_CAPI_EXPORTED void mlirLPAttnRegisterPipelines(void);

/// Runs `pipeline` on `module`: a textual pass pipeline, either anchored
/// ("builtin.module(lpattn-cpu-pipeline{tile-q=32})") or the list inside
/// the module's parentheses ("lpattn-cpu-pipeline",
/// "func.func(lpattn-tile,lpattn-reverse-kv)"): function passes such as
/// lpattn-tile nest under func.func, as with mlirParsePassPipeline (there is
/// no implicit nesting). The passes must be registered
/// (mlirLPAttnRegisterPasses / mlirLPAttnRegisterPipelines). On failure the
/// pipeline's parse error or the diagnostics the passes emitted are the text
/// of lpattnGetLastError() (lpattn-c/Runner.h); diagnostics are not printed.
MLIR_CAPI_EXPORTED MlirLogicalResult
mlirLPAttnModuleRunPipeline(MlirModule module, MlirStringRef pipeline);

#ifdef __cplusplus
}
#endif

#endif // LPATTN_C_PASSES_H
