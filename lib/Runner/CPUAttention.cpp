//===- CPUAttention.cpp - compile and run an attention on the CPU ---------===//

#include "lpattn/Runner/CPUAttention.h"

#include "lpattn/ExecutionEngine/JIT.h"
#include "lpattn/Dialect/LPAttn/IR/LPAttnDialect.h"
#include "lpattn/Pipelines/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/CrashRecoveryContext.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

using namespace mlir;
using namespace lpattn;

//===----------------------------------------------------------------------===//
// AttentionProblem
//===----------------------------------------------------------------------===//

/// A fresh context with every dialect the CPU pipeline meets.
static std::unique_ptr<MLIRContext> createContext() {
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<LPAttnDialect>();
  auto context = std::make_unique<MLIRContext>(registry);
  context->loadAllAvailableDialects();
  return context;
}

static RankedTensorType tensorOf(MLIRContext *ctx, ArrayRef<int64_t> shape,
                                 FloatFormat format) {
  return RankedTensorType::get(shape, getType(ctx, format));
}

OwningOpRef<ModuleOp> AttentionProblem::buildModule(MLIRContext &ctx) const {
  OpBuilder b(&ctx);
  Location loc = b.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());

  int64_t dv = valueDim ? valueDim : headDim;
  // The arguments in the order of the calling convention (KernelABI.h).
  SmallVector<Type> args;
  KernelSignature signature{mask, descales, false, descalesPerHead};
  for (KernelArg arg : signature.arguments()) {
    switch (arg) {
    case KernelArg::Query:
      args.push_back(tensorOf(&ctx, {batch, qHeads, qLen, headDim}, policy.qk));
      break;
    case KernelArg::Key:
      args.push_back(
          tensorOf(&ctx, {batch, kvHeads, kvLen, headDim}, policy.qk));
      break;
    case KernelArg::Value:
      args.push_back(tensorOf(&ctx, {batch, kvHeads, kvLen, dv}, policy.v));
      break;
    case KernelArg::Mask:
      args.push_back(tensorOf(&ctx, {1, 1, qLen, kvLen}, FloatFormat::F32));
      break;
    case KernelArg::QueryDescale:
    case KernelArg::KeyDescale:
    case KernelArg::ValueDescale:
      if (descalesPerHead)
        args.push_back(tensorOf(&ctx, {batch, kvHeads}, FloatFormat::F32));
      else
        args.push_back(b.getF32Type());
      break;
    case KernelArg::CollapseStats:
      break; // appended by lpattn-count-collapse
    }
  }
  Type result = tensorOf(&ctx, {batch, qHeads, qLen, dv}, policy.out);
  auto func = func::FuncOp::create(b, loc, "attention",
                                   b.getFunctionType(args, {result}));
  Block *body = func.addEntryBlock();
  b.setInsertionPointToStart(body);

  std::optional<float> scale;
  if (softmaxScale > 0)
    scale = static_cast<float>(softmaxScale);
  std::optional<double> betaOpt, tolOpt;
  if (beta > 0)
    betaOpt = beta;
  if (tol > 0)
    tolOpt = tol;
  auto attention = AttentionOp::create(
      b, loc, body->getArgument(0), body->getArgument(1),
      body->getArgument(2), PrecisionPolicyAttr::get(&ctx, policy),
      mask ? body->getArgument(3) : Value(),
      descales ? body->getArguments().take_back(3) : ValueRange(), scale,
      pScale, kvOrder,
      SoftmaxAttr::getWithDefaults(&ctx, softmax, betaOpt, tolOpt), causal,
      {tileQ, tileKV});
  func::ReturnOp::create(b, loc, attention.getResult());
  return module;
}

std::string AttentionProblem::toMLIR() const {
  std::unique_ptr<MLIRContext> context = createContext();
  OwningOpRef<ModuleOp> module = buildModule(*context);
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  return text;
}

//===----------------------------------------------------------------------===//
// Host memory
//===----------------------------------------------------------------------===//

