//===- lpattn-calibrate.cpp - geometry-aware scales from a checkpoint -----===//
//
// Reads a safetensors checkpoint, finds each attention layer's Q and K
// projections (lpattn/Checkpoint/QKProjections.h) and computes, per query
// head, sigma = ||W_q^T W_k||_2 by implicit power iteration (with RoPE the
// RoPE-safe ||W_q||_2 ||W_k||_2, since a rotation between q and k can make
// ||W_q^T R W_k||_2 larger), then per layer
// the RASB logit bound and the power-of-two scale (lpattn/Numerics/
// Geometry.h). Prints a table, or JSON (--json), and with -o writes a module
// with one lpattn.attention per layer carrying lpattn.qk_sigma (and
// lpattn.qk_sigma_rope_safe when RoPE-safe), which
// lpattn-geometry-scale reads.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Checkpoint/QKProjections.h"
#include "lpattn/Checkpoint/Safetensors.h"
#include "lpattn/Dialect/LPAttn/IR/LPAttnDialect.h"
#include "lpattn/Numerics/Formats.h"
#include "lpattn/Numerics/Geometry.h"
#include "lpattn/Numerics/Rules.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>

using namespace lpattn;
using namespace lpattn::checkpoint;
namespace cl = llvm::cl;

namespace {

cl::OptionCategory category("lpattn-calibrate options");
cl::opt<std::string> checkpointPath(cl::Positional, cl::Required,
                                    cl::desc("<model.safetensors>"),
                                    cl::cat(category));
cl::opt<int64_t> numHeads("heads", cl::desc("query heads per layer (default: "
                                            "config.json, else required "
                                            "unless --head-dim is given)"),
                          cl::init(0), cl::cat(category));
cl::opt<int64_t> numKVHeads("kv-heads",
                            cl::desc("key/value heads per layer (GQA; "
                                     "default: from the shapes)"),
                            cl::init(0), cl::cat(category));
cl::opt<int64_t> headDim("head-dim",
                         cl::desc("head dimension (default: from --heads)"),
                         cl::init(0), cl::cat(category));
cl::opt<std::string> configPath(
    "config",
    cl::desc("Hugging Face config.json with the head counts (default: "
             "config.json next to the checkpoint, if present; 'none' to "
             "ignore it)"),
    cl::init(""), cl::cat(category));
cl::opt<double> tokenNorm(
    "token-norm",
    cl::desc("bound B_X on the norm of a token entering the Q/K projections "
             "(default: from each layer's input norm gain in the checkpoint, "
             "sqrt(d) max|g| (+ ||b|| for LayerNorm))"),
    cl::init(0.0), cl::cat(category));
cl::opt<double> alphaOption("alpha",
                            cl::desc("calibration factor alpha on the bound "
                                     "(default 1: the worst case)"),
                            cl::init(1.0), cl::cat(category));
cl::opt<bool> autoAlpha("auto-alpha",
                        cl::desc("alpha from RASB's rank-aware tail bound "
                                 "for --seq-len queries and keys"),
                        cl::init(false), cl::cat(category));
cl::opt<int64_t> seqLen("seq-len",
                        cl::desc("sequence length Nq = Nk of --auto-alpha "
                                 "and of the -o module's tensors"),
                        cl::init(2048), cl::cat(category));
cl::opt<int64_t> iterations("iterations",
                            cl::desc("most power-iteration steps per head"),
                            cl::init(kDefaultPowerIterations),
                            cl::cat(category));
cl::opt<double> tolerance("tolerance",
                          cl::desc("relative change of sigma at which the "
                                   "power iteration stops"),
                          cl::init(kDefaultPowerTolerance), cl::cat(category));
cl::opt<std::string> qkTypeName(
    "qk-type",
    cl::desc("element type of Q and K (and P, V) in the -o module "
             "(f8E4M3FN, f8E5M2, f16, bf16, f32)"),
    cl::init("f8E4M3FN"), cl::cat(category));
cl::opt<std::string> scoreTypeName(
    "score-type",
    cl::desc("type the Q K^T product is rounded to, which the scale fits "
             "alpha B_X^2 sigma into, as lpattn-geometry-scale does (f16, "
             "bf16, f32)"),
    cl::init("f16"), cl::cat(category));
/// Whether the layers' Q and K are RoPE-rotated.
enum class RoPEMode { Auto, On, Off };
cl::opt<RoPEMode> ropeMode(
    "rope",
    cl::desc("Q and K are RoPE-rotated, so sigma must bound every rotation: "
             "||W_q||_2 ||W_k||_2 per head instead of ||W_q^T W_k||_2 "
             "(auto: on for Llama/Mistral/Qwen-style layers, off for GPT-2, "
             "whose positions are learned and added to the tokens)"),
    cl::values(clEnumValN(RoPEMode::Auto, "auto", "by architecture"),
               clEnumValN(RoPEMode::On, "on", "RoPE-safe sigma"),
               clEnumValN(RoPEMode::Off, "off", "sigma of W_q^T W_k")),
    cl::init(RoPEMode::Auto), cl::cat(category));
cl::opt<bool> printJSON("json", cl::desc("print JSON instead of the table"),
                        cl::init(false), cl::cat(category));
cl::opt<std::string> outputMLIR(
    "o",
    cl::desc("write a module with one func @layer_N per layer: an "
             "lpattn.attention carrying lpattn.qk_sigma"),
    cl::value_desc("out.mlir"), cl::init(""), cl::cat(category));

int fail(const llvm::Twine &message) {
  llvm::errs() << "lpattn-calibrate: " << message << "\n";
  return 1;
}

/// What one layer's calibration found.
struct LayerResult {
  QKLayer layer;
  std::vector<double> sigmas; ///< per query head
  bool rope = false; ///< sigmas are the RoPE-safe ||W_q|| ||W_k||
  std::vector<int64_t> iterationsPerHead;
  bool converged = true;
  double tokenNormBound = 0;
  double alpha = 1;
  double productBound = 0; ///< B_X^2 sigma_max, on |q . k|
  double logitBound = 0;   ///< c B_X^2 sigma_max, c = 1/sqrt(dhead)
  double scale = 1;

