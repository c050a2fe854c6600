//===- GPU.h - C API of the lpattn GPU path (sm_90a) --------------*- C -*-===//
//
// Compile an lpattn.attention to a GPU artifact (lpattn-sm90-pipeline, the
// NVPTX backend and ptxas: lpattn::compileSM90, as lpattn-compile does), held
// in memory: the cubin, its PTX, ptxas's report and the launch descriptor
// (docs/launch-descriptor.md). Query it, save it as the files lpattn-compile
// writes, and run it on caller-owned device pointers on a caller-given
// CUstream through the GPU runtime (runtime/, lpattn-rt/Runtime.h).
//
// Compiling needs no GPU and no CUDA driver (ptxas from the CUDA toolkit).
// The driver is opened only when an artifact first runs (the runtime's
// lpattnRtInit dlopens libcuda.so.1, or $LPATTN_CUDA_DRIVER), so linking
// this library costs CPU-only users nothing. Without a driver or a device
// the run fails with the runtime's message ("no CUDA driver: ...").
//
// Errors: as in Runner.h, a failing call returns a null handle or a failed
// MlirLogicalResult and leaves its message in lpattnGetLastError().
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_C_GPU_H
#define LPATTN_C_GPU_H

#include "lpattn-c/Runner.h"

#include "mlir-c/Support.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A compiled GPU attention (opaque; owned by the caller: destroy it with
/// lpattnGPUArtifactDestroy).
typedef struct LPAttnGPUArtifact {
  void *ptr;
} LPAttnGPUArtifact;

/// What to compile besides the attention itself.
typedef struct LPAttnGPUCompileOptions {
  int64_t tileQ;  ///< Br for an op without `tiles` (0: the default, 64)
  int64_t tileKV; ///< Bc for an op without `tiles` (0: the default, 64)
  int64_t stages; ///< shared-memory stages of the K/V ring, 2-4
  /// The target chip, e.g. "sm_90a" (H100/H200); NULL: "sm_90a".
  const char *chip;
  /// The ptxas to run; NULL: ptxas on PATH, then /usr/local/cuda/bin/ptxas.
  const char *ptxas;
} LPAttnGPUCompileOptions;

/// The defaults: lpattn-compile's (tiles [64, 64], 2 stages, sm_90a).
MLIR_CAPI_EXPORTED LPAttnGPUCompileOptions
lpattnGPUCompileOptionsGetDefault(void);

/// Compiles the module of `mlirText` (textual MLIR) holding one
/// lpattn.attention to an sm_90a kernel. `options` may be NULL (the
/// defaults). Returns a null handle on error (parse, verifier, what the
/// kernel cannot run: lpattn-check-sm90's message, ptxas), with the message
/// in lpattnGetLastError().
MLIR_CAPI_EXPORTED LPAttnGPUArtifact lpattnGPUArtifactCompile(
    MlirStringRef mlirText, const LPAttnGPUCompileOptions *options);

/// Whether the handle is null (a failed compile).
static inline bool lpattnGPUArtifactIsNull(LPAttnGPUArtifact artifact) {
  return !artifact.ptr;
}

/// The artifact's parts, owned by it (valid until it is destroyed; the empty
/// string for a null handle): the cubin (an ELF image for EM_CUDA), the PTX,
/// ptxas's -v report, and the launch descriptor's JSON text, whose `cubin`
/// and `ptx` members name "attn.cubin" and "attn.ptx" (what
/// lpattnGPUArtifactSave writes for the prefix DIR/attn).
MLIR_CAPI_EXPORTED MlirStringRef
lpattnGPUArtifactGetCubin(LPAttnGPUArtifact artifact);
MLIR_CAPI_EXPORTED MlirStringRef
lpattnGPUArtifactGetPTX(LPAttnGPUArtifact artifact);
MLIR_CAPI_EXPORTED MlirStringRef
lpattnGPUArtifactGetPtxasLog(LPAttnGPUArtifact artifact);
MLIR_CAPI_EXPORTED MlirStringRef
lpattnGPUArtifactGetDescriptor(LPAttnGPUArtifact artifact);

/// The shapes of the kernel's tensors, as lpattnCPUAttentionGetRank/GetDim:
/// the rank of `tensor` (4), or -1 for a mask the op does not have or a
/// null handle; dimension `pos` (-1 if out of range).
MLIR_CAPI_EXPORTED intptr_t lpattnGPUArtifactGetRank(
    LPAttnGPUArtifact artifact, LPAttnTensor tensor);
MLIR_CAPI_EXPORTED int64_t lpattnGPUArtifactGetDim(LPAttnGPUArtifact artifact,
                                                   LPAttnTensor tensor,
                                                   intptr_t pos);
/// Whether the kernel takes a mask / the three descales, and whether the
/// descales are per (batch, KV head) (f32 [B, Hkv] device tensors) rather
/// than f32 scalars.
MLIR_CAPI_EXPORTED bool lpattnGPUArtifactHasMask(LPAttnGPUArtifact artifact);
MLIR_CAPI_EXPORTED bool
lpattnGPUArtifactHasDescales(LPAttnGPUArtifact artifact);
MLIR_CAPI_EXPORTED bool
lpattnGPUArtifactHasPerHeadDescales(LPAttnGPUArtifact artifact);

/// Writes PREFIX.cubin, PREFIX.ptx, PREFIX.ptxas.log and PREFIX.json (the
/// descriptor naming NAME.cubin, NAME the last component of the prefix):
/// the files of `lpattn-compile -o PREFIX`, which lpattn-gpu-run, the
/// runtime's lpattnRtLoadArtifact and lpattn.GPUArtifact.load read.
MLIR_CAPI_EXPORTED MlirLogicalResult
lpattnGPUArtifactSave(LPAttnGPUArtifact artifact, MlirStringRef prefix);

/// The device tensors of one run: CUdeviceptr values of dense row-major
/// tensors with the artifact's shapes, in the policy's storage formats (FP8
/// codes for q, k, v; policy.out for output).
typedef struct LPAttnGPURunArgs {
  uint64_t query, key, value;
  uint64_t mask;         ///< f32; required iff the kernel has a mask, else 0
  uint64_t descales[3];  ///< per-head descales: q, k, v, each f32 [B, Hkv]
  uint64_t output;
} LPAttnGPURunArgs;

/// Runs the kernel on CUDA device `device` (its primary context, as the CUDA
/// runtime and PyTorch use), asynchronously on `stream` (a CUstream; NULL:
/// the default stream). `descaleValues` are the per-tensor descales
/// {q_ds, k_ds, v_ds} (NULL: all ones; ignored unless the kernel takes
/// scalar descales). The first run on a device loads the cubin there
/// (lpattnRtInit, lpattnRtLoadArtifactData); later runs reuse it. Fails with
/// the runtime's message, e.g. "no CUDA driver: dlopen(libcuda.so.1)
/// failed: ..." on a machine without a driver.
MLIR_CAPI_EXPORTED MlirLogicalResult lpattnGPUArtifactRun(
    LPAttnGPUArtifact artifact, int device, void *stream,
    const LPAttnGPURunArgs *args, const float *descaleValues);

/// Frees the artifact and unloads it from the devices it ran on (a null
/// handle is ignored).
MLIR_CAPI_EXPORTED void lpattnGPUArtifactDestroy(LPAttnGPUArtifact artifact);

#ifdef __cplusplus
}
#endif

#endif // LPATTN_C_GPU_H
