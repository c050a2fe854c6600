/*===- Runtime.h - lpattn GPU runtime, C API ---------------------*- C -*-===*\
|*                                                                            *|
|* Loads and launches compiled lpattn attentions (NAME.cubin + NAME.json, the *|
|* launch descriptor of docs/launch-descriptor.md) through the CUDA driver    *|
|* API, which it opens with dlopen("libcuda.so.1") at lpattnRtInit: programs  *|
|* link this library without the CUDA toolkit or libcudart, and a machine     *|
|* without a driver or a GPU gets an error status, never a crash.             *|
|*                                                                            *|
|* Every function returns an lpattnRtStatus; on failure the calling thread's  *|
|* lpattnRtGetLastError() holds one sentence naming what failed (the driver   *|
|* call, its CUresult name, the file, the descriptor field). No function      *|
|* throws or aborts.                                                          *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef LPATTN_RT_RUNTIME_H
#define LPATTN_RT_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What a call did. */
typedef enum lpattnRtStatus {
  LPATTN_RT_SUCCESS = 0,
  /** A null or out-of-range argument. */
  LPATTN_RT_ERROR_INVALID_ARGUMENT = 1,
  /** libcuda.so.1 (or $LPATTN_CUDA_DRIVER) cannot be opened, or lacks a
      symbol the runtime needs. */
  LPATTN_RT_ERROR_NO_DRIVER = 2,
  /** lpattnRtInit has not succeeded. */
  LPATTN_RT_ERROR_NOT_INITIALIZED = 3,
  /** The driver reports no (or no such) device. */
  LPATTN_RT_ERROR_NO_DEVICE = 4,
  /** A driver call failed (the message names it and its CUresult). */
  LPATTN_RT_ERROR_DRIVER = 5,
  /** The launch descriptor is unreadable, malformed or inconsistent. */
  LPATTN_RT_ERROR_INVALID_DESCRIPTOR = 6,
  /** The cubin is missing, empty, not a CUDA ELF file, or the driver
      refuses it. */
  LPATTN_RT_ERROR_INVALID_CUBIN = 7,
  /** The artifact's target arch does not run on the device. */
  LPATTN_RT_ERROR_UNSUPPORTED_ARCH = 8,
  /** The kernel needs more dynamic shared memory than the device has. */
  LPATTN_RT_ERROR_SHARED_MEMORY = 9,
  /** Launch arguments disagree with the descriptor. */
  LPATTN_RT_ERROR_ARGUMENT_MISMATCH = 10,
  /** Out of host memory or an unexpected internal failure. */
  LPATTN_RT_ERROR_INTERNAL = 11
} lpattnRtStatus;

/** The status's name ("LPATTN_RT_ERROR_NO_DRIVER"). */
const char *lpattnRtStatusName(lpattnRtStatus status);

/** The message of the calling thread's last failed call ("" if none). Valid
    until the thread's next lpattnRt call. */
const char *lpattnRtGetLastError(void);

/*===--- Driver and devices ----------------------------------------------===*/

/** Opens the driver ($LPATTN_CUDA_DRIVER if set, else libcuda.so.1) and
    calls cuInit(0). Idempotent once it succeeds. */
lpattnRtStatus lpattnRtInit(void);
/** Closes the driver again (for tests that switch drivers); every artifact,
    event and allocation must be released first. */
lpattnRtStatus lpattnRtShutdown(void);
/** The driver version (e.g. 13000) and the path it was opened from. */
lpattnRtStatus lpattnRtDriverVersion(int *version);
const char *lpattnRtDriverPath(void);

lpattnRtStatus lpattnRtDeviceCount(int *count);
/** Compute capability of device `ordinal` (9, 0 for an H100). */
lpattnRtStatus lpattnRtDeviceArch(int ordinal, int *major, int *minor);
/** The device's name, into `name` (NUL-terminated, truncated to `size`). */
lpattnRtStatus lpattnRtDeviceName(int ordinal, char *name, size_t size);
/** Opt-in maximum dynamic shared memory per block, in bytes. */
lpattnRtStatus lpattnRtDeviceMaxSharedMemory(int ordinal, int *bytes);
/** Makes device `ordinal`'s primary context current on this thread (device
    0 is used when no device was set). */
lpattnRtStatus lpattnRtSetDevice(int ordinal);

/*===--- Artifacts -------------------------------------------------------===*/

typedef struct lpattnRtArtifact_ *lpattnRtArtifact;

/** Reads and checks NAME.json and its cubin without any driver: the
    descriptor's fields, the parameter order against the kernel ABI, the tensor
    maps, and the cubin's ELF header. */
lpattnRtStatus lpattnRtCheckArtifact(const char *descriptorPath);

/** lpattnRtCheckArtifact, then the device checks (arch, dynamic shared
    memory), cuModuleLoadData, cuModuleGetFunction and the kernel's
    CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, on the current device. */
lpattnRtStatus lpattnRtLoadArtifact(const char *descriptorPath,
                                    lpattnRtArtifact *artifact);
/** lpattnRtLoadArtifact for an artifact held in memory: the descriptor's
    JSON text (its `cubin` member is not opened) and the cubin's bytes, as
    the lpattn C API's lpattnGPUArtifactGet* return them. The same checks;
    the bytes stay the caller's. */
lpattnRtStatus lpattnRtLoadArtifactData(const char *descriptorJson,
                                        size_t descriptorSize,
                                        const void *cubin, size_t cubinSize,
                                        lpattnRtArtifact *artifact);
lpattnRtStatus lpattnRtUnloadArtifact(lpattnRtArtifact artifact);

