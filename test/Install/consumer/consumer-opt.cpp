//===- consumer-opt.cpp - an opt tool of another project with lpattn ------===//
//
// What an ML compiler embedding lpattn writes: its own mlir-opt that
// registers the lpattn dialect, passes and pipelines from the installed
// package next to the upstream ones.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Dialect/LPAttn/IR/LPAttnDialect.h"
#include "lpattn/Dialect/LPAttn/Transforms/Passes.h"
#include "lpattn/Pipelines/Pipelines.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<lpattn::LPAttnDialect>();
  mlir::registerAllPasses();
  lpattn::registerLPAttnPasses();
  lpattn::registerLPAttnPipelines();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "an out-of-tree opt tool with lpattn\n", registry));
}
