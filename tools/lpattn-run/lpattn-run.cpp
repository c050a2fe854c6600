//===- lpattn-run.cpp - compile and run attentions on the CPU -------------===//
//
// Compiles an lpattn.attention (an .mlir file, or a problem described on the
// command line) through lpattn's CPU pipeline, runs it on generated or .npy
// inputs with every low-precision rounding emulated bit-exactly, and reports
// its accuracy against a float64 attention of the same unquantized inputs.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Lab/Generators.h"
#include "lpattn/Lab/Metrics.h"
#include "lpattn/Lab/Npy.h"
#include "lpattn/Lab/Reference.h"
#include "lpattn/Numerics/Rules.h"
#include "lpattn/Runner/CPUAttention.h"
#include "lpattn/Runner/RunReference.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include "lpattn/Target/NVIDIA/Compiler.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>

using namespace lpattn;
namespace cl = llvm::cl;

static cl::OptionCategory problemCat("Problem (when no .mlir file is given)");
static cl::OptionCategory inputCat("Inputs");
static cl::OptionCategory outputCat("Output");

static cl::opt<std::string> inputFile(cl::Positional,
                                      cl::desc("[attention.mlir]"),
                                      cl::init(""));
// Problem.
static cl::opt<int64_t> batch("batch", cl::desc("B"), cl::init(1),
                              cl::cat(problemCat));
static cl::opt<int64_t> heads("heads", cl::desc("query heads Hq"),
                              cl::init(1), cl::cat(problemCat));
static cl::opt<int64_t> kvHeads("kv-heads",
                                cl::desc("KV heads Hkv (0: = heads)"),
                                cl::init(0), cl::cat(problemCat));
static cl::opt<int64_t> nq("nq", cl::desc("queries Nq"), cl::init(128),
                           cl::cat(problemCat));
static cl::opt<int64_t> nk("nk", cl::desc("keys Nk"), cl::init(1024),
                           cl::cat(problemCat));
static cl::opt<int64_t> headDim("head-dim", cl::desc("head dimension D"),
                                cl::init(64), cl::cat(problemCat));
static cl::opt<std::string>
    qkType("qk-type", cl::desc("Q K^T input type (f32, f16, bf16, f8E4M3FN, "
                          "f8E5M2)"),
           cl::init("f8E4M3FN"), cl::cat(problemCat));
static cl::opt<std::string> scoreType("score-type", cl::desc("score accumulator"),
                                      cl::init("f32"), cl::cat(problemCat));
static cl::opt<std::string> pType("p-type", cl::desc("type P is cast to"),
                                  cl::init("f8E4M3FN"), cl::cat(problemCat));
static cl::opt<std::string> vType("v-type", cl::desc("V type"),
                                  cl::init("f8E4M3FN"), cl::cat(problemCat));
static cl::opt<std::string> accType("acc-type", cl::desc("PV accumulator"),
                                    cl::init("f32"), cl::cat(problemCat));
static cl::opt<std::string> outType("out-type", cl::desc("result type"),
                                    cl::init("bf16"), cl::cat(problemCat));
static cl::opt<bool> nonSat("nonsat",
                            cl::desc("casts overflow to Inf/NaN instead of "
                                     "saturating"),
                            cl::init(false), cl::cat(problemCat));
static cl::opt<double> pScale("p-scale", cl::desc("P scale S (power of two)"),
                              cl::init(256.0), cl::cat(problemCat));
static cl::opt<bool> reverse("reverse", cl::desc("reverse KV tile order"),
                             cl::init(true), cl::cat(problemCat));
static cl::opt<std::string>
    softmax("softmax", cl::desc("standard | bias_corrected | pasa"),
            cl::init("standard"), cl::cat(problemCat));
static cl::opt<double> beta("beta", cl::desc("softmax beta (0: default)"),
                            cl::init(0.0), cl::cat(problemCat));
static cl::opt<bool> causal("causal", cl::desc("causal mask"),
                            cl::init(false), cl::cat(problemCat));
static cl::opt<double> softmaxScaleOpt("scale",
                                       cl::desc("softmax scale c (0: "
                                                "1/sqrt(D))"),
                                       cl::init(0.0), cl::cat(problemCat));
static cl::opt<int64_t> tileQ("tile-q", cl::desc("Br"), cl::init(kDefaultTileQ),
                              cl::cat(problemCat));
static cl::opt<int64_t> tileKV("tile-kv", cl::desc("Bc"),
                               cl::init(kDefaultTileKV),
                               cl::cat(problemCat));
// Inputs.
static cl::opt<std::string>
    generator("inputs",
              cl::desc("random | sinks (P-Cast) | offset (PASA) | ties "
                       "(LPTF) | npy (--q-npy/--k-npy/--v-npy files)"),
              cl::init("random"), cl::cat(inputCat));
static cl::opt<uint64_t> seed("seed", cl::desc("generator seed"), cl::init(0),
                              cl::cat(inputCat));
static cl::opt<double> delta("delta", cl::desc("sink strength Delta"),
                             cl::init(10.0), cl::cat(inputCat));
static cl::opt<int64_t> numSinks(
    "sinks",
    cl::desc("number of sink keys (with other inputs: the first keys, left "
             "out of the collapse count)"),
    cl::init(4), cl::cat(inputCat));
static cl::opt<double> jitter("jitter", cl::desc("sink jitter stddev"),
                              cl::init(1.0), cl::cat(inputCat));
static cl::opt<bool> jitterPerHead(
    "jitter-per-head",
    cl::desc("draw the sink jitter once per head, not per query row"),
    cl::init(false), cl::cat(inputCat));
static cl::opt<double> offset("offset", cl::desc("common raw score offset"),
                              cl::init(1e5), cl::cat(inputCat));
static cl::opt<int64_t> numTied("tied", cl::desc("tied maxima per row"),
                                cl::init(2), cl::cat(inputCat));
static cl::opt<double> gap("gap",
                           cl::desc("ties: least logit gap below the tie"),
                           cl::init(1.0), cl::cat(inputCat));
static cl::opt<double> vMean("v-mean", cl::desc("ties: mean of V"),
                             cl::init(0.0), cl::cat(inputCat));
static cl::opt<double> vStddev("v-stddev", cl::desc("ties: stddev of V"),
                               cl::init(1.0), cl::cat(inputCat));
static cl::opt<double> rowShift(
    "row-shift",
    cl::desc("ties: shift each row's logits by up to this much (the row max "
             "varies, the softmax does not)"),
    cl::init(0.0), cl::cat(inputCat));
static cl::opt<std::string>
    maskFile("mask-npy",
             cl::desc("additive f32 mask .npy (a described problem gets a "
                      "[1, 1, Nq, Nk] mask operand)"),
             cl::cat(inputCat));
