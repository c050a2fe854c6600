//===- FakeCudaDriver.cpp - a host-only stand-in for libcuda.so.1 ---------===//
//
// See FakeCudaDriver.h. Every entry point has the driver's C signature (with
// the CUDA types spelled as plain integers and pointers) and returns a
// CUresult; values are those of cuda.h.
//
//===----------------------------------------------------------------------===//

#include "FakeCudaDriver.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {
FakeCudaState state;
int envInt(const char *name, int fallback) {
  const char *v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}
int dummy;
} // namespace

extern "C" {
FakeCudaState *lpattnFakeCudaState() { return &state; }

int cuInit(unsigned flags) { return flags == 0 ? 0 : 1; }
int cuDriverGetVersion(int *v) {
  *v = 13000;
  return 0;
}
int cuGetErrorName(int r, const char **s) {
  *s = r == 200   ? "CUDA_ERROR_INVALID_IMAGE"
       : r == 500 ? "CUDA_ERROR_NOT_FOUND"
                  : "CUDA_ERROR_FAKE";
  return 0;
}
int cuGetErrorString(int r, const char **s) {
  *s = r == 200 ? "device kernel image is invalid" : "fake driver error";
  return 0;
}
int cuDeviceGetCount(int *n) {
  *n = 1;
  return 0;
}
int cuDeviceGet(int *d, int ordinal) {
  if (ordinal != 0)
    return 101;
  *d = 0;
  return 0;
}
int cuDeviceGetAttribute(int *v, int attr, int) {
  int cc = envInt("LPATTN_FAKE_CUDA_CC", 90);
  switch (attr) {
  case 75:
    *v = cc / 10;
    return 0;
  case 76:
    *v = cc % 10;
    return 0;
  case 97:
    *v = envInt("LPATTN_FAKE_CUDA_SMEM", 232448);
    return 0;
  case 16:
    *v = 132;
    return 0;
  }
  return 1;
}
int cuDeviceGetName(char *name, int len, int) {
  std::strncpy(name, "lpattn fake device", static_cast<size_t>(len));
  return 0;
}
int cuDevicePrimaryCtxRetain(void **ctx, int) {
  *ctx = &dummy;
  return 0;
}
int cuDevicePrimaryCtxRelease_v2(int) { return 0; }
int cuCtxSetCurrent(void *) { return 0; }
int cuCtxSynchronize() { return 0; }
int cuModuleLoadData(void **module, const void *image) {
  // A real driver parses the image; the fake refuses what is not an
  // executable ELF (e_type, offset 16, 2 = ET_EXEC).
  const unsigned char *b = static_cast<const unsigned char *>(image);
  if (std::memcmp(b, "\x7f" "ELF", 4) != 0 || b[16] != 2)
    return 200;
  *module = &dummy;
  return 0;
}
int cuModuleUnload(void *) { return 0; }
int cuModuleGetFunction(void **f, void *, const char *name) {
  // $LPATTN_FAKE_CUDA_KERNEL names a second kernel (that of a real
  // artifact, "attention_sm90" for a function @attention).
  const char *other = std::getenv("LPATTN_FAKE_CUDA_KERNEL");
  if (std::strcmp(name, "lpattn_attention_fp8") != 0 &&
      !(other && std::strcmp(name, other) == 0))
    return 500;
  *f = &dummy;
  return 0;
}
int cuFuncSetAttribute(void *, int attr, int value) {
  if (attr != 8)
    return 1;
  state.maxDynamicSharedSet = value;
  return 0;
}

struct LaunchAttr {
  int id;
  char pad[4];
  union {
    char pad[64];
    unsigned dims[3];
  } value;
};
struct LaunchConfig {
  unsigned grid[3], block[3], sharedMemBytes;
  void *stream;
  LaunchAttr *attrs;
  unsigned numAttrs;
};
int cuLaunchKernelEx(const LaunchConfig *c, void *, void **params, void **) {
  ++state.launches;
  for (int i = 0; i < 3; ++i) {
    state.grid[i] = c->grid[i];
    state.block[i] = c->block[i];
  }
  state.sharedMemBytes = c->sharedMemBytes;
  state.stream = c->stream;
  state.numAttrs = c->numAttrs;
  if (c->numAttrs) {
    state.attrId = c->attrs[0].id;
    for (int i = 0; i < 3; ++i)
      state.clusterDim[i] = c->attrs[0].value.dims[i];
  }
  for (int i = 0; i < state.paramsToRecord && i < 16; ++i)
    std::memcpy(&state.paramBytes[i], params[i], 8);
  // LPATTN_FAKE_CUDA_OUTPUT=INDEX:FILE[,INDEX:FILE...]: the "kernel" writes
  // each FILE's bytes to the device pointer of parameter INDEX
  // (lpattn-gpu-run's tests give it outputs to check: O, the P dump).
  if (const char *env = std::getenv("LPATTN_FAKE_CUDA_OUTPUT")) {
    std::string specs = env;
    size_t begin = 0;
    while (begin <= specs.size()) {
      size_t end = specs.find(',', begin);
      if (end == std::string::npos)
        end = specs.size();
      std::string spec = specs.substr(begin, end - begin);
      begin = end + 1;
      size_t colon = spec.find(':');
      if (colon == std::string::npos)
        return 1;
      int index = std::atoi(spec.c_str());
      unsigned long long dst = 0;
      std::memcpy(&dst, params[index], sizeof(dst));
      std::FILE *f = std::fopen(spec.c_str() + colon + 1, "rb");
      if (!f)
        return 1;
      char buffer[65536];
      size_t n, at = 0;
      while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0) {
        std::memcpy(reinterpret_cast<char *>(dst) + at, buffer, n);
        at += n;
      }
      std::fclose(f);
    }
  }
  return 0;
}
int cuMemAlloc_v2(unsigned long long *p, size_t bytes) {
  void *m = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  if (!m)
    return 2;
  ++state.liveAllocations;
  *p = reinterpret_cast<unsigned long long>(m);
  return 0;
}
int cuMemFree_v2(unsigned long long p) {
  std::free(reinterpret_cast<void *>(p));
  --state.liveAllocations;
  return 0;
}
int cuMemcpyHtoD_v2(unsigned long long dst, const void *src, size_t n) {
  std::memcpy(reinterpret_cast<void *>(dst), src, n);
  return 0;
}
int cuMemcpyDtoH_v2(void *dst, unsigned long long src, size_t n) {
  std::memcpy(dst, reinterpret_cast<const void *>(src), n);
  return 0;
}
int cuTensorMapEncodeTiled(void *map, int type, unsigned rank, void *,
                           const uint64_t *dims, const uint64_t *strides,
                           const uint32_t *box, const uint32_t *elemStrides,
                           int interleave, int swizzle, int l2, int oob) {
  if (rank < 1 || rank > 5)
    return 1;
  // The first 8 calls are recorded; later ones (a benchmark's launches)
  // are counted.
  static FakeTensorMapCall spare;
  int slot = state.tensorMapCalls++;
  FakeTensorMapCall &c = slot < 8 ? state.tensorMaps[slot] : spare;
  c.dataType = type;
  c.rank = rank;
  for (unsigned i = 0; i < rank; ++i) {
    c.dims[i] = dims[i];
    c.box[i] = box[i];
    c.elementStrides[i] = elemStrides[i];
    if (i + 1 < rank)
      c.strides[i] = strides[i];
  }
  c.interleave = interleave;
  c.swizzle = swizzle;
  c.l2Promotion = l2;
  c.oobFill = oob;
  // Mark the map so the test can see which one a parameter points to.
  std::memset(map, 0, 128);
  std::memcpy(map, &state.tensorMapCalls, sizeof(int));
  return 0;
}
int cuEventCreate(void **e, unsigned) {
  *e = &dummy;
  return 0;
}
int cuEventRecord(void *, void *) { return 0; }
int cuEventSynchronize(void *) { return 0; }
int cuEventElapsedTime_v2(float *ms, void *, void *) {
  *ms = 1.5f;
  return 0;
}
int cuEventDestroy_v2(void *) { return 0; }
} // extern "C"