uint64_t lpattn::getPhysicalMemoryBytes() {
  long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || pageSize <= 0)
    return 0;
  if (uint64_t(pages) > UINT64_MAX / uint64_t(pageSize))
    return UINT64_MAX;
  return uint64_t(pages) * uint64_t(pageSize);
}

/// "1.5 GiB": a byte count as the size errors print it.
static std::string formatBytes(uint64_t bytes) {
  const char *units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = double(bytes);
  unsigned unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units))
    value /= 1024, ++unit;
  if (unit == 0)
    return std::to_string(bytes) + " bytes";
  return llvm::formatv("{0:f1} {1} ({2} bytes)", value, units[unit], bytes)
      .str();
}

llvm::Expected<uint64_t> lpattn::estimateHostBytes(
    llvm::ArrayRef<int64_t> query, llvm::ArrayRef<int64_t> key,
    llvm::ArrayRef<int64_t> value, llvm::ArrayRef<int64_t> mask,
    llvm::ArrayRef<int64_t> result, const PrecisionPolicy &policy) {
  // Bytes per element: float + storage + float64 (inputs: the reference
  // reads them in double; the result: its float64 reference).
  struct Tensor {
    const char *name;
    llvm::ArrayRef<int64_t> shape;
    FloatFormat format;
  };
  Tensor tensors[] = {{"Q", query, policy.qk},
                      {"K", key, policy.qk},
                      {"V", value, policy.v},
                      {"mask", mask, FloatFormat::F32},
                      {"result", result, policy.out}};
  int64_t total = 0;
  for (const Tensor &t : tensors) {
    if (t.shape.empty() && llvm::StringRef(t.name) == "mask")
      continue;
    int64_t count = 1;
    for (int64_t dim : t.shape) {
      if (ShapedType::isDynamic(dim) || dim <= 0) {
        std::string shape = "[";
        for (int64_t d : t.shape)
          shape += (shape.size() > 1 ? ", " : "") +
                   (ShapedType::isDynamic(d) ? "?" : std::to_string(d));
        return llvm::createStringError(
            llvm::Twine(t.name) + " has shape " + shape +
            "]: lpattn-run needs static, positive sizes");
      }
      if (llvm::MulOverflow(count, dim, count))
        return llvm::createStringError(
            llvm::Twine(t.name) + " " + lab::formatShape(t.shape) +
            " has more elements than int64 can count (2^63 - 1)");
    }
    int64_t perElement = 4 + 8 + getBitWidth(t.format) / 8;
    int64_t bytes = 0;
    if (llvm::MulOverflow(count, perElement, bytes) ||
        llvm::AddOverflow(total, bytes, total))
      return llvm::createStringError(
          llvm::Twine(t.name) + " " + lab::formatShape(t.shape) +
          " needs more bytes than int64 can count (2^63 - 1)");
  }
  return uint64_t(total);
}

llvm::Error lpattn::checkHostMemory(
    llvm::ArrayRef<int64_t> query, llvm::ArrayRef<int64_t> key,
    llvm::ArrayRef<int64_t> value, llvm::ArrayRef<int64_t> mask,
    llvm::ArrayRef<int64_t> result, const PrecisionPolicy &policy,
    uint64_t limitBytes) {
  llvm::Expected<uint64_t> bytes =
      estimateHostBytes(query, key, value, mask, result, policy);
  if (!bytes)
    return bytes.takeError();
  bool physical = limitBytes == 0;
  uint64_t limit = physical ? getPhysicalMemoryBytes() : limitBytes;
  if (limit == 0 || *bytes <= limit)
    return llvm::Error::success();
  return llvm::createStringError(
      "the attention (Q " + lab::formatShape(query) + ", K " +
      lab::formatShape(key) + ", V " + lab::formatShape(value) +
      ") needs about " + formatBytes(*bytes) +
      " of host memory for its tensors, more than the limit of " +
      formatBytes(limit) +
      (physical ? " (the machine's physical memory; --max-memory sets "
                  "another)"
                : " (--max-memory)"));
}

