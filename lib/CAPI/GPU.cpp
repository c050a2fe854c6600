//===- GPU.cpp - C API of the lpattn GPU path (sm_90a) --------------------===//
//
// LPAttnGPUArtifact holds what lpattn::compileSM90 writes (compiled into a
// temporary directory and read back, so that the artifact is exactly
// lpattn-compile's) and the runtime's loaded module per device.
//
//===----------------------------------------------------------------------===//

#include "lpattn-c/GPU.h"

#include "LastError.h"

#include "lpattn-rt/Runtime.h"
#include "lpattn/Dialect/LPAttn/IR/LPAttnDialect.h"
#include "lpattn/Numerics/Rules.h"
#include "lpattn/Target/NVIDIA/Compiler.h"

#include "mlir/CAPI/Support.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <array>
#include <map>
#include <mutex>

using namespace lpattn;

namespace {

/// The artifact's files, the shapes of its tensors, and where it is loaded.
struct GPUArtifact {
  std::string cubin, ptx, ptxasLog, descriptor;
  std::array<std::vector<int64_t>, 5> shapes; ///< by LPAttnTensor
  bool hasMask = false, hasDescales = false, perHeadDescales = false;
  std::mutex mutex;
  std::map<int, lpattnRtArtifact> loaded; ///< device ordinal -> module
};

/// The name lpattnGPUArtifactGetDescriptor's text gives the cubin and PTX.
constexpr llvm::StringLiteral kArtifactName = "attn";

GPUArtifact *unwrap(LPAttnGPUArtifact artifact) {
  return static_cast<GPUArtifact *>(artifact.ptr);
}

MlirStringRef toRef(const std::string &s) {
  return mlirStringRefCreate(s.data(), s.size());
}

std::vector<int64_t> shapeOf(mlir::Type type) {
  llvm::ArrayRef<int64_t> shape =
      llvm::cast<mlir::ShapedType>(type).getShape();
  return {shape.begin(), shape.end()};
}

/// The contents of `path`, or an error naming it.
llvm::Expected<std::string> readFile(const llvm::Twine &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return llvm::createStringError("cannot read " + path.str() + ": " +
                                   buffer.getError().message());
  return (*buffer)->getBuffer().str();
}

bool writeFile(const std::string &path, llvm::StringRef bytes) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return false;
  os << bytes;
  os.close();
  return !os.has_error();
}

/// Parses and compiles `text` into `result` through a temporary directory.
llvm::Error compile(llvm::StringRef text, const SM90CompileOptions &options,
                    GPUArtifact &result) {
  mlir::DialectRegistry registry;
  registerSM90CompilerDependencies(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  context.printOpOnDiagnostic(false);
  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    if (!diagnostics.empty())
      os << "\n";
    os << d.getLocation() << ": error: " << d.str();
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(text, &context);
  if (!module)
    return llvm::createStringError("cannot parse the attention:\n" +
                                   diagnostics);
  // The shapes, before the pipeline replaces the op (compileSM90 checks
  // that there is exactly one).
  module->walk([&](AttentionOp op) {
    result.shapes[LPAttnTensorQuery] = shapeOf(op.getQuery().getType());
    result.shapes[LPAttnTensorKey] = shapeOf(op.getKey().getType());
    result.shapes[LPAttnTensorValue] = shapeOf(op.getValue().getType());
    result.shapes[LPAttnTensorOutput] = shapeOf(op.getResult().getType());
    result.hasMask = bool(op.getMask());
    if (result.hasMask)
      result.shapes[LPAttnTensorMask] = shapeOf(op.getMask().getType());
    result.hasDescales = !op.getDescales().empty();
    result.perHeadDescales = op.hasPerHeadDescales();
  });

  llvm::SmallString<128> dir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("lpattn-gpu-artifact", dir))
    return llvm::createStringError(
        "cannot create a temporary directory: " + ec.message());
  llvm::SmallString<128> prefix(dir);
  llvm::sys::path::append(prefix, kArtifactName);
  auto file = [&](llvm::StringRef ext) { return (prefix + ext).str(); };
  llvm::Error error = compileSM90(*module, prefix, options);
  if (error) {
    std::string message = llvm::toString(std::move(error));
    if (!diagnostics.empty())
      message = diagnostics + "\n" + message;
    // ptxas's report would be removed with the directory: keep its text.
    if (auto log = readFile(file(".ptxas.log")); log && !log->empty())
      message += ":\n" + llvm::StringRef(*log).rtrim().str();
    else if (!log)
      llvm::consumeError(log.takeError());
    (void)llvm::sys::fs::remove_directories(dir);
    return llvm::createStringError(message);
  }
  struct Part {
    const char *ext;
    std::string *into;
  } parts[] = {{".cubin", &result.cubin},
               {".ptx", &result.ptx},
               {".ptxas.log", &result.ptxasLog},
               {".json", &result.descriptor}};
  for (const Part &part : parts) {
    auto bytes = readFile(file(part.ext));
    if (!bytes) {
      (void)llvm::sys::fs::remove_directories(dir);
      return bytes.takeError();
    }
    *part.into = std::move(*bytes);
  }
  (void)llvm::sys::fs::remove_directories(dir);
  return llvm::Error::success();
}

} // namespace

