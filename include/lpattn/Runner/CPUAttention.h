//===- CPUAttention.h - compile and run an attention on the CPU -*- C++ -*-===//
//
// The CPU path of lpattn: an lpattn.attention (parsed from .mlir text, or
// built from a described problem) through lpattn-cpu-pipeline (the tile
// level with its safeguards, loops, LLVM), JIT-compiled and run in process on
// host data. Every rounding the
// GPU would do (input, P and output casts, low-precision accumulators) is
// emulated bit-exactly, so the numerics can be measured on any machine.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_RUNNER_CPUATTENTION_H
#define LPATTN_RUNNER_CPUATTENTION_H

#include "lpattn/Lab/HostTensor.h"
#include "lpattn/Numerics/Formats.h"
#include "lpattn/Numerics/KernelABI.h"
#include "lpattn/Numerics/Rules.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include "llvm/Support/Error.h"

#include <array>
#include <memory>
#include <optional>
#include <string>

namespace mlir {
class ExecutionEngine;
class MLIRContext;
} // namespace mlir

namespace lpattn {

/// One attention described by its sizes and numerics. buildModule builds
/// the `func.func @attention` holding the matching lpattn.attention with the
/// op's builder; zero-valued numerics take the op's defaults
/// (lpattn/Numerics/Rules.h).
struct AttentionProblem {
  int64_t batch = 1, qHeads = 1, kvHeads = 1;
  int64_t qLen = 128, kvLen = 128, headDim = 64;
  int64_t valueDim = 0; ///< 0: same as headDim
  PrecisionPolicy policy;
  double softmaxScale = 0.0; ///< 0: 1/sqrt(headDim)
  double pScale = 1.0;
  KVOrder kvOrder = KVOrder::Forward;
  SoftmaxVariant softmax = SoftmaxVariant::Standard;
  double beta = 0.0, tol = 0.0; ///< 0: the variant's default
  bool causal = false;
  bool mask = false;     ///< an additive [1, 1, Nq, Nk] f32 mask operand
  bool descales = false; ///< q, k, v descale operands
  /// With `descales`: tensor<B x Hkv x f32> descales (per batch and KV head)
  /// rather than f32 scalars.
  bool descalesPerHead = false;
  int64_t tileQ = kDefaultTileQ, tileKV = kDefaultTileKV;

  /// The module holding @attention(Q, K, V[, mask][, q_ds, k_ds, v_ds]).
  mlir::OwningOpRef<mlir::ModuleOp> buildModule(mlir::MLIRContext &ctx) const;
  /// That module, printed (for --print-ir and tests).
  std::string toMLIR() const;
};

/// What to compile besides the attention itself.
struct CPUCompileOptions {
  /// Count collapsed P (lpattn-count-collapse) over keys >= this; none: off.
  std::optional<int64_t> collapseSinkKeys;
  unsigned optLevel = 3;
  int64_t tileQ = kDefaultTileQ, tileKV = kDefaultTileKV; ///< when the op
                                                           ///< has no `tiles`
  /// Host memory the attention's tensors may take, in bytes (see
  /// checkHostMemory); 0: the machine's physical memory.
  uint64_t maxMemoryBytes = 0;
};

/// One run's results.
struct CPURunResult {
  lab::HostTensor output; ///< values of the out type, widened to float
  int64_t collapsed = -1; ///< non-sink P > 0 with P~ = 0 (-1: not counted)
  int64_t positive = -1;  ///< non-sink P > 0
  double seconds = 0.0;   ///< the compiled function alone
  double collapseFraction() const {
    return positive > 0 ? double(collapsed) / double(positive) : 0.0;
  }
};

/// The machine's physical memory in bytes (0 if unknown).
uint64_t getPhysicalMemoryBytes();

/// The host memory, in bytes, that running an attention of these shapes
/// takes at its peak: each input as float, in its storage format and as the
/// float64 the reference reads, the result in its storage format, as float
/// and as the float64 reference. An error naming the tensor if a shape is
/// not static and positive or a count overflows int64.
llvm::Expected<uint64_t> estimateHostBytes(
    llvm::ArrayRef<int64_t> query, llvm::ArrayRef<int64_t> key,
    llvm::ArrayRef<int64_t> value, llvm::ArrayRef<int64_t> mask,
    llvm::ArrayRef<int64_t> result, const PrecisionPolicy &policy);

/// estimateHostBytes checked against `limitBytes` (0: physical memory): an
/// error naming the size and the limit, before anything is allocated.
llvm::Error checkHostMemory(llvm::ArrayRef<int64_t> query,
                            llvm::ArrayRef<int64_t> key,
                            llvm::ArrayRef<int64_t> value,
                            llvm::ArrayRef<int64_t> mask,
                            llvm::ArrayRef<int64_t> result,
                            const PrecisionPolicy &policy,
                            uint64_t limitBytes);

/// The descales of one run (used only if the op has descale operands).
/// Implicitly made from three floats, so `{0.5f, 2.0f, 1.0f}` is the
/// per-tensor {q_ds, k_ds, v_ds}.
struct RunDescales {
  /// q_ds, k_ds, v_ds per tensor. For an op with per-(batch, KV head)
  /// descales and no `perHead` values, every entry [b, h_kv] of each is
  /// this value (a per-tensor descale is a per-head one with equal entries).
  std::array<float, 3> perTensor{1, 1, 1};
  /// q_ds, k_ds, v_ds per (batch, KV head): three [B, Hkv] tensors. Only
  /// for an op with tensor<B x Hkv x f32> descales.
  std::optional<std::array<lab::HostTensor, 3>> perHead;