//===----------------------------------------------------------------------===//
// CPUAttention
//===----------------------------------------------------------------------===//

CPUAttention::CPUAttention() = default;
CPUAttention::~CPUAttention() = default;

static std::vector<int64_t> shapeOf(Type type) {
  auto shaped = cast<ShapedType>(type);
  return std::vector<int64_t>(shaped.getShape().begin(),
                              shaped.getShape().end());
}

/// Collects errors and remarks into a string, so that callers decide what
/// to show. The "see current operation" notes that would repeat the whole op
/// in generic form are left out.
namespace {
struct DiagnosticCollector {
  std::string text;
  llvm::raw_string_ostream os{text};
  ScopedDiagnosticHandler handler;
  explicit DiagnosticCollector(MLIRContext *ctx)
      : handler(ctx, [this](Diagnostic &diag) {
          const char *severity =
              diag.getSeverity() == DiagnosticSeverity::Error ? "error: " : "";
          os << diag.getLocation() << ": " << severity << diag << "\n";
          return success();
        }) {}
};
} // namespace

llvm::Expected<std::unique_ptr<CPUAttention>>
CPUAttention::compile(llvm::StringRef mlirText,
                      const CPUCompileOptions &options) {
  // Declared first, so that the module and the diagnostic handler below go
  // before the context they live in.
  std::unique_ptr<CPUAttention> result(new CPUAttention());
  result->context = createContext();
  MLIRContext *ctx = result->context.get();
  DiagnosticCollector diagnostics(ctx);

  // MLIR 22.1.8's bytecode reader crashes on corrupted files (README,
  // known issues): text is all the runner needs, and its parser is robust.
  if (mlirText.starts_with("ML\xefR"))
    return llvm::createStringError(
        "MLIR bytecode input is not supported (MLIR 22.1.8's bytecode reader "
        "can crash on corrupted files); convert it to text first: lpattn-opt "
        "in.mlirbc -o in.mlir");

  // Upstream parser crashes (README, known issues) become an error rather
  // than a stack dump; nothing else runs in this context.
  OwningOpRef<ModuleOp> module;
  llvm::CrashRecoveryContext::Enable();
  llvm::CrashRecoveryContext crashContext;
  if (!crashContext.RunSafely(
          [&] { module = parseSourceString<ModuleOp>(mlirText, ctx); })) {
    llvm::CrashRecoveryContext::Disable();
    (void)module.release(); // possibly corrupt: leak rather than destroy
    (void)result->context.release();
    return llvm::createStringError(
        "MLIR's parser crashed on this input (an upstream MLIR 22.1.8 bug; "
        "see the README's known issues)");
  }
  llvm::CrashRecoveryContext::Disable();
  if (!module)
    return llvm::createStringError("invalid input:\n" + diagnostics.text);
  if (llvm::Error err = result->compileModule(*module, options))
    return std::move(err);
  return std::move(result);
}

llvm::Expected<std::unique_ptr<CPUAttention>>
CPUAttention::compile(const AttentionProblem &problem,
                      const CPUCompileOptions &options) {
  std::unique_ptr<CPUAttention> result(new CPUAttention());
  result->context = createContext();
  DiagnosticCollector diagnostics(result->context.get());
  OwningOpRef<ModuleOp> module = problem.buildModule(*result->context);
  if (failed(verify(*module)))
    return llvm::createStringError("invalid problem:\n" + diagnostics.text);
  if (llvm::Error err = result->compileModule(*module, options))
    return std::move(err);
  return std::move(result);
}

