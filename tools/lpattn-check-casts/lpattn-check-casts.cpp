//===- CheckAllCasts.cpp - all f32 inputs through each cast --- -*- C++ -*-===//
//
// lpattn-check-casts: runs the JIT-compiled vector kernel of every
// lpattn.truncf cast (and arith.truncf to FP8) over all 2^32 f32 bit
// patterns and counts the results that differ from CUDA's host conversions
// (when built with the CUDA headers) and, with --encode-rne, from
// lpattn::encodeRNE (APFloat, ~50 ns a call: minutes per cast). Also checks
// arith.extf on every code. Prints counts and times; exits 1 on any
// mismatch. Too slow for the test suite: run by scripts/check-all-casts.sh.
//
// With --p-dump DIR it checks a GPU kernel's P cast instead (no JIT): DIR
// holds what `lpattn-gpu-run --p-dump DIR` downloaded from a debug artifact
// (lpattn-compile --dump-p): p_scaled.npy (P * S before the cast, '<f4'),
// p_codes.npy (the kernel's codes, '|u1') and p_dump.json (the p type and
// overflow mode). Every code must equal lpattn::encodeRNE of its input
// (docs/gpu-check.md, check (a)); exits 1 on any mismatch or unwritten
// entry, 2 on a bad directory.
//
//===----------------------------------------------------------------------===//

#include "CastKernels.h"
#include "lpattn/Lab/Npy.h"
#ifdef LPATTN_HAVE_CUDA_FP8
#include "CudaReference.h"
#endif

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

using namespace lpattn;
using namespace lpattn::casts;

// (`threads` is taken by an LLVM option.)
static llvm::cl::opt<unsigned>
    numThreads("workers",
               llvm::cl::desc("Worker threads (0: one per hardware thread)"),
               llvm::cl::init(0));
static llvm::cl::opt<bool> withEncodeRNE(
    "encode-rne",
    llvm::cl::desc("Also compare with lpattn::encodeRNE (slow; always on "
                   "without the CUDA headers)"),
    llvm::cl::init(false));
static llvm::cl::opt<std::string>
    castFilter("only",
               llvm::cl::desc("Only the casts whose description contains "
                              "this text (e.g. \"f8E4M3FN satfinite\")"),
               llvm::cl::init(""));
static llvm::cl::opt<std::string> pDumpDir(
    "p-dump",
    llvm::cl::desc("Check a GPU P dump instead (DIR of lpattn-gpu-run "
                   "--p-dump: p_scaled.npy, p_codes.npy, p_dump.json): every "
                   "code against lpattn::encodeRNE of its input"),
    llvm::cl::value_desc("DIR"), llvm::cl::init(""));
static llvm::cl::opt<unsigned> inputBits(
    "input-bits",
    llvm::cl::desc("Check the first 2^N inputs only (32 = all of them)"),
    llvm::cl::init(32));

namespace {

constexpr uint64_t kChunk = uint64_t(1) << 22;

#ifdef LPATTN_HAVE_CUDA_FP8
constexpr bool kHaveCUDA = true;
#else
constexpr bool kHaveCUDA = false;
#endif

std::string hex(uint32_t bits, unsigned width) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::format_hex(bits, 2 + width / 4);
  return text;
}

struct Counts {
  std::atomic<uint64_t> vsCUDA{0}, vsEncode{0};
  std::atomic<uint64_t> jitNanoseconds{0};
  std::mutex examplesMutex;
  std::vector<std::string> examples;

  void note(std::string example) {
    std::lock_guard<std::mutex> lock(examplesMutex);
    if (examples.size() < 8)
      examples.push_back(std::move(example));
  }
};