LPAttnGPUCompileOptions lpattnGPUCompileOptionsGetDefault(void) {
  SM90CompileOptions defaults;
  return {kDefaultTileQ, kDefaultTileKV, defaults.stages, nullptr, nullptr};
}

LPAttnGPUArtifact lpattnGPUArtifactCompile(
    MlirStringRef mlirText, const LPAttnGPUCompileOptions *options) {
  capi::clearLastError();
  SM90CompileOptions cppOptions;
  if (options) {
    if (options->tileQ < 0 || options->tileKV < 0 || options->stages < 2 ||
        options->stages > 4) {
      capi::setLastError("invalid GPU compile options: tile sizes must be "
                         ">= 0 (0: the default) and stages 2 to 4, got "
                         "tileQ = " +
                         std::to_string(options->tileQ) + ", tileKV = " +
                         std::to_string(options->tileKV) + ", stages = " +
                         std::to_string(options->stages));
      return {nullptr};
    }
    cppOptions.tileQ = options->tileQ;
    cppOptions.tileKV = options->tileKV;
    cppOptions.stages = options->stages;
    if (options->chip)
      cppOptions.chip = options->chip;
    if (options->ptxas)
      cppOptions.ptxas = options->ptxas;
  }
  if (cppOptions.ptxas == "none") {
    capi::setLastError("invalid GPU compile options: ptxas = \"none\" gives "
                       "no cubin, and an artifact needs one");
    return {nullptr};
  }
  auto artifact = std::make_unique<GPUArtifact>();
  if (llvm::Error err = compile(unwrap(mlirText), cppOptions, *artifact)) {
    capi::setLastError(std::move(err));
    return {nullptr};
  }
  return {artifact.release()};
}

static const std::string &part(LPAttnGPUArtifact artifact,
                               std::string GPUArtifact::*member) {
  static const std::string empty;
  return lpattnGPUArtifactIsNull(artifact) ? empty : unwrap(artifact)->*member;
}

MlirStringRef lpattnGPUArtifactGetCubin(LPAttnGPUArtifact artifact) {
  return toRef(part(artifact, &GPUArtifact::cubin));
}
MlirStringRef lpattnGPUArtifactGetPTX(LPAttnGPUArtifact artifact) {
  return toRef(part(artifact, &GPUArtifact::ptx));
}
MlirStringRef lpattnGPUArtifactGetPtxasLog(LPAttnGPUArtifact artifact) {
  return toRef(part(artifact, &GPUArtifact::ptxasLog));
}
MlirStringRef lpattnGPUArtifactGetDescriptor(LPAttnGPUArtifact artifact) {
  return toRef(part(artifact, &GPUArtifact::descriptor));
}

static const std::vector<int64_t> *getShape(LPAttnGPUArtifact artifact,
                                            LPAttnTensor tensor) {
  if (lpattnGPUArtifactIsNull(artifact) || tensor < LPAttnTensorQuery ||
      tensor > LPAttnTensorOutput)
    return nullptr;
  if (tensor == LPAttnTensorMask && !unwrap(artifact)->hasMask)
    return nullptr;
  return &unwrap(artifact)->shapes[tensor];
}

intptr_t lpattnGPUArtifactGetRank(LPAttnGPUArtifact artifact,
                                  LPAttnTensor tensor) {
  const std::vector<int64_t> *shape = getShape(artifact, tensor);
  return shape ? static_cast<intptr_t>(shape->size()) : -1;
}

int64_t lpattnGPUArtifactGetDim(LPAttnGPUArtifact artifact,
                                LPAttnTensor tensor, intptr_t pos) {
  const std::vector<int64_t> *shape = getShape(artifact, tensor);
  if (!shape || pos < 0 || static_cast<size_t>(pos) >= shape->size())
    return -1;
  return (*shape)[pos];
}

bool lpattnGPUArtifactHasMask(LPAttnGPUArtifact artifact) {
  return !lpattnGPUArtifactIsNull(artifact) && unwrap(artifact)->hasMask;
}
bool lpattnGPUArtifactHasDescales(LPAttnGPUArtifact artifact) {
  return !lpattnGPUArtifactIsNull(artifact) && unwrap(artifact)->hasDescales;
}
bool lpattnGPUArtifactHasPerHeadDescales(LPAttnGPUArtifact artifact) {
  return !lpattnGPUArtifactIsNull(artifact) &&
         unwrap(artifact)->perHeadDescales;
}