  RunDescales() = default;
  RunDescales(std::array<float, 3> perTensor) : perTensor(perTensor) {}
  RunDescales(std::array<lab::HostTensor, 3> perHead)
      : perHead(std::move(perHead)) {}

  /// Entry [b, h] of descale `which` (0: q, 1: k, 2: v) as the op reads it.
  float at(unsigned which, int64_t b, int64_t h) const {
    if (!perHead)
      return perTensor[which];
    const lab::HostTensor &t = (*perHead)[which];
    return t.data[b * t.shape[1] + h];
  }
};

/// A compiled attention, ready to run many times.
class CPUAttention {
public:
  /// Compiles the function of `mlirText` that holds one lpattn.attention
  /// (its arguments: Q, K, V, then the op's mask and descales if it has
  /// them, in that order; it returns the op's result). Textual IR only:
  /// bytecode is refused (MLIR 22.1.8's reader crashes on corrupted files).
  /// Shapes are checked with checkHostMemory before anything is compiled.
  static llvm::Expected<std::unique_ptr<CPUAttention>>
  compile(llvm::StringRef mlirText, const CPUCompileOptions &options = {});
  /// Compiles `problem`, built as IR with the op's builder.
  static llvm::Expected<std::unique_ptr<CPUAttention>>
  compile(const AttentionProblem &problem,
          const CPUCompileOptions &options = {});

  /// Runs on float data: each input is first rounded to its operand type
  /// (round to nearest even, satfinite). `descales` are used only if the
  /// op has descale operands; `mask` only if it has a mask. Per-head
  /// descale values must be [B, Hkv] and are refused for an op with scalar
  /// descales; per-tensor ones fill every entry of per-head descales.
  llvm::Expected<CPURunResult> run(const lab::HostTensor &q,
                                   const lab::HostTensor &k,
                                   const lab::HostTensor &v,
                                   const lab::HostTensor *mask = nullptr,
                                   const RunDescales &descales = {});

  /// Shapes and element formats of the op (inputs in order, then result).
  struct Signature {
    std::vector<int64_t> query, key, value, mask, result;
    FloatFormat queryFormat, keyFormat, valueFormat, resultFormat;
    bool hasMask = false, hasDescales = false, countsCollapse = false;
    /// The descales are tensor<B x Hkv x f32> (per batch and KV head); their
    /// shape [B, Hkv] is `descale`.
    bool perHeadDescales = false;
    std::vector<int64_t> descale;
    /// The calling convention these flags give (Numerics/KernelABI.h).
    KernelSignature kernel() const {
      return {hasMask, hasDescales, countsCollapse, perHeadDescales};
    }
    std::string funcName;
    /// The op's numerics that the float64 reference must follow: its
    /// softmax scale c (the default 1/sqrt(D) filled in) and causal flag.
    /// GQA follows from the shapes; the mask and descales are run inputs.
    double softmaxScale = 0.0;
    bool causal = false;
    /// The rest of the op's numerics, as compiled (a launcher or a case
    /// file states them; the run needs only the above): its policy, P
    /// scale, KV order, softmax variant (beta and tol where the variant has
    /// them, else 0) and the tile sizes the lowering used (the op's `tiles`,
    /// else the compile options').
    PrecisionPolicy policy;
    double pScale = 1.0;
    KVOrder kvOrder = KVOrder::Forward;
    SoftmaxVariant softmax = SoftmaxVariant::Standard;
    double beta = 0.0, tol = 0.0;
    int64_t tileQ = 0, tileKV = 0;
  };
  const Signature &getSignature() const { return signature; }

  ~CPUAttention();

private:
  CPUAttention();
  /// Compiles the function of `module` (in `context`) holding its one
  /// lpattn.attention with lpattn-cpu-pipeline and JITs it.
  llvm::Error compileModule(mlir::ModuleOp module,
                            const CPUCompileOptions &options);
  std::unique_ptr<mlir::MLIRContext> context;
  std::unique_ptr<mlir::ExecutionEngine> engine;
  Signature signature;
};

} // namespace lpattn

#endif // LPATTN_RUNNER_CPUATTENTION_H
