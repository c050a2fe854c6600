//===- Generators.h - reproducible attention inputs -------------*- C++ -*-===//
//
// Seeded inputs for the numerical failure modes lpattn guards against:
// attention sinks (P-Cast), a large common score offset (PASA) and tied row
// maxima (LPTF), plus plain normal tensors. The same seed gives the same
// values on every platform: the engine is std::mt19937_64 (fully specified by
// the C++ standard) and the normal deviates come from our own Box-Muller
// transform, not std::normal_distribution (whose algorithm each standard
// library chooses). Box-Muller uses std::log/sin/cos in double and the
// results are rounded to float, so a libm that differs in the last double
// bit could only flip a float in a rare near-halfway case.
//
// All Q/K/V tensors are [1, H, N, D] (B = 1, Hq = Hkv = H, Dv = D).
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_LAB_GENERATORS_H
#define LPATTN_LAB_GENERATORS_H

#include "lpattn/Lab/HostTensor.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <random>

namespace lpattn::lab {

/// Standard normal deviates by the Box-Muller transform on std::mt19937_64:
/// each pair of 64-bit draws gives two deviates, returned in turn.
class NormalSampler {
public:
  explicit NormalSampler(uint64_t seed) : engine(seed) {}
  double next();

private:
  std::mt19937_64 engine;
  std::optional<double> spare;
};

/// A float tensor of i.i.d. N(mean, stddev^2) values, in row-major order.
HostTensor randomNormal(llvm::ArrayRef<int64_t> shape, uint64_t seed,
                        double mean = 0.0, double stddev = 1.0);

/// Q, K, V of one generated attention and the softmax scale c to run it with.
struct AttentionInputs {
  HostTensor q, k, v;
  double scale = 1.0;
};

//===----------------------------------------------------------------------===//
// Attention sinks (P-Cast)
//===----------------------------------------------------------------------===//

/// The logit pattern of attention sinks: the first `numSinks` keys of every
/// row have logit delta + jitter, jitter ~ N(0, jitterStddev^2); every other
/// logit is N(0, 1). The jitter is drawn per (query row, sink) by default,
/// as in P-Cast's setting, so that the realized excess delta_k (the mean of
/// the row's largest jitter) is an average over many draws; `perHeadJitter`
/// draws it once per (head, sink) and shares it by all rows of the head.
struct SinkParams {
  int64_t numSinks = 4;
  double delta = 10.0;
  double jitterStddev = 1.0;
  bool perHeadJitter = false;
};

/// The realized sink excess delta_k of P-Cast's threshold: the mean over
/// groups of `numSinks` consecutive jitters (one group per row, or per head
/// with perHeadJitter) of the largest one. 0 without sinks.
double realizedSinkExcess(llvm::ArrayRef<double> sinkJitter, int64_t numSinks);

struct SinkAttentionOptions {
  int64_t numHeads = 1, numQueries = 128, numKeys = 128, headDim = 64;
  SinkParams sinks;
  /// Q[:, 0] of every query row; any nonzero value gives the same logits.
  double alpha = 1.0;
  /// Softmax scale c; 1/sqrt(headDim) when unset.
  std::optional<double> scale;
  uint64_t seed = 0;
};

struct SinkAttention : AttentionInputs {
  /// The realized jitter (sink logit - delta) of row m, sink s of head h at
  /// [(h * numQueries + m) * numSinks + s]; with perHeadJitter, that of
  /// sink s of head h at [h * numSinks + s].
  std::vector<double> sinkJitter;
};

/// Real Q/K/V whose logits c * q.k follow SinkParams. Coordinate 0 carries
/// the sinks: Q[m, 0] = alpha, sink K[s, 0] = delta / (c alpha) (per row)
/// or (delta + jitter_s) / (c alpha) (per head), non-sink K[n, 0] = 0. Per
/// row, sink s also has K[s, 1 + s] = jitterStddev / (c sigma) and its other
/// coordinates 0, so its jitter is c Q[m, 1 + s] K[s, 1 + s] ~
/// N(0, jitterStddev^2), a fresh draw per row (Q[m, 1 + s] is the row's own
/// N(0, sigma^2) coordinate, uncorrelated with its non-sink logits); this
/// needs numSinks <= headDim - 1. Per head the sink keys' other coordinates
/// are 0. Coordinates
/// 1..D-1 of Q and of non-sink K are i.i.d. N(0, sigma^2) with
/// sigma = (c^2 (D - 1))^(-1/4), so a non-sink logit c * sum q_i k_i has mean
/// 0 and variance c^2 (D - 1) sigma^4 = 1 (approximately normal: a sum of
/// D - 1 products). A sink logit is alpha * (delta + jitter_s) / (c alpha) * c
/// = delta + jitter_s up to the float rounding of K. V is N(0, 1). Needs
/// headDim >= 2 and numSinks <= numKeys.
llvm::Expected<SinkAttention>
generateSinkAttention(const SinkAttentionOptions &options);

struct SinkLogits {
  /// [1, numHeads, numQueries, numKeys].
  HostTensor logits;
  /// As SinkAttention::sinkJitter.
  std::vector<double> sinkJitter;
};

/// The logits of SinkParams directly, for experiments that start from the
/// score matrix.
llvm::Expected<SinkLogits>
generateSinkLogits(int64_t numHeads, int64_t numQueries, int64_t numKeys,
                   const SinkParams &sinks, uint64_t seed);

//===----------------------------------------------------------------------===//
// Common score offset (PASA)
//===----------------------------------------------------------------------===//

struct OffsetAttentionOptions {
  int64_t numHeads = 1, numQueries = 128, numKeys = 128, headDim = 64;
  /// The offset of every raw score q.k, before the softmax scale c (the
  /// logits move by c * offset). May be negative.
  double offset = 1e5;
  uint64_t seed = 0;
};

struct OffsetAttention : AttentionInputs {
  /// The realized offset a * b (see generateOffsetAttention), exact in
  /// double; equal to `offset` up to the float rounding of a and b.
  double offset = 0.0;
};

/// Q/K/V whose raw scores q.k all carry the same large offset, so that fp16
/// scores overflow 65504 once the offset exceeds it, while the softmax is
/// unchanged in exact arithmetic (the offset is the same for every key of a
/// row). Coordinate 0 carries the common component: Q[m, 0] = a and
/// K[n, 0] = b for all m and n, with a = float(sqrt(|offset|)) and
/// b = float(sign(offset) sqrt(|offset|)), so that neither exceeds the fp16
/// range before the product does. Coordinates 1..D-1 of Q and K and all of
/// V are i.i.d. N(0, 1), hence q.k = a b + (an N(0, D - 1)-like term), and
/// the mean key of any tile is (b, ~0, ...): PASA's shift removes the offset
/// exactly. c = 1/sqrt(D). Needs headDim >= 2.
llvm::Expected<OffsetAttention>
generateOffsetAttention(const OffsetAttentionOptions &options);

//===----------------------------------------------------------------------===//
// Tied row maxima (LPTF)
//===----------------------------------------------------------------------===//

struct TiedMaxAttentionOptions {
  int64_t numHeads = 1, numQueries = 128, numKeys = 128, headDim = 64;
  /// Keys [firstTiedKey, firstTiedKey + numTied) tie at every row's max.
  int64_t numTied = 2;
  int64_t firstTiedKey = 0;
  /// Least logit gap c * (tied score - any other score) of every row.
  double minGap = 1.0;
  /// Mean and standard deviation of every V entry.
  double valueMean = 0.0, valueStddev = 1.0;
  /// Shift of all logits of row m by about u_m * rowShift (u_m uniform in
  /// [0, 1)): the softmax and the gap are unchanged, but the row max differs
  /// from row to row. With 0 every row of a head has the same max logit, and
  /// anything computed from it alone (the bias-corrected P = exp(-d), d a
  /// function of the max) has the same rounding error in every row of the
  /// head: a bias of its own.
  double rowShift = 0.0;
  /// Softmax scale c; 1/sqrt(headDim) when unset.
  std::optional<double> scale;
  uint64_t seed = 0;
};

/// Q/K/V where every query row has exactly `numTied` keys tied at its max
/// score, all other logits at least `minGap` lower (the gap), and every value
/// bf16-representable so that the ties survive a bf16 cast. V is
/// N(valueMean, valueStddev^2) (LPTF's bias needs similar V rows with a
/// non-zero mean; zero-mean V makes the rounding errors cancel). The tied keys
/// are bit-identical rows (g, 0, ..., 0), so their scores tie exactly in any
/// precision and summation order; Q[m, 0] = 1 and the other keys have
/// K[n, 0] = 0. Coordinates 1..D-1 of Q and of the other keys are N(0,
/// sigma^2) as in generateSinkAttention (other logits roughly N(0, 1)), V as
/// above, all rounded to bf16; g is the smallest bf16 value with
/// c * (g - max other score) >= minGap over all rows of the head (the max
/// taken as 0 when every key is tied). With rowShift, coordinate 1 carries
/// the row shift: K[n, 1] = bf16(1 / c) for every key, Q[m, 1] = the row's
/// shift / (c K[n, 1]) in bf16 (needs headDim >= 3). Needs headDim >= 2 and
/// numTied >= 1 (a single "tied" key is a unique max: LPTF's control).
llvm::Expected<AttentionInputs>
generateTiedMaxAttention(const TiedMaxAttentionOptions &options);

} // namespace lpattn::lab

#endif // LPATTN_LAB_GENERATORS_H