static cl::opt<float> qDescale("q-descale",
                               cl::desc("Q descale (a described problem gets "
                                        "descale operands)"),
                               cl::init(1.0f), cl::cat(inputCat));
static cl::opt<float> kDescale("k-descale", cl::desc("K descale"),
                               cl::init(1.0f), cl::cat(inputCat));
static cl::opt<float> vDescale("v-descale", cl::desc("V descale"),
                               cl::init(1.0f), cl::cat(inputCat));
static cl::opt<bool> descalePerHead(
    "descale-per-head",
    cl::desc("a described problem gets per-(batch, KV head) descale operands "
             "tensor<B x Hkv x f32> (FlashAttention-3's form); each entry is "
             "--q-descale, --k-descale, --v-descale unless --descale-spread "
             "or --*-descale-npy say otherwise"),
    cl::init(false), cl::cat(inputCat));
static cl::opt<double> descaleSpread(
    "descale-spread",
    cl::desc("per-head descales (implies --descale-per-head): entry [b, h] "
             "of each is its --*-descale value times 2^(spread * u), u "
             "uniform in [-1, 1] from --seed (0: all entries equal)"),
    cl::init(0.0), cl::cat(inputCat));
static cl::opt<std::string> qDescaleFile(
    "q-descale-npy",
    cl::desc("per-head Q descales, a [B, Hkv] .npy (implies "
             "--descale-per-head)"),
    cl::cat(inputCat));
static cl::opt<std::string> kDescaleFile(
    "k-descale-npy", cl::desc("per-head K descales, a [B, Hkv] .npy"),
    cl::cat(inputCat));
static cl::opt<std::string> vDescaleFile(
    "v-descale-npy", cl::desc("per-head V descales, a [B, Hkv] .npy"),
    cl::cat(inputCat));
static cl::opt<std::string>
    qFile("q-npy",
          cl::desc("Q .npy: float data, or the storage codes of the operand "
                   "type ('|u1' FP8, '<u2' f16/bf16) as --save-case writes"),
          cl::cat(inputCat));
static cl::opt<std::string> kFile("k-npy", cl::desc("K .npy"), cl::cat(inputCat));
static cl::opt<std::string> vFile("v-npy", cl::desc("V .npy"), cl::cat(inputCat));
static cl::opt<std::string>
    sweep("sweep",
          cl::desc("param:start:stop:step, param one of delta, offset, "
                   "p-scale (p-scale steps multiply)"),
          cl::init(""), cl::cat(inputCat));
// Output.
static cl::opt<bool> json("json", cl::desc("print JSON"), cl::init(false),
                          cl::cat(outputCat));
static cl::opt<std::string> outNpy("output-npy", cl::desc("write O as .npy"),
                                   cl::init(""), cl::cat(outputCat));
static cl::opt<uint64_t> maxMemory(
    "max-memory",
    cl::desc("host memory the tensors may take, in bytes (0: the machine's "
             "physical memory)"),
    cl::init(0), cl::cat(outputCat));
static cl::opt<std::string> device(
    "device",
    cl::desc("cpu: the CPU pipeline with bit-exact emulation (default); gpu: "
             "also compile the attention for sm_90a (lpattn-compile's "
             "pipeline), run it on the GPU with lpattn-gpu-run on the same "
             "inputs and print its table (accuracy against float64 and the "
             "CPU emulation, TFLOP/s); auto: gpu when a driver and an sm_90 "
             "GPU are there and the attention compiles for it, else cpu"),
    cl::init("cpu"), cl::cat(outputCat));
static cl::opt<bool> printIR("print-mlir",
                             cl::desc("print the attention's MLIR"),
                             cl::init(false), cl::cat(outputCat));
static cl::opt<bool> noRun(
    "no-run",
    cl::desc("with --print-mlir: print the MLIR and stop (nothing is "
             "compiled, allocated or run)"),
    cl::init(false), cl::cat(outputCat));
static cl::opt<std::string> saveCase(
    "save-case",
    cl::desc("write a GPU check case to this directory: case.mlir, Q/K/V as "
             "the kernel consumes them (storage codes), o_cpu.npy, o_ref.npy, "
             "atol.npy and case.json (docs/gpu-check.md)"),
    cl::init(""), cl::cat(outputCat));

[[noreturn]] static void fail(const llvm::Twine &message) {
  llvm::errs() << "lpattn-run: error: " << message << "\n";
  std::exit(1);
}

template <typename T> static T orFail(llvm::Expected<T> value) {
  if (!value)
    fail(llvm::toString(value.takeError()));
  return std::move(*value);
}

/// The most points a --sweep may have: each compiles or runs the attention,
/// and an unbounded one would never end.
static constexpr int64_t kMaxSweepPoints = 10000;

//===----------------------------------------------------------------------===//
// Option checks
//===----------------------------------------------------------------------===//
//
// Every option is checked here, before a problem is built from it, so that a
// bad value is one error naming the option and the value (never an error
// about generated IR, a silent default or a crash).

/// "--name=value" of an option, as errors print it.
template <typename T> static std::string spell(const cl::opt<T> &opt) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "--" << opt.ArgStr << "=";
  if constexpr (std::is_floating_point_v<T>)
    os << formatNumber(opt.getValue());
  else
    os << opt.getValue();
  return text;
}

static void checkPositive(const cl::opt<int64_t> &opt) {
  if (opt <= 0)
    fail(spell(opt) + ": expected a positive size");
}

static void checkNonNegative(const cl::opt<int64_t> &opt,
                             const char *zeroMeans = nullptr) {
  if (opt < 0)
    fail(spell(opt) + ": expected a size >= 0" +
         (zeroMeans ? llvm::Twine(" (0: ") + zeroMeans + ")" : ""));
}

static void checkFinite(const cl::opt<double> &opt) {
  if (!std::isfinite(opt))
    fail(spell(opt) + ": expected a finite number");
}

