//===- CPUAttention.cpp - compile and run an attention on the CPU ---------===//

#include "lpattn/Runner/CPUAttention.h"

#include "lpattn/Conversion/CPU/JIT.h"
#include "lpattn/Dialect/LPAttn/IR/LPAttnDialect.h"
#include "lpattn/Dialect/LPAttn/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FormatVariadic.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>

using namespace mlir;
using namespace lpattn;

//===----------------------------------------------------------------------===//
// AttentionProblem
//===----------------------------------------------------------------------===//

static std::string tensorType(llvm::ArrayRef<int64_t> shape,
                              FloatFormat format) {
  std::string text = "tensor<";
  for (int64_t d : shape)
    text += std::to_string(d) + "x";
  return text + getFormatName(format).str() + ">";
}

std::string AttentionProblem::toMLIR() const {
  int64_t dv = valueDim ? valueDim : headDim;
  std::string q = tensorType({batch, qHeads, qLen, headDim}, policy.qk);
  std::string k = tensorType({batch, kvHeads, kvLen, headDim}, policy.qk);
  std::string v = tensorType({batch, kvHeads, kvLen, dv}, policy.v);
  std::string o = tensorType({batch, qHeads, qLen, dv}, policy.out);
  std::string m = tensorType({1, 1, qLen, kvLen}, FloatFormat::F32);
  std::string args = "%q: " + q + ", %k: " + k + ", %v: " + v;
  std::string operands = "%q, %k, %v";
  std::string types = q + ", " + k + ", " + v;
  if (mask) {
    args += ", %mask: " + m;
    operands += " mask(%mask)";
    types += ", " + m;
  }
  if (descales) {
    args += ", %q_ds: f32, %k_ds: f32, %v_ds: f32";
    operands += " descale(%q_ds, %k_ds, %v_ds)";
  }
  auto name = [](FloatFormat f) { return getFormatName(f).str(); };
  std::string text = llvm::formatv(
      "func.func @attention({0}) -> {1} {{\n"
      "  %o = lpattn.attention {2}\n"
      "    policy = <qk = {3}, score = {4}, p = {5}, v = {6}, acc = {7}, "
      "out = {8}, overflow = {9}>\n",
      args, o, operands, name(policy.qk), name(policy.score),
      name(policy.p), name(policy.v), name(policy.acc), name(policy.out),
      stringifyOverflowMode(policy.overflow));
  double scale = softmaxScale > 0 ? softmaxScale : 1.0 / std::sqrt(headDim);
  text += llvm::formatv("    scale = {0:e} p_scale = {1:e} kv_order = {2} "
                        "softmax = {3}",
                        scale, pScale, stringifyKVOrder(kvOrder),
                        stringifySoftmaxVariant(softmax));
  if (softmax == SoftmaxVariant::BiasCorrected && (beta > 0 || tol > 0))
    text += llvm::formatv("(beta = {0:e}, tol = {1:e})", beta > 0 ? beta : 2.0,
                          tol > 0 ? tol : 1e-3);
  if (softmax == SoftmaxVariant::Pasa && beta > 0)
    text += llvm::formatv("(beta = {0:e})", beta);
  text += llvm::formatv(" causal = {0} tiles = [{1}, {2}]\n",
                        causal ? "true" : "false", tileQ, tileKV);
  text += "    : " + types + " -> " + o + "\n  return %o : " + o + "\n}\n";
  return text;
}

//===----------------------------------------------------------------------===//
// Pipeline
//===----------------------------------------------------------------------===//

