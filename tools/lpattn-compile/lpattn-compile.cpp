//===- lpattn-compile.cpp - an attention .mlir to a GPU artifact ----------===//
//
// Turns a module with one lpattn.attention into the three files the runtime
// loads (docs/launch-descriptor.md): NAME.ptx (the NVPTX backend's output,
// through lpattn-sm90-pipeline and gpu-module-to-binary), NAME.cubin
// (ptxas; its -v report in NAME.ptxas.log) and NAME.json, the launch
// descriptor: the kernel half from the pipeline's `lpattn.launch`, the
// numerics half from the op's attributes.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Dialect/LPAttn/IR/LPAttnDialect.h"
#include "lpattn/Numerics/Rules.h"
#include "lpattn/Pipelines/Pipelines.h"
#include "lpattn/Target/NVIDIA/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/InitAllDialects.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/Timer.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

using namespace mlir;
using namespace lpattn;
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
cl::opt<bool> printTiming("time",
                          cl::desc("print the time each stage took"),
                          cl::init(false), cl::cat(category));

int fail(const llvm::Twine &message) {
  llvm::errs() << "lpattn-compile: " << message << "\n";
  return 1;
}

llvm::json::Value toJSON(Attribute attr) {
  if (auto s = dyn_cast<StringAttr>(attr))
    return s.getValue().str();
  if (auto b = dyn_cast<BoolAttr>(attr))
    return b.getValue();
  if (auto i = dyn_cast<IntegerAttr>(attr))
    return i.getInt();
  if (auto f = dyn_cast<FloatAttr>(attr))
    return f.getValueAsDouble();
  if (auto a = dyn_cast<ArrayAttr>(attr)) {
    llvm::json::Array array;
    for (Attribute e : a)
      array.push_back(toJSON(e));
    return array;
  }
  if (auto d = dyn_cast<DictionaryAttr>(attr)) {
    llvm::json::Object object;
    for (NamedAttribute n : d)
      object[n.getName().str()] = toJSON(n.getValue());
    return object;
  }
  return nullptr;
}

std::string formatName(Type type) {
  return std::string(stringifyFloatFormat(*getFloatFormat(type)));
}

/// The numerics half of the descriptor: the op's attributes.
void describeNumerics(AttentionOp op, llvm::json::Object &d) {
  PrecisionPolicyAttr policy = op.getPolicy();
  d["policy"] = llvm::json::Object{
      {"qk", formatName(policy.getQk())},
      {"score", formatName(policy.getScore())},
      {"p", formatName(policy.getP())},
      {"v", formatName(policy.getV())},
      {"acc", formatName(policy.getAcc())},
      {"out", formatName(policy.getOut())},
      {"overflow", std::string(stringifyOverflowMode(policy.getOverflow()))}};
  SoftmaxAttr softmax = op.getSoftmax();
  SoftmaxVariant variant = softmax.getVariant();
  double beta = softmax.getBetaValue().value_or(
      getDefaultSoftmaxBeta(variant).value_or(0.0));
  double tol = softmax.getTolValue().value_or(
      getDefaultSoftmaxTol(variant).value_or(0.0));
  // beta and tol are 0 for variants that have none.
  llvm::json::Object soft{
      {"variant", std::string(stringifySoftmaxVariant(variant))},
      {"beta", beta},
      {"tol", tol}};
  d["safeguards"] = llvm::json::Object{
      {"scale", op.getSoftmaxScaleAttr().getValueAsDouble()},
      {"p_scale", op.getPScaleAttr().getValueAsDouble()},
      {"kv_order", std::string(stringifyKVOrder(op.getKvOrder()))},
      {"softmax", std::move(soft)},
      {"causal", op.getCausal()}};
}