  double getMaxSigma() const {
    return *std::max_element(sigmas.begin(), sigmas.end());
  }
  double getMinSigma() const {
    return *std::min_element(sigmas.begin(), sigmas.end());
  }
};

/// B_X of a layer: --token-norm, else the bound its input norm's gain (and
/// bias) give.
llvm::Expected<double> getTokenNormBound(const SafetensorsFile &file,
                                         const QKLayer &layer) {
  if (tokenNorm.getNumOccurrences())
    return tokenNorm.getValue();
  if (layer.normWeightTensor.empty())
    return llvm::createStringError(
        checkpointPath + ": layer " + std::to_string(layer.layer) +
        ": no input norm weight in the checkpoint to bound the token norm; "
        "give --token-norm");
  auto gain = file.readFloats(layer.normWeightTensor);
  if (!gain)
    return gain.takeError();
  double maxAbsGain = 0;
  for (float g : *gain)
    maxAbsGain = std::max(maxAbsGain, std::fabs(static_cast<double>(g)));
  if (layer.normBiasTensor.empty())
    return getRMSNormTokenNormBound(maxAbsGain, layer.modelDim);
  auto bias = file.readFloats(layer.normBiasTensor);
  if (!bias)
    return bias.takeError();
  double biasSquares = 0;
  for (float b : *bias)
    biasSquares += static_cast<double>(b) * b;
  return getLayerNormTokenNormBound(maxAbsGain, std::sqrt(biasSquares),
                                    layer.modelDim);
}

llvm::Expected<LayerResult> calibrateLayer(const SafetensorsFile &file,
                                           const QKLayer &layer,
                                           FloatFormat scoreType) {
  LayerResult result;
  result.layer = layer;
  auto weights = loadQKWeights(file, layer);
  if (!weights)
    return weights.takeError();
  PowerIterationOptions options;
  options.maxIterations = iterations;
  options.relativeTolerance = tolerance;
  std::vector<SpectralNormEstimate> estimates;
  result.rope = ropeMode == RoPEMode::On ||
                (ropeMode == RoPEMode::Auto &&
                 layer.architecture == Architecture::Llama);
  auto estimatePerHead = result.rope ? estimatePerHeadRoPESafeQKSigmas
                                     : estimatePerHeadQKSpectralNorms;
  std::string error = estimatePerHead(
      weights->query.data(), weights->key.data(), layer.numHeads,
      layer.numKVHeads, layer.headDim, layer.modelDim, options, estimates);
  if (!error.empty())
    return llvm::createStringError(checkpointPath + ": layer " +
                                   std::to_string(layer.layer) + ": " + error);
  for (const SpectralNormEstimate &estimate : estimates) {
    result.sigmas.push_back(estimate.sigma);
    result.iterationsPerHead.push_back(estimate.iterations);
    result.converged &= estimate.converged;
  }
  auto bound = getTokenNormBound(file, layer);
  if (!bound)
    return bound.takeError();
  if (std::string message = checkTokenNormBound(*bound); !message.empty())
    return llvm::createStringError(checkpointPath + ": layer " +
                                   std::to_string(layer.layer) + ": " +
                                   message);
  result.tokenNormBound = *bound;
  // rank(W_q^T W_k) <= head dim.
  result.alpha = autoAlpha ? getAutoAlpha(layer.modelDim, layer.headDim,
                                          seqLen, seqLen)
                           : alphaOption.getValue();
  // The scale lpattn-geometry-scale gives this layer's op: the one of its
  // largest sigma (the min over heads).
  result.productBound =
      getQKProductBound(result.getMaxSigma(), result.tokenNormBound);
  result.logitBound = getLogitBoundForHeadDim(
      result.getMaxSigma(), result.tokenNormBound, layer.headDim);
  result.scale =
      getGeometryScale(result.alpha, result.productBound, scoreType);
  return result;
}

/// What a layer's sigma is, for the table and the JSON.
llvm::StringRef getSigmaDefinition(bool rope) {
  return rope ? "||W_q||_2 ||W_k||_2 (RoPE-safe)" : "||W_q^T W_k||_2";
}

void printTable(llvm::raw_ostream &os, llvm::ArrayRef<LayerResult> results,
                FloatFormat scoreType) {
  os << llvm::formatv(
      "{0,5} {1,9} {2,6} {3,12} {4,12} {5,10} {6,12} {7,10} {8,5}\n", "layer",
      "heads/kv", "dhead", "sigma_max", "sigma_min", "token_norm",
      "logit_bound", "scale", "rope");
  for (const LayerResult &result : results) {
    const QKLayer &layer = result.layer;
    os << llvm::formatv(
        "{0,5} {1,9} {2,6} {3,12:g} {4,12:g} {5,10:g} {6,12:g} {7,10} {8,5}"
        "{9}\n",
        layer.layer,
        std::to_string(layer.numHeads) + "/" + std::to_string(layer.numKVHeads),
        layer.headDim, result.getMaxSigma(), result.getMinSigma(),
        result.tokenNormBound, result.logitBound, formatNumber(result.scale),
        result.rope ? "on" : "off", result.converged ? "" : "  (not converged)");
  }
  os << "logit_bound: B_X^2 sigma_max / sqrt(dhead); scale: the largest "
        "power of two <= 1 with scale * alpha * B_X^2 sigma_max <= max "
     << getFormatName(scoreType) << " = "
     << formatNumber(getMaxFinite(scoreType)) << "\n"
     << "sigma: " << getSigmaDefinition(false) << "; rope on: "
     << getSigmaDefinition(true) << "\n";
}

llvm::json::Value toJSON(llvm::ArrayRef<LayerResult> results,
                         FloatFormat qkType, FloatFormat scoreType) {
  llvm::json::Array layers;
  for (const LayerResult &result : results) {
    const QKLayer &layer = result.layer;
    layers.push_back(llvm::json::Object{
        {"layer", layer.layer},
        {"architecture", getArchitectureName(layer.architecture)},
        {"query_tensor", layer.queryTensor},
        {"key_tensor", layer.keyTensor},
        {"model_dim", layer.modelDim},
        {"heads", layer.numHeads},
        {"kv_heads", layer.numKVHeads},
        {"head_dim", layer.headDim},
        {"rope", result.rope},
        {"sigma_definition", getSigmaDefinition(result.rope)},
        {"sigma", llvm::json::Array(result.sigmas)},
        {"iterations", llvm::json::Array(result.iterationsPerHead)},
        {"converged", result.converged},
        {"sigma_max", result.getMaxSigma()},
        {"sigma_min", result.getMinSigma()},
        {"token_norm", result.tokenNormBound},
        {"alpha", result.alpha},
        {"qk_product_bound", result.productBound},
        {"logit_bound", result.logitBound},
        {"scale", result.scale}});
  }
  return llvm::json::Object{{"checkpoint", checkpointPath.getValue()},
                            {"qk_type", getFormatName(qkType)},
                            {"score_type", getFormatName(scoreType)},
                            {"layers", std::move(layers)}};
}

/// One func @layer_N per layer, each an lpattn.attention on
/// [1, Hq|Hkv, seqLen, dhead] tensors of the qk type carrying the layer's
/// sigma per query head (lpattn.qk_sigma), for lpattn-geometry-scale.
mlir::OwningOpRef<mlir::ModuleOp>
buildModule(mlir::MLIRContext &context, llvm::ArrayRef<LayerResult> results,
            const PrecisionPolicy &policy) {
  using namespace mlir;
  OpBuilder b(&context);
  Location loc = b.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  auto tensorOf = [&](int64_t heads, int64_t dim, FloatFormat format) {
    return RankedTensorType::get({1, heads, seqLen, dim},
                                 getType(&context, format));
  };
  LPAttnDialect::QkSigmaAttrHelper sigmaAttr(&context);
  LPAttnDialect::QkSigmaRopeSafeAttrHelper ropeSafeAttr(&context);
  for (const LayerResult &result : results) {
    const QKLayer &layer = result.layer;
    Type query = tensorOf(layer.numHeads, layer.headDim, policy.qk);
    Type keyValue = tensorOf(layer.numKVHeads, layer.headDim, policy.qk);
    Type output = tensorOf(layer.numHeads, layer.headDim, policy.out);
    auto func = func::FuncOp::create(
        b, loc, "layer_" + std::to_string(layer.layer),
        b.getFunctionType({query, keyValue, keyValue}, {output}));
    OpBuilder::InsertionGuard guard(b);
    Block *body = func.addEntryBlock();
    b.setInsertionPointToStart(body);
    auto attention = AttentionOp::create(
        b, loc, body->getArgument(0), body->getArgument(1),
        body->getArgument(2), PrecisionPolicyAttr::get(&context, policy));
    sigmaAttr.setAttr(attention, b.getDenseF64ArrayAttr(result.sigmas));
    if (result.rope)
      ropeSafeAttr.setAttr(attention, b.getUnitAttr());
    func::ReturnOp::create(b, loc, attention.getResult());
  }
  return module;
}

/// Writes the module of buildModule to `path`, verified.
llvm::Error writeModule(llvm::StringRef path,
                        llvm::ArrayRef<LayerResult> results,
                        const PrecisionPolicy &policy) {
  mlir::DialectRegistry registry;
  registry.insert<mlir::func::FuncDialect, LPAttnDialect>();
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  mlir::OwningOpRef<mlir::ModuleOp> module =
      buildModule(context, results, policy);
  std::string diagnostics;
  {
    mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
      diagnostics += d.str() + "\n";
      return mlir::success();
    });
    if (mlir::failed(mlir::verify(*module)))
      return llvm::createStringError("the calibrated module does not "
                                     "verify: " + diagnostics);
  }
  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> file =
      mlir::openOutputFile(path, &error);
  if (!file)
    return llvm::createStringError(error);
  module->print(file->os());
  file->keep();
  return llvm::Error::success();
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "lpattn-calibrate: geometry-aware logit scales (RASB) from a "
      "safetensors checkpoint.\n\n"
      "Finds each attention layer's Q and K projections by name (GPT-2's "
      "h.N.attn.c_attn; Llama/Mistral/Qwen's layers.N.self_attn.q_proj and "
      "k_proj, GQA), computes sigma = ||W_q^T W_k||_2 per query head by "
      "power iteration (with RoPE, --rope, ||W_q||_2 ||W_k||_2, which bounds "
      "every rotation), the bound B_X^2 sigma / sqrt(dhead) on the logits "
      "and the power-of-two scale that fits alpha B_X^2 sigma into "
      "--score-type, as lpattn-geometry-scale does. Prints one line per "
      "layer (--json: every head).\n\n"
      "  lpattn-calibrate model.safetensors --json -o calibrated.mlir\n");

  std::optional<FloatFormat> qkType = parseFloatFormat(qkTypeName);
  if (!qkType)
    return fail("--qk-type=" + qkTypeName +
                ": expected f8E4M3FN, f8E5M2, f16, bf16 or f32");
  std::optional<FloatFormat> scoreType = parseFloatFormat(scoreTypeName);
  if (!scoreType)
    return fail("--score-type=" + scoreTypeName +
                ": expected f16, bf16 or f32");
  // The -o module's policy: Q, K, P, V of the qk type, f32 accumulation.
  PrecisionPolicy policy;
  policy.qk = policy.p = policy.v = *qkType;
  policy.score = *scoreType;
  policy.out = FloatFormat::BF16;
  if (std::string message = policy.checkSupported(); !message.empty())
    return fail("--qk-type=" + qkTypeName + " --score-type=" + scoreTypeName +
                ": " + message);
  for (auto [name, value] :
       {std::pair<const char *, int64_t>{"heads", numHeads},
        {"kv-heads", numKVHeads},
        {"head-dim", headDim}})
    if (value < 0)
      return fail(llvm::Twine("--") + name + "=" + llvm::Twine(value) +
                  ": expected a positive count");
  if (seqLen < 1)
    return fail("--seq-len=" + llvm::Twine(seqLen.getValue()) +
                ": expected at least 1");
  if (iterations < 1)
    return fail("--iterations=" + llvm::Twine(iterations.getValue()) +
                ": expected at least 1");
  PowerIterationOptions powerOptions{iterations, tolerance};
  if (std::string message = checkPowerIterationOptions(powerOptions);
      !message.empty())
    return fail(message);
  if (std::string message = checkGeometryAlpha(alphaOption); !message.empty())
    return fail("--alpha: " + message);
  if (autoAlpha && alphaOption.getNumOccurrences())
    return fail("--alpha and --auto-alpha exclude each other");
  if (tokenNorm.getNumOccurrences())
    if (std::string message = checkTokenNormBound(tokenNorm); !message.empty())
      return fail("--token-norm: " + message);

  auto file = SafetensorsFile::open(checkpointPath);
  if (!file)
    return fail(llvm::toString(file.takeError()));

  // Head counts: the options, else config.json.
  HeadLayout layout;
  if (numHeads > 0)
    layout.numHeads = numHeads.getValue();
  if (numKVHeads > 0)
    layout.numKVHeads = numKVHeads.getValue();
  if (headDim > 0)
    layout.headDim = headDim.getValue();
  std::string config = configPath;
  if (config.empty()) {
    llvm::SmallString<256> nextToCheckpoint(
        llvm::sys::path::parent_path(checkpointPath));
    llvm::sys::path::append(nextToCheckpoint, "config.json");
    if (llvm::sys::fs::exists(nextToCheckpoint))
      config = nextToCheckpoint.str().str();
  }
  if (!config.empty() && config != "none") {
    auto configLayout = readHeadLayoutFromConfig(config);
    if (!configLayout)
      return fail(llvm::toString(configLayout.takeError()));
    layout = mergeHeadLayouts(layout, *configLayout);
  }

  auto layers = findQKLayers(*file, layout);
  if (!layers)
    return fail(llvm::toString(layers.takeError()));
  std::vector<LayerResult> results;
  for (const QKLayer &layer : *layers) {
    auto result = calibrateLayer(*file, layer, *scoreType);
    if (!result)
      return fail(llvm::toString(result.takeError()));
    results.push_back(std::move(*result));
  }

  if (printJSON)
    llvm::outs() << llvm::formatv("{0:2}",
                                  toJSON(results, *qkType, *scoreType))
                 << "\n";
  else
    printTable(llvm::outs(), results, *scoreType);
  if (!outputMLIR.empty())
    if (llvm::Error err = writeModule(outputMLIR, results, policy))
      return fail(llvm::toString(std::move(err)));
  return 0;
}