void lpattn::buildCPUAttentionPipeline(OpPassManager &pm,
                                       const CPUCompileOptions &options) {
  OpPassManager &funcPM = pm.nest<func::FuncOp>();
  LPAttnTileOptions tile;
  tile.tileQ = options.tileQ;
  tile.tileKV = options.tileKV;
  funcPM.addPass(createLPAttnTile(tile));
  if (options.collapseSinkKeys) {
    LPAttnCountCollapseOptions count;
    count.sinkKeys = *options.collapseSinkKeys;
    funcPM.addPass(createLPAttnCountCollapse(count));
  }
  funcPM.addPass(createLPAttnCPUMatmulLayout());
  // lpattn.truncf on whole tiles becomes a linalg.generic of scalar casts.
  funcPM.addPass(createConvertElementwiseToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.allowReturnAllocsFromLoops = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // Equal subviews become one value, and the copy of a result tile onto
  // itself (in-place normalize) folds away.
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createCanonicalizerPass());
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

llvm::Expected<std::unique_ptr<CPUAttention>>
CPUAttention::compile(llvm::StringRef mlirText,
                      const CPUCompileOptions &options) {
  std::unique_ptr<CPUAttention> result(new CPUAttention());
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<LPAttnDialect>();
  result->context = std::make_unique<MLIRContext>(registry);
  MLIRContext *ctx = result->context.get();
  ctx->loadAllAvailableDialects();

  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  // Errors and remarks only: the "see current operation" notes repeat the
  // whole op in generic form.
  ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &diag) {
    const char *severity = diag.getSeverity() == DiagnosticSeverity::Error
                               ? "error: "
                               : "";
    os << diag.getLocation() << ": " << severity << diag << "\n";
    return success();
  });

  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(mlirText, ctx);
  if (!module)
    return llvm::createStringError("invalid input:\n" + diagnostics);

  // The one attention and its function.
  SmallVector<AttentionOp> ops;
  module->walk([&](AttentionOp op) { ops.push_back(op); });
  if (ops.size() != 1)
    return llvm::createStringError(
        "expected exactly one lpattn.attention, found " +
        std::to_string(ops.size()));
  AttentionOp op = ops.front();
  auto func = op->getParentOfType<func::FuncOp>();
  Signature &sig = result->signature;
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
  sig.countsCollapse = options.collapseSinkKeys.has_value();
  sig.softmaxScale = op.getSoftmaxScaleAttr().getValueAsDouble();
  sig.causal = op.getCausal();
  PrecisionPolicy policy = op.getPolicy().toPolicy();
  sig.queryFormat = sig.keyFormat = policy.qk;
  sig.valueFormat = policy.v;
  sig.resultFormat = policy.out;
  func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                UnitAttr::get(ctx));

  PassManager pm(ctx, ModuleOp::getOperationName());
  buildCPUAttentionPipeline(pm, options);
  if (failed(pm.run(*module)))
    return llvm::createStringError("compiling the attention failed:\n" +
                                   diagnostics);
  auto engine = compileToJIT(*module, options.optLevel);
  if (!engine)
    return engine.takeError();
  result->engine = std::move(*engine);
  return std::move(result);
}

namespace {

/// A host buffer in the storage format of an operand, with its memref
/// descriptor.
struct HostBuffer {
  std::vector<uint8_t> bytes;
  StridedMemRefType<char, 4> desc4;

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
                  std::array<float, 3> descales) {
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

  HostBuffer qb, kb, vb, mb;
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

  // _mlir_ciface_<f>(out*, q*, k*, v*, [mask*], [q_ds, k_ds, v_ds],
  // [stats*]), called through its packed wrapper: one pointer per argument.
  auto *outPtr = &out;
  auto *qPtr = &qb.desc4, *kPtr = &kb.desc4, *vPtr = &vb.desc4,
       *mPtr = &mb.desc4;
  auto *statsPtr = &statsDesc;
  SmallVector<void *> args{&outPtr, &qPtr, &kPtr, &vPtr};
  if (sig.hasMask)
    args.push_back(&mPtr);
  if (sig.hasDescales)
    for (float &d : descales)
      args.push_back(&d);
  if (sig.countsCollapse)
    args.push_back(&statsPtr);

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
