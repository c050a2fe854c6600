//===- lpattn-gpu-run.cpp - run a compiled attention on the GPU, check it --===//
//
// Loads NAME.json (+ NAME.cubin), the launch descriptor of
// docs/launch-descriptor.md, uploads Q, K, V (from a case directory that
// `lpattn-run --save-case` wrote, or generated), launches the kernel through
// the runtime's C API, downloads O and measures it as lpattn-run measures
// the CPU emulation: against the float64 attention of the unquantized inputs
// (o_ref.npy), and against the CPU emulation's own O (o_cpu.npy) under the
// tolerance the case file states (docs/gpu-check.md). --bench times
// launches with the runtime's events. Plain C++17 and the runtime: no LLVM,
// so it builds on the GPU machine (cmake -S runtime -B build-rt).
//
// Exit status: 0 when everything ran (and, with references, every check
// passed); 1 for an error (no driver or GPU, a bad artifact or file, a shape
// or numerics mismatch between the case and the artifact), with one message;
// 2 when the kernel ran but a check failed.
//
// A debug artifact (`lpattn-compile --dump-p`, signature.debug_p) also
// writes one tile of P * S before the FP8 cast and its codes after it:
// every code is checked against the RNE cast of its input (HostFormats.h,
// the host twin of lpattn::encodeRNE), and --p-dump DIR saves both for the
// CPU machine's own check (`lpattn-check-casts --p-dump DIR`).
//
//===----------------------------------------------------------------------===//

#include "GpuCheck.h"
#include "HostFormats.h"
#include "NpyFile.h"

#include "Descriptor.h"
#include "lpattn-rt/Runtime.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <new>
#include <string>
#include <tuple>
#include <vector>

using namespace lpattn;
using namespace lpattn::rt;
using namespace lpattn::rt::gpucheck;

namespace {

const char *kUsage =
    "usage: lpattn-gpu-run NAME.json [options]\n"
    "\n"
    "Runs the compiled attention NAME.json (+ NAME.cubin) on the GPU through\n"
    "the lpattn runtime and measures its output.\n"
    "\n"
    "  --inputs DIR       a case directory written by `lpattn-run --save-case`:\n"
    "                     q.npy, k.npy, v.npy (storage codes: FP8 '|u1',\n"
    "                     f16/bf16 '<u2', f32 '<f4'), case.json (descales,\n"
    "                     numerics, tolerance), o_cpu.npy, o_ref.npy, atol.npy;\n"
    "                     O is checked against both references\n"
    "                     (without it: random inputs, see --seed; no check)\n"
    "  --seed N           seed of the random inputs (default 0): Q, K, V are\n"
    "                     N(0, 1) from seeds N, N+1, N+2 (Box-Muller on\n"
    "                     mt19937_64) rounded to their formats (RNE,\n"
    "                     satfinite): the inputs of `lpattn-run --inputs random\n"
    "                     --seed N` for the same shapes; descales 1\n"
    "  --random fast      random inputs of the same distribution, much faster\n"
    "                     (for large speed runs): codes from a table of\n"
    "                     N(0, 1) quantiles indexed by a splitmix64 hash; not\n"
    "                     lpattn-run's values (default: --random exact)\n"
    "  --bench ITERS      after the checked launch, --warmup launches, then\n"
    "                     time ITERS launches with events: ms and TFLOP/s\n"
    "                     (2 B Hq Nq Nk (D + Dv) FLOP, halved when causal)\n"
    "  --warmup N         warm-up launches before --bench (default 10)\n"
    "  --json             print JSON (lpattn-run --json's fields plus the GPU's)\n"
    "  --output-npy FILE  write O as float32 .npy\n"
    "  --save-inputs DIR  write the Q, K, V codes uploaded as DIR/{q,k,v}.npy\n"
    "  --p-dump DIR       a debug artifact's P dump (lpattn-compile --dump-p):\n"
    "                     write DIR/p_scaled.npy ('<f4', P * S before the\n"
    "                     cast), DIR/p_codes.npy ('|u1', the codes) and\n"
    "                     DIR/p_dump.json (p type, overflow), for\n"
    "                     `lpattn-check-casts --p-dump DIR`. A debug artifact's\n"
    "                     codes are always checked against the RNE cast of\n"
    "                     their inputs (a mismatch: exit status 2)\n"
    "  --device N         CUDA device ordinal (default 0)\n"
    "\n"
    "Exit status: 0 ok; 1 error (one message on stderr); 2 a check failed.\n";

[[noreturn]] void fail(const std::string &message) {
  std::fprintf(stderr, "lpattn-gpu-run: error: %s\n", message.c_str());
  std::exit(1);
}

struct Options {
  std::string descriptor, inputsDir, outputNpy, saveInputs, pDumpDir;
  bool json = false, fastRandom = false;
  int64_t bench = 0, warmup = 10;
  uint64_t seed = 0;
  int device = 0;
};

int64_t parseInt(const std::string &flag, const std::string &text,
                 int64_t min, int64_t max) {
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end || errno || v < min || v > max)
    fail(flag + "=" + text + ": expected an integer in [" +
         std::to_string(min) + ", " + std::to_string(max) + "]");
  return v;
}

