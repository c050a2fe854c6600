//===- Descriptor.cpp - reading and checking launch descriptors -----------===//
//
// Every check names the field it refuses ("params[3].dtype") and what was
// expected, so that a producer bug in the kernel lowering (or a hand-edited
// file) is found from the message alone.
//
//===----------------------------------------------------------------------===//

#include "Descriptor.h"
#include "Json.h"

#include "lpattn/Numerics/KernelABI.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>

using namespace lpattn;
using namespace lpattn::rt;
using json::Value;

const Param *LaunchDescriptor::findParam(std::string_view role) const {
  for (const Param &p : params)
    if (p.role == role)
      return &p;
  return nullptr;
}

unsigned rt::formatBytes(FloatFormat format) {
  switch (format) {
  case FloatFormat::F32:
    return 4;
  case FloatFormat::F16:
  case FloatFormat::BF16:
    return 2;
  case FloatFormat::F8E4M3FN:
  case FloatFormat::F8E5M2:
    return 1;
  }
  return 0;
}

bool rt::parseArch(std::string_view arch, int &major, int &minor,
                   bool &archSpecific) {
  // sm_<major><minor>[a]: two or three digits, the last one the minor.
  if (arch.substr(0, 3) != "sm_")
    return false;
  std::string_view rest = arch.substr(3);
  archSpecific = !rest.empty() && rest.back() == 'a';
  if (archSpecific)
    rest.remove_suffix(1);
  if (rest.size() < 2 || rest.size() > 3)
    return false;
  for (char c : rest)
    if (c < '0' || c > '9')
      return false;
  int value = std::stoi(std::string(rest));
  major = value / 10;
  minor = value % 10;
  return major > 0;
}

namespace {
/// The tensor-map element type name for a format: the driver has no FP8
/// type, so FP8 tensors are maps of bytes (UINT8).
std::string_view tensorMapTypeName(FloatFormat format) {
  switch (format) {
  case FloatFormat::F32:
    return "FLOAT32";
  case FloatFormat::F16:
    return "FLOAT16";
  case FloatFormat::BF16:
    return "BFLOAT16";
  case FloatFormat::F8E4M3FN:
  case FloatFormat::F8E5M2:
    return "UINT8";
  }
  return "<invalid>";
}

std::optional<int> tensorMapTypeValue(std::string_view name) {
  if (name == "UINT8")
    return 0;
  if (name == "FLOAT16")
    return 6;
  if (name == "FLOAT32")
    return 7;
  if (name == "BFLOAT16")
    return 9;
  return std::nullopt;
}

/// Reads typed fields out of JSON objects, naming the field on failure.
class Reader {
public:
  explicit Reader(std::string &error) : error(error) {}

  bool fail(const std::string &path, const std::string &what) {
    error = "descriptor: " + path + ": " + what;
    return false;
  }

  /// Refuses members other than `allowed`: a misspelt key would otherwise
  /// be silently ignored and its default used.
  bool onlyKeys(const Value &obj, const std::string &path,
                std::initializer_list<const char *> allowed) {
    for (const auto &[key, value] : obj.object) {
      bool known = false;
      for (const char *a : allowed)
        known |= key == a;
      if (!known)
        return fail(path.empty() ? key : path + "." + key,
                    "unknown member (format version " +
                        std::to_string(kDescriptorVersion) + ")");
    }
    return true;
  }

  const Value *member(const Value &obj, const std::string &path,
                      const char *key, Value::Kind kind, bool required) {
    std::string full = path.empty() ? key : path + "." + key;
    const Value *v = obj.get(key);
    if (!v) {
      if (required)
        fail(full, "missing");
      return nullptr;
    }
    if (v->kind != kind) {
      fail(full, std::string("expected ") + json::kindName(kind) +
                     ", got " + json::kindName(v->kind));
      return nullptr;
    }
    return v;
  }

  bool integer(const Value &v, const std::string &path, int64_t lo,
               int64_t hi, int64_t &out) {
    if (v.kind != Value::Kind::Number)
      return fail(path, std::string("expected an integer, got ") +
                            json::kindName(v.kind));
    // Doubles hold integers exactly up to 2^53; the bounds below are far
    // smaller, so the range check also rules out precision loss.
    if (v.number != std::floor(v.number) || v.number < double(lo) ||
        v.number > double(hi))
      return fail(path, "expected an integer in [" + std::to_string(lo) +
                            ", " + std::to_string(hi) + "], got " +
                            formatNumber(v.number));
    out = static_cast<int64_t>(v.number);
    return true;
  }