llvm::Error CPUAttention::compileModule(ModuleOp module,
                                        const CPUCompileOptions &options) {
  MLIRContext *ctx = context.get();
  DiagnosticCollector diagnostics(ctx);

  // The one attention and its function.
  SmallVector<AttentionOp> ops;
  module.walk([&](AttentionOp op) { ops.push_back(op); });
  if (ops.empty())
    return llvm::createStringError("the input holds no lpattn.attention");
  if (ops.size() != 1)
    return llvm::createStringError(
        "expected exactly one lpattn.attention, found " +
        std::to_string(ops.size()));
  AttentionOp op = ops.front();
  // Directly in a func.func: not at the top level of the module, not in a
  // gpu.func or any other region.
  auto func = dyn_cast<func::FuncOp>(op->getParentOp());
  if (!func)
    return llvm::createStringError(
        "the lpattn.attention must be directly inside a func.func; it is "
        "inside '" +
        op->getParentOp()->getName().getStringRef() + "'");
  Signature &sig = signature;
  sig.funcName = func.getSymName().str();
  // The function must pass its arguments straight to the op.
  SmallVector<Value> expected{op.getQuery(), op.getKey(), op.getValue()};
  if (op.getMask())
    expected.push_back(op.getMask());
  llvm::append_range(expected, op.getDescales());
  if (func.getNumArguments() != expected.size() ||
      !llvm::equal(func.getArguments(), expected) ||
      func.getNumResults() != 1)
    return llvm::createStringError(
        "@" + sig.funcName +
        " must take exactly the op's operands (Q, K, V, then mask and "
        "descales if present) and return its result");
  sig.query = shapeOf(op.getQuery().getType());
  sig.key = shapeOf(op.getKey().getType());
  sig.value = shapeOf(op.getValue().getType());
  sig.result = shapeOf(op.getResult().getType());
  sig.hasMask = bool(op.getMask());
  if (sig.hasMask)
    sig.mask = shapeOf(op.getMask().getType());
  sig.hasDescales = !op.getDescales().empty();
  sig.perHeadDescales = op.hasPerHeadDescales();
  if (sig.perHeadDescales) {
    sig.descale = shapeOf(op.getDescales()[0].getType());
    if (llvm::any_of(sig.descale, ShapedType::isDynamic))
      return llvm::createStringError(
          "the per-(batch, KV head) descales must have a static shape [B, "
          "Hkv] to run on the CPU");
  }
  sig.countsCollapse = options.collapseSinkKeys.has_value();
  sig.softmaxScale = op.getSoftmaxScaleAttr().getValueAsDouble();
  sig.causal = op.getCausal();
  PrecisionPolicy policy = op.getPolicy().toPolicy();
  // Before anything is compiled or allocated: counts that overflow int64
  // would wrap inside the compiled code, and a problem larger than memory
  // would end in "LLVM ERROR: out of memory".
  if (llvm::Error err =
          checkHostMemory(sig.query, sig.key, sig.value, sig.mask, sig.result,
                          policy, options.maxMemoryBytes))
    return std::move(err);
  sig.policy = policy;
  sig.pScale = op.getPScaleAttr().getValueAsDouble();
  sig.kvOrder = op.getKvOrder();
  sig.softmax = op.getSoftmax().getVariant();
  sig.beta = op.getSoftmax().getBetaValue().value_or(0.0);
  sig.tol = op.getSoftmax().getTolValue().value_or(0.0);
  sig.tileQ = options.tileQ;
  sig.tileKV = options.tileKV;
  if (auto tiles = op.getTileSizesAttr(); tiles && tiles.size() == 2) {
    sig.tileQ = tiles[0];
    sig.tileKV = tiles[1];
  }
  sig.queryFormat = sig.keyFormat = policy.qk;
  sig.valueFormat = policy.v;
  sig.resultFormat = policy.out;
  func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                UnitAttr::get(ctx));

  PassManager pm(ctx, ModuleOp::getOperationName());
  LPAttnPipelineOptions pipeline;
  pipeline.tileQ = options.tileQ;
  pipeline.tileKV = options.tileKV;
  pipeline.countCollapse = options.collapseSinkKeys.value_or(-1);
  buildLPAttnCPUPipeline(pm, pipeline);
  if (failed(pm.run(module)))
    return llvm::createStringError("compiling the attention failed:\n" +
                                   diagnostics.text);
  auto jit = compileToJIT(module, options.optLevel);
  if (!jit)
    return jit.takeError();
  engine = std::move(*jit);
  return llvm::Error::success();
}

