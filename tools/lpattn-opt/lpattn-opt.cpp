//===- lpattn-opt.cpp - lpattn optimizer driver ---------------------------===//
//
// An mlir-opt for lpattn: parses, verifies, runs passes and prints IR with
// the lpattn dialect and the upstream dialects its lowering uses. A crash
// (upstream MLIR 22.1.8 has known ones on corrupted bytecode and
// `array<index: ...>`, see the README's known issues) is caught and reported
// as one error with exit code 3; LPATTN_NO_CRASH_RECOVERY=1 lets it dump the
// stack instead, for a bug report.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Dialect/LPAttn/IR/LPAttnDialect.h"
#include "lpattn/Dialect/LPAttn/Transforms/Passes.h"
#include "lpattn/Pipelines/Pipelines.h"
#include "lpattn/Target/NVIDIA/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/CrashRecoveryContext.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

int main(int argc, char **argv) {
  // LLVM's signal handlers first (MlirOptMain's own InitLLVM then finds them
  // registered), so that the crash recovery below, installed after them,
  // sees a crash first and no stack is dumped.
  llvm::InitLLVM init(argc, argv);
  // Every upstream dialect and its interface models (bufferization, LLVM
  // conversion), so that lpattn IR composes with any upstream pipeline: the
  // CPU lowering in particular runs through lpattn-opt as in lpattn-run.
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<lpattn::LPAttnDialect>();
  mlir::registerAllPasses();
  lpattn::registerLPAttnPasses();
  lpattn::registerLPAttnNVIDIAPasses();
  lpattn::registerLPAttnPipelines();
  auto optMain = [&] {
    return mlir::asMainReturnCode(mlir::MlirOptMain(
        argc, argv,
        "lpattn optimizer driver: numerically robust low-precision "
        "attention\n",
        registry));
  };
  if (std::getenv("LPATTN_NO_CRASH_RECOVERY"))
    return optMain();

  // Crashes on this thread (parsing, verification, single-threaded passes)
  // become an error; the state after one is not trusted, so exit without
  // running destructors.
  int rc = 1;
  llvm::CrashRecoveryContext::Enable();
  llvm::CrashRecoveryContext crashContext;
  if (crashContext.RunSafely([&] { rc = optMain(); }))
    return rc;
  llvm::errs().flush();
  llvm::outs().flush();
  llvm::errs() << "lpattn-opt: error: crashed while processing the input "
                  "(a bug; upstream MLIR 22.1.8 crashes on corrupted bytecode "
                  "and on array<index: ...>, see the README's known issues; "
                  "LPATTN_NO_CRASH_RECOVERY=1 shows the stack)\n";
  llvm::errs().flush();
  llvm::sys::Process::Exit(3, /*NoCleanup=*/true);
}
