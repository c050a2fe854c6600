//===- Compiler.cpp - an lpattn.attention to an sm_90a artifact ----------===//

#include "lpattn/Target/NVIDIA/Compiler.h"

#include "lpattn/Dialect/LPAttn/IR/LPAttnDialect.h"
#include "lpattn/Numerics/Rules.h"
#include "lpattn/Pipelines/Pipelines.h"
#include "lpattn/Target/NVIDIA/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/InitAllDialects.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

using namespace mlir;
using namespace lpattn;

namespace {
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

std::string findPtxas(const std::string &requested) {
  if (!requested.empty())
    return requested;
  if (auto onPath = llvm::sys::findProgramByName("ptxas"))
    return *onPath;
  if (llvm::sys::fs::can_execute("/usr/local/cuda/bin/ptxas"))
    return "/usr/local/cuda/bin/ptxas";
  return "";
}

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

bool writeFile(const std::string &path, llvm::StringRef text) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return false;
  os << text;
  return !os.has_error();
}

double seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       since)
      .count();
}

} // namespace

void lpattn::registerSM90CompilerDependencies(DialectRegistry &registry) {
  registerAllDialects(registry);
  registry.insert<LPAttnDialect>();
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
}

llvm::Error lpattn::compileSM90(ModuleOp module, llvm::StringRef prefix,
                                const SM90CompileOptions &options,
                                SM90CompileTimes *times) {
  MLIRContext *context = module.getContext();
  SM90CompileTimes local;
  SM90CompileTimes &t = times ? *times : local;
  auto start = std::chrono::steady_clock::now();

  SmallVector<AttentionOp> ops;
  module.walk([&](AttentionOp op) { ops.push_back(op); });
  if (ops.size() != 1)
    return error("expected one lpattn.attention in the module (one kernel "
                 "per artifact), found " +
                 llvm::Twine(ops.size()));
  if (!ops[0].getTileSizesAttr() && (options.tileQ || options.tileKV))
    ops[0].setTileSizesAttr(DenseI64ArrayAttr::get(
        context, {options.tileQ ? options.tileQ : kDefaultTileQ,
                  options.tileKV ? options.tileKV : kDefaultTileKV}));
  llvm::json::Object descriptor;
  describeNumerics(ops[0], descriptor);

  PassManager pm(context);
  LPAttnSM90PipelineOptions pipeline;
  pipeline.stages = options.stages;
  pipeline.chip = options.chip;
  pipeline.features = "+ptx80";
  pipeline.dumpP = options.dumpP;
  buildLPAttnSM90Pipeline(pm, pipeline);
  if (failed(pm.run(module)))
    return error("lpattn-sm90-pipeline failed");
  if (options.printIR)
    module.print(*options.printIR);
  auto launch = module->getAttrOfType<DictionaryAttr>(kLaunchAttrName);
  if (!launch)
    return error("the pipeline produced no kernel");
  t.lower = seconds(start);

  start = std::chrono::steady_clock::now();
  PassManager serialize(context);
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = "isa";
  serialize.addPass(createGpuModuleToBinaryPass(binary));
  if (failed(serialize.run(module)))
    return error("gpu-module-to-binary failed");
  std::string ptx;
  module.walk([&](gpu::BinaryOp op) {
    ptx = cast<gpu::ObjectAttr>(op.getObjects()[0]).getObject().str();
  });
  if (ptx.empty())
    return error("gpu-module-to-binary produced no PTX");
  t.ptx = seconds(start);

  llvm::StringRef name = llvm::sys::path::filename(prefix);
  llvm::StringRef dir = llvm::sys::path::parent_path(prefix);
  if (!dir.empty())
    if (std::error_code ec = llvm::sys::fs::create_directories(dir))
      return error("cannot create " + dir + ": " + ec.message());
  std::string ptxPath = (prefix + ".ptx").str(),
              cubinPath = (prefix + ".cubin").str(),
              logPath = (prefix + ".ptxas.log").str(),
              jsonPath = (prefix + ".json").str();
  if (!writeFile(ptxPath, ptx))
    return error("cannot write " + ptxPath);

  start = std::chrono::steady_clock::now();
  if (options.ptxas != "none") {
    std::string ptxas = findPtxas(options.ptxas);
    if (ptxas.empty())
      return error("ptxas not found (on PATH or /usr/local/cuda/bin); give "
                   "--ptxas=PATH, or --ptxas=none for the PTX only");
    std::optional<llvm::StringRef> redirects[] = {std::nullopt,
                                                  llvm::StringRef(logPath),
                                                  llvm::StringRef(logPath)};
    std::string errorMessage;
    int rc = llvm::sys::ExecuteAndWait(
        ptxas,
        {ptxas, "-arch=" + options.chip, "-v", ptxPath, "-o", cubinPath},
        std::nullopt, redirects, /*SecondsToWait=*/120, 0, &errorMessage);
    if (rc != 0)
      return error("ptxas failed (exit " + llvm::Twine(rc) + "; see " +
                   logPath + ")" +
                   (errorMessage.empty() ? "" : ": " + errorMessage));
  }
  t.ptxas = seconds(start);

  descriptor["format"] = "lpattn-launch-descriptor";
  descriptor["version"] = 1;
  descriptor["cubin"] = (name + ".cubin").str();
  descriptor["ptx"] = (name + ".ptx").str();
  descriptor["arch"] = options.chip;
  descriptor["cluster"] = llvm::json::Array{1, 1, 1};
  for (NamedAttribute entry : launch)
    descriptor[entry.getName().str()] = toJSON(entry.getValue());
  std::string json;
  llvm::raw_string_ostream os(json);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(descriptor)))
     << "\n";
  if (!writeFile(jsonPath, json))
    return error("cannot write " + jsonPath);
  return llvm::Error::success();
}