namespace {

/// A host buffer in the storage format of an operand, with its memref
/// descriptor.
struct HostBuffer {
  std::vector<uint8_t> bytes;
  StridedMemRefType<char, 4> desc4;
  StridedMemRefType<char, 2> desc2;

  /// An identity-layout 2-D descriptor of `bytes` (per-head descales).
  void setup2(llvm::ArrayRef<int64_t> shape) {
    desc2.basePtr = desc2.data = reinterpret_cast<char *>(bytes.data());
    desc2.offset = 0;
    desc2.sizes[0] = shape[0];
    desc2.sizes[1] = shape[1];
    desc2.strides[0] = shape[1];
    desc2.strides[1] = 1;
  }

  /// An identity-layout 4-D descriptor of `bytes`.
  void setup4(llvm::ArrayRef<int64_t> shape) {
    desc4.basePtr = desc4.data = reinterpret_cast<char *>(bytes.data());
    desc4.offset = 0;
    int64_t stride = 1;
    for (int i = 3; i >= 0; --i) {
      desc4.sizes[i] = shape[i];
      desc4.strides[i] = stride;
      stride *= shape[i];
    }
  }
};

/// Rounds `values` to `format` (RNE, satfinite) into its storage bytes.
std::vector<uint8_t> encodeAll(llvm::ArrayRef<float> values,
                               FloatFormat format) {
  unsigned width = getBitWidth(format) / 8;
  std::vector<uint8_t> bytes(values.size() * width);
  for (size_t i = 0; i < values.size(); ++i) {
    uint32_t bits = encodeRNE(values[i], format, OverflowMode::SatFinite);
    std::memcpy(bytes.data() + i * width, &bits, width); // little endian
  }
  return bytes;
}

} // namespace