static void checkOptions() {
  for (const cl::opt<int64_t> *opt :
       {&batch, &heads, &nq, &nk, &headDim, &tileQ, &tileKV})
    checkPositive(*opt);
  checkNonNegative(kvHeads, "= --heads");
  if (kvHeads > 0 && heads % kvHeads != 0)
    fail(spell(heads) + " " + spell(kvHeads) +
         ": the query heads must be a multiple of the KV heads (GQA/MQA)");
  checkNonNegative(numSinks);
  checkNonNegative(numTied);
  // The sink generator's limits, named after the options that set them.
  if (generator == "sinks" && inputFile.empty()) {
    if (numSinks > nk)
      fail(spell(numSinks) + ": at most " + spell(nk) +
           " sinks (the keys they are drawn among)");
    if (!jitterPerHead && numSinks > headDim - 1)
      fail(spell(numSinks) + ": per-row jitter needs at most " +
           spell(headDim) + " - 1 sinks (--jitter-per-head allows more)");
  }
  if (!std::isfinite(pScale) || !(pScale > 0))
    fail(spell(pScale) + ": expected a finite power of two > 0");
  if (std::string problem = checkExactInF32("--p-scale", pScale);
      !problem.empty())
    fail(problem);
  // The op's own P-scale rule (power of two, no saturation of P = 1), named
  // after the option rather than reported from the generated op.
  if (std::optional<FloatFormat> p = symbolizeFloatFormat(pType))
    if (std::string problem = checkPScale(pScale, *p); !problem.empty())
      fail(spell(pScale) + ": " + problem);
  // 0 selects the variant's default; anything else is the value used, never
  // silently replaced (the verifier checks the variant's range).
  if (beta != 0.0) {
    if (!std::isfinite(beta) || !(beta > 0))
      fail(spell(beta) + ": expected a finite beta > 0 (0: the softmax "
                         "variant's default)");
    if (softmax == "standard")
      fail(spell(beta) + ": --softmax=standard takes no beta (use "
                         "bias_corrected or pasa)");
    if (std::string problem = checkRoundsToF32("--beta", beta);
        !problem.empty())
      fail(problem);
  }
  for (const cl::opt<double> *opt : {&delta, &offset, &jitter, &descaleSpread})
    checkFinite(*opt);
  if (descaleSpread < 0)
    fail(spell(descaleSpread) + ": expected a spread >= 0 (log2 units)");
  // Per-head descales from files: all three, and instead of the values
  // that would otherwise fill them.
  int descaleFiles = !qDescaleFile.empty() + !kDescaleFile.empty() +
                     !vDescaleFile.empty();
  if (descaleFiles != 0 && descaleFiles != 3)
    fail("--q-descale-npy, --k-descale-npy and --v-descale-npy go together "
         "(per-head descales of Q, K and V)");
  if (descaleFiles == 3 &&
      (descaleSpread != 0.0 || qDescale.getNumOccurrences() ||
       kDescale.getNumOccurrences() || vDescale.getNumOccurrences()))
    fail("--*-descale-npy give the per-head descale values; --q-descale, "
         "--k-descale, --v-descale and --descale-spread cannot be combined "
         "with them");
  if (jitter < 0)
    fail(spell(jitter) + ": expected a standard deviation >= 0");
}

/// The size and memory check of the described problem, before any IR is
/// built: sizes whose products overflow int64 or exceed the memory limit
/// are one error naming the options.
static void checkProblemSize(const AttentionProblem &p) {
  std::vector<int64_t> q{p.batch, p.qHeads, p.qLen, p.headDim},
      k{p.batch, p.kvHeads, p.kvLen, p.headDim},
      v{p.batch, p.kvHeads, p.kvLen, p.headDim},
      o{p.batch, p.qHeads, p.qLen, p.headDim};
  if (llvm::Error err =
          checkHostMemory(q, k, v, {}, o, p.policy, maxMemory))
    fail(llvm::formatv("--batch={0} --heads={1} --kv-heads={2} --nq={3} "
                       "--nk={4} --head-dim={5}: {6}",
                       p.batch, p.qHeads, p.kvHeads, p.qLen, p.kvLen,
                       p.headDim, llvm::toString(std::move(err)))
             .str());
}

/// The points of --sweep=param:start:stop:step: finite bounds, a step that
/// changes the value, at most kMaxSweepPoints points.
static std::vector<double> sweepPoints(const std::string &paramName,
                                       double start, double stop,
                                       double step) {
  bool multiply = paramName == "p-scale";
  if (!std::isfinite(start) || !std::isfinite(stop) || !std::isfinite(step))
    fail("--sweep=" + sweep + ": start, stop and step must be finite");
  double count = multiply ? std::floor(std::log(stop / start) /
                                       std::log(step) * (1 + 1e-12)) + 1
                          : std::floor((stop - start) / step * (1 + 1e-12)) +
                                1;
  if (!(count <= double(kMaxSweepPoints)))
    fail("--sweep=" + sweep + ": " +
         (std::isfinite(count) ? formatNumber(count) : std::string("too many")) +
         " points; at most " + llvm::Twine(kMaxSweepPoints) +
         " are allowed");
  // The last point may fall a rounding short of stop; the slack is relative
  // to |stop| (stop * (1 + 1e-12) is below a negative stop, and gave no
  // point at all for start = stop < 0: a crash, found by the fuzz driver).
  double last = stop + std::fabs(stop) * 1e-12;
  std::vector<double> points;
  for (double x = start;
       x <= last && points.size() < size_t(kMaxSweepPoints);) {
    points.push_back(x);
    double next = multiply ? x * step : x + step;
    // A step below the spacing of doubles at x leaves x unchanged: fine
    // once every point is there (start = stop), an endless sweep otherwise.
    if (next == x && double(points.size()) >= count)
      break;
    if (next == x)
      fail("--sweep=" + sweep + ": the step does not change " + paramName +
           " = " + formatNumber(x) + " in double precision");
    x = next;
  }
  if (points.empty())
    fail("--sweep=" + sweep + ": no points");
  return points;
}

static FloatFormat format(const cl::opt<std::string> &opt) {
  std::optional<FloatFormat> f = parseFloatFormat(opt);
  if (!f)
    fail("--" + opt.ArgStr + "=" + opt + ": expected f32, f16, bf16, "
         "f8E4M3FN or f8E5M2");
  return *f;
}

static AttentionProblem describedProblem() {
  AttentionProblem p;
  p.batch = batch;
  p.qHeads = heads;
  p.kvHeads = kvHeads ? int64_t(kvHeads) : int64_t(heads);
  p.qLen = nq;
  p.kvLen = nk;
  p.headDim = headDim;
  p.policy = {format(qkType), format(scoreType), format(pType),
              format(vType),  format(accType),   format(outType),
              nonSat ? OverflowMode::NonSat : OverflowMode::SatFinite};
  p.pScale = pScale;
  p.kvOrder = reverse ? KVOrder::Reverse : KVOrder::Forward;
  std::optional<SoftmaxVariant> variant = symbolizeSoftmaxVariant(softmax);
  if (!variant)
    fail("--softmax=" + softmax + ": expected standard, bias_corrected or "
         "pasa");
  p.softmax = *variant;
  p.beta = beta;
  p.causal = causal;
  p.softmaxScale = softmaxScaleOpt;
  p.mask = !maskFile.empty();
  p.descalesPerHead = descalePerHead || descaleSpread.getNumOccurrences() ||
                      !qDescaleFile.empty();
  p.descales = qDescale.getNumOccurrences() || kDescale.getNumOccurrences() ||
               vDescale.getNumOccurrences() || p.descalesPerHead;
  p.tileQ = tileQ;
  p.tileKV = tileKV;
  return p;
}

