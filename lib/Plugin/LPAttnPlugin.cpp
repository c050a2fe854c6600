//===- LPAttnPlugin.cpp - lpattn as a plugin of upstream tools ------------===//
//
// LPAttnPlugin.so, for Debian's own mlir-opt-22:
//
//   mlir-opt-22 --load-dialect-plugin=LPAttnPlugin.so \
//               --load-pass-plugin=LPAttnPlugin.so in.mlir --lpattn-tile
//
// The dialect entry point inserts the lpattn dialect into the tool's
// registry (mlir-opt registers every upstream dialect and extension itself);
// the pass entry point registers every lpattn pass and pipeline. The plugin
// links libMLIR.so, the same copy mlir-opt-22 is linked against (it is not
// statically linked), so there is one MLIR in the process.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Dialect/LPAttn/IR/LPAttnDialect.h"
#include "lpattn/Dialect/LPAttn/Transforms/Passes.h"
#include "lpattn/Pipelines/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/Support/Compiler.h"

/// The dialect plugin: lpattn into the tool's registry.
extern "C" LLVM_ATTRIBUTE_WEAK ::mlir::DialectPluginLibraryInfo
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "LPAttn", LLVM_VERSION_STRING,
          [](mlir::DialectRegistry *registry) {
            registry->insert<lpattn::LPAttnDialect>();
          }};
}

/// The pass plugin: every lpattn pass and named pipeline.
extern "C" LLVM_ATTRIBUTE_WEAK ::mlir::PassPluginLibraryInfo
mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "LPAttnPasses", LLVM_VERSION_STRING, []() {
            lpattn::registerLPAttnPasses();
            lpattn::registerLPAttnPipelines();
          }};
}
