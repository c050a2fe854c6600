//===- Runner.h - C API of the lpattn CPU runner ------------------*- C -*-===//
//
// Compile an lpattn.attention to a CPU function (lpattn-cpu-pipeline, then
// LLVM's JIT, in process) and run it on caller-owned float buffers. Inputs are
// rounded to the op's operand types (round to nearest even, satfinite), the
// output is written as float (values of the op's `out` type, widened).
// Buffers are dense row-major (C order) with the shapes of the op's operands
// (lpattnCPUAttentionGetRank / GetDim); the calling convention is
// lpattn/Numerics/KernelABI.h. The GPU entry points (an sm_90a artifact,
// run on device pointers) are in lpattn-c/GPU.h.
//
// Errors: a call that fails returns a null handle or a failed
// MlirLogicalResult and leaves its message in lpattnGetLastError(), which
// every fallible call of the lpattn C API clears first (per thread).
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_C_RUNNER_H
#define LPATTN_C_RUNNER_H

#include "mlir-c/Support.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A compiled attention (opaque; owned by the caller: destroy it with
/// lpattnCPUAttentionDestroy).
typedef struct LPAttnCPUAttention {
  void *ptr;
} LPAttnCPUAttention;

/// The tensors of an attention, in the order of the calling convention.
typedef enum LPAttnTensor {
  LPAttnTensorQuery = 0,  ///< Q [B, Hq, Nq, D]
  LPAttnTensorKey = 1,    ///< K [B, Hkv, Nk, D]
  LPAttnTensorValue = 2,  ///< V [B, Hkv, Nk, Dv]
  LPAttnTensorMask = 3,   ///< additive mask [B|1, Hq|1, Nq, Nk] (optional)
  LPAttnTensorOutput = 4, ///< O [B, Hq, Nq, Dv]
} LPAttnTensor;

/// What to compile besides the attention itself.
typedef struct LPAttnCPUCompileOptions {
  int64_t tileQ;     ///< Br for an op without `tiles` (0: the default, 64)
  int64_t tileKV;    ///< Bc for an op without `tiles` (0: the default, 64)
  unsigned optLevel; ///< LLVM optimization level, 0-3
} LPAttnCPUCompileOptions;

/// The defaults: tiles 64 x 64, -O3.
MLIR_CAPI_EXPORTED LPAttnCPUCompileOptions
lpattnCPUCompileOptionsGetDefault(void);

/// Compiles the function of `mlirText` (textual MLIR) that holds one
/// lpattn.attention; its arguments are Q, K, V, then the op's mask and
/// descales if it has them. `options` may be NULL (the defaults). Returns a
/// null handle on error (parse, verifier, pipeline, JIT), with the message
/// in lpattnGetLastError().
MLIR_CAPI_EXPORTED LPAttnCPUAttention lpattnCPUAttentionCompile(
    MlirStringRef mlirText, const LPAttnCPUCompileOptions *options);

/// Whether the handle is null (a failed compile).
static inline bool lpattnCPUAttentionIsNull(LPAttnCPUAttention attention) {
  return !attention.ptr;
}

/// The rank of `tensor` (4), or -1 if the op has no such tensor (a mask) or
/// the handle is null. The queries below also accept a null handle.
MLIR_CAPI_EXPORTED intptr_t lpattnCPUAttentionGetRank(
    LPAttnCPUAttention attention, LPAttnTensor tensor);
/// Dimension `pos` of `tensor` (-1 if out of range or absent).
MLIR_CAPI_EXPORTED int64_t lpattnCPUAttentionGetDim(
    LPAttnCPUAttention attention, LPAttnTensor tensor, intptr_t pos);
/// The number of floats the buffer of `tensor` holds (0 if absent).
MLIR_CAPI_EXPORTED int64_t lpattnCPUAttentionGetNumElements(
    LPAttnCPUAttention attention, LPAttnTensor tensor);
/// Whether the op takes a mask / the three descales.
MLIR_CAPI_EXPORTED bool lpattnCPUAttentionHasMask(LPAttnCPUAttention attention);
MLIR_CAPI_EXPORTED bool
lpattnCPUAttentionHasDescales(LPAttnCPUAttention attention);
/// Whether its descales are per (batch, KV head): three tensor<B x Hkv x f32>
/// (FlashAttention-3's form) rather than three f32 scalars. B is dim 0 of
/// the query, Hkv dim 1 of the key.
MLIR_CAPI_EXPORTED bool
lpattnCPUAttentionHasPerHeadDescales(LPAttnCPUAttention attention);

/// Runs the compiled attention: reads `query`, `key`, `value` (and `mask`,
/// required iff the op has one, else ignored; `descales`, used iff the op has
/// descales, NULL for all ones: {q_ds, k_ds, v_ds} for per-tensor descales,
/// or 3 * B * Hkv floats for per-head ones, q_ds [B, Hkv] then k_ds then v_ds,
/// each row-major) and writes `output`
/// (lpattnCPUAttentionGetNumElements(.., LPAttnTensorOutput) floats). The
/// buffers stay the caller's. On failure nothing is written to `output`.
MLIR_CAPI_EXPORTED MlirLogicalResult lpattnCPUAttentionRun(
    LPAttnCPUAttention attention, const float *query, const float *key,
    const float *value, const float *mask, const float *descales,
    float *output);

/// Frees a compiled attention (a null handle is ignored).
MLIR_CAPI_EXPORTED void lpattnCPUAttentionDestroy(LPAttnCPUAttention attention);

/// The message of the last failed lpattn C API call on this thread, "" if the
/// last fallible call succeeded. Valid until the next lpattn call.
MLIR_CAPI_EXPORTED const char *lpattnGetLastError(void);

#ifdef __cplusplus
}
#endif

#endif // LPATTN_C_RUNNER_H
