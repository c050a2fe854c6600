//===- Dialects.h - C API of the lpattn dialect -------------------*- C -*-===//
//
// The lpattn dialect for C callers, in the style of MLIR's own C API
// (mlir-c/Dialect/*.h): a dialect handle to register or load the dialect into
// an MlirDialectRegistry / MlirContext, and one call that registers every
// dialect and extension lpattn's pipelines meet.
//
// Every MLIR handle here (MlirContext, MlirDialectRegistry, ...) is MLIR's own
// C API type; libLPAttnCAPI.so carries MLIR's core C API (mlirContextCreate,
// mlirModuleCreateParse, mlirPassManager*, ...) built over the same
// libMLIR.so as lpattn, so a C program links this one library.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_C_DIALECTS_H
#define LPATTN_C_DIALECTS_H

#include "mlir-c/IR.h"

#ifdef __cplusplus
extern "C" {
#endif

/// mlirGetDialectHandle__lpattn__(): the lpattn dialect alone.
MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(LPAttn, lpattn);

/// Inserts lpattn, every upstream dialect and every upstream extension
/// (bufferization and LLVM-conversion interface models) into `registry`: the
/// set lpattn-opt and the CPU runner use, which lpattn-cpu-pipeline needs.
MLIR_CAPI_EXPORTED void
mlirLPAttnRegisterAllDialects(MlirDialectRegistry registry);

#ifdef __cplusplus
}
#endif

#endif // LPATTN_C_DIALECTS_H