/// An --inputs npy tensor for an operand of `format`: float data ('<f2',
/// '<f4', '<f8') is rounded to the operand type when the attention runs;
/// storage codes ('|u1' for FP8, '<u2' for f16/bf16, as --save-case writes
/// them) are the operand's values exactly.
static lab::HostTensor readInput(const std::string &file, FloatFormat format) {
  lab::NpyRaw raw = orFail(lab::readNpyRaw(file));
  if (raw.descr != "|u1" && raw.descr != "<u2")
    return orFail(lab::readNpy(file));
  unsigned width = raw.descr == "|u1" ? 1 : 2;
  if (getBitWidth(format) != 8 * width)
    fail("'" + file + "' holds '" + raw.descr + "' storage codes, which " +
         (width == 1 ? "need an f8E4M3FN or f8E5M2 operand"
                     : "need an f16 or bf16 operand") +
         "; the operand is " + getFormatName(format));
  lab::HostTensor t;
  t.shape = raw.shape;
  t.data.resize(raw.data.size() / width);
  for (size_t i = 0; i < t.data.size(); ++i) {
    uint32_t bits = static_cast<unsigned char>(raw.data[i * width]);
    if (width == 2)
      bits |= uint32_t(static_cast<unsigned char>(raw.data[i * width + 1]))
              << 8;
    t.data[i] = decode(bits, format);
  }
  return t;
}

/// Inputs of the attention: generated (float, unquantized) or read.
struct Inputs {
  lab::HostTensor q, k, v;
  int64_t sinkKeys = 0; ///< keys excluded from the collapse count
  /// Sinks: the mean over rows (or heads) of the largest sink jitter (the
  /// realized delta_k of P-Cast's threshold).
  double sinkExcess = 0.0;
};

static Inputs makeInputs(const CPUAttention::Signature &sig, double param,
                         const std::string &paramName) {
  Inputs in;
  int64_t b = sig.query[0], hq = sig.query[1], n = sig.query[2],
          d = sig.query[3], hkv = sig.key[1], m = sig.key[2];
  std::string gen = generator;
  if (gen == "npy") {
    if (qFile.empty() || kFile.empty() || vFile.empty())
      fail("--inputs=npy needs --q-npy, --k-npy and --v-npy");
    in.q = readInput(qFile, sig.queryFormat);
    in.k = readInput(kFile, sig.keyFormat);
    in.v = readInput(vFile, sig.valueFormat);
    return in;
  }
  if (gen == "random") {
    in.q = lab::randomNormal(sig.query, seed);
    in.k = lab::randomNormal(sig.key, seed + 1);
    in.v = lab::randomNormal(sig.value, seed + 2);
    return in;
  }
  if (b != 1 || hq != hkv || sig.value[3] != d)
    fail("--inputs=" + gen + " generates B = 1, Hq = Hkv, Dv = D");
  lab::AttentionInputs gi;
  if (gen == "sinks") {
    lab::SinkAttentionOptions o;
    o.numHeads = hq, o.numQueries = n, o.numKeys = m, o.headDim = d;
    o.sinks = {numSinks, paramName == "delta" ? param : double(delta),
               jitter, jitterPerHead};
    if (softmaxScaleOpt > 0)
      o.scale = double(softmaxScaleOpt);
    o.seed = seed;
    lab::SinkAttention sa = orFail(lab::generateSinkAttention(o));
    in.sinkExcess = lab::realizedSinkExcess(sa.sinkJitter, numSinks);
    gi = std::move(sa);
    in.sinkKeys = numSinks;
  } else if (gen == "offset") {
    lab::OffsetAttentionOptions o;
    o.numHeads = hq, o.numQueries = n, o.numKeys = m, o.headDim = d;
    o.offset = paramName == "offset" ? param : double(offset);
    o.seed = seed;
    gi = orFail(lab::generateOffsetAttention(o));
  } else if (gen == "ties") {
    lab::TiedMaxAttentionOptions o;
    o.numHeads = hq, o.numQueries = n, o.numKeys = m, o.headDim = d;
    o.numTied = numTied;
    o.minGap = gap;
    o.valueMean = vMean;
    o.valueStddev = vStddev;
    o.rowShift = rowShift;
    if (softmaxScaleOpt > 0)
      o.scale = double(softmaxScaleOpt);
    o.seed = seed;
    gi = orFail(lab::generateTiedMaxAttention(o));
  } else {
    fail("--inputs=" + gen + ": expected random, sinks, offset, ties or npy");
  }
  in.q = std::move(gi.q), in.k = std::move(gi.k), in.v = std::move(gi.v);
  return in;
}

/// Warns (once) when an input holds NaN or Inf: the float64 reference is
/// then NaN or Inf where the emulated output may be finite (satfinite casts
/// clamp Inf), and the metrics leave those entries out.
static void warnIfNonFinite(const Inputs &in) {
  static bool warned = false;
  if (warned)
    return;
  std::string counts;
  for (auto [name, t] : {std::pair{"Q", &in.q}, {"K", &in.k}, {"V", &in.v}}) {
    int64_t nan = llvm::count_if(t->data, [](float x) { return std::isnan(x); });
    int64_t inf = llvm::count_if(t->data, [](float x) { return std::isinf(x); });
    if (nan || inf)
      counts += llvm::formatv("{0}{1}: {2} NaN, {3} Inf", counts.empty() ? "" : "; ",
                              name, nan, inf)
                    .str();
  }
  if (counts.empty())
    return;
  warned = true;
  llvm::errs() << "lpattn-run: warning: the inputs hold non-finite values ("
               << counts
               << "); outputs whose float64 reference is NaN or Inf are left "
                  "out of the error metrics (counted as ref_non_finite)\n";
}

struct Row {
  double param = 0;
  double sinkExcess = 0;
  lab::ErrorMetrics metrics;
  CPURunResult run;
  /// For --save-case: the inputs and the float64 reference of the run.
  std::shared_ptr<Inputs> inputs;
  std::shared_ptr<lab::HostTensorF64> expected;
};