  bool integerMember(const Value &obj, const std::string &path,
                     const char *key, int64_t lo, int64_t hi, int64_t &out) {
    const Value *v = obj.get(key);
    std::string full = path.empty() ? key : path + "." + key;
    if (!v)
      return fail(full, "missing");
    return integer(*v, full, lo, hi, out);
  }

  bool string(const Value &obj, const std::string &path, const char *key,
              std::string &out, bool required = true) {
    const Value *v = member(obj, path, key, Value::Kind::String, required);
    if (!v)
      return !required && error.empty();
    out = v->string;
    return true;
  }

  bool boolean(const Value &obj, const std::string &path, const char *key,
               bool &out) {
    const Value *v = member(obj, path, key, Value::Kind::Bool, true);
    if (!v)
      return false;
    out = v->boolean;
    return true;
  }

  bool number(const Value &obj, const std::string &path, const char *key,
              double &out) {
    const Value *v = member(obj, path, key, Value::Kind::Number, true);
    if (!v)
      return false;
    out = v->number;
    return true;
  }

  bool intArray(const Value &obj, const std::string &path, const char *key,
                size_t minSize, size_t maxSize, int64_t lo, int64_t hi,
                std::vector<int64_t> &out) {
    std::string full = path.empty() ? key : path + "." + key;
    const Value *v = member(obj, path, key, Value::Kind::Array, true);
    if (!v)
      return false;
    if (v->array.size() < minSize || v->array.size() > maxSize)
      return fail(full, "expected " +
                            (minSize == maxSize
                                 ? std::to_string(minSize)
                                 : std::to_string(minSize) + " to " +
                                       std::to_string(maxSize)) +
                            " entries, got " +
                            std::to_string(v->array.size()));
    out.clear();
    for (size_t i = 0; i < v->array.size(); ++i) {
      int64_t x;
      if (!integer(v->array[i], full + "[" + std::to_string(i) + "]", lo, hi,
                   x))
        return false;
      out.push_back(x);
    }
    return true;
  }

  bool format(const Value &obj, const std::string &path, const char *key,
              FloatFormat &out) {
    std::string name;
    if (!string(obj, path, key, name))
      return false;
    auto f = symbolizeFloatFormat(name);
    if (!f)
      return fail(path + "." + key,
                  "unknown format \"" + name +
                      "\" (expected f32, f16, bf16, f8E4M3FN or f8E5M2)");
    out = *f;
    return true;
  }

  static std::string formatNumber(double x) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.17g", x);
    return buf;
  }

private:
  std::string &error;
};

std::string joinRoles(const std::vector<std::string> &roles) {
  std::string s;
  for (size_t i = 0; i < roles.size(); ++i)
    s += (i ? ", " : "") + roles[i];
  return s;
}

bool readDims3(Reader &r, const Value &root, const char *key,
               std::array<int64_t, 3> hi, bool required,
               std::array<uint32_t, 3> &out) {
  if (!required && !root.get(key))
    return true;
  std::vector<int64_t> dims;
  if (!r.intArray(root, "", key, 3, 3, 1, std::max({hi[0], hi[1], hi[2]}),
                  dims))
    return false;
  for (int i = 0; i < 3; ++i) {
    if (dims[i] > hi[i])
      return r.fail(std::string(key) + "[" + std::to_string(i) + "]",
                    std::to_string(dims[i]) + " exceeds the CUDA limit " +
                        std::to_string(hi[i]));
    out[i] = static_cast<uint32_t>(dims[i]);
  }
  return true;
}
} // namespace

