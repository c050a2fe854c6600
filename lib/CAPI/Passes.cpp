//===- Passes.cpp - C API of lpattn's passes and pipelines ----------------===//
//
// Pass and pipeline registration, and mlirLPAttnModuleRunPipeline, which
// runs a textual pipeline with the diagnostics kept as the last error.
//
//===----------------------------------------------------------------------===//

#include "lpattn-c/Passes.h"

#include "LastError.h"

#include "lpattn/Dialect/LPAttn/Transforms/Passes.h"
#include "lpattn/Pipelines/Pipelines.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Support.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include "llvm/Support/raw_ostream.h"

#include <mutex>

using namespace mlir;

// Once per process: MLIR's registry aborts when a pipeline name is
// registered twice, and a C caller cannot know whether another library did.
void mlirLPAttnRegisterPasses(void) {
  static std::once_flag once;
  std::call_once(once, [] { lpattn::registerLPAttnPasses(); });
}

void mlirLPAttnRegisterPipelines(void) {
  static std::once_flag once;
  std::call_once(once, [] { lpattn::registerLPAttnPipelines(); });
}

MlirLogicalResult mlirLPAttnModuleRunPipeline(MlirModule module,
                                              MlirStringRef pipeline) {
  lpattn::capi::clearLastError();
  ModuleOp moduleOp = unwrap(module);
  MLIRContext *context = moduleOp->getContext();

  // Diagnostics of the passes become the error text, in order, rather than
  // being printed.
  std::string diagnostics;
  ScopedDiagnosticHandler handler(context, [&](Diagnostic &diag) {
    llvm::raw_string_ostream os(diagnostics);
    os << diag.getLocation() << ": ";
    switch (diag.getSeverity()) {
    case DiagnosticSeverity::Error:
      os << "error: ";
      break;
    case DiagnosticSeverity::Warning:
      os << "warning: ";
      break;
    case DiagnosticSeverity::Note:
      os << "note: ";
      break;
    case DiagnosticSeverity::Remark:
      os << "remark: ";
      break;
    }
    os << diag << "\n";
    return success();
  });

  StringRef text = unwrap(pipeline);
  PassManager pm(context, ModuleOp::getOperationName());
  std::string parseErrors;
  llvm::raw_string_ostream parseOs(parseErrors);
  // An anchored pipeline names its op ("builtin.module(...)"); a bare list
  // of passes is added to the module's pass manager.
  bool ok = true;
  if (text.trim().starts_with(ModuleOp::getOperationName())) {
    FailureOr<OpPassManager> parsed = parsePassPipeline(text, parseOs);
    ok = succeeded(parsed);
    if (ok)
      static_cast<OpPassManager &>(pm) = std::move(*parsed);
  } else {
    ok = succeeded(parsePassPipeline(text, pm, parseOs));
  }
  if (!ok) {
    lpattn::capi::setLastError("invalid pass pipeline '" + text.str() +
                               "': " + parseErrors);
    return wrap(failure());
  }
  if (failed(pm.run(moduleOp))) {
    lpattn::capi::setLastError(diagnostics.empty()
                                   ? "pass pipeline '" + text.str() +
                                         "' failed"
                                   : diagnostics);
    return wrap(failure());
  }
  return wrap(success());
}