/// The descales the attention runs with: --q-descale, --k-descale,
/// --v-descale as scalars, or for an op with per-(batch, KV head) descales
/// three [B, Hkv] tensors (from --*-descale-npy, or filled with those values
/// times 2^(--descale-spread * u)).
static RunDescales makeDescales(const CPUAttention::Signature &sig) {
  if (!sig.perHeadDescales) {
    const char *option = descalePerHead ? "--descale-per-head"
                         : descaleSpread.getNumOccurrences()
                             ? "--descale-spread"
                         : !qDescaleFile.empty() ? "--q-descale-npy"
                                                 : nullptr;
    if (option)
      fail(std::string(option) +
           ": the attention has " +
           (sig.hasDescales ? "f32 scalar (per-tensor) descales"
                            : "no descales") +
           ", not per-(batch, KV head) ones");
    return RunDescales({qDescale, kDescale, vDescale});
  }
  std::array<lab::HostTensor, 3> perHead;
  if (!qDescaleFile.empty()) {
    perHead = {orFail(lab::readNpy(qDescaleFile)),
               orFail(lab::readNpy(kDescaleFile)),
               orFail(lab::readNpy(vDescaleFile))};
    for (auto [file, t] : {std::pair{&qDescaleFile, &perHead[0]},
                           {&kDescaleFile, &perHead[1]},
                           {&vDescaleFile, &perHead[2]}})
      if (t->shape != sig.descale)
        fail("'" + *file + "' has shape " + lab::formatShape(t->shape) +
             ": the attention's per-head descales are [B, Hkv] = " +
             lab::formatShape(sig.descale));
    return RunDescales(std::move(perHead));
  }
  float base[3] = {qDescale, kDescale, vDescale};
  for (unsigned i = 0; i < 3; ++i) {
    perHead[i] = lab::HostTensor::zeros(sig.descale);
    // u in [-1, 1] from 53 random bits: the same values on every platform.
    std::mt19937_64 engine(seed + 3 + i);
    for (float &x : perHead[i].data) {
      double u = double(engine() >> 11) * 0x1.0p-53 * 2.0 - 1.0;
      x = descaleSpread == 0.0
              ? base[i]
              : static_cast<float>(double(base[i]) *
                                   std::exp2(descaleSpread * u));
    }
  }
  return RunDescales(std::move(perHead));
}

/// Runs once and measures the result against the float64 attention of what
/// ran: the op's own scale, causal flag, mask, descales and GQA grouping.
static Row runOnce(CPUAttention &attention, const lab::HostTensor *mask,
                   double param, const std::string &paramName,
                   bool keepData) {
  const CPUAttention::Signature &sig = attention.getSignature();
  Inputs in = makeInputs(sig, param, paramName);
  warnIfNonFinite(in);
  Row row;
  row.param = param;
  row.sinkExcess = in.sinkExcess;
  RunDescales descales = makeDescales(sig);
  row.run = orFail(attention.run(in.q, in.k, in.v, mask, descales));
  lab::HostTensorF64 expected =
      orFail(referenceFor(sig, in.q, in.k, in.v, mask, descales));
  row.metrics = orFail(lab::computeMetrics(row.run.output, expected));
  if (keepData) {
    row.inputs = std::make_shared<Inputs>(std::move(in));
    row.expected = std::make_shared<lab::HostTensorF64>(std::move(expected));
  }
  return row;
}

//===----------------------------------------------------------------------===//
// --save-case: a GPU check case (docs/gpu-check.md)
//===----------------------------------------------------------------------===//

/// The tolerance constants of the GPU check (docs/gpu-check.md derives
/// them): output ulps, the accumulation budget eta (in units of the RMS of
/// V), and the limits on the MSE, max error and collapse statistics.
static constexpr double kCaseUlps = 2;
static constexpr double kCaseEta = 0x1p-8;
static constexpr double kCaseMseRel = 0.05;
static constexpr double kCaseMaxErrorFactor = 2;
static constexpr double kCaseCollapseRel = 0.05;

/// `t` rounded to `format` (RNE, satfinite, as the attention casts its
/// inputs): the storage bytes (little endian) and the values they hold.
static std::string encodeCodes(const lab::HostTensor &t, FloatFormat format,
                               lab::HostTensor &values) {
  unsigned width = getBitWidth(format) / 8;
  std::string bytes(t.data.size() * width, '\0');
  values.shape = t.shape;
  values.data.resize(t.data.size());
  for (size_t i = 0; i < t.data.size(); ++i) {
    uint32_t bits = encodeRNE(t.data[i], format, OverflowMode::SatFinite);
    std::memcpy(&bytes[i * width], &bits, width); // little endian
    values.data[i] = decode(bits, format);
  }
  return bytes;
}

static llvm::StringRef storageDescr(FloatFormat format) {
  switch (getBitWidth(format)) {
  case 8:
    return "|u1";
  case 16:
    return "<u2";
  default:
    return "<f4";
  }
}

