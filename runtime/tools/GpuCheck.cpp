//===- GpuCheck.cpp - what lpattn-gpu-run measures and checks -------------===//

#include "GpuCheck.h"
#include "HostFormats.h"
#include "Json.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

using namespace lpattn;
using namespace lpattn::rt;
using namespace lpattn::rt::gpucheck;

//===----------------------------------------------------------------------===//
// Metrics
//===----------------------------------------------------------------------===//

ErrorMetrics gpucheck::computeMetrics(const std::vector<float> &output,
                                      const std::vector<double> &reference,
                                      int64_t rowLength) {
  ErrorMetrics m;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (output.size() != reference.size()) {
    m.mse = m.meanError = m.maxAbsError = m.relativeRMSE = nan;
    return m;
  }
  double sumSq = 0, sumRefSq = 0, sum = 0;
  for (size_t i = 0; i < output.size(); ++i) {
    if (std::isnan(output[i])) {
      ++m.numNaN;
      continue;
    }
    if (std::isinf(output[i])) {
      ++m.numInf;
      continue;
    }
    if (!std::isfinite(reference[i])) {
      ++m.numReferenceNonFinite;
      continue;
    }
    ++m.numFinite;
    double e = double(output[i]) - reference[i];
    sumSq += e * e;
    sum += e;
    sumRefSq += reference[i] * reference[i];
    m.maxAbsError = std::max(m.maxAbsError, std::fabs(e));
  }
  if (m.numFinite == 0) {
    m.mse = m.meanError = m.maxAbsError = m.relativeRMSE = nan;
    return m;
  }
  m.mse = sumSq / double(m.numFinite);
  m.meanError = sum / double(m.numFinite);
  if (sumRefSq > 0)
    m.relativeRMSE = std::sqrt(sumSq) / std::sqrt(sumRefSq);
  else
    m.relativeRMSE =
        sumSq == 0 ? 0.0 : std::numeric_limits<double>::infinity();
  // The bias t-statistic over rows (lpattn::lab::computeBiasT).
  if (rowLength > 0) {
    std::vector<double> rowMeans;
    for (size_t start = 0; start + size_t(rowLength) <= output.size();
         start += size_t(rowLength)) {
      double s = 0;
      int64_t n = 0;
      for (size_t i = start; i < start + size_t(rowLength); ++i)
        if (std::isfinite(output[i])) {
          s += double(output[i]) - reference[i];
          ++n;
        }
      if (n > 0)
        rowMeans.push_back(s / double(n));
    }
    if (rowMeans.size() >= 2) {
      double mean = 0;
      for (double x : rowMeans)
        mean += x;
      mean /= double(rowMeans.size());
      double var = 0;
      for (double x : rowMeans)
        var += (x - mean) * (x - mean);
      var /= double(rowMeans.size() - 1);
      if (var > 0)
        m.biasT = mean / std::sqrt(var / double(rowMeans.size()));
    }
  }
  return m;
}

//===----------------------------------------------------------------------===//
// Inputs
//===----------------------------------------------------------------------===//

double NormalSampler::next() {
  if (spare) {
    double value = *spare;
    spare.reset();
    return value;
  }
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  double u1 = static_cast<double>((engine() >> 11) + 1) * 0x1.0p-53;
  double u2 = static_cast<double>(engine() >> 11) * 0x1.0p-53;
  double radius = std::sqrt(-2.0 * std::log(u1));
  spare = radius * std::sin(kTwoPi * u2);
  return radius * std::cos(kTwoPi * u2);
}

std::vector<unsigned char> gpucheck::randomCodes(int64_t count,
                                                 FloatFormat format,
                                                 uint64_t seed) {
  unsigned width = storageBytes(format);
  std::vector<unsigned char> bytes(size_t(count) * width);
  NormalSampler normal(seed);
  for (int64_t i = 0; i < count; ++i) {
    // As lpattn-run: the deviate rounded to float, then cast (RNE,
    // satfinite) when the host data is cast to the operand type.
    float x = static_cast<float>(normal.next());
    uint32_t bits = encodeBits(double(x), format, /*satfinite=*/true);
    for (unsigned b = 0; b < width; ++b)
      bytes[size_t(i) * width + b] = (bits >> (8 * b)) & 0xff;
  }
  return bytes;
}