Options parseOptions(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (arg.rfind("--", 0) != 0) {
      if (!o.descriptor.empty())
        fail("more than one descriptor given ('" + o.descriptor + "' and '" +
             arg + "')");
      o.descriptor = arg;
      continue;
    }
    std::string flag = arg, value;
    bool hasValue = false;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      hasValue = true;
    }
    auto next = [&]() -> std::string {
      if (hasValue)
        return value;
      if (i + 1 >= argc)
        fail(flag + " needs a value");
      return argv[++i];
    };
    if (flag == "--json" && !hasValue)
      o.json = true;
    else if (flag == "--inputs")
      o.inputsDir = next();
    else if (flag == "--seed")
      o.seed = uint64_t(parseInt(flag, next(), 0, INT64_MAX));
    else if (flag == "--random") {
      std::string v = next();
      if (v != "fast" && v != "exact")
        fail("--random=" + v + ": expected exact or fast");
      o.fastRandom = v == "fast";
    } else if (flag == "--bench")
      o.bench = parseInt(flag, next(), 1, 1000000);
    else if (flag == "--warmup")
      o.warmup = parseInt(flag, next(), 0, 1000000);
    else if (flag == "--output-npy")
      o.outputNpy = next();
    else if (flag == "--save-inputs")
      o.saveInputs = next();
    else if (flag == "--p-dump")
      o.pDumpDir = next();
    else if (flag == "--device")
      o.device = int(parseInt(flag, next(), 0, 1024));
    else
      fail("unknown option '" + arg + "' (see --help)");
  }
  if (o.descriptor.empty())
    fail("no descriptor given (usage: lpattn-gpu-run NAME.json [--inputs "
         "DIR] [--json] [--bench ITERS] [--output-npy FILE])");
  return o;
}

/// The runtime's message for a failed call, as one error.
void check(lpattnRtStatus status, const std::string &what) {
  if (status != LPATTN_RT_SUCCESS)
    fail(what + ": " + lpattnRtGetLastError() + " [" +
         lpattnRtStatusName(status) + "]");
}

std::string shapeText(const std::vector<int64_t> &s) {
  return npy::formatShape(s);
}

/// Row-major strides of `shape`.
std::vector<int64_t> contiguousStrides(const std::vector<int64_t> &shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;)
    strides[i - 1] = strides[i] * shape[i];
  return strides;
}

/// One tensor parameter's host data, in storage form and C order.
struct HostData {
  std::vector<unsigned char> bytes;
  FloatFormat format = FloatFormat::F32;
};

/// The dtypes a tensor of `format` may arrive as.
bool descrFits(const std::string &descr, FloatFormat format) {
  switch (format) {
  case FloatFormat::F8E4M3FN:
  case FloatFormat::F8E5M2:
    return descr == "|u1" || descr == "<u1";
  case FloatFormat::F16:
    return descr == "<u2" || descr == "<f2";
  case FloatFormat::BF16:
    return descr == "<u2";
  case FloatFormat::F32:
    return descr == "<f4";
  }
  return false;
}

/// Reads DIR/FILE for parameter `p`: its dtype must be the storage form of
/// the parameter's format and its shape the parameter's.
HostData readTensor(const std::string &path, const Param &p) {
  npy::Array a;
  std::string error;
  if (!npy::read(path, a, error))
    fail(error);
  FloatFormat format = *p.dtype;
  if (!descrFits(a.descr, format))
    fail(path + ": dtype '" + a.descr + "' does not hold " +
         std::string(stringifyFloatFormat(format)) + " codes for kernel "
         "parameter \"" + p.role + "\" (expected '" +
         std::string(storageDescr(format)) + "')");
  if (a.shape != p.shape)
    fail(path + ": shape " + shapeText(a.shape) + " differs from kernel "
         "parameter \"" + p.role + "\"'s " + shapeText(p.shape) +
         " in the descriptor");
  return {std::move(a.bytes), format};
}

/// A float32 or float64 reference of shape `shape`, as doubles.
std::vector<double> readReference(const std::string &path,
                                  const std::vector<int64_t> &shape,
                                  const char *what) {
  npy::Array a;
  std::string error;
  if (!npy::read(path, a, error))
    fail(error);
  if (a.shape != shape)
    fail(path + ": shape " + shapeText(a.shape) + " differs from the " +
         what + " shape " + shapeText(shape));
  std::vector<double> out(size_t(a.numElements()));
  if (a.descr == "<f8") {
    std::memcpy(out.data(), a.bytes.data(), a.bytes.size());
  } else if (a.descr == "<f4") {
    for (size_t i = 0; i < out.size(); ++i) {
      float f;
      std::memcpy(&f, a.bytes.data() + 4 * i, 4);
      out[i] = f;
    }
  } else {
    fail(path + ": dtype '" + a.descr + "': expected '<f4' or '<f8'");
  }
  return out;
}

/// Host bytes in C order -> the layout of `strides` (elements), for a
/// parameter whose strides are not the contiguous ones.
std::vector<unsigned char> scatter(const std::vector<unsigned char> &src,
                                   const std::vector<int64_t> &shape,
                                   const std::vector<int64_t> &strides,
                                   unsigned width, size_t extent,
                                   bool toStrided) {
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  std::vector<unsigned char> dst(toStrided ? extent * width
                                           : size_t(count) * width);
  std::vector<int64_t> index(shape.size(), 0);
  for (int64_t flat = 0; flat < count; ++flat) {
    int64_t off = 0;
    for (size_t d = 0; d < shape.size(); ++d)
      off += index[d] * strides[d];
    if (toStrided)
      std::memcpy(&dst[size_t(off) * width], &src[size_t(flat) * width],
                  width);
    else
      std::memcpy(&dst[size_t(flat) * width], &src[size_t(off) * width],
                  width);
    for (size_t d = shape.size(); d-- > 0;) {
      if (++index[d] < shape[d])
        break;
      index[d] = 0;
    }
  }
  return dst;
}

/// Elements a tensor of `shape` and `strides` spans in memory.
size_t extentOf(const std::vector<int64_t> &shape,
                const std::vector<int64_t> &strides) {
  int64_t last = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    last += (shape[d] - 1) * strides[d];
  return size_t(last + 1);
}