/// Writes the case of `row` to `dir`: case.mlir; q.npy, k.npy, v.npy as
/// the kernel consumes them (the inputs rounded to the operand types, as
/// storage codes); mask.npy; o_cpu.npy (the emulation's O as f32);
/// o_ref.npy (the float64 reference of the unquantized inputs); atol.npy
/// (the per-row absolute tolerance); case.json.
static void writeCase(const std::string &dir,
                      const CPUAttention::Signature &sig, const Row &row,
                      const lab::HostTensor *mask,
                      const std::string &mlirText) {
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    fail("--save-case=" + dir + ": cannot create the directory: " +
         ec.message());
  auto check = [](llvm::Error err) {
    if (err)
      fail(llvm::toString(std::move(err)));
  };
  auto path = [&](llvm::StringRef name) { return (dir + "/" + name).str(); };
  check(llvm::writeToOutput(path("case.mlir"), [&](llvm::raw_ostream &os) {
    os << mlirText;
    if (!llvm::StringRef(mlirText).ends_with("\n"))
      os << "\n";
    return llvm::Error::success();
  }));
  const Inputs &in = *row.inputs;
  lab::HostTensor qv, kv, vv;
  check(lab::writeNpyRaw(path("q.npy"), storageDescr(sig.queryFormat),
                         sig.query, encodeCodes(in.q, sig.queryFormat, qv)));
  check(lab::writeNpyRaw(path("k.npy"), storageDescr(sig.keyFormat), sig.key,
                         encodeCodes(in.k, sig.keyFormat, kv)));
  check(lab::writeNpyRaw(path("v.npy"), storageDescr(sig.valueFormat),
                         sig.value, encodeCodes(in.v, sig.valueFormat, vv)));
  if (sig.hasMask)
    check(lab::writeNpy(path("mask.npy"), *mask));
  check(lab::writeNpy(path("o_cpu.npy"), row.run.output));
  check(lab::writeNpy(path("o_ref.npy"), *row.expected));

  // The tolerance (docs/gpu-check.md): per output row i,
  //   atol_i = v_ds (2^-m_p w_i V_max + eta V_rms)
  // with w_i the largest softmax weight (for the quantized inputs, those the
  // kernel sees) of a key whose P~ can round differently on the GPU: the
  // second largest, since the max key has P = 1 exactly in its tile, except
  // with the bias-corrected softmax (P = exp(m - beta m) < 1 there); m_p the
  // mantissa bits of the p type; V_max and V_rms the largest and RMS |V|
  // (quantized).
  std::array<float, 3> descales{qDescale, kDescale, vDescale};
  if (!sig.hasDescales)
    descales = {1, 1, 1};
  std::vector<double> maxWeight, secondWeight;
  lab::ReferenceOptions refOptions = getReferenceOptions(sig, mask, descales);
  refOptions.rowMaxWeight = &maxWeight;
  refOptions.rowSecondWeight = &secondWeight;
  bool maxKeyExact = sig.softmax != SoftmaxVariant::BiasCorrected;
  const std::vector<double> &rowWeight =
      maxKeyExact ? secondWeight : maxWeight;
  (void)orFail(lab::referenceAttention(qv, kv, vv, refOptions));
  double vMax = 0, vSumSq = 0;
  int64_t vCount = 0;
  for (float x : vv.data)
    if (std::isfinite(x)) {
      vMax = std::max(vMax, double(std::fabs(x)));
      vSumSq += double(x) * double(x);
      ++vCount;
    }
  double vRms = vCount ? std::sqrt(vSumSq / double(vCount)) : 0.0;
  double vDs = std::fabs(double(descales[2]));
  int mantissaBits =
      int(llvm::APFloat::semanticsPrecision(getSemantics(sig.policy.p))) - 1;
  double pUlp = std::ldexp(1.0, -mantissaBits);
  lab::HostTensor atol;
  atol.shape = {sig.result[0], sig.result[1], sig.result[2]};
  atol.data.resize(rowWeight.size());
  double atolMax = 0, atolMin = INFINITY;
  for (size_t i = 0; i < rowWeight.size(); ++i) {
    double a = vDs * (pUlp * rowWeight[i] * vMax + kCaseEta * vRms);
    // Rounded up to float, so that the bound is never tightened.
    float f = static_cast<float>(a);
    if (double(f) < a)
      f = std::nextafter(f, INFINITY);
    atol.data[i] = f;
    atolMax = std::max(atolMax, double(f));
    atolMin = std::min(atolMin, double(f));
  }
  check(lab::writeNpy(path("atol.npy"), atol));

  auto num = [](double x) -> llvm::json::Value {
    if (std::isfinite(x))
      return x;
    return nullptr;
  };
  auto name = [](FloatFormat f) { return getFormatName(f).str(); };
  const lab::ErrorMetrics &m = row.metrics;
  llvm::json::Object inputs{{"generator", generator.getValue()},
                            {"seed", int64_t(seed)}};
  if (generator == "sinks") {
    inputs["delta"] = double(delta);
    inputs["sinks"] = int64_t(numSinks);
    inputs["jitter"] = double(jitter);
    inputs["jitter_per_head"] = bool(jitterPerHead);
    inputs["sink_excess"] = row.sinkExcess;
  } else if (generator == "npy") {
    inputs["q"] = qFile.getValue();
    inputs["k"] = kFile.getValue();
    inputs["v"] = vFile.getValue();
    if (numSinks.getNumOccurrences())
      inputs["sinks"] = int64_t(numSinks);
  }
  llvm::json::Object root{
      {"format", "lpattn-gpu-case"},
      {"version", 1},
      {"mlir", "case.mlir"},
      {"query", llvm::json::Array(sig.query)},
      {"key", llvm::json::Array(sig.key)},
      {"value", llvm::json::Array(sig.value)},
      {"result", llvm::json::Array(sig.result)},
      {"dtypes",
       llvm::json::Object{{"q", name(sig.queryFormat)},
                          {"k", name(sig.keyFormat)},
                          {"v", name(sig.valueFormat)},
                          {"o", name(sig.resultFormat)}}},
      {"files",
       llvm::json::Object{
           {"q", "q.npy"},
           {"k", "k.npy"},
           {"v", "v.npy"},
           {"mask", sig.hasMask ? llvm::json::Value("mask.npy")
                                : llvm::json::Value(nullptr)},
           {"o_cpu", "o_cpu.npy"},
           {"o_ref", "o_ref.npy"},
           {"atol", "atol.npy"}}},
      {"has_descales", sig.hasDescales},
      {"has_mask", sig.hasMask},
      {"descales", llvm::json::Object{{"q", double(descales[0])},
                                      {"k", double(descales[1])},
                                      {"v", double(descales[2])}}},
      {"policy",
       llvm::json::Object{
           {"qk", name(sig.policy.qk)},
           {"score", name(sig.policy.score)},
           {"p", name(sig.policy.p)},
           {"v", name(sig.policy.v)},
           {"acc", name(sig.policy.acc)},
           {"out", name(sig.policy.out)},
           {"overflow",
            std::string(stringifyOverflowMode(sig.policy.overflow))}}},
      {"safeguards",
       llvm::json::Object{
           {"scale", sig.softmaxScale},
           {"p_scale", sig.pScale},
           {"kv_order", std::string(stringifyKVOrder(sig.kvOrder))},
           {"softmax",
            llvm::json::Object{
                {"variant", std::string(stringifySoftmaxVariant(sig.softmax))},
                {"beta", sig.beta},
                {"tol", sig.tol}}},
           {"causal", sig.causal}}},
      {"tiles", llvm::json::Array{sig.tileQ, sig.tileKV}},
      {"inputs", std::move(inputs)},
      {"cpu",
       llvm::json::Object{{"mse", num(m.mse)},
                          {"mean_error", num(m.meanError)},
                          {"bias_t", num(m.biasT)},
                          {"max_abs_error", num(m.maxAbsError)},
                          {"relative_rmse", num(m.relativeRMSE)},
                          {"nan", m.numNaN},
                          {"inf", m.numInf},
                          {"ref_non_finite", m.numReferenceNonFinite},
                          {"collapsed", row.run.collapsed},
                          {"positive", row.run.positive},
                          {"collapse_fraction", row.run.collapseFraction()},
                          {"seconds", row.run.seconds}}},
      {"tolerance",
       llvm::json::Object{
           {"rule", "|gpu - cpu| <= ulps * ulp_out(|cpu|) + atol[row]; "
                    "atol[row] = v_descale * (p_rel_ulp * row_weight * "
                    "v_max + eta * v_rms); |mse_gpu / mse_cpu - 1| <= "
                    "mse_rel; max_err_gpu <= max_error_factor * "
                    "max_err_cpu + ulps * ulp_out(max|ref|); "
                    "|collapse_gpu - collapse_cpu| <= collapse_rel * "
                    "max(collapse_cpu, 0.01)"},
           {"doc", "docs/gpu-check.md"},
           {"out", name(sig.resultFormat)},
           {"ulps", kCaseUlps},
           {"eta", kCaseEta},
           {"p_mantissa_bits", int64_t(mantissaBits)},
           {"p_rel_ulp", pUlp},
           {"row_weight", maxKeyExact ? "second largest softmax weight"
                                      : "largest softmax weight"},
           {"v_max", vMax},
           {"v_rms", vRms},
           {"v_descale", vDs},
           {"row_atol", "atol.npy"},
           {"atol_max", atolMax},
           {"atol_min", std::isfinite(atolMin) ? atolMin : 0.0},
           {"mse_rel", kCaseMseRel},
           {"max_error_factor", kCaseMaxErrorFactor},
           {"collapse_rel", kCaseCollapseRel}}}};
  if (sig.hasMask)
    root["mask_shape"] = llvm::json::Array(sig.mask);
  check(llvm::writeToOutput(path("case.json"), [&](llvm::raw_ostream &os) {
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
    return llvm::Error::success();
  }));
}