/// Checks `cast` on inputs [0, total) with `threads` workers.
bool checkCast(const CastKernels &kernels, const TruncCast &cast,
               uint64_t total, unsigned threads, bool encode) {
  Counts counts;
  std::atomic<uint64_t> nextChunk{0};
  std::atomic<bool> failedCall{false};
  unsigned width = getBitWidth(cast.format);
  auto start = std::chrono::steady_clock::now();

  auto worker = [&] {
    std::vector<float> in(kChunk);
    std::vector<uint8_t> out(kChunk * 2);
    for (;;) {
      uint64_t first = nextChunk.fetch_add(kChunk);
      if (first >= total)
        return;
      uint64_t n = std::min(kChunk, total - first);
      for (uint64_t i = 0; i < n; ++i)
        in[i] = bitsToFloat(uint32_t(first + i));
      auto jitStart = std::chrono::steady_clock::now();
      if (llvm::Error error = kernels.truncate(cast, KernelForm::Vector,
                                               in.data(), out.data(), n)) {
        counts.note(llvm::toString(std::move(error)));
        failedCall = true;
        return;
      }
      counts.jitNanoseconds +=
          std::chrono::duration_cast<std::chrono::nanoseconds>(
              std::chrono::steady_clock::now() - jitStart)
              .count();
      uint64_t cudaMismatches = 0, encodeMismatches = 0;
      for (uint64_t i = 0; i < n; ++i) {
        uint32_t got =
            width == 8 ? out[i]
                       : uint32_t(out[2 * i]) | uint32_t(out[2 * i + 1]) << 8;
        float x = in[i];
#ifdef LPATTN_HAVE_CUDA_FP8
        uint32_t cuda = cudaTruncate(x, cast);
        if (got != cuda && ++cudaMismatches <= 2)
          counts.note("x = " + hex(uint32_t(first + i), 32) + ": CUDA " +
                      hex(cuda, width) + ", JIT " + hex(got, width));
#endif
        if (encode) {
          uint32_t expected = encodeRNE(x, cast.format, cast.overflow);
          if (got != expected && ++encodeMismatches <= 2)
            counts.note("x = " + hex(uint32_t(first + i), 32) + ": encodeRNE " +
                        hex(expected, width) + ", JIT " + hex(got, width));
        }
      }
      counts.vsCUDA += cudaMismatches;
      counts.vsEncode += encodeMismatches;
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back(worker);
  for (std::thread &thread : pool)
    thread.join();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();

  llvm::outs() << llvm::format("%-34s", describe(cast).c_str())
               << llvm::format(" JIT %.3f ns/element/thread",
                               double(counts.jitNanoseconds) / total);
  if (kHaveCUDA)
    llvm::outs() << " | differ from CUDA: " << counts.vsCUDA;
  if (encode)
    llvm::outs() << " | from encodeRNE: " << counts.vsEncode;
  llvm::outs() << llvm::format(" | %.1f s\n", seconds);
  for (const std::string &example : counts.examples)
    llvm::outs() << "    " << example << "\n";
  llvm::outs().flush();
  return !failedCall && counts.vsCUDA == 0 && counts.vsEncode == 0;
}

/// arith.extf on every code, against CUDA (and APFloat for non-NaN codes).
bool checkExtensions(const CastKernels &kernels) {
  bool ok = true;
  for (FloatFormat from : extendFormats()) {
    unsigned width = getBitWidth(from);
    size_t count = size_t(1) << width;
    std::vector<uint8_t> codes(count * width / 8);
    for (size_t code = 0; code < count; ++code) {
      codes[code * width / 8] = uint8_t(code);
      if (width == 16)
        codes[2 * code + 1] = uint8_t(code >> 8);
    }
    std::vector<float> out(count);
    if (llvm::Error error = kernels.extend(from, KernelForm::Vector,
                                           codes.data(), out.data(), count)) {
      llvm::errs() << llvm::toString(std::move(error)) << "\n";
      return false;
    }
    uint64_t vsDecode = 0, vsCUDA = 0, nanPayloads = 0;
    for (size_t code = 0; code < count; ++code) {
      uint32_t got = floatToBits(out[code]);
      float expected = decode(uint32_t(code), from);
      if (!std::isnan(expected) ? got != floatToBits(expected)
                                : !std::isnan(out[code]))
        ++vsDecode;
#ifdef LPATTN_HAVE_CUDA_FP8
      uint32_t cuda = cudaExtend(uint32_t(code), from);
      if (got != cuda) {
        // f16 NaNs: LLVM quiets and keeps the payload, CUDA's host code
        // returns 0x7FFFFFFF (documented; counted apart).
        if (std::isnan(bitsToFloat(cuda)) && std::isnan(out[code]))
          ++nanPayloads;
        else
          ++vsCUDA;
      }
#endif
    }
    llvm::outs() << llvm::format("arith.extf %-23s", getFormatName(from).data())
                 << " all " << count
                 << " codes | differ from APFloat: " << vsDecode;
    if (kHaveCUDA)
      llvm::outs() << " | from CUDA: " << vsCUDA
                   << " (NaN payload only: " << nanPayloads << ")";
    llvm::outs() << "\n";
    ok &= vsDecode == 0 && vsCUDA == 0;
  }
  return ok;
}

/// --p-dump DIR: the kernel's P codes against lpattn::encodeRNE. Returns
/// the exit status: 0 all exact, 1 mismatches or unwritten entries, 2 a bad
/// directory.
int checkPDump(const std::string &dir) {
  auto error = [&](const llvm::Twine &message) {
    llvm::errs() << "lpattn-check-casts: error: --p-dump " << dir << ": "
                 << message << "\n";
    return 2;
  };
  std::string metaPath = dir + "/p_dump.json";
  auto buffer = llvm::MemoryBuffer::getFile(metaPath);
  if (!buffer)
    return error(metaPath + ": " + buffer.getError().message());
  llvm::Expected<llvm::json::Value> meta =
      llvm::json::parse((*buffer)->getBuffer());
  if (!meta)
    return error(metaPath + ": " + llvm::toString(meta.takeError()));
  const llvm::json::Object *object = meta->getAsObject();
  std::optional<llvm::StringRef> pName =
      object ? object->getString("p") : std::nullopt;
  std::optional<llvm::StringRef> overflowName =
      object ? object->getString("overflow") : std::nullopt;
  if (!pName || !overflowName)
    return error(metaPath + ": expected an object with strings \"p\" and "
                            "\"overflow\"");
  std::optional<FloatFormat> p = symbolizeFloatFormat(*pName);
  std::optional<OverflowMode> overflow = symbolizeOverflowMode(*overflowName);
  if (!p || getBitWidth(*p) != 8)
    return error(metaPath + ": \"p\" is \"" + *pName +
                 "\", expected f8E4M3FN or f8E5M2");
  if (!overflow)
    return error(metaPath + ": \"overflow\" is \"" + *overflowName +
                 "\", expected satfinite or nonsat");

  llvm::Expected<lab::NpyRaw> scaled = lab::readNpyRaw(dir + "/p_scaled.npy");
  if (!scaled)
    return error(llvm::toString(scaled.takeError()));
  llvm::Expected<lab::NpyRaw> codes = lab::readNpyRaw(dir + "/p_codes.npy");
  if (!codes)
    return error(llvm::toString(codes.takeError()));
  if (scaled->descr != "<f4" || codes->descr != "|u1")
    return error("p_scaled.npy must be '<f4' and p_codes.npy '|u1', got '" +
                 scaled->descr + "' and '" + codes->descr + "'");
  if (scaled->shape.size() != 2 || scaled->shape != codes->shape)
    return error("p_scaled.npy and p_codes.npy must have the same 2-D shape");
  int64_t rows = scaled->shape[0], keys = scaled->shape[1];
  int64_t entries = rows * keys;

  int64_t checked = 0, mismatches = 0, unwritten = 0;
  std::vector<std::string> examples;
  for (int64_t i = 0; i < entries; ++i) {
    uint32_t bits;
    std::memcpy(&bits, scaled->data.data() + 4 * i, 4);
    uint32_t got = static_cast<unsigned char>(codes->data[size_t(i)]);
    // lpattn-gpu-run fills both with all-ones bytes before the launch.
    if (bits == 0xffffffffu || got == 0xff) {
      ++unwritten;
      continue;
    }
    ++checked;
    float x = bitsToFloat(bits);
    uint32_t expected = encodeRNE(x, *p, *overflow);
    if (expected == got)
      continue;
    if (++mismatches <= 8) {
      char value[32];
      std::snprintf(value, sizeof(value), "%.9g", double(x));
      examples.push_back((llvm::Twine("row ") + llvm::Twine(i / keys) +
                          ", key " + llvm::Twine(i % keys) + ": P * S = " +
                          value + " (" + hex(bits, 32) + "), encodeRNE " +
                          hex(expected, 8) + ", kernel " + hex(got, 8))
                             .str());
    }
  }
  bool ok = mismatches == 0 && unwritten == 0;
  llvm::outs() << "P dump " << dir << ": " << rows << " x " << keys << " = "
               << entries << " entries, p " << *pName << " " << *overflowName
               << ": " << checked << " checked against lpattn::encodeRNE, "
               << mismatches << " mismatches, " << unwritten
               << " unwritten: " << (ok ? "EXACT" : "NOT EXACT") << "\n";
  for (const std::string &example : examples)
    llvm::outs() << "  mismatch: " << example << "\n";
  if (mismatches > 8)
    llvm::outs() << "  ... and " << (mismatches - 8) << " more\n";
  return ok ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::cl::ParseCommandLineOptions(
      argc, argv,
      "lpattn-check-casts: every f32 input through every expanded cast\n");
  if (!pDumpDir.empty())
    return checkPDump(pDumpDir);
  if (inputBits > 32) {
    llvm::errs() << "--input-bits must be at most 32\n";
    return 2;
  }
  unsigned threads = numThreads
                         ? unsigned(numThreads)
                         : std::max(1u, std::thread::hardware_concurrency());
  bool encode = withEncodeRNE || !kHaveCUDA;
  uint64_t total = uint64_t(1) << inputBits;

  auto start = std::chrono::steady_clock::now();
  auto kernels = CastKernels::create(/*optLevel=*/3);
  if (!kernels) {
    llvm::errs() << "compiling the cast kernels failed:\n"
                 << llvm::toString(kernels.takeError()) << "\n";
    return 2;
  }
  llvm::outs() << llvm::format(
      "kernels compiled in %.1f s; %u threads; 2^%u inputs per cast; "
      "reference: %s%s\n",
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count(),
      threads, unsigned(inputBits), kHaveCUDA ? "CUDA host conversions" : "",
      encode ? (kHaveCUDA ? " and encodeRNE" : "encodeRNE (no CUDA headers)")
             : "");

  bool ok = checkExtensions(**kernels);
  std::vector<TruncCast> all = allTruncCasts();
  for (const TruncCast &cast : arithTruncCasts())
    all.push_back(cast);
  for (const TruncCast &cast : all)
    if (describe(cast).find(castFilter) != std::string::npos)
      ok &= checkCast(**kernels, cast, total, threads, encode);

  llvm::outs() << llvm::format(
      "%s in %.1f s\n", ok ? "ALL CASTS EXACT" : "MISMATCHES FOUND",
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count());
  return ok ? 0 : 1;
}