bool rt::parseDescriptor(std::string_view text, const std::string &baseDir,
                         LaunchDescriptor &d, std::string &error) {
  d = LaunchDescriptor();
  error.clear();
  Value root;
  std::string jsonError;
  if (!json::parse(text, root, jsonError)) {
    error = "descriptor: malformed JSON: " + jsonError;
    return false;
  }
  Reader r(error);
  if (root.kind != Value::Kind::Object)
    return r.fail("<root>", std::string("expected an object, got ") +
                                json::kindName(root.kind));

  // Format and version first: a file of another kind or version gets that
  // message rather than one about whichever field differs first.
  std::string format;
  if (!r.string(root, "", "format", format))
    return false;
  if (format != kDescriptorFormat)
    return r.fail("format", "expected \"" + std::string(kDescriptorFormat) +
                                "\", got \"" + format + "\"");
  if (!r.integerMember(root, "", "version", 0, 1 << 30, d.version))
    return false;
  if (d.version != kDescriptorVersion)
    return r.fail("version", "unsupported version " +
                                 std::to_string(d.version) +
                                 " (this runtime reads version " +
                                 std::to_string(kDescriptorVersion) + ")");
  if (!r.onlyKeys(root, "",
                  {"format", "version", "kernel", "cubin", "ptx", "arch",
                   "grid", "block", "cluster", "dynamic_shared_memory",
                   "signature", "params", "tensor_maps", "policy",
                   "safeguards", "tiles"}))
    return false;

  // Kernel, files, arch.
  if (!r.string(root, "", "kernel", d.kernel) ||
      !r.string(root, "", "cubin", d.cubin) ||
      !r.string(root, "", "ptx", d.ptx, /*required=*/false) ||
      !r.string(root, "", "arch", d.arch))
    return false;
  if (d.kernel.empty())
    return r.fail("kernel", "empty kernel name");
  for (char c : d.kernel)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
          c == '$' || c == '.'))
      return r.fail("kernel", "\"" + d.kernel +
                                  "\" is not a symbol name (letters, digits, "
                                  "'_', '$', '.')");
  if (d.cubin.empty())
    return r.fail("cubin", "empty path");
  if (d.cubin.find('\0') != std::string::npos)
    return r.fail("cubin", "path contains a NUL byte");
  d.cubinPath = (d.cubin.front() == '/' || baseDir.empty())
                    ? d.cubin
                    : baseDir + "/" + d.cubin;
  if (!parseArch(d.arch, d.archMajor, d.archMinor, d.archSpecific))
    return r.fail("arch", "\"" + d.arch +
                              "\" is not a CUDA target (expected sm_<cc> or "
                              "sm_<cc>a, e.g. sm_90a)");

  // Launch shape. The limits are CUDA's for every compute capability >= 3.0.
  if (!readDims3(r, root, "grid", {2147483647, 65535, 65535}, true, d.grid) ||
      !readDims3(r, root, "block", {1024, 1024, 64}, true, d.block) ||
      !readDims3(r, root, "cluster", {16, 16, 16}, false, d.cluster))
    return false;
  uint64_t threads = uint64_t(d.block[0]) * d.block[1] * d.block[2];
  if (threads > 1024)
    return r.fail("block", std::to_string(threads) +
                               " threads per block exceed the CUDA limit 1024");
  uint64_t clusterSize = uint64_t(d.cluster[0]) * d.cluster[1] * d.cluster[2];
  if (clusterSize > 8)
    return r.fail("cluster", std::to_string(clusterSize) +
                                 " blocks per cluster exceed the portable "
                                 "limit 8");
  if (clusterSize > 1 && d.archMajor < 9)
    return r.fail("cluster", "thread block clusters need sm_90 or later (arch "
                             "is " + d.arch + ")");
  for (int i = 0; i < 3; ++i)
    if (d.grid[i] % d.cluster[i] != 0)
      return r.fail("cluster[" + std::to_string(i) + "]",
                    std::to_string(d.cluster[i]) +
                        " does not divide grid[" + std::to_string(i) +
                        "] = " + std::to_string(d.grid[i]));
  int64_t smem;
  if (!r.integerMember(root, "", "dynamic_shared_memory", 0,
                       std::numeric_limits<uint32_t>::max(), smem))
    return false;
  d.dynamicSharedBytes = static_cast<uint32_t>(smem);

  // Signature: which optional KernelABI arguments the kernel takes.
  const Value *sig =
      r.member(root, "", "signature", Value::Kind::Object, true);
  if (!sig ||
      !r.onlyKeys(*sig, "signature",
                  {"mask", "descales", "stats", "debug_p"}) ||
      !r.boolean(*sig, "signature", "mask", d.hasMask) ||
      !r.boolean(*sig, "signature", "descales", d.hasDescales) ||
      !r.boolean(*sig, "signature", "stats", d.countsCollapse))
    return false;
  // Optional (default false): only debug artifacts carry it.
  if (sig->get("debug_p") &&
      !r.boolean(*sig, "signature", "debug_p", d.debugP))
    return false;

  // Policy and safeguards.
  CompiledNumerics &n = d.numerics;
  const Value *policy = r.member(root, "", "policy", Value::Kind::Object, true);
  if (!policy ||
      !r.onlyKeys(*policy, "policy",
                  {"qk", "score", "p", "v", "acc", "out", "overflow"}) ||
      !r.format(*policy, "policy", "qk", n.qk) ||
      !r.format(*policy, "policy", "score", n.score) ||
      !r.format(*policy, "policy", "p", n.p) ||
      !r.format(*policy, "policy", "v", n.v) ||
      !r.format(*policy, "policy", "acc", n.acc) ||
      !r.format(*policy, "policy", "out", n.out))
    return false;
  std::string name;
  if (!r.string(*policy, "policy", "overflow", name))
    return false;
  if (auto m = symbolizeOverflowMode(name))
    n.overflow = *m;
  else
    return r.fail("policy.overflow", "unknown mode \"" + name +
                                         "\" (expected satfinite or nonsat)");
  const Value *sg =
      r.member(root, "", "safeguards", Value::Kind::Object, true);
  if (!sg || !r.onlyKeys(*sg, "safeguards",
                         {"scale", "p_scale", "kv_order", "softmax", "causal"}))
    return false;
  if (!r.number(*sg, "safeguards", "scale", n.scale) ||
      !r.number(*sg, "safeguards", "p_scale", n.pScale) ||
      !r.boolean(*sg, "safeguards", "causal", n.causal))
    return false;
  if (!(n.scale > 0))
    return r.fail("safeguards.scale", "must be positive, got " +
                                          Reader::formatNumber(n.scale));
  int exp2 = 0;
  if (!(n.pScale >= 1) || std::frexp(n.pScale, &exp2) != 0.5)
    return r.fail("safeguards.p_scale",
                  Reader::formatNumber(n.pScale) +
                      " is not a power of two >= 1");
  if (!r.string(*sg, "safeguards", "kv_order", name))
    return false;
  if (auto o = symbolizeKVOrder(name))
    n.kvOrder = *o;
  else
    return r.fail("safeguards.kv_order", "unknown order \"" + name +
                                             "\" (expected forward or reverse)");
  const Value *sm =
      r.member(*sg, "safeguards", "softmax", Value::Kind::Object, true);
  if (!sm ||
      !r.onlyKeys(*sm, "safeguards.softmax", {"variant", "beta", "tol"}) ||
      !r.string(*sm, "safeguards.softmax", "variant", name))
    return false;
  if (auto s = symbolizeSoftmaxVariant(name))
    n.softmax = *s;
  else
    return r.fail("safeguards.softmax.variant",
                  "unknown variant \"" + name +
                      "\" (expected standard, bias_corrected or pasa)");
  if (!r.number(*sm, "safeguards.softmax", "beta", n.beta) ||
      !r.number(*sm, "safeguards.softmax", "tol", n.tol))
    return false;
  if (root.get("tiles")) {
    std::vector<int64_t> tiles;
    if (!r.intArray(root, "", "tiles", 2, 2, 1, 1 << 16, tiles))
      return false;
    n.tileQ = tiles[0];
    n.tileKV = tiles[1];
  }

  // Parameters: exactly KernelABI.h's order for the signature, then "o".
  KernelSignature abi;
  abi.hasMask = d.hasMask;
  abi.hasDescales = d.hasDescales;
  abi.countsCollapse = d.countsCollapse;
  std::vector<std::string> expected;
  for (KernelArg arg : abi.arguments())
    expected.emplace_back(getKernelArgName(arg));
  expected.emplace_back("o");
  // A debug artifact's P dump follows the result; it is no part of the
  // attention's ABI.
  size_t numAbi = expected.size();
  if (d.debugP) {
    if (n.tileKV == 0)
      return r.fail("tiles", "missing: a debug_p artifact's P dump is [" +
                                 std::to_string(kDebugPRows) +
                                 ", Bc], Bc = tiles[1]");
    expected.emplace_back("p_scaled");
    expected.emplace_back("p_codes");
  }
  const Value *params =
      r.member(root, "", "params", Value::Kind::Array, true);
  if (!params)
    return false;
  if (params->array.size() != expected.size())
    return r.fail("params",
                  std::to_string(params->array.size()) +
                      " entries, but the signature (mask = " +
                      (d.hasMask ? "true" : "false") +
                      ", descales = " + (d.hasDescales ? "true" : "false") +
                      ", stats = " + (d.countsCollapse ? "true" : "false") +
                      (d.debugP ? ", debug_p = true" : "") + ") has " +
                      std::to_string(expected.size()) + ": " +
                      joinRoles(expected));
  for (size_t i = 0; i < expected.size(); ++i) {
    const Value &pv = params->array[i];
    std::string path = "params[" + std::to_string(i) + "]";
    if (pv.kind != Value::Kind::Object)
      return r.fail(path, std::string("expected an object, got ") +
                              json::kindName(pv.kind));
    if (!r.onlyKeys(pv, path, {"role", "kind", "dtype", "shape", "strides"}))
      return false;
    Param p;
    if (!r.string(pv, path, "role", p.role))
      return false;
    if (p.role != expected[i])
      return r.fail(path + ".role",
                    "\"" + p.role + "\", but " +
                        (i < numAbi ? "KernelABI.h" : "signature.debug_p") +
                        " puts \"" + expected[i] + "\" here (order: " +
                        joinRoles(expected) + ")");
    std::string kind;
    if (!r.string(pv, path, "kind", kind))
      return false;
    if (kind == "pointer")
      p.kind = ParamKind::Pointer;
    else if (kind == "tensor_map")
      p.kind = ParamKind::TensorMap;
    else if (kind == "f32")
      p.kind = ParamKind::F32;
    else
      return r.fail(path + ".kind", "unknown kind \"" + kind +
                                        "\" (expected pointer, tensor_map "
                                        "or f32)");
    // Descales: all three f32 scalars (per tensor), or all three pointers
    // to f32 [B, Hkv] (per batch and KV head); q_ds sets the form.
    bool isDescale = p.role == "q_ds" || p.role == "k_ds" || p.role == "v_ds";
    bool isDump = i >= numAbi; // p_scaled, p_codes
    if (isDump && p.kind != ParamKind::Pointer)
      return r.fail(path + ".kind", "\"" + p.role + "\" must be a pointer, "
                                    "got " + kind);
    if (isDescale && p.kind == ParamKind::TensorMap)
      return r.fail(path + ".kind",
                    "\"" + p.role + "\" must be an f32 scalar or a pointer "
                    "(to f32 [B, Hkv], per batch and KV head), got " + kind);
    if (!isDescale && p.kind == ParamKind::F32)
      return r.fail(path + ".kind", "\"" + p.role + "\" must be a pointer or "
                                    "a tensor map, got " + kind);
    if (isDescale) {
      bool pointer = p.kind == ParamKind::Pointer;
      if (p.role == "q_ds")
        d.perHeadDescales = pointer;
      else if (pointer != d.perHeadDescales)
        return r.fail(path + ".kind",
                      "\"" + p.role + "\" is " + kind + ", but q_ds is " +
                          (d.perHeadDescales ? "pointer" : "f32") +
                          ": the descales are all f32 scalars or all "
                          "pointers to f32 [B, Hkv]");
    }
    if (p.kind == ParamKind::F32) {
      if (pv.get("dtype") || pv.get("shape") || pv.get("strides"))
        return r.fail(path, "an f32 scalar has no dtype, shape or strides");
      d.params.push_back(std::move(p));
      continue;
    }
    // The element type each tensor must have under the policy.
    std::string dtype;
    if (!r.string(pv, path, "dtype", dtype))
      return false;
    std::string want;
    if (p.role == "stats")
      want = "i64";
    else if (p.role == "mask" || isDescale || p.role == "p_scaled")
      want = "f32";
    else if (p.role == "p_codes")
      want = std::string(stringifyFloatFormat(n.p));
    else
      want = std::string(stringifyFloatFormat(
          p.role == "q" || p.role == "k" ? n.qk
          : p.role == "v"                ? n.v
                                         : n.out));
    if (dtype != want)
      return r.fail(path + ".dtype", "\"" + dtype + "\", but the policy makes " +
                                         p.role + " " + want);
    if (p.role == "stats") {
      p.isI64 = true;
      if (p.kind != ParamKind::Pointer)
        return r.fail(path + ".kind", "stats must be a pointer");
    } else {
      p.dtype = symbolizeFloatFormat(dtype);
    }
    size_t rank = p.role == "stats" ? 1 : isDescale || isDump ? 2 : 4;
    if (!r.intArray(pv, path, "shape", rank, rank, 1, int64_t(1) << 40,
                    p.shape) ||
        !r.intArray(pv, path, "strides", rank, rank, 0, int64_t(1) << 40,
                    p.strides))
      return false;
    if (p.role == "stats" && p.shape[0] != 2)
      return r.fail(path + ".shape", "stats is [2] (collapsed, positive)");
    if (isDump) {
      // One consumer warpgroup's rows times one KV tile, row-major.
      std::vector<int64_t> shape{kDebugPRows, n.tileKV},
          strides{n.tileKV, 1};
      auto text = [](const std::vector<int64_t> &v) {
        return "[" + std::to_string(v[0]) + ", " + std::to_string(v[1]) + "]";
      };
      if (p.shape != shape)
        return r.fail(path + ".shape",
                      "\"" + p.role + "\" must be [" +
                          std::to_string(kDebugPRows) + ", Bc] = " +
                          text(shape) + " (Bc = tiles[1]), got " +
                          text(p.shape));
      if (p.strides != strides)
        return r.fail(path + ".strides",
                      "\"" + p.role + "\" must be row-major " +
                          text(strides) + ", got " + text(p.strides));
    }
    d.params.push_back(std::move(p));
  }

  // Shapes agree with each other as lpattn.attention's verifier demands.
  const Param &q = *d.findParam("q"), &k = *d.findParam("k"),
              &v = *d.findParam("v"), &o = *d.findParam("o");
  auto shapeFail = [&](const std::string &what) {
    return r.fail("params", what);
  };
  if (k.shape[0] != q.shape[0] || v.shape[0] != q.shape[0] ||
      o.shape[0] != q.shape[0])
    return shapeFail("batch sizes of q, k, v and o differ");
  if (k.shape[3] != q.shape[3])
    return shapeFail("head dim of k (" + std::to_string(k.shape[3]) +
                     ") differs from q's (" + std::to_string(q.shape[3]) +
                     ")");
  if (v.shape[1] != k.shape[1] || v.shape[2] != k.shape[2])
    return shapeFail("v's heads and keys differ from k's");
  if (q.shape[1] % k.shape[1] != 0)
    return shapeFail("query heads Hq = " + std::to_string(q.shape[1]) +
                     " must be a multiple of KV heads Hkv = " +
                     std::to_string(k.shape[1]) + " (GQA/MQA)");
  if (o.shape[1] != q.shape[1] || o.shape[2] != q.shape[2] ||
      o.shape[3] != v.shape[3])
    return shapeFail("o must be [B, Hq, Nq, Dv]");
  if (const Param *mask = d.findParam("mask")) {
    if ((mask->shape[0] != 1 && mask->shape[0] != q.shape[0]) ||
        (mask->shape[1] != 1 && mask->shape[1] != q.shape[1]) ||
        mask->shape[2] != q.shape[2] || mask->shape[3] != k.shape[2])
      return shapeFail("mask must be [B|1, Hq|1, Nq, Nk]");
  }
  if (d.perHeadDescales)
    for (const char *role : {"q_ds", "k_ds", "v_ds"}) {
      const Param &ds = *d.findParam(role);
      if (ds.shape[0] != q.shape[0] || ds.shape[1] != k.shape[1])
        return shapeFail(std::string(role) + " must be [B, Hkv] = [" +
                         std::to_string(q.shape[0]) + ", " +
                         std::to_string(k.shape[1]) +
                         "] (per batch and KV head), got [" +
                         std::to_string(ds.shape[0]) + ", " +
                         std::to_string(ds.shape[1]) + "]");
    }

  // Tensor maps: one per tensor_map parameter, each within the TMA rules
  // of cuTensorMapEncodeTiled.
  std::set<std::string> mapped;
  if (const Value *maps = root.get("tensor_maps")) {
    if (maps->kind != Value::Kind::Array)
      return r.fail("tensor_maps", std::string("expected an array, got ") +
                                       json::kindName(maps->kind));
    for (size_t i = 0; i < maps->array.size(); ++i) {
      const Value &mv = maps->array[i];
      std::string path = "tensor_maps[" + std::to_string(i) + "]";
      if (mv.kind != Value::Kind::Object)
        return r.fail(path, std::string("expected an object, got ") +
                                json::kindName(mv.kind));
      if (!r.onlyKeys(mv, path,
                      {"tensor", "element_type", "box", "swizzle",
                       "l2_promotion"}))
        return false;
      TensorMapSpec m;
      if (!r.string(mv, path, "tensor", m.tensor))
        return false;
      const Param *p = d.findParam(m.tensor);
      if (!p || p->kind != ParamKind::TensorMap)
        return r.fail(path + ".tensor", "\"" + m.tensor +
                                            "\" is not a tensor_map parameter");
      if (!mapped.insert(m.tensor).second)
        return r.fail(path + ".tensor",
                      "a second tensor map for \"" + m.tensor + "\"");
      if (!r.string(mv, path, "element_type", m.dataTypeName))
        return false;
      auto type = tensorMapTypeValue(m.dataTypeName);
      std::string_view want = tensorMapTypeName(*p->dtype);
      if (!type || m.dataTypeName != want)
        return r.fail(path + ".element_type",
                      "\"" + m.dataTypeName + "\", but a " +
                          std::string(stringifyFloatFormat(*p->dtype)) +
                          " tensor is encoded as " + std::string(want));
      m.dataType = *type;
      std::vector<int64_t> box;
      if (!r.intArray(mv, path, "box", p->shape.size(), p->shape.size(), 1,
                      256, box))
        return false;
      for (size_t j = 0; j < box.size(); ++j) {
        if (box[j] > p->shape[j])
          return r.fail(path + ".box[" + std::to_string(j) + "]",
                        std::to_string(box[j]) + " exceeds the tensor's dim " +
                            std::to_string(p->shape[j]));
        m.box.push_back(static_cast<uint32_t>(box[j]));
      }
      std::string swizzle = "none";
      if (!r.string(mv, path, "swizzle", swizzle))
        return false;
      unsigned span = 0;
      if (swizzle == "none")
        m.swizzle = 0;
      else if (swizzle == "32B")
        m.swizzle = 1, span = 32;
      else if (swizzle == "64B")
        m.swizzle = 2, span = 64;
      else if (swizzle == "128B")
        m.swizzle = 3, span = 128;
      else
        return r.fail(path + ".swizzle", "unknown swizzle \"" + swizzle +
                                             "\" (expected none, 32B, 64B "
                                             "or 128B)");
      std::string l2 = "none";
      if (!r.string(mv, path, "l2_promotion", l2, /*required=*/false))
        return false;
      if (l2 == "none")
        m.l2Promotion = 0;
      else if (l2 == "64B")
        m.l2Promotion = 1;
      else if (l2 == "128B")
        m.l2Promotion = 2;
      else if (l2 == "256B")
        m.l2Promotion = 3;
      else
        return r.fail(path + ".l2_promotion",
                      "unknown promotion \"" + l2 +
                          "\" (expected none, 64B, 128B or 256B)");
      unsigned bytes = formatBytes(*p->dtype);
      uint64_t innerBytes = uint64_t(m.box.back()) * bytes;
      if (innerBytes % 16 != 0)
        return r.fail(path + ".box", "the inner box dim spans " +
                                         std::to_string(innerBytes) +
                                         " bytes; TMA needs a multiple of 16");
      if (span && innerBytes > span)
        return r.fail(path + ".box",
                      "the inner box dim spans " + std::to_string(innerBytes) +
                          " bytes, more than the " + swizzle + " swizzle span");
      // TMA addresses the innermost dim contiguously and the others by byte
      // strides that are multiples of 16.
      if (p->strides.back() != 1)
        return r.fail("params of " + m.tensor,
                      "a tensor map needs a contiguous innermost dim "
                      "(stride 1), got stride " +
                          std::to_string(p->strides.back()));
      for (size_t j = 0; j + 1 < p->strides.size(); ++j)
        if ((uint64_t(p->strides[j]) * bytes) % 16 != 0)
          return r.fail("params of " + m.tensor,
                        "stride " + std::to_string(p->strides[j]) +
                            " of dim " + std::to_string(j) + " is " +
                            std::to_string(p->strides[j] * bytes) +
                            " bytes; TMA needs a multiple of 16");
      d.tensorMaps.push_back(std::move(m));
    }
  }
  for (const Param &p : d.params)
    if (p.kind == ParamKind::TensorMap && !mapped.count(p.role))
      return r.fail("tensor_maps", "no tensor map for the tensor_map "
                                   "parameter \"" + p.role + "\"");
  return true;
}