std::string fmt(const char *format, double x) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, x);
  return buf;
}

/// The numerics of the case must be those compiled into the kernel: a
/// comparison of different attentions would say nothing.
void checkCaseAgainstDescriptor(const CaseFile &c, const LaunchDescriptor &d,
                                const std::string &descriptorPath) {
  auto mismatch = [&](const std::string &what, const std::string &inCase,
                      const std::string &inKernel) {
    fail(c.dir + "/case.json and " + descriptorPath + " disagree on " + what +
         ": the case has " + inCase + ", the kernel " + inKernel +
         " (the CPU emulation would not model this kernel; regenerate the "
         "case or the artifact)");
  };
  for (auto [role, caseShape] :
       {std::pair{"q", &c.query}, {"k", &c.key}, {"v", &c.value},
        {"o", &c.result}})
    if (const Param *p = d.findParam(role); p && p->shape != *caseShape)
      mismatch(std::string("the shape of ") + role, shapeText(*caseShape),
               shapeText(p->shape));
  const CompiledNumerics &n = d.numerics;
  for (auto [name, inCase, inKernel] :
       {std::tuple{"policy.qk", c.qk, stringifyFloatFormat(n.qk)},
        {"policy.score", c.score, stringifyFloatFormat(n.score)},
        {"policy.p", c.p, stringifyFloatFormat(n.p)},
        {"policy.v", c.v, stringifyFloatFormat(n.v)},
        {"policy.acc", c.acc, stringifyFloatFormat(n.acc)},
        {"policy.out", c.out, stringifyFloatFormat(n.out)},
        {"policy.overflow", c.overflow, stringifyOverflowMode(n.overflow)},
        {"safeguards.kv_order", c.kvOrder, stringifyKVOrder(n.kvOrder)},
        {"safeguards.softmax.variant", c.softmax,
         stringifySoftmaxVariant(n.softmax)}})
    if (inCase != inKernel)
      mismatch(name, inCase, std::string(inKernel));
  if (c.pScale != n.pScale)
    mismatch("safeguards.p_scale", jsonNumber(c.pScale),
             jsonNumber(n.pScale));
  if (std::fabs(c.scale - n.scale) > 1e-6 * std::fabs(c.scale))
    mismatch("safeguards.scale", fmt("%.9g", c.scale), fmt("%.9g", n.scale));
  if (c.causal != n.causal)
    mismatch("safeguards.causal", c.causal ? "true" : "false",
             n.causal ? "true" : "false");
  // Only Bc changes the numerics (rows are independent; the KV tiling
  // decides the online-softmax rescales and which keys share the sink's
  // tile).
  if (c.tileKV > 0 && n.tileKV > 0 && c.tileKV != n.tileKV)
    mismatch("the KV tile size Bc (tiles[1])", std::to_string(c.tileKV),
             std::to_string(n.tileKV));
  if (c.hasMask != d.hasMask)
    mismatch("the mask operand", c.hasMask ? "one" : "none",
             d.hasMask ? "one" : "none");
  if (c.hasDescales && !d.hasDescales &&
      (c.qDescale != 1 || c.kDescale != 1 || c.vDescale != 1))
    mismatch("the descales", "q, k, v descales", "no descale parameters");
}

/// "row 3, key 17: P * S = 1.234 (0x3f9df3b6), expected 0x38, got 0x39".
std::string describeMismatch(const PCastMismatch &m) {
  uint32_t bits;
  std::memcpy(&bits, &m.input, 4);
  char buf[160];
  std::snprintf(buf, sizeof(buf),
                "row %lld, key %lld: P * S = %.9g (0x%08x), expected 0x%02x, "
                "got 0x%02x",
                (long long)m.row, (long long)m.key, double(m.input), bits,
                m.expected, m.got);
  return buf;
}

struct Device {
  std::string name = "?";
  int major = 0, minor = 0, driverVersion = 0;
};

} // namespace

