//===- Reference.cpp - float64 reference attention ------------------------===//
//
// Deliberately the plainest correct algorithm: all logits of a row, their
// max, exp, sum, weighted sum of V, all in double. It shares no code with the
// tiled online-softmax pipeline it checks.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Lab/Reference.h"
#include "lpattn/Numerics/Rules.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace lpattn::lab;
using llvm::Error;
using llvm::Expected;

static Error shapeError(const llvm::Twine &message) {
  return llvm::createStringError("referenceAttention: " + message);
}

/// A rank-4 tensor whose data size matches its non-negative shape.
static Error checkTensor(const HostTensor &tensor, llvm::StringRef name,
                         llvm::StringRef layout) {
  if (tensor.shape.size() != 4)
    return shapeError(name + " must have rank 4 " + layout + ", got shape " +
                      formatShape(tensor.shape));
  for (int64_t dim : tensor.shape)
    if (dim < 0)
      return shapeError(
          name + " has a negative dimension: " + formatShape(tensor.shape));
  if (tensor.data.size() != static_cast<size_t>(tensor.numElements()))
    return shapeError(name + " has " + llvm::Twine(tensor.data.size()) +
                      " elements but its shape " + formatShape(tensor.shape) +
                      " needs " + llvm::Twine(tensor.numElements()));
  return Error::success();
}

/// `what` of `name` (dimension `dim`) must equal `expected`.
static Error checkDim(const HostTensor &tensor, llvm::StringRef name,
                      unsigned dim, llvm::StringRef what, int64_t expected,
                      llvm::StringRef expectedFrom) {
  if (tensor.shape[dim] == expected)
    return Error::success();
  return shapeError(name + " " + what + " " + llvm::Twine(tensor.shape[dim]) +
                    " != " + expectedFrom + " " + what + " " +
                    llvm::Twine(expected));
}

static Error checkShapes(const HostTensor &q, const HostTensor &k,
                         const HostTensor &v, const HostTensor *mask) {
  if (Error err = checkTensor(q, "Q", "[B, Hq, Nq, D]"))
    return err;
  if (Error err = checkTensor(k, "K", "[B, Hkv, Nk, D]"))
    return err;
  if (Error err = checkTensor(v, "V", "[B, Hkv, Nk, Dv]"))
    return err;
  const int64_t batch = q.shape[0], numQHeads = q.shape[1],
                numKVHeads = k.shape[1];
  if (Error err = checkDim(k, "K", 0, "batch", batch, "Q"))
    return err;
  if (Error err = checkDim(v, "V", 0, "batch", batch, "Q"))
    return err;
  if (Error err = checkDim(k, "K", 3, "head dim", q.shape[3], "Q"))
    return err;
  if (Error err = checkDim(v, "V", 1, "KV heads", numKVHeads, "K"))
    return err;
  if (Error err = checkDim(v, "V", 2, "keys", k.shape[2], "K"))
    return err;
  if (numKVHeads == 0 || numQHeads % numKVHeads != 0)
    return shapeError("query heads Hq = " + llvm::Twine(numQHeads) +
                      " must be a multiple of KV heads Hkv = " +
                      llvm::Twine(numKVHeads) + " (GQA/MQA)");
  if (!mask)
    return Error::success();
  if (Error err = checkTensor(*mask, "mask", "[B|1, Hq|1, Nq, Nk]"))
    return err;
  if ((mask->shape[0] != 1 && mask->shape[0] != batch) ||
      (mask->shape[1] != 1 && mask->shape[1] != numQHeads) ||
      mask->shape[2] != q.shape[2] || mask->shape[3] != k.shape[2])
    return shapeError("mask shape " + formatShape(mask->shape) +
                      " does not broadcast to [B, Hq, Nq, Nk] = " +
                      formatShape({batch, numQHeads, q.shape[2], k.shape[2]}));
  return Error::success();
}

/// Per-(batch, KV head) descales: all three or none, each [B, Hkv].
static Error checkHeadDescales(const ReferenceOptions &options, int64_t batch,
                               int64_t numKVHeads) {
  const HostTensor *ds[] = {options.qHeadDescale, options.kHeadDescale,
                            options.vHeadDescale};
  int given = int(bool(ds[0])) + int(bool(ds[1])) + int(bool(ds[2]));
  if (given == 0)
    return Error::success();
  if (given != 3)
    return shapeError("per-(batch, KV head) descales are all three (q, k, "
                      "v) or none");
  const char *names[] = {"q", "k", "v"};
  for (int i = 0; i < 3; ++i) {
    const HostTensor &t = *ds[i];
    if (t.shape != std::vector<int64_t>{batch, numKVHeads} ||
        t.data.size() != size_t(batch * numKVHeads))
      return shapeError(llvm::Twine(names[i]) +
                        " per-head descale has shape " + formatShape(t.shape) +
                        " (" + llvm::Twine(t.data.size()) +
                        " values); it must be [B, Hkv] = " +
                        formatShape({batch, numKVHeads}));
  }
  return Error::success();
}