/** The kernel name and parameter count of a loaded artifact. */
const char *lpattnRtArtifactKernelName(lpattnRtArtifact artifact);
size_t lpattnRtArtifactNumParams(lpattnRtArtifact artifact);

/*===--- Memory ----------------------------------------------------------===*/

typedef uint64_t lpattnRtDevicePtr;

lpattnRtStatus lpattnRtMalloc(lpattnRtDevicePtr *ptr, size_t bytes);
lpattnRtStatus lpattnRtFree(lpattnRtDevicePtr ptr);
lpattnRtStatus lpattnRtCopyHtoD(lpattnRtDevicePtr dst, const void *src,
                                size_t bytes);
lpattnRtStatus lpattnRtCopyDtoH(void *dst, lpattnRtDevicePtr src,
                                size_t bytes);

/*===--- Tensor maps -----------------------------------------------------===*/

/** An encoded CUtensorMap (128 opaque bytes). */
#ifdef __cplusplus
#define LPATTN_RT_ALIGN128 alignas(128)
#else
#define LPATTN_RT_ALIGN128 _Alignas(128)
#endif
typedef struct lpattnRtTensorMap {
  LPATTN_RT_ALIGN128 uint64_t opaque[16];
} lpattnRtTensorMap;

/** Element types of a tensor map; FP8 tensors use UINT8 (TMA copies bytes,
    and the driver has no FP8 type). Values are CUtensorMapDataType's. */
typedef enum lpattnRtTensorMapType {
  LPATTN_RT_TENSOR_MAP_UINT8 = 0,
  LPATTN_RT_TENSOR_MAP_FLOAT16 = 6,
  LPATTN_RT_TENSOR_MAP_FLOAT32 = 7,
  LPATTN_RT_TENSOR_MAP_BFLOAT16 = 9
} lpattnRtTensorMapType;

/** cuTensorMapEncodeTiled for a row-major tensor: `dims`, `strides` (in
    elements) and `box` are outermost first, as in the descriptor; the
    runtime reverses them into the driver's innermost-first order. `swizzle`
    is 0 (none), 32, 64 or 128 bytes. No interleave, no L2 promotion, zero
    out-of-bounds fill. */
lpattnRtStatus lpattnRtEncodeTensorMap(lpattnRtTensorMap *map,
                                       lpattnRtTensorMapType type,
                                       unsigned rank, lpattnRtDevicePtr base,
                                       const uint64_t *dims,
                                       const uint64_t *strides,
                                       const uint32_t *box,
                                       unsigned swizzleBytes);

/*===--- Launch ----------------------------------------------------------===*/

/** One launch argument, in the descriptor's parameter order: `role` must
    match the parameter's role ("q", ..., "o"); tensors give `ptr` (the
    runtime encodes the descriptor's tensor maps from it; per-head descales
    are f32 [B, Hkv] tensors), f32 scalars give `scalar`. */
typedef struct lpattnRtArg {
  const char *role;
  lpattnRtDevicePtr ptr;
  float scalar;
} lpattnRtArg;

typedef struct lpattnRtStream_ *lpattnRtStream;

/** Launches the artifact's kernel with its grid, block, cluster
    (cuLaunchKernelEx with CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION) and dynamic
    shared memory, on `stream` (null: the default stream). Asynchronous. */
lpattnRtStatus lpattnRtLaunch(lpattnRtArtifact artifact,
                              const lpattnRtArg *args, size_t numArgs,
                              lpattnRtStream stream);
/** The tensors of one attention launch (lpattnRtLaunchAttention): device
    pointers to dense row-major tensors of the descriptor's shapes and
    dtypes. */
typedef struct lpattnRtAttentionArgs {
  lpattnRtDevicePtr q, k, v;
  /** f32 [B|1, Hq|1, Nq, Nk]; required iff signature.mask, else 0. */
  lpattnRtDevicePtr mask;
  /** Per-tensor descales {q_ds, k_ds, v_ds} (f32 scalar parameters); NULL:
      all ones. Ignored by an artifact without descales. */
  const float *descales;
  /** Per-(batch, KV head) descales: q_ds, k_ds, v_ds, each f32 [B, Hkv];
      required (all three) iff the artifact's descales are pointers. */
  lpattnRtDevicePtr descalePtrs[3];
  /** The result O [B, Hq, Nq, Dv] of policy.out. */
  lpattnRtDevicePtr o;
} lpattnRtAttentionArgs;

/** lpattnRtLaunch with the arguments of `args` in the descriptor's
    parameter order (KernelABI.h): what a launcher of an attention would
    otherwise rebuild from params[].role. An artifact with parameters
    beyond the attention's (stats, a debug P dump) is refused: launch it
    with lpattnRtLaunch. Asynchronous, on `stream` (null: the default). */
lpattnRtStatus lpattnRtLaunchAttention(lpattnRtArtifact artifact,
                                       const lpattnRtAttentionArgs *args,
                                       lpattnRtStream stream);

/** Waits for all work on the current context. */
lpattnRtStatus lpattnRtSynchronize(void);

/*===--- Events (timing) -------------------------------------------------===*/

typedef struct lpattnRtEvent_ *lpattnRtEvent;

lpattnRtStatus lpattnRtEventCreate(lpattnRtEvent *event);
lpattnRtStatus lpattnRtEventRecord(lpattnRtEvent event, lpattnRtStream stream);
lpattnRtStatus lpattnRtEventSynchronize(lpattnRtEvent event);
lpattnRtStatus lpattnRtEventElapsedMs(lpattnRtEvent start, lpattnRtEvent end,
                                      float *milliseconds);
lpattnRtStatus lpattnRtEventDestroy(lpattnRtEvent event);

#ifdef __cplusplus
}
#endif

#endif /* LPATTN_RT_RUNTIME_H */