MlirLogicalResult lpattnGPUArtifactSave(LPAttnGPUArtifact artifact,
                                        MlirStringRef prefixRef) {
  capi::clearLastError();
  if (lpattnGPUArtifactIsNull(artifact)) {
    capi::setLastError("lpattnGPUArtifactSave: null artifact handle");
    return mlirLogicalResultFailure();
  }
  const GPUArtifact &a = *unwrap(artifact);
  llvm::StringRef prefix = unwrap(prefixRef);
  llvm::StringRef name = llvm::sys::path::filename(prefix);
  if (name.empty() || name == "." || name == "..") {
    capi::setLastError("lpattnGPUArtifactSave: the prefix '" + prefix.str() +
                       "' names no file (expected DIR/NAME)");
    return mlirLogicalResultFailure();
  }
  // The descriptor names the cubin and PTX by the files' name.
  llvm::Expected<llvm::json::Value> json = llvm::json::parse(a.descriptor);
  if (!json || !json->getAsObject()) {
    capi::setLastError(json ? llvm::createStringError("not an object")
                            : json.takeError());
    return mlirLogicalResultFailure();
  }
  llvm::json::Object &descriptor = *json->getAsObject();
  descriptor["cubin"] = (name + ".cubin").str();
  descriptor["ptx"] = (name + ".ptx").str();
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(descriptor)))
     << "\n";
  llvm::StringRef dir = llvm::sys::path::parent_path(prefix);
  if (!dir.empty())
    if (std::error_code ec = llvm::sys::fs::create_directories(dir)) {
      capi::setLastError("cannot create " + dir.str() + ": " + ec.message());
      return mlirLogicalResultFailure();
    }
  const std::pair<const char *, const std::string *> files[] = {
      {".cubin", &a.cubin},
      {".ptx", &a.ptx},
      {".ptxas.log", &a.ptxasLog},
      {".json", &text}};
  for (const auto &[ext, bytes] : files) {
    std::string path = (prefix + ext).str();
    if (!writeFile(path, *bytes)) {
      capi::setLastError("cannot write " + path);
      return mlirLogicalResultFailure();
    }
  }
  return mlirLogicalResultSuccess();
}

/// Keeps the runtime's message as the C API's last error.
static MlirLogicalResult runtimeFailure() {
  capi::setLastError(lpattnRtGetLastError());
  return mlirLogicalResultFailure();
}

MlirLogicalResult lpattnGPUArtifactRun(LPAttnGPUArtifact artifact, int device,
                                       void *stream,
                                       const LPAttnGPURunArgs *args,
                                       const float *descaleValues) {
  capi::clearLastError();
  if (lpattnGPUArtifactIsNull(artifact) || !args) {
    capi::setLastError("lpattnGPUArtifactRun: null artifact handle or args");
    return mlirLogicalResultFailure();
  }
  if (device < 0) {
    capi::setLastError("lpattnGPUArtifactRun: device " +
                       std::to_string(device) + " is not a device ordinal");
    return mlirLogicalResultFailure();
  }
  GPUArtifact &a = *unwrap(artifact);
  std::lock_guard<std::mutex> lock(a.mutex);
  if (lpattnRtInit() != LPATTN_RT_SUCCESS ||
      lpattnRtSetDevice(device) != LPATTN_RT_SUCCESS)
    return runtimeFailure();
  lpattnRtArtifact &loaded = a.loaded[device];
  if (!loaded &&
      lpattnRtLoadArtifactData(a.descriptor.data(), a.descriptor.size(),
                               a.cubin.data(), a.cubin.size(),
                               &loaded) != LPATTN_RT_SUCCESS) {
    a.loaded.erase(device);
    return runtimeFailure();
  }
  lpattnRtAttentionArgs rtArgs{};
  rtArgs.q = args->query;
  rtArgs.k = args->key;
  rtArgs.v = args->value;
  rtArgs.mask = args->mask;
  rtArgs.descales = descaleValues;
  for (int i = 0; i < 3; ++i)
    rtArgs.descalePtrs[i] = args->descales[i];
  rtArgs.o = args->output;
  if (lpattnRtLaunchAttention(loaded, &rtArgs,
                              static_cast<lpattnRtStream>(stream)) !=
      LPATTN_RT_SUCCESS)
    return runtimeFailure();
  return mlirLogicalResultSuccess();
}

void lpattnGPUArtifactDestroy(LPAttnGPUArtifact artifact) {
  if (lpattnGPUArtifactIsNull(artifact))
    return;
  std::unique_ptr<GPUArtifact> owned(unwrap(artifact));
  for (auto &[device, loaded] : owned->loaded)
    (void)lpattnRtUnloadArtifact(loaded);
}