namespace {
/// The standard normal quantile of p in (0, 1), by bisection on erfc (to
/// double precision; used for a table, not per element).
double normalQuantile(double p) {
  double lo = -40, hi = 40;
  for (int i = 0; i < 200 && hi - lo > 1e-15; ++i) {
    double mid = 0.5 * (lo + hi);
    if (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p)
      lo = mid;
    else
      hi = mid;
  }
  return 0.5 * (lo + hi);
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
} // namespace

std::vector<unsigned char> gpucheck::fastRandomCodes(int64_t count,
                                                     FloatFormat format,
                                                     uint64_t seed) {
  unsigned width = storageBytes(format);
  std::vector<uint32_t> table(65536);
  for (size_t i = 0; i < table.size(); ++i) {
    float x = static_cast<float>(normalQuantile((double(i) + 0.5) / 65536.0));
    table[i] = encodeBits(double(x), format, /*satfinite=*/true);
  }
  std::vector<unsigned char> bytes(size_t(count) * width);
  uint64_t base = splitmix64(seed);
  for (int64_t i = 0; i < count; ++i) {
    uint32_t bits = table[splitmix64(base + uint64_t(i)) >> 48];
    for (unsigned b = 0; b < width; ++b)
      bytes[size_t(i) * width + b] = (bits >> (8 * b)) & 0xff;
  }
  return bytes;
}

//===----------------------------------------------------------------------===//
// Comparison
//===----------------------------------------------------------------------===//

Comparison gpucheck::compareWithCpu(const std::vector<float> &gpu,
                                    const std::vector<float> &cpu,
                                    FloatFormat out,
                                    const Tolerance &tolerance,
                                    int64_t rowLength) {
  Comparison c;
  for (size_t i = 0; i < gpu.size() && i < cpu.size(); ++i) {
    float g = gpu[i], x = cpu[i];
    uint32_t gb, xb;
    std::memcpy(&gb, &g, 4);
    std::memcpy(&xb, &x, 4);
    if (gb != xb)
      ++c.numDiffering;
    bool ok;
    if (std::isnan(g) || std::isnan(x)) {
      ok = std::isnan(g) && std::isnan(x);
    } else if (std::isinf(g) || std::isinf(x)) {
      ok = g == x;
    } else {
      double diff = std::fabs(double(g) - double(x));
      double ulp = ulpAt(x, out);
      size_t row = rowLength > 0 ? i / size_t(rowLength) : 0;
      double atol = tolerance.rowAtol.empty()
                        ? tolerance.atol
                        : double(tolerance.rowAtol[std::min(
                              row, tolerance.rowAtol.size() - 1)]);
      double bound = tolerance.ulps * ulp + atol;
      ok = diff <= bound;
      c.maxAbsDiff = std::max(c.maxAbsDiff, diff);
      c.worstUlps = std::max(c.worstUlps, diff / ulp);
      double ratio = bound > 0 ? diff / bound : (diff > 0 ? INFINITY : 0);
      if (ratio > c.worstRatio || c.worstIndex < 0) {
        c.worstRatio = ratio;
        c.worstIndex = int64_t(i);
      }
    }
    if (!ok) {
      if (c.firstOutside < 0)
        c.firstOutside = int64_t(i);
      ++c.numOutside;
    }
  }
  if (gpu.size() != cpu.size())
    c.numOutside += int64_t(std::max(gpu.size(), cpu.size()) -
                            std::min(gpu.size(), cpu.size()));
  return c;
}

//===----------------------------------------------------------------------===//
// The P cast of a debug artifact
//===----------------------------------------------------------------------===//

PCastCheck gpucheck::checkPCast(const std::vector<float> &scaled,
                                const std::vector<uint8_t> &codes,
                                int64_t rows, int64_t keys, FloatFormat p,
                                bool satfinite, size_t keep) {
  PCastCheck c;
  c.entries = rows * keys;
  if (scaled.size() < size_t(c.entries) || codes.size() < size_t(c.entries))
    return c; // the caller sizes both; nothing to check otherwise
  for (int64_t i = 0; i < c.entries; ++i) {
    uint32_t inputBits;
    std::memcpy(&inputBits, &scaled[size_t(i)], 4);
    uint8_t got = codes[size_t(i)];
    if (inputBits == kPScaledFill || got == kPCodeFill) {
      ++c.unwritten;
      continue;
    }
    ++c.checked;
    uint32_t expected = encodeBits(double(scaled[size_t(i)]), p, satfinite);
    if (expected == got)
      continue;
    if (c.first.size() < keep)
      c.first.push_back({i / keys, i % keys, scaled[size_t(i)], expected, got});
    ++c.mismatches;
  }
  return c;
}

//===----------------------------------------------------------------------===//
// Case files
//===----------------------------------------------------------------------===//

namespace {
using json::Value;

/// Reads members of case.json, naming the file and member in errors.
struct CaseReader {
  std::string file;
  std::string &error;