Expected<HostTensorF64>
lpattn::lab::referenceAttention(const HostTensor &q, const HostTensor &k,
                                const HostTensor &v,
                                const ReferenceOptions &options) {
  if (Error err = checkShapes(q, k, v, options.mask))
    return std::move(err);
  if (Error err = checkHeadDescales(options, q.shape[0], k.shape[1]))
    return std::move(err);
  const HostTensor *mask = options.mask;
  const int64_t batch = q.shape[0], numQHeads = q.shape[1],
                numQueries = q.shape[2], headDim = q.shape[3],
                numKeys = k.shape[2], valueDim = v.shape[3];
  const int64_t groupSize = numQHeads / k.shape[1];
  const double scale =
      options.scale.value_or(getExactDefaultSoftmaxScale(headDim));
  const bool perHead = options.qHeadDescale != nullptr;
  const int64_t numKVHeads = k.shape[1];
  // Descale `t` (or the per-tensor `perTensor`) of batch b, KV head h.
  auto descale = [&](const HostTensor *t, double perTensor, int64_t b,
                     int64_t h) {
    return perHead ? double(t->data[b * numKVHeads + h]) : perTensor;
  };
  constexpr double kNegInf = -std::numeric_limits<double>::infinity();

  HostTensorF64 out =
      HostTensorF64::zeros({batch, numQHeads, numQueries, valueDim});
  std::vector<double> logits(numKeys), acc(valueDim);
  if (options.rowMaxWeight)
    options.rowMaxWeight->assign(batch * numQHeads * numQueries, 0.0);
  if (options.rowSecondWeight)
    options.rowSecondWeight->assign(batch * numQHeads * numQueries, 0.0);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t h = 0; h < numQHeads; ++h) {
      const int64_t kvHead = h / groupSize;
      const double logitScale =
          scale * descale(options.qHeadDescale, options.qDescale, b, kvHead) *
          descale(options.kHeadDescale, options.kDescale, b, kvHead);
      const double vDescale =
          descale(options.vHeadDescale, options.vDescale, b, kvHead);
      for (int64_t i = 0; i < numQueries; ++i) {
        double rowMax = kNegInf;
        bool anyVisible = false;
        for (int64_t j = 0; j < numKeys; ++j) {
          logits[j] = kNegInf;
          if (options.causal && j > i + (numKeys - numQueries))
            continue;
          double dot = 0.0;
          for (int64_t d = 0; d < headDim; ++d)
            dot += double(q.at(b, h, i, d)) * double(k.at(b, kvHead, j, d));
          logits[j] = dot * logitScale;
          if (mask)
            logits[j] += mask->at(mask->shape[0] == 1 ? 0 : b,
                                  mask->shape[1] == 1 ? 0 : h, i, j);
          rowMax = std::max(rowMax, logits[j]);
          anyVisible |= logits[j] != kNegInf; // NaN counts: it must propagate.
        }
        // No visible key: the row stays exactly 0 (exp would give 0 / 0).
        if (!anyVisible)
          continue;
        double sum = 0.0;
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t j = 0; j < numKeys; ++j) {
          if (logits[j] == kNegInf)
            continue;
          double p = std::exp(logits[j] - rowMax);
          sum += p;
          for (int64_t d = 0; d < valueDim; ++d)
            acc[d] += p * double(v.at(b, kvHead, j, d));
        }
        for (int64_t d = 0; d < valueDim; ++d)
          out.at(b, h, i, d) = acc[d] / sum * vDescale;
        const int64_t row = (b * numQHeads + h) * numQueries + i;
        if (options.rowMaxWeight)
          (*options.rowMaxWeight)[row] = 1.0 / sum;
        if (options.rowSecondWeight) {
          // The second-largest logit: the max again if it occurs twice.
          double second = kNegInf;
          bool maxSeen = false;
          for (int64_t j = 0; j < numKeys; ++j) {
            if (logits[j] == rowMax && !maxSeen) {
              maxSeen = true;
              continue;
            }
            second = std::max(second, logits[j]);
          }
          (*options.rowSecondWeight)[row] =
              second == kNegInf ? 0.0 : std::exp(second - rowMax) / sum;
        }
      }
    }
  }
  return out;
}