/// --device gpu/auto: the case (inputs, CPU emulation, float64 reference)
/// in a temporary directory, the sm_90a artifact next to it, and
/// lpattn-gpu-run (next to this executable) on both, with its output as
/// ours. Returns lpattn-gpu-run's exit status, or -1 with `why` set when
/// there is no GPU to run on or the attention does not compile for one.
static int runOnGPU(const CPUAttention &attention, const Row &row,
                    const lab::HostTensor *mask, const std::string &mlir,
                    std::string &why) {
  llvm::SmallString<128> dir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("lpattn-run-gpu", dir)) {
    why = "cannot create a temporary directory: " + ec.message();
    return -1;
  }
  writeCase(dir.str().str(), attention.getSignature(), row, mask, mlir);

  // The sibling tools: lpattn-gpu-run (the runtime, no MLIR).
  std::string self = llvm::sys::fs::getMainExecutable(
      "lpattn-run", reinterpret_cast<void *>(&runOnGPU));
  llvm::SmallString<256> gpuRun(llvm::sys::path::parent_path(self));
  llvm::sys::path::append(gpuRun, "lpattn-gpu-run");
  if (!llvm::sys::fs::can_execute(gpuRun)) {
    why = std::string(gpuRun) + " is not built";
    return -1;
  }

  mlir::DialectRegistry registry;
  registerSM90CompilerDependencies(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  context.printOpOnDiagnostic(false);
  std::string diagnostics;
  {
    llvm::raw_string_ostream os(diagnostics);
    mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
      os << d.str() << "; ";
      return mlir::success();
    });
    mlir::OwningOpRef<mlir::ModuleOp> module =
        mlir::parseSourceString<mlir::ModuleOp>(mlir, &context);
    llvm::SmallString<256> prefix(dir);
    llvm::sys::path::append(prefix, "attn");
    if (!module) {
      why = "cannot parse the attention: " + diagnostics;
      return -1;
    }
    if (llvm::Error err = compileSM90(*module, prefix, SM90CompileOptions())) {
      why = "the attention does not compile for sm_90a: " + diagnostics +
            llvm::toString(std::move(err));
      return -1;
    }
  }

  // Is there a GPU? lpattn-gpu-run says so itself (exit 1, one message).
  llvm::SmallString<256> json(dir), log(dir);
  llvm::sys::path::append(json, "attn.json");
  llvm::sys::path::append(log, "gpu-run.log");
  std::vector<std::string> args{std::string(gpuRun), std::string(json),
                                "--inputs", std::string(dir), "--bench",
                                "20"};
  if (::json)
    args.push_back("--json");
  llvm::SmallVector<llvm::StringRef> argRefs(args.begin(), args.end());
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, std::nullopt,
                                                llvm::StringRef(log)};
  int rc = llvm::sys::ExecuteAndWait(gpuRun, argRefs, std::nullopt, redirects);
  auto logText = llvm::MemoryBuffer::getFile(log);
  std::string message =
      logText ? llvm::StringRef((*logText)->getBuffer()).trim().str() : "";
  (void)llvm::sys::fs::remove_directories(dir);
  if (rc == 1 && device == "auto") {
    why = message.empty() ? "lpattn-gpu-run failed" : message;
    return -1;
  }
  if (!message.empty())
    llvm::errs() << message << "\n";
  return rc;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions({&problemCat, &inputCat, &outputCat});
  cl::ParseCommandLineOptions(
      argc, argv,
      "lpattn-run: compile an attention with lpattn's CPU pipeline, run it "
      "with bit-exact low-precision emulation and compare it with a float64 "
      "reference of the same unquantized inputs.\n\n"
      "  lpattn-run --nq 128 --nk 4096 --inputs sinks --delta 8\n"
      "  lpattn-run --inputs sinks --sweep delta:0:20:1 --p-scale 1 "
      "--reverse=false --json\n"
      "  lpattn-run examples/attention.mlir\n");

  // The sweep, if any.
  std::string paramName;
  double start = 0, stop = 0, step = 1;
  if (!sweep.empty()) {
    llvm::SmallVector<llvm::StringRef> parts;
    llvm::StringRef(sweep).split(parts, ':');
    if (parts.size() != 4 || parts[1].getAsDouble(start) ||
        parts[2].getAsDouble(stop) || parts[3].getAsDouble(step) ||
        !(step > 0) || !(stop >= start))
      fail("--sweep=" + sweep + ": expected param:start:stop:step with "
           "step > 0 and stop >= start");
    paramName = parts[0].str();
    if (paramName != "delta" && paramName != "offset" &&
        paramName != "p-scale")
      fail("--sweep: unknown parameter '" + paramName +
           "' (delta, offset, p-scale)");
    if (paramName == "p-scale" && !(step > 1 && start > 0))
      fail("--sweep p-scale multiplies: needs start > 0 and step > 1");
  }

  checkOptions();
  if (!saveCase.empty() && !sweep.empty())
    fail("--save-case=" + saveCase + ": a case is one run; it takes no "
         "--sweep");
  if (noRun && !printIR)
    fail("--no-run stops after --print-mlir; give --print-mlir too");
  if (device != "cpu" && device != "gpu" && device != "auto")
    fail("--device=" + device + ": expected cpu, gpu or auto");
  if (device != "cpu" && !sweep.empty())
    fail("--device=" + device + ": a GPU run is one run; it takes no --sweep");
  std::vector<double> params{0.0};
  if (!paramName.empty())
    params = sweepPoints(paramName, start, stop, step);

  std::string mlirText;
  bool fromFile = !inputFile.empty();
  if (fromFile) {
    auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(inputFile);
    if (!buffer)
      fail("cannot read '" + inputFile + "': " + buffer.getError().message());
    mlirText = (*buffer)->getBuffer().str();
    if (paramName == "p-scale")
      fail("--sweep p-scale needs a described problem, not an .mlir file");
    // Nothing to run is an error, never the default problem.
    if (llvm::StringRef(mlirText).trim().empty())
      fail("'" + inputFile + "' is empty: it holds no lpattn.attention");
  }

  // .npy inputs give the problem its shape.
  if (generator == "npy" && !fromFile && !qFile.empty() &&
      !kFile.empty() && !vFile.empty()) {
    lab::NpyRaw q = orFail(lab::readNpyRaw(qFile));
    lab::NpyRaw k = orFail(lab::readNpyRaw(kFile));
    if (q.shape.size() != 4 || k.shape.size() != 4)
      fail("--q-npy and --k-npy must be 4-D [B, H, N, D]; got " +
           lab::formatShape(q.shape) + " and " + lab::formatShape(k.shape));
    for (auto [file, shape] : {std::pair{&qFile, &q.shape}, {&kFile, &k.shape}})
      if (llvm::is_contained(*shape, 0))
        fail("'" + *file + "' has shape " + lab::formatShape(*shape) +
             ": every dimension must be positive");
    batch = q.shape[0], heads = q.shape[1], nq = q.shape[2];
    headDim = q.shape[3], kvHeads = k.shape[1], nk = k.shape[2];
  }

  // The first --sinks keys are left out of the collapse count: the sink
  // generator's, or those of .npy inputs that hold sinks (--sinks given).
  int64_t sinkKeys = generator == "sinks" || numSinks.getNumOccurrences()
                         ? int64_t(numSinks)
                         : 0;
  std::vector<Row> rows;
  std::unique_ptr<CPUAttention> attention;
  std::string caseMLIR; // the attention's MLIR, for --save-case
  auto compile = [&](double s) {
    CPUCompileOptions options;
    options.collapseSinkKeys = sinkKeys;
    options.tileQ = tileQ;
    options.tileKV = tileKV;
    options.maxMemoryBytes = maxMemory;
    if (!fromFile) {
      AttentionProblem problem = describedProblem();
      problem.pScale = s;
      if (!noRun)
        checkProblemSize(problem);
      if (printIR || !saveCase.empty() || device != "cpu")
        caseMLIR = problem.toMLIR();
      if (printIR)
        llvm::outs() << caseMLIR << "\n";
      if (noRun)
        std::exit(0);
      attention = orFail(CPUAttention::compile(problem, options));
    } else {
      caseMLIR = mlirText;
      if (printIR)
        llvm::outs() << mlirText << "\n";
      if (noRun)
        std::exit(0);
      attention = orFail(CPUAttention::compile(mlirText, options));
    }
  };

  std::optional<lab::HostTensor> mask;
  if (!maskFile.empty())
    mask = orFail(lab::readNpy(maskFile));
  for (size_t i = 0; i < params.size(); ++i) {
    double param = params[i];
    if (!attention || paramName == "p-scale")
      compile(paramName == "p-scale" ? param : double(pScale));
    const CPUAttention::Signature &sig = attention->getSignature();
    if (sig.hasMask && !mask)
      fail("the attention has a mask operand: give it with --mask-npy");
    if (!sig.hasMask && mask)
      fail("--mask-npy: the attention has no mask operand");
    rows.push_back(runOnce(*attention, mask ? &*mask : nullptr, param,
                           paramName, !saveCase.empty() || device != "cpu"));
    if (params.size() > 1)
      llvm::errs() << llvm::format("\r[%zu/%zu] %s = %g", i + 1,
                                   params.size(), paramName.c_str(), param);
  }
  if (params.size() > 1)
    llvm::errs() << "\n";

  if (!outNpy.empty())
    if (llvm::Error err = lab::writeNpy(outNpy, rows.back().run.output))
      fail(llvm::toString(std::move(err)));
  if (!saveCase.empty())
    writeCase(saveCase, attention->getSignature(), rows.back(),
              mask ? &*mask : nullptr, caseMLIR);
  if (device != "cpu") {
    std::string why;
    int rc = runOnGPU(*attention, rows.back(), mask ? &*mask : nullptr,
                      caseMLIR, why);
    if (rc >= 0)
      return rc;
    if (device == "gpu")
      fail("--device=gpu: " + why);
    llvm::errs() << "lpattn-run: --device=auto: running on the CPU (" << why
                 << ")\n";
  }

  const CPUAttention::Signature &sig = attention->getSignature();
  if (json) {
    // JSON has no NaN or Inf: those metrics are null.
    auto num = [](double x) -> llvm::json::Value {
      if (std::isfinite(x))
        return x;
      return nullptr;
    };
    llvm::json::Array results;
    for (const Row &r : rows) {
      llvm::json::Object o{
          {"mse", num(r.metrics.mse)},
          {"mean_error", num(r.metrics.meanError)},
          {"bias_t", num(r.metrics.biasT)},
          {"max_abs_error", num(r.metrics.maxAbsError)},
          {"relative_rmse", num(r.metrics.relativeRMSE)},
          {"nan", r.metrics.numNaN},
          {"inf", r.metrics.numInf},
          {"ref_non_finite", r.metrics.numReferenceNonFinite},
          {"collapsed", r.run.collapsed},
          {"positive", r.run.positive},
          {"collapse_fraction", r.run.collapseFraction()},
          {"seconds", r.run.seconds}};
      if (generator == "sinks")
        o["sink_excess"] = r.sinkExcess;
      if (!paramName.empty())
        o[paramName] = r.param;
      results.push_back(std::move(o));
    }
    llvm::json::Object top{{"query", llvm::json::Array(sig.query)},
                           {"key", llvm::json::Array(sig.key)},
                           {"inputs", generator.getValue()},
                           {"results", std::move(results)}};
    llvm::outs() << llvm::formatv("{0:2}", llvm::json::Value(std::move(top)))
                 << "\n";
    return 0;
  }

  llvm::outs() << "attention Q " << lab::formatShape(sig.query) << " K "
               << lab::formatShape(sig.key) << " V "
               << lab::formatShape(sig.value) << ", inputs " << generator
               << ", CPU (bit-exact emulation)\n";
  std::string head = paramName.empty() ? "" : llvm::formatv("{0,10} ", paramName).str();
  llvm::outs() << head
               << llvm::formatv(
                      "{0,12} {1,12} {2,12} {3,12} {4,6} {5,6} {6,10} {7,9}\n",
                      "MSE", "mean err", "max|err|", "rel RMSE", "NaN", "Inf",
                      "collapse", "time[s]");
  for (const Row &r : rows) {
    if (!paramName.empty())
      llvm::outs() << llvm::formatv("{0,10} ", llvm::format("%g", r.param));
    llvm::outs() << llvm::formatv(
        "{0,12} {1,12} {2,12} {3,12} {4,6} {5,6} {6,10} {7,9}\n",
        llvm::format("%.4e", r.metrics.mse),
        llvm::format("%.3e", r.metrics.meanError),
        llvm::format("%.4e", r.metrics.maxAbsError),
        llvm::format("%.4e", r.metrics.relativeRMSE), r.metrics.numNaN,
        r.metrics.numInf, llvm::format("%.4f", r.run.collapseFraction()),
        llvm::format("%.3f", r.run.seconds));
  }
  for (const Row &r : rows)
    if (r.metrics.numReferenceNonFinite > 0) {
      llvm::outs() << "(" << r.metrics.numReferenceNonFinite
                   << " outputs with a NaN or Inf reference are left out of "
                      "the errors)\n";
      break;
    }
  return 0;
}
