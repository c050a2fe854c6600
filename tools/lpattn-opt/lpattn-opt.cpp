//===- lpattn-opt.cpp - lpattn optimizer driver ---------------------------===//
//
// An mlir-opt for lpattn: parses, verifies, runs passes and prints IR with
// the lpattn dialect and the upstream dialects its lowering uses.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Dialect/LPAttn/IR/LPAttnDialect.h"
#include "lpattn/Dialect/LPAttn/Transforms/Passes.h"
#include "lpattn/Pipelines/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  // Every upstream dialect and its interface models (bufferization, LLVM
  // conversion), so that lpattn IR composes with any upstream pipeline: the
  // CPU lowering in particular runs through lpattn-opt as in lpattn-run.
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<lpattn::LPAttnDialect>();
  mlir::registerAllPasses();
  lpattn::registerLPAttnPasses();
  lpattn::registerLPAttnPipelines();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv,
      "lpattn optimizer driver: numerically robust low-precision attention\n",
      registry));
}
