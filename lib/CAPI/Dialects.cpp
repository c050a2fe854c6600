//===- Dialects.cpp - C API of the lpattn dialect -------------------------===//
//
// mlirGetDialectHandle__lpattn__ and mlirLPAttnRegisterAllDialects.
//
//===----------------------------------------------------------------------===//

#include "lpattn-c/Dialects.h"

#include "lpattn/Dialect/LPAttn/IR/LPAttnDialect.h"

#include "mlir/CAPI/Registration.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"

MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(LPAttn, lpattn, lpattn::LPAttnDialect)

void mlirLPAttnRegisterAllDialects(MlirDialectRegistry registry) {
  // The same set as lpattn-opt and CPUAttention: lpattn-cpu-pipeline needs
  // the bufferization and LLVM-conversion interface models of the upstream
  // dialects it lowers through.
  mlir::DialectRegistry *cppRegistry = unwrap(registry);
  mlir::registerAllDialects(*cppRegistry);
  mlir::registerAllExtensions(*cppRegistry);
  cppRegistry->insert<lpattn::LPAttnDialect>();
}