bool rt::loadDescriptorFile(const std::string &path, LaunchDescriptor &result,
                            std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "descriptor: cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  // Read at most one byte past the limit, so that a huge file is refused
  // without reading it whole.
  std::string text(json::kMaxBytes + 1, '\0');
  in.read(&text[0], static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > json::kMaxBytes) {
    error = "descriptor: " + path + " is larger than " +
            std::to_string(json::kMaxBytes) + " bytes";
    return false;
  }
  std::string dir;
  size_t slash = path.rfind('/');
  if (slash != std::string::npos)
    dir = path.substr(0, slash == 0 ? 1 : slash);
  if (!parseDescriptor(text, dir, result, error)) {
    error = path + ": " + error;
    return false;
  }
  return true;
}

bool rt::readCubin(const std::string &path, std::vector<char> &bytes,
                   std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cubin: cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  bytes.assign(std::istreambuf_iterator<char>(in),
               std::istreambuf_iterator<char>());
  return checkCubinImage(bytes, path, error);
}

bool rt::checkCubinImage(const std::vector<char> &bytes,
                         const std::string &path, std::string &error) {
  if (bytes.empty()) {
    error = "cubin: " + path + " is empty";
    return false;
  }
  // The ELF64 header is 64 bytes; e_machine (offset 18, little-endian) is
  // EM_CUDA = 190 for every cubin nvcc and ptxas write.
  if (bytes.size() < 64 || std::memcmp(bytes.data(), "\x7f" "ELF", 4) != 0) {
    error = "cubin: " + path + " is not an ELF file (" +
            std::to_string(bytes.size()) + " bytes, no ELF header): a corrupt "
            "or truncated artifact";
    return false;
  }
  if (bytes[4] != 2 || bytes[5] != 1) {
    error = "cubin: " + path + " is not a 64-bit little-endian ELF file";
    return false;
  }
  unsigned machine = static_cast<unsigned char>(bytes[18]) |
                     (static_cast<unsigned char>(bytes[19]) << 8);
  if (machine != 190) {
    error = "cubin: " + path + " is an ELF file for machine " +
            std::to_string(machine) + ", not CUDA (EM_CUDA = 190)";
    return false;
  }
  return true;
}

