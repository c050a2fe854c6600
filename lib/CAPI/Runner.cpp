//===- Runner.cpp - C API of the lpattn CPU runner ------------------------===//
//
// LPAttnCPUAttention wraps lpattn::CPUAttention; the caller's float buffers
// are copied into host tensors of the op's shapes and the output copied back.
//
//===----------------------------------------------------------------------===//

#include "lpattn-c/Runner.h"

#include "LastError.h"

#include "lpattn/Runner/CPUAttention.h"

#include "mlir/CAPI/Support.h"

#include <algorithm>
#include <array>

using namespace lpattn;

std::string &lpattn::capi::lastError() {
  thread_local std::string error;
  return error;
}

static CPUAttention *unwrap(LPAttnCPUAttention attention) {
  return static_cast<CPUAttention *>(attention.ptr);
}

/// The shape of `tensor`, or null if the op has none (no mask).
static const std::vector<int64_t> *getShape(LPAttnCPUAttention attention,
                                            LPAttnTensor tensor) {
  if (lpattnCPUAttentionIsNull(attention))
    return nullptr;
  const CPUAttention::Signature &sig = unwrap(attention)->getSignature();
  switch (tensor) {
  case LPAttnTensorQuery:
    return &sig.query;
  case LPAttnTensorKey:
    return &sig.key;
  case LPAttnTensorValue:
    return &sig.value;
  case LPAttnTensorMask:
    return sig.hasMask ? &sig.mask : nullptr;
  case LPAttnTensorOutput:
    return &sig.result;
  }
  return nullptr;
}

LPAttnCPUCompileOptions lpattnCPUCompileOptionsGetDefault(void) {
  CPUCompileOptions defaults;
  return {defaults.tileQ, defaults.tileKV, defaults.optLevel};
}

LPAttnCPUAttention lpattnCPUAttentionCompile(
    MlirStringRef mlirText, const LPAttnCPUCompileOptions *options) {
  capi::clearLastError();
  CPUCompileOptions cppOptions;
  if (options) {
    if (options->tileQ < 0 || options->tileKV < 0 || options->optLevel > 3) {
      capi::setLastError("invalid compile options: tile sizes must be >= 0 "
                         "(0: the default) and optLevel in 0-3");
      return {nullptr};
    }
    if (options->tileQ)
      cppOptions.tileQ = options->tileQ;
    if (options->tileKV)
      cppOptions.tileKV = options->tileKV;
    cppOptions.optLevel = options->optLevel;
  }
  auto compiled = CPUAttention::compile(unwrap(mlirText), cppOptions);
  if (!compiled) {
    capi::setLastError(compiled.takeError());
    return {nullptr};
  }
  return {compiled->release()};
}

intptr_t lpattnCPUAttentionGetRank(LPAttnCPUAttention attention,
                                   LPAttnTensor tensor) {
  const std::vector<int64_t> *shape = getShape(attention, tensor);
  return shape ? static_cast<intptr_t>(shape->size()) : -1;
}

int64_t lpattnCPUAttentionGetDim(LPAttnCPUAttention attention,
                                 LPAttnTensor tensor, intptr_t pos) {
  const std::vector<int64_t> *shape = getShape(attention, tensor);
  if (!shape || pos < 0 || static_cast<size_t>(pos) >= shape->size())
    return -1;
  return (*shape)[pos];
}

int64_t lpattnCPUAttentionGetNumElements(LPAttnCPUAttention attention,
                                         LPAttnTensor tensor) {
  const std::vector<int64_t> *shape = getShape(attention, tensor);
  return shape ? lab::HostTensor::countElements(*shape) : 0;
}

bool lpattnCPUAttentionHasMask(LPAttnCPUAttention attention) {
  return !lpattnCPUAttentionIsNull(attention) &&
         unwrap(attention)->getSignature().hasMask;
}

bool lpattnCPUAttentionHasDescales(LPAttnCPUAttention attention) {
  return !lpattnCPUAttentionIsNull(attention) &&
         unwrap(attention)->getSignature().hasDescales;
}

bool lpattnCPUAttentionHasPerHeadDescales(LPAttnCPUAttention attention) {
  return !lpattnCPUAttentionIsNull(attention) &&
         unwrap(attention)->getSignature().perHeadDescales;
}

/// A host tensor of `shape` holding a copy of the caller's `data`.
static lab::HostTensor copyIn(const std::vector<int64_t> &shape,
                              const float *data) {
  lab::HostTensor tensor = lab::HostTensor::zeros(shape);
  std::copy_n(data, tensor.data.size(), tensor.data.begin());
  return tensor;
}

MlirLogicalResult lpattnCPUAttentionRun(LPAttnCPUAttention attention,
                                        const float *query, const float *key,
                                        const float *value, const float *mask,
                                        const float *descales, float *output) {
  capi::clearLastError();
  if (lpattnCPUAttentionIsNull(attention)) {
    capi::setLastError("lpattnCPUAttentionRun: null attention handle");
    return mlirLogicalResultFailure();
  }
  const CPUAttention::Signature &sig = unwrap(attention)->getSignature();
  if (!query || !key || !value || !output) {
    capi::setLastError("lpattnCPUAttentionRun: the query, key, value and "
                       "output buffers must not be NULL");
    return mlirLogicalResultFailure();
  }
  if (sig.hasMask && !mask) {
    capi::setLastError("lpattnCPUAttentionRun: the attention has a mask "
                       "operand " +
                       lab::formatShape(sig.mask) + ", but mask is NULL");
    return mlirLogicalResultFailure();
  }
  lab::HostTensor q = copyIn(sig.query, query);
  lab::HostTensor k = copyIn(sig.key, key);
  lab::HostTensor v = copyIn(sig.value, value);
  lab::HostTensor m;
  if (sig.hasMask)
    m = copyIn(sig.mask, mask);
  RunDescales ds;
  if (descales && sig.perHeadDescales) {
    // q_ds, k_ds, v_ds: [B, Hkv] each, one after the other.
    int64_t n = lab::HostTensor::countElements(sig.descale);
    ds = RunDescales({copyIn(sig.descale, descales),
                      copyIn(sig.descale, descales + n),
                      copyIn(sig.descale, descales + 2 * n)});
  } else if (descales) {
    ds = RunDescales({descales[0], descales[1], descales[2]});
  }
  auto result =
      unwrap(attention)->run(q, k, v, sig.hasMask ? &m : nullptr, ds);
  if (!result) {
    capi::setLastError(result.takeError());
    return mlirLogicalResultFailure();
  }
  std::copy(result->output.data.begin(), result->output.data.end(), output);
  return mlirLogicalResultSuccess();
}

void lpattnCPUAttentionDestroy(LPAttnCPUAttention attention) {
  delete unwrap(attention);
}

const char *lpattnGetLastError(void) { return capi::lastError().c_str(); }