std::string findPtxas() {
  if (!ptxasPath.empty())
    return ptxasPath;
  if (auto onPath = llvm::sys::findProgramByName("ptxas"))
    return *onPath;
  if (llvm::sys::fs::can_execute("/usr/local/cuda/bin/ptxas"))
    return "/usr/local/cuda/bin/ptxas";
  return "";
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
      "  lpattn-compile attention.mlir -o out/attn\n"
      "  lpattn-run --qk-type f8E4M3FN ... --print-mlir | lpattn-compile - -o "
      "out/attn\n");

  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  };

  DialectRegistry registry;
  registerAllDialects(registry);
  registry.insert<LPAttnDialect>();
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

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

  SmallVector<AttentionOp> ops;
  module->walk([&](AttentionOp op) { ops.push_back(op); });
  if (ops.size() != 1)
    return fail("expected one lpattn.attention in the module (one kernel per "
                "artifact), found " +
                llvm::Twine(ops.size()));
  llvm::json::Object descriptor;
  describeNumerics(ops[0], descriptor);
  double parsed = elapsed();

  PassManager pm(&context);
  LPAttnSM90PipelineOptions options;
  options.stages = stages;
  options.chip = chip;
  options.features = "+ptx80";
  buildLPAttnSM90Pipeline(pm, options);
  if (failed(pm.run(*module)))
    return 1;
  if (printIR)
    module->print(llvm::outs());
  double lowered = elapsed();

  auto launch = (*module)->getAttrOfType<DictionaryAttr>(kLaunchAttrName);
  if (!launch)
    return fail("the pipeline produced no kernel");
  PassManager serialize(&context);
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = "isa";
  serialize.addPass(createGpuModuleToBinaryPass(binary));
  if (failed(serialize.run(*module)))
    return 1;
  std::string ptx;
  module->walk([&](gpu::BinaryOp op) {
    auto object = cast<gpu::ObjectAttr>(op.getObjects()[0]);
    ptx = object.getObject().str();
  });
  if (ptx.empty())
    return fail("gpu-module-to-binary produced no PTX");
  double serialized = elapsed();

  std::string prefix = outputPrefix;
  if (prefix.empty()) {
    if (inputFile == "-")
      return fail("reading standard input: give an output prefix with -o");
    prefix = llvm::sys::path::parent_path(inputFile).str();
    llvm::SmallString<256> path(prefix);
    llvm::sys::path::append(path, llvm::sys::path::stem(inputFile));
    prefix = path.str().str();
  }
  llvm::StringRef name = llvm::sys::path::filename(prefix);
  llvm::StringRef dir = llvm::sys::path::parent_path(prefix);
  if (!dir.empty())
    if (std::error_code ec = llvm::sys::fs::create_directories(dir))
      return fail("cannot create " + dir + ": " + ec.message());

  auto writeFile = [&](const std::string &path, llvm::StringRef text) {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    if (ec)
      return false;
    os << text;
    return !os.has_error();
  };
  std::string ptxPath = prefix + ".ptx", cubinPath = prefix + ".cubin",
              logPath = prefix + ".ptxas.log", jsonPath = prefix + ".json";
  if (!writeFile(ptxPath, ptx))
    return fail("cannot write " + ptxPath);

  if (ptxasPath != "none") {
    std::string ptxas = findPtxas();
    if (ptxas.empty())
      return fail("ptxas not found (on PATH or /usr/local/cuda/bin); give "
                  "--ptxas=PATH, or --ptxas=none for the PTX only");
    std::optional<llvm::StringRef> redirects[] = {std::nullopt, logPath,
                                                  logPath};
    std::string errorMessage;
    int rc = llvm::sys::ExecuteAndWait(
        ptxas, {ptxas, "-arch=" + chip, "-v", ptxPath, "-o", cubinPath},
        std::nullopt, redirects, /*SecondsToWait=*/120, 0, &errorMessage);
    if (rc != 0)
      return fail("ptxas failed (exit " + llvm::Twine(rc) + "; see " +
                  logPath + ")" +
                  (errorMessage.empty() ? "" : ": " + errorMessage));
  }
  double assembled = elapsed();

  descriptor["format"] = "lpattn-launch-descriptor";
  descriptor["version"] = 1;
  descriptor["cubin"] = (name + ".cubin").str();
  descriptor["ptx"] = (name + ".ptx").str();
  descriptor["arch"] = chip.getValue();
  descriptor["cluster"] = llvm::json::Array{1, 1, 1};
  for (NamedAttribute entry : launch)
    descriptor[entry.getName().str()] = toJSON(entry.getValue());
  std::string json;
  llvm::raw_string_ostream os(json);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(descriptor)))
     << "\n";
  if (!writeFile(jsonPath, json))
    return fail("cannot write " + jsonPath);

  if (printTiming)
    llvm::errs() << llvm::formatv(
        "lpattn-compile: parse {0:F3} s, lower {1:F3} s, PTX {2:F3} s, "
        "ptxas {3:F3} s, total {4:F3} s\n",
        parsed, lowered - parsed, serialized - lowered,
        assembled - serialized, elapsed());
  return 0;
}