std::optional<int> rt::cubinSmVersion(const std::vector<char> &bytes) {
  if (bytes.size() < 64 || static_cast<unsigned char>(bytes[7]) != 0x41 ||
      bytes[8] != 8)
    return std::nullopt;
  return static_cast<unsigned char>(bytes[49]); // e_flags (offset 48) >> 8
}

bool rt::checkCubinArch(const LaunchDescriptor &desc,
                        const std::vector<char> &bytes, std::string &error) {
  std::optional<int> sm = cubinSmVersion(bytes);
  int want = desc.archMajor * 10 + desc.archMinor;
  if (sm && *sm != want) {
    error = "cubin: " + desc.cubinPath + " was built for sm_" +
            std::to_string(*sm) + ", but the descriptor's arch is " +
            desc.arch + " (mismatching artifact)";
    return false;
  }
  return true;
}

bool rt::checkSharedMemory(const LaunchDescriptor &desc, int64_t maxOptinBytes,
                           std::string &error) {
  if (desc.dynamicSharedBytes > maxOptinBytes) {
    error = "kernel " + desc.kernel + " needs " +
            std::to_string(desc.dynamicSharedBytes) +
            " bytes of dynamic shared memory, more than the device's "
            "opt-in maximum of " +
            std::to_string(maxOptinBytes) + " bytes per block";
    return false;
  }
  return true;
}

bool rt::checkArch(const LaunchDescriptor &desc, int major, int minor,
                   std::string &error) {
  bool ok = desc.archSpecific
                ? (major == desc.archMajor && minor == desc.archMinor)
                : (major == desc.archMajor && minor >= desc.archMinor);
  if (!ok) {
    error = "kernel " + desc.kernel + " was compiled for " + desc.arch +
            ", which does not run on a device of compute capability " +
            std::to_string(major) + "." + std::to_string(minor) +
            (desc.archSpecific ? " (arch-specific 'a' code runs only on " +
                                     std::to_string(desc.archMajor) + "." +
                                     std::to_string(desc.archMinor) + ")"
                               : "");
    return false;
  }
  return true;
}