namespace {
int run(int argc, char **argv) {
  Options opt = parseOptions(argc, argv);

  // The descriptor, read and checked without a driver.
  LaunchDescriptor desc;
  std::string error;
  if (!loadDescriptorFile(opt.descriptor, desc, error))
    fail(opt.descriptor + ": " + error);
  check(lpattnRtCheckArtifact(opt.descriptor.c_str()),
        "artifact " + opt.descriptor);
  const Param *pq = desc.findParam("q"), *pk = desc.findParam("k"),
              *pv = desc.findParam("v"), *po = desc.findParam("o");
  if (!pq || !pk || !pv || !po || pq->shape.size() != 4 ||
      pk->shape.size() != 4 || pv->shape.size() != 4 ||
      po->shape.size() != 4)
    fail(opt.descriptor + ": expected 4-D q, k, v and o parameters");
  if (!opt.pDumpDir.empty() && !desc.debugP)
    fail("--p-dump " + opt.pDumpDir + ": " + opt.descriptor +
         " is not a debug artifact with a P dump (signature.debug_p; "
         "compile it with lpattn-compile --dump-p)");
  const std::vector<int64_t> &oShape = po->shape;
  const int64_t rowLength = oShape[3];
  int64_t numOut = 1;
  for (int64_t d : oShape)
    numOut *= d;

  // Inputs: the case directory, or generated.
  bool haveCase = !opt.inputsDir.empty();
  CaseFile theCase;
  std::vector<double> oRef;
  std::vector<float> oCpu;
  if (haveCase) {
    if (!readCaseFile(opt.inputsDir, theCase, error))
      fail(error);
    checkCaseAgainstDescriptor(theCase, desc, opt.descriptor);
  }
  std::vector<HostData> host(desc.params.size());
  std::vector<float> scalars(desc.params.size(), 1.0f);
  for (size_t i = 0; i < desc.params.size(); ++i) {
    const Param &p = desc.params[i];
    if (p.kind == ParamKind::F32) {
      if (haveCase)
        scalars[i] = p.role == "q_ds"   ? theCase.qDescale
                     : p.role == "k_ds" ? theCase.kDescale
                                        : theCase.vDescale;
      continue;
    }
    if (p.role == "o" || p.role == "stats" || p.role == "p_scaled" ||
        p.role == "p_codes")
      continue;
    if (p.isI64 || !p.dtype)
      fail(opt.descriptor + ": parameter \"" + p.role +
           "\" has no float dtype");
    int64_t count = 1;
    for (int64_t d : p.shape)
      count *= d;
    if (haveCase) {
      std::string file = p.role == "q"   ? theCase.qFile
                         : p.role == "k" ? theCase.kFile
                         : p.role == "v" ? theCase.vFile
                                         : theCase.maskFile;
      if (file.empty())
        fail(opt.inputsDir + "/case.json names no file for kernel parameter "
             "\"" + p.role + "\"");
      host[i] = readTensor(opt.inputsDir + "/" + file, p);
    } else if (p.role == "mask") {
      host[i] = {std::vector<unsigned char>(size_t(count) * 4, 0),
                 FloatFormat::F32};
    } else {
      // Seeds as lpattn-run's: Q seed, K seed + 1, V seed + 2.
      uint64_t s = opt.seed + (p.role == "q" ? 0 : p.role == "k" ? 1 : 2);
      host[i] = {opt.fastRandom ? fastRandomCodes(count, *p.dtype, s)
                                : randomCodes(count, *p.dtype, s),
                 *p.dtype};
    }
  }
  if (!opt.saveInputs.empty())
    for (size_t i = 0; i < desc.params.size(); ++i) {
      const Param &p = desc.params[i];
      if (host[i].bytes.empty() || p.role == "mask")
        continue;
      if (!npy::write(opt.saveInputs + "/" + p.role + ".npy",
                      storageDescr(host[i].format), p.shape,
                      host[i].bytes.data(), host[i].bytes.size(), error))
        fail(error);
    }
  std::vector<float> rowAtol;
  if (haveCase) {
    oRef = readReference(opt.inputsDir + "/" + theCase.oRefFile, oShape,
                         "result");
    std::vector<double> cpu = readReference(
        opt.inputsDir + "/" + theCase.oCpuFile, oShape, "result");
    oCpu.assign(cpu.begin(), cpu.end());
    if (!theCase.atolFile.empty()) {
      std::vector<double> atol =
          readReference(opt.inputsDir + "/" + theCase.atolFile,
                        {oShape[0], oShape[1], oShape[2]}, "row");
      theCase.tolerance.rowAtol.assign(atol.begin(), atol.end());
    }
  }

  // The driver, the device and the kernel.
  Device dev;
  check(lpattnRtInit(), "the CUDA driver");
  check(lpattnRtSetDevice(opt.device), "device " + std::to_string(opt.device));
  char name[256];
  check(lpattnRtDeviceName(opt.device, name, sizeof(name)), "device name");
  dev.name = name;
  check(lpattnRtDeviceArch(opt.device, &dev.major, &dev.minor),
        "device arch");
  check(lpattnRtDriverVersion(&dev.driverVersion), "driver version");
  lpattnRtArtifact artifact = nullptr;
  check(lpattnRtLoadArtifact(opt.descriptor.c_str(), &artifact),
        "loading " + opt.descriptor);

  // Device buffers, in the descriptor's layouts; O starts as all-ones bytes
  // (NaN in every float format), so an element the kernel never writes
  // shows as NaN.
  std::vector<lpattnRtDevicePtr> ptrs(desc.params.size(), 0);
  auto freeAll = [&]() {
    for (lpattnRtDevicePtr p : ptrs)
      if (p)
        lpattnRtFree(p);
    if (artifact)
      lpattnRtUnloadArtifact(artifact);
  };
  size_t oIndex = 0, statsIndex = SIZE_MAX, pScaledIndex = SIZE_MAX,
         pCodesIndex = SIZE_MAX;
  std::vector<unsigned char> oFill;
  for (size_t i = 0; i < desc.params.size(); ++i) {
    const Param &p = desc.params[i];
    if (p.kind == ParamKind::F32)
      continue;
    if (p.role == "stats") {
      statsIndex = i;
      std::vector<int64_t> zero(2, 0);
      check(lpattnRtMalloc(&ptrs[i], 16), "allocating stats");
      check(lpattnRtCopyHtoD(ptrs[i], zero.data(), 16), "uploading stats");
      continue;
    }
    unsigned width = p.isI64 ? 8 : storageBytes(*p.dtype);
    bool contiguous = p.strides == contiguousStrides(p.shape);
    size_t extent = extentOf(p.shape, p.strides);
    size_t bytes = extent * width;
    check(lpattnRtMalloc(&ptrs[i], bytes),
          "allocating " + std::to_string(bytes) + " bytes for \"" + p.role +
              "\"");
    if (p.role == "o") {
      oIndex = i;
      oFill.assign(bytes, 0xff);
      check(lpattnRtCopyHtoD(ptrs[i], oFill.data(), bytes), "filling o");
      continue;
    }
    if (p.role == "p_scaled" || p.role == "p_codes") {
      // All-ones bytes: NaN in f32 and the FP8 code 0xFF, which no input
      // rounds to, so an entry the kernel never writes shows.
      (p.role == "p_scaled" ? pScaledIndex : pCodesIndex) = i;
      std::vector<unsigned char> fill(bytes, 0xff);
      check(lpattnRtCopyHtoD(ptrs[i], fill.data(), bytes),
            "filling \"" + p.role + "\"");
      continue;
    }
    const std::vector<unsigned char> &src = host[i].bytes;
    if (contiguous) {
      check(lpattnRtCopyHtoD(ptrs[i], src.data(), bytes),
            "uploading \"" + p.role + "\"");
    } else {
      std::vector<unsigned char> laid =
          scatter(src, p.shape, p.strides, width, extent, true);
      check(lpattnRtCopyHtoD(ptrs[i], laid.data(), bytes),
            "uploading \"" + p.role + "\"");
    }
  }
  std::vector<lpattnRtArg> args(desc.params.size());
  for (size_t i = 0; i < desc.params.size(); ++i)
    args[i] = {desc.params[i].role.c_str(), ptrs[i], scalars[i]};

  // One checked launch, timed.
  lpattnRtEvent start = nullptr, stop = nullptr;
  check(lpattnRtEventCreate(&start), "creating an event");
  check(lpattnRtEventCreate(&stop), "creating an event");
  check(lpattnRtEventRecord(start, nullptr), "recording an event");
  check(lpattnRtLaunch(artifact, args.data(), args.size(), nullptr),
        "launching " + desc.kernel);
  check(lpattnRtEventRecord(stop, nullptr), "recording an event");
  check(lpattnRtSynchronize(), "running " + desc.kernel);
  float firstMs = 0;
  check(lpattnRtEventElapsedMs(start, stop, &firstMs), "timing the launch");

  // O back, decoded.
  const Param &op = desc.params[oIndex];
  unsigned oWidth = storageBytes(*op.dtype);
  size_t oExtent = extentOf(op.shape, op.strides);
  std::vector<unsigned char> oBytes(oExtent * oWidth);
  check(lpattnRtCopyDtoH(oBytes.data(), ptrs[oIndex], oBytes.size()),
        "downloading o");
  if (op.strides != contiguousStrides(op.shape))
    oBytes = scatter(oBytes, op.shape, op.strides, oWidth, oExtent, false);
  std::vector<float> o(static_cast<size_t>(numOut));
  for (size_t i = 0; i < o.size(); ++i) {
    uint32_t bits = 0;
    std::memcpy(&bits, &oBytes[i * oWidth], oWidth);
    o[i] = float(decodeBits(bits, *op.dtype));
  }
  int64_t collapsed = -1, positive = -1;
  if (statsIndex != SIZE_MAX) {
    int64_t stats[2] = {0, 0};
    check(lpattnRtCopyDtoH(stats, ptrs[statsIndex], 16), "downloading stats");
    collapsed = stats[0], positive = stats[1];
  }
  double collapseFraction =
      positive > 0 ? double(collapsed) / double(positive) : 0.0;

  // The P dump of a debug artifact: every code against the RNE cast of its
  // input (the descriptor makes both [64, Bc] row-major).
  PCastCheck pCheck;
  int64_t pRows = 0, pKeys = 0;
  FloatFormat pFormat = desc.numerics.p;
  bool pSatfinite = desc.numerics.overflow == OverflowMode::SatFinite;
  if (desc.debugP) {
    const Param &ps = desc.params[pScaledIndex];
    pRows = ps.shape[0];
    pKeys = ps.shape[1];
    size_t count = size_t(pRows * pKeys);
    std::vector<float> scaled(count);
    std::vector<uint8_t> codes(count);
    check(lpattnRtCopyDtoH(scaled.data(), ptrs[pScaledIndex], count * 4),
          "downloading p_scaled");
    check(lpattnRtCopyDtoH(codes.data(), ptrs[pCodesIndex], count),
          "downloading p_codes");
    pCheck = checkPCast(scaled, codes, pRows, pKeys, pFormat, pSatfinite);
    if (!opt.pDumpDir.empty()) {
      std::string dir = opt.pDumpDir;
      std::string meta =
          "{\n  \"format\": \"lpattn-p-dump\",\n  \"version\": 1,\n"
          "  \"p\": " +
          jsonString(std::string(stringifyFloatFormat(pFormat))) +
          ",\n  \"overflow\": " +
          jsonString(std::string(stringifyOverflowMode(desc.numerics.overflow))) +
          ",\n  \"p_scale\": " + jsonNumber(desc.numerics.pScale) +
          ",\n  \"shape\": [" + std::to_string(pRows) + ", " +
          std::to_string(pKeys) + "],\n  \"descriptor\": " +
          jsonString(opt.descriptor) + ",\n  \"kernel\": " +
          jsonString(desc.kernel) + ",\n  \"checked\": " +
          std::to_string(pCheck.checked) + ",\n  \"mismatches\": " +
          std::to_string(pCheck.mismatches) + ",\n  \"unwritten\": " +
          std::to_string(pCheck.unwritten) + "\n}\n";
      if (!npy::write(dir + "/p_scaled.npy", "<f4", {pRows, pKeys},
                      scaled.data(), count * 4, error) ||
          !npy::write(dir + "/p_codes.npy", "|u1", {pRows, pKeys},
                      codes.data(), count, error))
        fail(error);
      std::FILE *f = std::fopen((dir + "/p_dump.json").c_str(), "w");
      if (!f || std::fputs(meta.c_str(), f) < 0 || std::fclose(f) != 0)
        fail("cannot write " + dir + "/p_dump.json: " + std::strerror(errno));
    }
  }
  if (!opt.outputNpy.empty() &&
      !npy::write(opt.outputNpy, "<f4", oShape, o.data(), o.size() * 4,
                  error))
    fail(error);

  // Speed.
  const std::vector<int64_t> &qs = pq->shape;
  double flop = 2.0 * double(qs[0]) * double(qs[1]) * double(qs[2]) *
                double(pk->shape[2]) * double(qs[3] + pv->shape[3]);
  if (desc.numerics.causal)
    flop *= 0.5;
  double benchMs = NAN, tflops = NAN;
  if (opt.bench > 0) {
    for (int64_t i = 0; i < opt.warmup; ++i)
      check(lpattnRtLaunch(artifact, args.data(), args.size(), nullptr),
            "launching " + desc.kernel);
    check(lpattnRtSynchronize(), "running " + desc.kernel);
    check(lpattnRtEventRecord(start, nullptr), "recording an event");
    for (int64_t i = 0; i < opt.bench; ++i)
      check(lpattnRtLaunch(artifact, args.data(), args.size(), nullptr),
            "launching " + desc.kernel);
    check(lpattnRtEventRecord(stop, nullptr), "recording an event");
    check(lpattnRtEventSynchronize(stop), "running " + desc.kernel);
    float total = 0;
    check(lpattnRtEventElapsedMs(start, stop, &total), "timing the launches");
    benchMs = double(total) / double(opt.bench);
    tflops = flop / (benchMs * 1e-3) / 1e12;
  }
  lpattnRtEventDestroy(start);
  lpattnRtEventDestroy(stop);
  freeAll();

  // Accuracy and the checks.
  ErrorMetrics gpuMetrics, cpuMetrics;
  Comparison cmp;
  bool mseOk = true, maxErrOk = true, collapseOk = true, within = true;
  double mseRatio = NAN, maxRef = 0, maxErrBound = NAN;
  bool collapseCompared = false;
  std::vector<std::string> failures;
  FloatFormat outFormat = *op.dtype;
  const Tolerance &tol = theCase.tolerance;
  if (haveCase) {
    gpuMetrics = computeMetrics(o, oRef, rowLength);
    cpuMetrics = computeMetrics(oCpu, oRef, rowLength);
    cmp = compareWithCpu(o, oCpu, outFormat, tol, rowLength);
    within = cmp.numOutside == 0;
    if (!within)
      failures.push_back(std::to_string(cmp.numOutside) +
                         " elements outside the tolerance of the CPU "
                         "emulation");
    if (cpuMetrics.mse > 0)
      mseRatio = gpuMetrics.mse / cpuMetrics.mse;
    else
      mseRatio = gpuMetrics.mse == 0 ? 1.0 : INFINITY;
    mseOk = std::fabs(mseRatio - 1.0) <= tol.mseRel;
    if (!mseOk)
      failures.push_back("MSE " + fmt("%.4e", gpuMetrics.mse) +
                         " is not within " + fmt("%g", 100 * tol.mseRel) +
                         " % of the CPU's " + fmt("%.4e", cpuMetrics.mse));
    for (double r : oRef)
      if (std::isfinite(r))
        maxRef = std::max(maxRef, std::fabs(r));
    maxErrBound = tol.maxErrFactor * cpuMetrics.maxAbsError +
                  tol.ulps * ulpAt(maxRef, outFormat);
    maxErrOk = gpuMetrics.maxAbsError <= maxErrBound;
    if (!maxErrOk)
      failures.push_back("max|err| " + fmt("%.4e", gpuMetrics.maxAbsError) +
                         " exceeds " + fmt("%.4e", maxErrBound));
    if (gpuMetrics.numNaN != cpuMetrics.numNaN ||
        gpuMetrics.numInf != cpuMetrics.numInf)
      failures.push_back(std::to_string(gpuMetrics.numNaN) + " NaN and " +
                         std::to_string(gpuMetrics.numInf) +
                         " Inf outputs (the CPU has " +
                         std::to_string(cpuMetrics.numNaN) + " and " +
                         std::to_string(cpuMetrics.numInf) + ")");
    collapseCompared = positive >= 0 && theCase.positive >= 0;
    if (collapseCompared) {
      collapseOk = std::fabs(collapseFraction - theCase.collapseFraction) <=
                   tol.collapseRel * std::max(theCase.collapseFraction, 0.01);
      if (!collapseOk)
        failures.push_back("collapse fraction " +
                           fmt("%.4f", collapseFraction) +
                           " is not within " + fmt("%g", 100 * tol.collapseRel) +
                           " % of the CPU's " +
                           fmt("%.4f", theCase.collapseFraction));
    }
  }
  if (desc.debugP) {
    // First: what a debug artifact is run for (check (a)).
    std::vector<std::string> pFailures;
    if (pCheck.mismatches > 0)
      pFailures.push_back(
          "P cast: " + std::to_string(pCheck.mismatches) + " of " +
          std::to_string(pCheck.checked) +
          " codes differ from the RNE cast of P * S (first: row " +
          std::to_string(pCheck.first[0].row) + ", key " +
          std::to_string(pCheck.first[0].key) + ")");
    if (pCheck.unwritten > 0)
      pFailures.push_back("P cast: " + std::to_string(pCheck.unwritten) +
                          " of " + std::to_string(pCheck.entries) +
                          " P dump entries unwritten");
    failures.insert(failures.begin(), pFailures.begin(), pFailures.end());
  }
  bool checked = haveCase || desc.debugP;
  bool passed = failures.empty();
  std::string archText =
      "sm_" + std::to_string(dev.major) + std::to_string(dev.minor);

  if (opt.json) {
    auto shape = [](const std::vector<int64_t> &s) {
      std::string t = "[";
      for (size_t i = 0; i < s.size(); ++i)
        t += (i ? ", " : "") + std::to_string(s[i]);
      return t + "]";
    };
    auto metrics = [&](const ErrorMetrics &m) {
      return "\"mse\": " + jsonNumber(m.mse) +
             ", \"mean_error\": " + jsonNumber(m.meanError) +
             ", \"bias_t\": " + jsonNumber(m.biasT) +
             ", \"max_abs_error\": " + jsonNumber(m.maxAbsError) +
             ", \"relative_rmse\": " + jsonNumber(m.relativeRMSE) +
             ", \"nan\": " + std::to_string(m.numNaN) +
             ", \"inf\": " + std::to_string(m.numInf) +
             ", \"ref_non_finite\": " +
             std::to_string(m.numReferenceNonFinite);
    };
    std::string r = "{";
    if (haveCase)
      r += metrics(gpuMetrics) + ", ";
    if (desc.debugP) {
      r += "\"p_dump\": {\"p\": " +
           jsonString(std::string(stringifyFloatFormat(pFormat))) +
           ", \"satfinite\": " + (pSatfinite ? "true" : "false") +
           ", \"shape\": [" + std::to_string(pRows) + ", " +
           std::to_string(pKeys) + "], \"entries\": " +
           std::to_string(pCheck.entries) +
           ", \"checked\": " + std::to_string(pCheck.checked) +
           ", \"mismatches\": " + std::to_string(pCheck.mismatches) +
           ", \"unwritten\": " + std::to_string(pCheck.unwritten) +
           ", \"first_mismatches\": [";
      for (size_t i = 0; i < pCheck.first.size(); ++i) {
        const PCastMismatch &m = pCheck.first[i];
        r += std::string(i ? ", " : "") + "{\"row\": " +
             std::to_string(m.row) + ", \"key\": " + std::to_string(m.key) +
             ", \"input\": " + jsonNumber(m.input) +
             ", \"expected\": " + std::to_string(m.expected) +
             ", \"got\": " + std::to_string(m.got) + "}";
      }
      r += std::string("], \"passed\": ") +
           (pCheck.passed() ? "true" : "false") + "}, ";
    }
    r += "\"collapsed\": " + std::to_string(collapsed) +
         ", \"positive\": " + std::to_string(positive) +
         ", \"collapse_fraction\": " + jsonNumber(collapseFraction) +
         ", \"seconds\": " + jsonNumber(firstMs * 1e-3);
    if (haveCase) {
      r += ", \"cpu\": {" + metrics(cpuMetrics) +
           ", \"collapsed\": " + std::to_string(theCase.collapsed) +
           ", \"positive\": " + std::to_string(theCase.positive) +
           ", \"collapse_fraction\": " +
           jsonNumber(theCase.collapseFraction) + "}";
      r += ", \"max_abs_diff_cpu\": " + jsonNumber(cmp.maxAbsDiff) +
           ", \"max_diff_ulps\": " + jsonNumber(cmp.worstUlps) +
           ", \"num_differing\": " + std::to_string(cmp.numDiffering) +
           ", \"num_outside_tolerance\": " + std::to_string(cmp.numOutside) +
           ", \"worst_tolerance_ratio\": " + jsonNumber(cmp.worstRatio) +
           ", \"within_tolerance\": " + (within ? "true" : "false") +
           ", \"mse_ratio\": " + jsonNumber(mseRatio) +
           ", \"mse_ok\": " + (mseOk ? "true" : "false") +
           ", \"max_error_bound\": " + jsonNumber(maxErrBound) +
           ", \"max_error_ok\": " + (maxErrOk ? "true" : "false") +
           ", \"collapse_compared\": " +
           (collapseCompared ? "true" : "false") +
           ", \"collapse_ok\": " + (collapseOk ? "true" : "false") +
           ", \"passed\": " + (passed ? "true" : "false");
    }
    if (checked) {
      if (!haveCase)
        r += std::string(", \"passed\": ") + (passed ? "true" : "false");
      r += ", \"failures\": [";
      for (size_t i = 0; i < failures.size(); ++i)
        r += (i ? ", " : "") + jsonString(failures[i]);
      r += "]";
    }
    r += ", \"flop\": " + jsonNumber(flop);
    if (opt.bench > 0)
      r += ", \"bench_iterations\": " + std::to_string(opt.bench) +
           ", \"ms\": " + jsonNumber(benchMs) +
           ", \"tflops\": " + jsonNumber(tflops);
    r += "}";
    std::printf(
        "{\n  \"query\": %s,\n  \"key\": %s,\n  \"value\": %s,\n"
        "  \"result\": %s,\n  \"inputs\": %s,\n  \"inputs_dir\": %s,\n"
        "  \"device\": {\"name\": %s, \"arch\": %s, \"driver_version\": %d},\n"
        "  \"artifact\": {\"descriptor\": %s, \"kernel\": %s, \"arch\": %s, "
        "\"causal\": %s, \"p_scale\": %s, \"kv_order\": %s},\n"
        "  \"results\": [%s],\n  \"passed\": %s\n}\n",
        shape(pq->shape).c_str(), shape(pk->shape).c_str(),
        shape(pv->shape).c_str(), shape(oShape).c_str(),
        jsonString(haveCase ? "npy"
                            : opt.fastRandom ? "random-fast"
                                             : "random")
            .c_str(),
        haveCase ? jsonString(opt.inputsDir).c_str() : "null",
        jsonString(dev.name).c_str(), jsonString(archText).c_str(),
        dev.driverVersion, jsonString(opt.descriptor).c_str(),
        jsonString(desc.kernel).c_str(), jsonString(desc.arch).c_str(),
        desc.numerics.causal ? "true" : "false",
        jsonNumber(desc.numerics.pScale).c_str(),
        jsonString(std::string(stringifyKVOrder(desc.numerics.kvOrder)))
            .c_str(),
        r.c_str(), checked ? (passed ? "true" : "false") : "null");
    return passed ? 0 : 2;
  }

  std::printf("attention Q %s K %s V %s, inputs %s, GPU %s (%s), kernel %s\n",
              shapeText(pq->shape).c_str(), shapeText(pk->shape).c_str(),
              shapeText(pv->shape).c_str(),
              haveCase ? ("npy (" + opt.inputsDir + ")").c_str()
                       : ("random (" +
                          std::string(opt.fastRandom ? "fast, " : "") +
                          "seed " + std::to_string(opt.seed) + ")")
                             .c_str(),
              dev.name.c_str(), archText.c_str(), desc.kernel.c_str());
  if (desc.debugP) {
    std::printf("P cast (debug dump: block (0, 0, 0), rows 0..%lld, keys "
                "0..%lld): %lld of %lld entries checked against the RNE cast "
                "of P * S to %s%s, %lld mismatches, %lld unwritten: %s\n",
                (long long)pRows - 1, (long long)pKeys - 1,
                (long long)pCheck.checked, (long long)pCheck.entries,
                std::string(stringifyFloatFormat(pFormat)).c_str(),
                pSatfinite ? " (satfinite)" : "", (long long)pCheck.mismatches,
                (long long)pCheck.unwritten, pCheck.passed() ? "ok" : "NOT OK");
    for (const PCastMismatch &m : pCheck.first)
      std::printf("  mismatch: %s\n", describeMismatch(m).c_str());
    if (pCheck.mismatches > int64_t(pCheck.first.size()))
      std::printf("  ... and %lld more\n",
                  (long long)(pCheck.mismatches - int64_t(pCheck.first.size())));
    if (!opt.pDumpDir.empty())
      std::printf("P dump written to %s/p_scaled.npy, p_codes.npy, "
                  "p_dump.json\n",
                  opt.pDumpDir.c_str());
  }
  if (haveCase) {
    std::printf("     %12s %12s %12s %12s %6s %6s %10s %9s\n", "MSE",
                "mean err", "max|err|", "rel RMSE", "NaN", "Inf", "collapse",
                "time[s]");
    auto row = [](const char *who, const ErrorMetrics &m, std::string cf,
                  std::string t) {
      std::printf("%-4s %12.4e %12.3e %12.4e %12.4e %6lld %6lld %10s %9s\n",
                  who, m.mse, m.meanError, m.maxAbsError, m.relativeRMSE,
                  (long long)m.numNaN, (long long)m.numInf, cf.c_str(),
                  t.c_str());
    };
    row("gpu", gpuMetrics, positive >= 0 ? fmt("%.4f", collapseFraction) : "-",
        fmt("%.6f", firstMs * 1e-3));
    row("cpu", cpuMetrics,
        theCase.positive >= 0 ? fmt("%.4f", theCase.collapseFraction) : "-",
        "-");
    std::printf("vs CPU emulation: max|gpu - cpu| %.4e (%.3g ulps of %s), "
                "%lld of %lld elements differ, %lld outside the tolerance "
                "(worst at %.3g of its bound); tolerance %g ulps + row atol "
                "<= %.4e (case.json, docs/gpu-check.md)\n",
                cmp.maxAbsDiff, cmp.worstUlps,
                std::string(stringifyFloatFormat(outFormat)).c_str(),
                (long long)cmp.numDiffering, (long long)numOut,
                (long long)cmp.numOutside, cmp.worstRatio, tol.ulps,
                tol.atol);
    std::printf("vs float64: MSE gpu / cpu %.4f (allowed 1 +- %g), "
                "max|err| gpu %.4e <= %.4e (%g x cpu's + %g ulps): %s\n",
                mseRatio, tol.mseRel, gpuMetrics.maxAbsError, maxErrBound,
                tol.maxErrFactor, tol.ulps,
                mseOk && maxErrOk ? "ok" : "NOT OK");
    if (collapseCompared)
      std::printf("collapse: gpu %.4f, cpu %.4f (allowed +- %g x max(cpu, "
                  "0.01)): %s\n",
                  collapseFraction, theCase.collapseFraction,
                  tol.collapseRel, collapseOk ? "ok" : "NOT OK");
    else
      std::printf("collapse: %s\n",
                  positive < 0 ? "not counted by the kernel"
                               : "not counted by the CPU case");
  } else {
    std::printf("one launch %.4f ms; random inputs: no reference, no check "
                "of O (--inputs DIR from `lpattn-run --save-case` checks)\n",
                double(firstMs));
  }
  if (checked) {
    if (passed)
      std::printf("check: PASS\n");
    else
      for (const std::string &f : failures)
        std::printf("check: FAIL: %s\n", f.c_str());
  }
  if (opt.bench > 0)
    std::printf("bench: %lld launches after %lld warm-up, %.4f ms each, "
                "%.1f TFLOP/s (%.4g FLOP%s)\n",
                (long long)opt.bench, (long long)opt.warmup, benchMs, tflops,
                flop, desc.numerics.causal ? ", causal: halved" : "");
  return passed ? 0 : 2;
}
} // namespace

int main(int argc, char **argv) {
  // The runtime's C API throws nothing; host allocations here can (a huge
  // tensor): one message, never an uncaught exception.
  try {
    return run(argc, argv);
  } catch (const std::bad_alloc &) {
    fail("out of host memory");
  } catch (const std::exception &e) {
    fail(std::string("internal error: ") + e.what());
  }
}
