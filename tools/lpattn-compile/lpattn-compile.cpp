//===- lpattn-compile.cpp - an attention .mlir to a GPU artifact ----------===//
//
// Turns a module with one lpattn.attention into the files the runtime loads
// (docs/launch-descriptor.md): NAME.ptx, NAME.cubin (ptxas; its -v report in
// NAME.ptxas.log) and NAME.json, the launch descriptor (lpattn::compileSM90).
//
//===----------------------------------------------------------------------===//

#include "lpattn/Target/NVIDIA/Compiler.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

using namespace mlir;
namespace cl = llvm::cl;

namespace {

cl::OptionCategory category("lpattn-compile options");
cl::opt<std::string> inputFile(cl::Positional, cl::desc("<attention.mlir>"),
                               cl::init("-"), cl::cat(category));
cl::opt<std::string> outputPrefix(
    "o", cl::desc("output prefix DIR/NAME: writes NAME.ptx, NAME.cubin, "
                  "NAME.ptxas.log and NAME.json (default: the input's name)"),
    cl::value_desc("prefix"), cl::cat(category));
cl::opt<int64_t> stages("stages",
                        cl::desc("shared-memory stages of the K/V ring (2-4)"),
                        cl::init(2), cl::cat(category));
cl::opt<std::string> chip("chip", cl::desc("target GPU (sm_90a: H100/H200)"),
                          cl::init("sm_90a"), cl::cat(category));
cl::opt<std::string> ptxasPath(
    "ptxas",
    cl::desc("ptxas to assemble the PTX with (default: ptxas on PATH, then "
             "/usr/local/cuda/bin/ptxas); 'none' writes the PTX only"),
    cl::init(""), cl::cat(category));
cl::opt<bool> printIR("print-ir",
                      cl::desc("print the kernel module (LLVM/NVVM dialects) "
                               "before serialization"),
                      cl::init(false), cl::cat(category));
cl::opt<bool> dumpP(
    "dump-p",
    cl::desc("debug: the kernel also writes one tile's P * S (f32) and P "
             "codes to two extra parameters, p_scaled and p_codes [64, Bc] "
             "(block (0, 0, 0), first consumer warpgroup, the tile at key 0)"),
    cl::init(false), cl::cat(category));
cl::opt<bool> printTiming("time", cl::desc("print the time each stage took"),
                          cl::init(false), cl::cat(category));

int fail(const llvm::Twine &message) {
  llvm::errs() << "lpattn-compile: " << message << "\n";
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "lpattn-compile: compile an lpattn.attention for the GPU (sm_90a "
      "wgmma/TMA kernel).\n\n"
      "Writes PREFIX.ptx, PREFIX.cubin (ptxas -arch=<chip>), PREFIX.ptxas.log "
      "(registers, spills, shared memory) and PREFIX.json, the launch "
      "descriptor that lpattn-gpu-run and the runtime load.\n\n"
      "  lpattn-compile attention.mlir -o out/attn\n");
  auto start = std::chrono::steady_clock::now();

  DialectRegistry registry;
  lpattn::registerSM90CompilerDependencies(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // A diagnostic names its location; the whole module after it is noise.
  context.printOpOnDiagnostic(false);
  if (stages < 2 || stages > 4)
    return fail("--stages=" + llvm::Twine(stages.getValue()) +
                ": expected 2 to 4 shared-memory stages");

  std::string error;
  auto file = openInputFile(inputFile, &error);
  if (!file)
    return fail(error);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1;
  double parsed = std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - start)
                      .count();

  std::string prefix = outputPrefix;
  if (prefix.empty()) {
    if (inputFile == "-")
      return fail("reading standard input: give an output prefix with -o");
    llvm::SmallString<256> path(llvm::sys::path::parent_path(inputFile));
    llvm::sys::path::append(path, llvm::sys::path::stem(inputFile));
    prefix = path.str().str();
  }
  lpattn::SM90CompileOptions options;
  options.stages = stages;
  options.chip = chip;
  options.ptxas = ptxasPath;
  options.dumpP = dumpP;
  if (printIR)
    options.printIR = &llvm::outs();
  lpattn::SM90CompileTimes times;
  if (llvm::Error err = lpattn::compileSM90(*module, prefix, options, &times))
    return fail(llvm::toString(std::move(err)));
  if (printTiming)
    llvm::errs() << llvm::formatv(
        "lpattn-compile: parse {0:F3} s, lower {1:F3} s, PTX {2:F3} s, "
        "ptxas {3:F3} s, total {4:F3} s\n",
        parsed, times.lower, times.ptx, times.ptxas,
        parsed + times.lower + times.ptx + times.ptxas);
  return 0;
}
