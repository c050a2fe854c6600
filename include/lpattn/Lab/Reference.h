//===- Reference.h - float64 reference attention ----------------*- C++ -*-===//
//
// The accuracy baseline of SPEC.md: softmax attention of the same
// *unquantized* float inputs, computed entirely in double (two-pass softmax,
// no tiling), against which the low-precision pipeline's MSE is measured.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_LAB_REFERENCE_H
#define LPATTN_LAB_REFERENCE_H

#include "lpattn/Lab/HostTensor.h"

#include "llvm/Support/Error.h"

#include <optional>
#include <vector>

namespace lpattn::lab {

struct ReferenceOptions {
  /// Softmax scale c; 1/sqrt(D) when unset.
  std::optional<double> scale;
  /// Per-tensor descales: logits are (q . k) * c * qDescale * kDescale and
  /// the output is scaled by vDescale, as in SPEC.md.
  double qDescale = 1.0, kDescale = 1.0, vDescale = 1.0;
  /// Per-(batch, KV head) descales [B, Hkv] (FlashAttention-3's form), all
  /// three or none; where set they replace the per-tensor ones: query head
  /// h of batch b uses entry [b, h / (Hq / Hkv)] of each.
  const HostTensor *qHeadDescale = nullptr, *kHeadDescale = nullptr,
                   *vHeadDescale = nullptr;
  /// Bottom-right aligned causal mask: query i sees key j iff
  /// j <= i + (Nk - Nq).
  bool causal = false;
  /// Optional additive mask [B or 1, Hq or 1, Nq, Nk] added to the scaled
  /// logits; -inf hides a key. Entries must be finite or -inf.
  const HostTensor *mask = nullptr;
  /// If set, receives the largest softmax weight of every output row (B *
  /// Hq * Nq entries, row-major): max_j p_j / sum_j p_j = 1 / sum_j p_j,
  /// since the row's max logit has p = 1; 0 for a row with no visible key.
  /// (The GPU check's tolerance, docs/gpu-check.md.)
  std::vector<double> *rowMaxWeight = nullptr;
  /// If set, receives the second-largest softmax weight of every row (the
  /// largest again when two logits tie at the max; 0 with fewer than two
  /// visible keys).
  std::vector<double> *rowSecondWeight = nullptr;
};

/// Attention of Q [B, Hq, Nq, D], K [B, Hkv, Nk, D], V [B, Hkv, Nk, Dv] in
/// double; the result is [B, Hq, Nq, Dv]. Query head h reads KV head
/// h / (Hq / Hkv) (GQA/MQA). A row with no visible key (causal or mask) is
/// exactly 0. An error names the first shape mismatch.
llvm::Expected<HostTensorF64>
referenceAttention(const HostTensor &q, const HostTensor &k,
                   const HostTensor &v, const ReferenceOptions &options = {});

} // namespace lpattn::lab

#endif // LPATTN_LAB_REFERENCE_H