llvm::Expected<CPURunResult>
CPUAttention::run(const lab::HostTensor &q, const lab::HostTensor &k,
                  const lab::HostTensor &v, const lab::HostTensor *mask,
                  const RunDescales &descales) {
  const Signature &sig = signature;
  auto check = [](const char *name, const lab::HostTensor &t,
                  const std::vector<int64_t> &shape) -> llvm::Error {
    if (t.shape == shape && t.numElements() == int64_t(t.data.size()))
      return llvm::Error::success();
    return llvm::createStringError(
        std::string(name) + " has shape " + lab::formatShape(t.shape) +
        " but the compiled attention expects " + lab::formatShape(shape));
  };
  if (auto err = check("Q", q, sig.query))
    return std::move(err);
  if (auto err = check("K", k, sig.key))
    return std::move(err);
  if (auto err = check("V", v, sig.value))
    return std::move(err);
  if (sig.hasMask) {
    if (!mask)
      return llvm::createStringError("the attention has a mask operand; "
                                     "no mask was given");
    if (auto err = check("mask", *mask, sig.mask))
      return std::move(err);
  }

  // Per-head descale values: [B, Hkv] each, for an op that takes them.
  if (descales.perHead && !sig.perHeadDescales)
    return llvm::createStringError(
        std::string("per-(batch, KV head) descales were given, but the "
                    "compiled attention takes ") +
        (sig.hasDescales ? "f32 scalar descales" : "no descales"));
  if (descales.perHead) {
    const char *names[] = {"q_ds", "k_ds", "v_ds"};
    for (int i = 0; i < 3; ++i)
      if (auto err = check(names[i], (*descales.perHead)[i], sig.descale))
        return std::move(err);
  }

  HostBuffer qb, kb, vb, mb;
  std::array<HostBuffer, 3> dsb;
  if (sig.perHeadDescales) {
    // f32 [B, Hkv] each, row-major; per-tensor values fill every entry.
    int64_t n = lab::HostTensor::countElements(sig.descale);
    for (unsigned i = 0; i < 3; ++i) {
      dsb[i].bytes.resize(n * sizeof(float));
      for (int64_t j = 0; j < n; ++j) {
        float x = descales.at(i, j / sig.descale[1], j % sig.descale[1]);
        std::memcpy(dsb[i].bytes.data() + j * sizeof(float), &x,
                    sizeof(float));
      }
      dsb[i].setup2(sig.descale);
    }
  }
  float scalarDescales[3] = {descales.perTensor[0], descales.perTensor[1],
                             descales.perTensor[2]};
  qb.bytes = encodeAll(q.data, sig.queryFormat);
  kb.bytes = encodeAll(k.data, sig.keyFormat);
  vb.bytes = encodeAll(v.data, sig.valueFormat);
  qb.setup4(sig.query);
  kb.setup4(sig.key);
  vb.setup4(sig.value);
  if (sig.hasMask) {
    mb.bytes = encodeAll(mask->data, FloatFormat::F32);
    mb.setup4(sig.mask);
  }
  int64_t stats[2] = {0, 0};
  StridedMemRefType<int64_t, 1> statsDesc{stats, stats, 0, {2}, {1}};
  StridedMemRefType<char, 4> out{};

  // _mlir_ciface_<f>(out*, then the KernelABI.h arguments), called through
  // its packed wrapper: one pointer per argument.
  auto *outPtr = &out;
  auto *qPtr = &qb.desc4, *kPtr = &kb.desc4, *vPtr = &vb.desc4,
       *mPtr = &mb.desc4;
  auto *statsPtr = &statsDesc;
  // Per-head descales are memrefs (a descriptor pointer each, as the 4-D
  // tensors); scalar ones are passed by value.
  std::array<StridedMemRefType<char, 2> *, 3> dsPtrs = {
      &dsb[0].desc2, &dsb[1].desc2, &dsb[2].desc2};
  auto descaleArg = [&](unsigned i) -> void * {
    return sig.perHeadDescales ? static_cast<void *>(&dsPtrs[i])
                               : static_cast<void *>(&scalarDescales[i]);
  };
  SmallVector<void *> args{&outPtr};
  for (KernelArg arg : sig.kernel().arguments()) {
    switch (arg) {
    case KernelArg::Query:
      args.push_back(&qPtr);
      break;
    case KernelArg::Key:
      args.push_back(&kPtr);
      break;
    case KernelArg::Value:
      args.push_back(&vPtr);
      break;
    case KernelArg::Mask:
      args.push_back(&mPtr);
      break;
    case KernelArg::QueryDescale:
      args.push_back(descaleArg(0));
      break;
    case KernelArg::KeyDescale:
      args.push_back(descaleArg(1));
      break;
    case KernelArg::ValueDescale:
      args.push_back(descaleArg(2));
      break;
    case KernelArg::CollapseStats:
      args.push_back(&statsPtr);
      break;
    }
  }

  auto start = std::chrono::steady_clock::now();
  if (llvm::Error err =
          engine->invokePacked("_mlir_ciface_" + sig.funcName, args))
    return std::move(err);
  auto end = std::chrono::steady_clock::now();

  CPURunResult result;
  result.seconds = std::chrono::duration<double>(end - start).count();
  result.output.shape = sig.result;
  int64_t n = lab::HostTensor::countElements(sig.result);
  result.output.data.resize(n);
  unsigned width = getBitWidth(sig.resultFormat) / 8;
  // The result is a fresh identity-layout buffer owned by the caller.
  const char *data = out.data + out.offset * width;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits = 0;
    std::memcpy(&bits, data + i * width, width);
    result.output.data[i] = decode(bits, sig.resultFormat);
  }
  std::free(out.basePtr);
  if (sig.countsCollapse) {
    result.collapsed = stats[0];
    result.positive = stats[1];
  }
  return result;
}