  bool fail(const std::string &member, const std::string &message) {
    error = file + ": " + member + ": " + message;
    return false;
  }
  const Value *member(const Value &obj, const std::string &path,
                      const std::string &key, Value::Kind kind,
                      bool required) {
    const Value *v = obj.get(key);
    std::string name = path.empty() ? key : path + "." + key;
    if (!v || (v->kind == Value::Kind::Null && !required)) {
      if (required)
        fail(name, "missing");
      return nullptr;
    }
    if (v->kind != kind) {
      fail(name, std::string("expected ") + json::kindName(kind) + ", got " +
                     json::kindName(v->kind));
      return nullptr;
    }
    return v;
  }
  bool number(const Value &obj, const std::string &path,
              const std::string &key, double &out, bool required = true) {
    const Value *v = member(obj, path, key, Value::Kind::Number, required);
    if (!v)
      return !required && error.empty();
    out = v->number;
    return true;
  }
  bool string(const Value &obj, const std::string &path,
              const std::string &key, std::string &out,
              bool required = true) {
    const Value *v = member(obj, path, key, Value::Kind::String, required);
    if (!v)
      return !required && error.empty();
    out = v->string;
    return true;
  }
  bool boolean(const Value &obj, const std::string &path,
               const std::string &key, bool &out, bool required = true) {
    const Value *v = member(obj, path, key, Value::Kind::Bool, required);
    if (!v)
      return !required && error.empty();
    out = v->boolean;
    return true;
  }
  bool shape(const Value &obj, const std::string &key,
             std::vector<int64_t> &out) {
    const Value *v = member(obj, "", key, Value::Kind::Array, true);
    if (!v)
      return false;
    out.clear();
    for (const Value &d : v->array) {
      if (d.kind != Value::Kind::Number || d.number < 1 ||
          d.number != std::floor(d.number) || d.number > 9.0e15)
        return fail(key, "expected positive integers");
      out.push_back(int64_t(d.number));
    }
    if (out.size() != 4)
      return fail(key, "expected 4 dimensions [B, H, N, D]");
    return true;
  }
};
} // namespace

bool gpucheck::readCaseFile(const std::string &dir, CaseFile &c,
                            std::string &error) {
  error.clear();
  std::string file = dir + "/case.json";
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    error = file + ": cannot read: " + std::strerror(errno);
    return false;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  Value root;
  std::string parseError;
  if (!json::parse(text, root, parseError)) {
    error = file + ": malformed JSON: " + parseError;
    return false;
  }
  CaseReader r{file, error};
  if (root.kind != Value::Kind::Object)
    return r.fail("<root>", "expected an object");
  std::string format;
  double version = 0;
  if (!r.string(root, "", "format", format))
    return false;
  if (format != "lpattn-gpu-case")
    return r.fail("format", "expected \"lpattn-gpu-case\", got \"" + format +
                                "\"");
  if (!r.number(root, "", "version", version))
    return false;
  if (version != 1)
    return r.fail("version", "unsupported version " + jsonNumber(version) +
                                 " (this tool reads version 1)");
  c.dir = dir;
  if (!r.shape(root, "query", c.query) || !r.shape(root, "key", c.key) ||
      !r.shape(root, "value", c.value) || !r.shape(root, "result", c.result))
    return false;

  if (const Value *files =
          r.member(root, "", "files", Value::Kind::Object, true)) {
    if (!r.string(*files, "files", "q", c.qFile) ||
        !r.string(*files, "files", "k", c.kFile) ||
        !r.string(*files, "files", "v", c.vFile) ||
        !r.string(*files, "files", "o_cpu", c.oCpuFile) ||
        !r.string(*files, "files", "o_ref", c.oRefFile) ||
        !r.string(*files, "files", "mask", c.maskFile, false) ||
        !r.string(*files, "files", "atol", c.atolFile, false))
      return false;
  } else {
    return false;
  }

  if (!r.boolean(root, "", "has_descales", c.hasDescales) ||
      !r.boolean(root, "", "has_mask", c.hasMask))
    return false;
  if (const Value *ds =
          r.member(root, "", "descales", Value::Kind::Object, true)) {
    double q = 1, k = 1, v = 1;
    if (!r.number(*ds, "descales", "q", q) ||
        !r.number(*ds, "descales", "k", k) ||
        !r.number(*ds, "descales", "v", v))
      return false;
    c.qDescale = float(q), c.kDescale = float(k), c.vDescale = float(v);
  } else {
    return false;
  }

  if (const Value *pol =
          r.member(root, "", "policy", Value::Kind::Object, true)) {
    for (auto [key, field] :
         {std::pair{"qk", &c.qk}, {"score", &c.score}, {"p", &c.p},
          {"v", &c.v}, {"acc", &c.acc}, {"out", &c.out},
          {"overflow", &c.overflow}})
      if (!r.string(*pol, "policy", key, *field))
        return false;
  } else {
    return false;
  }
  if (const Value *sg =
          r.member(root, "", "safeguards", Value::Kind::Object, true)) {
    if (!r.number(*sg, "safeguards", "scale", c.scale) ||
        !r.number(*sg, "safeguards", "p_scale", c.pScale) ||
        !r.string(*sg, "safeguards", "kv_order", c.kvOrder) ||
        !r.boolean(*sg, "safeguards", "causal", c.causal))
      return false;
    if (const Value *sm = r.member(*sg, "safeguards", "softmax",
                                   Value::Kind::Object, true)) {
      if (!r.string(*sm, "safeguards.softmax", "variant", c.softmax))
        return false;
    } else {
      return false;
    }
  } else {
    return false;
  }
  if (const Value *tiles =
          r.member(root, "", "tiles", Value::Kind::Array, false)) {
    if (tiles->array.size() != 2 ||
        tiles->array[0].kind != Value::Kind::Number ||
        tiles->array[1].kind != Value::Kind::Number)
      return r.fail("tiles", "expected [Br, Bc]");
    c.tileQ = int64_t(tiles->array[0].number);
    c.tileKV = int64_t(tiles->array[1].number);
  } else if (!error.empty()) {
    return false;
  }
  if (const Value *inputs =
          r.member(root, "", "inputs", Value::Kind::Object, false))
    r.string(*inputs, "inputs", "generator", c.generator, false);
  if (!error.empty())
    return false;
  if (const Value *cpu = r.member(root, "", "cpu", Value::Kind::Object,
                                  true)) {
    double collapsed = -1, positive = -1;
    if (!r.number(*cpu, "cpu", "collapsed", collapsed, false) ||
        !r.number(*cpu, "cpu", "positive", positive, false) ||
        !r.number(*cpu, "cpu", "collapse_fraction", c.collapseFraction,
                  false))
      return false;
    c.collapsed = int64_t(collapsed);
    c.positive = int64_t(positive);
  } else {
    return false;
  }
  const Value *tol =
      r.member(root, "", "tolerance", Value::Kind::Object, true);
  if (!tol)
    return false;
  Tolerance &t = c.tolerance;
  if (!r.number(*tol, "tolerance", "ulps", t.ulps) ||
      !r.number(*tol, "tolerance", "atol_max", t.atol) ||
      !r.number(*tol, "tolerance", "mse_rel", t.mseRel) ||
      !r.number(*tol, "tolerance", "max_error_factor", t.maxErrFactor) ||
      !r.number(*tol, "tolerance", "collapse_rel", t.collapseRel))
    return false;
  for (auto [name, value] :
       {std::pair{"ulps", t.ulps}, {"atol_max", t.atol},
        {"mse_rel", t.mseRel}, {"max_error_factor", t.maxErrFactor},
        {"collapse_rel", t.collapseRel}})
    if (!(value >= 0) || !std::isfinite(value))
      return r.fail(std::string("tolerance.") + name,
                    "expected a finite number >= 0");
  return true;
}

//===----------------------------------------------------------------------===//
// Output
//===----------------------------------------------------------------------===//

std::string gpucheck::jsonNumber(double x) {
  if (!std::isfinite(x))
    return "null";
  if (x == std::floor(x) && std::fabs(x) < 9.0e15) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(x));
    return buf;
  }
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", x);
  return buf;
}

std::string gpucheck::jsonString(const std::string &s) {
  std::string out = "\"";
  for (unsigned char ch : s) {
    switch (ch) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (ch < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", ch);
        out += buf;
      } else {
        out += char(ch);
      }
    }
  }
  return out + "\"";
}
