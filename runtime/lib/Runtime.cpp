//===- Runtime.cpp - lpattn GPU runtime over the CUDA driver API ----------===//
//
// The C API of lpattn-rt/Runtime.h. The driver is opened with dlopen at
// lpattnRtInit and each entry point is looked up on first use (as Triton's
// driver.c): dlerror() is cleared before dlsym and read after it, and a
// missing symbol names itself and the library. Driver failures become a
// status plus a thread-local message naming the call and its CUresult
// (MLIR's CudaRuntimeWrappers.cpp only prints them). No C entry point lets
// an exception escape.
//
//===----------------------------------------------------------------------===//

#include "lpattn-rt/Runtime.h"

#include "CudaDriverTypes.h"
#include "Descriptor.h"
#include "lpattn/Numerics/KernelABI.h"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

using namespace lpattn;
using namespace lpattn::rt;
using namespace lpattn::rt::cu;

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

namespace {
thread_local std::string lastError;

lpattnRtStatus fail(lpattnRtStatus status, std::string message) {
  lastError = std::move(message);
  return status;
}

/// Runs a C entry point's body: clears the thread's message, and turns any
/// exception (std::bad_alloc from a string) into a status.
template <typename Body> lpattnRtStatus guard(Body &&body) {
  try {
    lastError.clear();
    return body();
  } catch (const std::bad_alloc &) {
    return fail(LPATTN_RT_ERROR_INTERNAL, "out of host memory");
  } catch (const std::exception &e) {
    return fail(LPATTN_RT_ERROR_INTERNAL,
                std::string("internal error: ") + e.what());
  } catch (...) {
    return fail(LPATTN_RT_ERROR_INTERNAL, "internal error");
  }
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

// One typedef per entry point, with the exported (versioned) name cuda.h
// maps the plain name to: cuMemAlloc is cuMemAlloc_v2, and the unversioned
// export is the legacy 32-bit ABI.
using PFN_cuInit = CUresult (*)(unsigned);
using PFN_cuDriverGetVersion = CUresult (*)(int *);
using PFN_cuGetErrorName = CUresult (*)(CUresult, const char **);
using PFN_cuGetErrorString = CUresult (*)(CUresult, const char **);
using PFN_cuDeviceGetCount = CUresult (*)(int *);
using PFN_cuDeviceGet = CUresult (*)(CUdevice *, int);
using PFN_cuDeviceGetAttribute = CUresult (*)(int *, int, CUdevice);
using PFN_cuDeviceGetName = CUresult (*)(char *, int, CUdevice);
using PFN_cuDevicePrimaryCtxRetain = CUresult (*)(CUcontext *, CUdevice);
using PFN_cuDevicePrimaryCtxRelease = CUresult (*)(CUdevice);
using PFN_cuCtxSetCurrent = CUresult (*)(CUcontext);
using PFN_cuCtxSynchronize = CUresult (*)();
using PFN_cuModuleLoadData = CUresult (*)(CUmodule *, const void *);
using PFN_cuModuleUnload = CUresult (*)(CUmodule);
using PFN_cuModuleGetFunction = CUresult (*)(CUfunction *, CUmodule,
                                             const char *);
using PFN_cuFuncSetAttribute = CUresult (*)(CUfunction, int, int);
using PFN_cuLaunchKernelEx = CUresult (*)(const CUlaunchConfig *, CUfunction,
                                          void **, void **);
using PFN_cuMemAlloc = CUresult (*)(CUdeviceptr *, size_t);
using PFN_cuMemFree = CUresult (*)(CUdeviceptr);
using PFN_cuMemcpyHtoD = CUresult (*)(CUdeviceptr, const void *, size_t);
using PFN_cuMemcpyDtoH = CUresult (*)(void *, CUdeviceptr, size_t);
using PFN_cuTensorMapEncodeTiled = CUresult (*)(
    CUtensorMap *, int, cuuint32_t, void *, const cuuint64_t *,
    const cuuint64_t *, const cuuint32_t *, const cuuint32_t *, int, int, int,
    int);
using PFN_cuEventCreate = CUresult (*)(CUevent *, unsigned);
using PFN_cuEventRecord = CUresult (*)(CUevent, CUstream);
using PFN_cuEventSynchronize = CUresult (*)(CUevent);
using PFN_cuEventElapsedTime = CUresult (*)(float *, CUevent, CUevent);
using PFN_cuEventDestroy = CUresult (*)(CUevent);

/// The process's one driver: the dlopen handle, the symbols looked up so
/// far, and the primary contexts retained.
struct Driver {
  std::mutex mutex;
  void *handle = nullptr;
  std::string path;
  bool initialized = false;
  std::unordered_map<std::string, void *> symbols;
  std::map<int, std::pair<CUdevice, CUcontext>> contexts;
  int currentDevice = -1;
};

Driver &driver() {
  static Driver *d = new Driver(); // never destroyed: no exit-time ordering
  return *d;
}

/// Looks `name` up in the open driver (cached). On failure sets the
/// message and returns null.
void *lookup(const char *name) {
  Driver &d = driver();
  std::lock_guard<std::mutex> lock(d.mutex);
  auto it = d.symbols.find(name);
  if (it != d.symbols.end())
    return it->second;
  if (!d.handle) {
    lastError = "the CUDA driver is not open (call lpattnRtInit)";
    return nullptr;
  }
  dlerror(); // clear a stale error, so the one read below is dlsym's
  void *p = dlsym(d.handle, name);
  const char *err = dlerror();
  if (err || !p) {
    lastError = "no CUDA driver: symbol " + std::string(name) +
                " not found in " + d.path + (err ? std::string(": ") + err : "");
    return nullptr;
  }
  d.symbols.emplace(name, p);
  return p;
}

template <typename Fn> Fn sym(const char *name) {
  return reinterpret_cast<Fn>(lookup(name));
}

/// "CUDA_ERROR_NO_DEVICE (100): no CUDA-capable device is detected".
std::string describe(CUresult r) {
  std::string text;
  const char *name = nullptr, *str = nullptr;
  // Ask the driver, without disturbing the caller's message.
  std::string saved = lastError;
  if (auto getName = sym<PFN_cuGetErrorName>("cuGetErrorName"))
    if (getName(r, &name) != CUDA_SUCCESS)
      name = nullptr;
  if (auto getString = sym<PFN_cuGetErrorString>("cuGetErrorString"))
    if (getString(r, &str) != CUDA_SUCCESS)
      str = nullptr;
  lastError = saved;
  if (!name) {
    switch (r) {
    case CUDA_ERROR_INVALID_VALUE:
      name = "CUDA_ERROR_INVALID_VALUE";
      break;
    case CUDA_ERROR_OUT_OF_MEMORY:
      name = "CUDA_ERROR_OUT_OF_MEMORY";
      break;
    case CUDA_ERROR_NOT_INITIALIZED:
      name = "CUDA_ERROR_NOT_INITIALIZED";
      break;
    case CUDA_ERROR_STUB_LIBRARY:
      name = "CUDA_ERROR_STUB_LIBRARY";
      str = "the CUDA driver is a stub library (no real driver installed)";
      break;
    case CUDA_ERROR_NO_DEVICE:
      name = "CUDA_ERROR_NO_DEVICE";
      break;
    case CUDA_ERROR_INVALID_IMAGE:
      name = "CUDA_ERROR_INVALID_IMAGE";
      break;
    case CUDA_ERROR_NO_BINARY_FOR_GPU:
      name = "CUDA_ERROR_NO_BINARY_FOR_GPU";
      break;
    default:
      name = "CUresult";
    }
  }
  text = std::string(name) + " (" + std::to_string(r) + ")";
  if (str)
    text += std::string(": ") + str;
  return text;
}

/// Calls driver entry point `name` of type Fn; a missing symbol is
/// LPATTN_RT_ERROR_NO_DRIVER, a failed call `onError` with the CUresult.
template <typename Fn, typename... Args>
lpattnRtStatus call(const char *name, lpattnRtStatus onError, Args... args) {
  Fn fn = sym<Fn>(name);
  if (!fn)
    return LPATTN_RT_ERROR_NO_DRIVER;
  CUresult r = fn(args...);
  if (r != CUDA_SUCCESS)
    return fail(onError, std::string(name) + " failed: " + describe(r));
  return LPATTN_RT_SUCCESS;
}

#define LPATTN_RT_TRY(expr)                                                    \
  do {                                                                         \
    lpattnRtStatus status_ = (expr);                                           \
    if (status_ != LPATTN_RT_SUCCESS)                                          \
      return status_;                                                          \
  } while (false)

lpattnRtStatus requireInit() {
  Driver &d = driver();
  std::lock_guard<std::mutex> lock(d.mutex);
  if (!d.initialized)
    return fail(LPATTN_RT_ERROR_NOT_INITIALIZED,
                "the runtime is not initialized: call lpattnRtInit first");
  return LPATTN_RT_SUCCESS;
}

lpattnRtStatus getDevice(int ordinal, CUdevice &dev) {
  LPATTN_RT_TRY(requireInit());
  int count = 0;
  LPATTN_RT_TRY(call<PFN_cuDeviceGetCount>("cuDeviceGetCount",
                                           LPATTN_RT_ERROR_DRIVER, &count));
  if (ordinal < 0 || ordinal >= count)
    return fail(LPATTN_RT_ERROR_NO_DEVICE,
                "no CUDA device " + std::to_string(ordinal) + " (" +
                    std::to_string(count) + " device" +
                    (count == 1 ? "" : "s") + " found)");
  return call<PFN_cuDeviceGet>("cuDeviceGet", LPATTN_RT_ERROR_NO_DEVICE, &dev,
                               ordinal);
}

/// Retains device `ordinal`'s primary context once and makes it current on
/// the calling thread (contexts are per thread, so every call that needs one
/// sets it).
lpattnRtStatus useDevice(int ordinal) {
  CUdevice dev;
  LPATTN_RT_TRY(getDevice(ordinal, dev));
  Driver &d = driver();
  CUcontext ctx = nullptr;
  {
    std::lock_guard<std::mutex> lock(d.mutex);
    auto it = d.contexts.find(ordinal);
    if (it != d.contexts.end())
      ctx = it->second.second;
  }
  if (!ctx) {
    LPATTN_RT_TRY(call<PFN_cuDevicePrimaryCtxRetain>(
        "cuDevicePrimaryCtxRetain", LPATTN_RT_ERROR_DRIVER, &ctx, dev));
    std::lock_guard<std::mutex> lock(d.mutex);
    d.contexts.emplace(ordinal, std::make_pair(dev, ctx));
  }
  LPATTN_RT_TRY(call<PFN_cuCtxSetCurrent>("cuCtxSetCurrent",
                                          LPATTN_RT_ERROR_DRIVER, ctx));
  std::lock_guard<std::mutex> lock(d.mutex);
  d.currentDevice = ordinal;
  return LPATTN_RT_SUCCESS;
}

/// The device work goes to: the one set, else device 0.
lpattnRtStatus ensureContext(int &ordinal) {
  LPATTN_RT_TRY(requireInit());
  {
    Driver &d = driver();
    std::lock_guard<std::mutex> lock(d.mutex);
    ordinal = d.currentDevice < 0 ? 0 : d.currentDevice;
  }
  return useDevice(ordinal);
}

lpattnRtStatus deviceAttribute(int ordinal, int attribute, int &value) {
  CUdevice dev;
  LPATTN_RT_TRY(getDevice(ordinal, dev));
  return call<PFN_cuDeviceGetAttribute>("cuDeviceGetAttribute",
                                        LPATTN_RT_ERROR_DRIVER, &value,
                                        attribute, dev);
}

/// cuTensorMapEncodeTiled for a row-major tensor given outermost first.
lpattnRtStatus encodeTensorMap(CUtensorMap &map, int type, unsigned elemBytes,
                               unsigned rank, CUdeviceptr base,
                               const uint64_t *dims, const uint64_t *strides,
                               const uint32_t *box, int swizzle,
                               int l2Promotion) {
  if (rank < 1 || rank > 5)
    return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT,
                "tensor map rank " + std::to_string(rank) +
                    " is not in [1, 5]");
  if (base % 16 != 0)
    return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT,
                "tensor map base address is not 16-byte aligned");
  if (strides[rank - 1] != 1)
    return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT,
                "tensor map innermost stride must be 1 element");
  // The driver wants dim 0 innermost and byte strides of dims 1..rank-1.
  cuuint64_t gDims[5], gStrides[4];
  cuuint32_t gBox[5], elemStrides[5];
  for (unsigned i = 0; i < rank; ++i) {
    unsigned from = rank - 1 - i;
    gDims[i] = dims[from];
    gBox[i] = box[from];
    elemStrides[i] = 1;
    if (box[from] < 1 || box[from] > 256)
      return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT,
                  "tensor map box dim " + std::to_string(from) + " = " +
                      std::to_string(box[from]) + " is not in [1, 256]");
    if (i > 0)
      gStrides[i - 1] = strides[from] * elemBytes;
  }
  return call<PFN_cuTensorMapEncodeTiled>(
      "cuTensorMapEncodeTiled", LPATTN_RT_ERROR_DRIVER, &map, type,
      static_cast<cuuint32_t>(rank), reinterpret_cast<void *>(base), gDims,
      gStrides, gBox, elemStrides, CU_TENSOR_MAP_INTERLEAVE_NONE, swizzle,
      l2Promotion, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
}
} // namespace

struct lpattnRtArtifact_ {
  LaunchDescriptor desc;
  CUmodule module = nullptr;
  CUfunction function = nullptr;
  int device = 0;
};

struct lpattnRtEvent_ {
  CUevent event = nullptr;
};

namespace {
/// The device half of loading an artifact whose descriptor and cubin passed
/// the driver-free checks: arch and shared memory against the current
/// device, cuModuleLoadData, cuModuleGetFunction, the shared memory opt-in.
lpattnRtStatus loadOnDevice(std::unique_ptr<lpattnRtArtifact_> a,
                            const std::vector<char> &cubin,
                            const std::string &cubinName,
                            lpattnRtArtifact *artifact) {
  std::string error;
  LPATTN_RT_TRY(ensureContext(a->device));
  int major = 0, minor = 0, smem = 0;
  LPATTN_RT_TRY(lpattnRtDeviceArch(a->device, &major, &minor));
  if (!checkArch(a->desc, major, minor, error))
    return fail(LPATTN_RT_ERROR_UNSUPPORTED_ARCH, error);
  LPATTN_RT_TRY(lpattnRtDeviceMaxSharedMemory(a->device, &smem));
  if (!checkSharedMemory(a->desc, smem, error))
    return fail(LPATTN_RT_ERROR_SHARED_MEMORY, error);
  lpattnRtStatus s = call<PFN_cuModuleLoadData>(
      "cuModuleLoadData", LPATTN_RT_ERROR_INVALID_CUBIN, &a->module,
      static_cast<const void *>(cubin.data()));
  if (s != LPATTN_RT_SUCCESS)
    return fail(s, cubinName + ": " + lastError);
  auto unload = [&]() {
    std::string saved = lastError;
    (void)call<PFN_cuModuleUnload>("cuModuleUnload", LPATTN_RT_ERROR_DRIVER,
                                   a->module);
    lastError = saved;
  };
  s = call<PFN_cuModuleGetFunction>(
      "cuModuleGetFunction", LPATTN_RT_ERROR_INVALID_DESCRIPTOR, &a->function,
      a->module, a->desc.kernel.c_str());
  if (s != LPATTN_RT_SUCCESS) {
    std::string message = "cubin " + cubinName + " has no kernel \"" +
                          a->desc.kernel +
                          "\" (descriptor and cubin mismatch): " + lastError;
    unload();
    return fail(s, message);
  }
  // Above 48 KiB a kernel must opt in to its dynamic shared memory.
  if (a->desc.dynamicSharedBytes > 0) {
    s = call<PFN_cuFuncSetAttribute>(
        "cuFuncSetAttribute", LPATTN_RT_ERROR_SHARED_MEMORY, a->function,
        CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
        static_cast<int>(a->desc.dynamicSharedBytes));
    if (s != LPATTN_RT_SUCCESS) {
      unload();
      return s;
    }
  }
  *artifact = a.release();
  return LPATTN_RT_SUCCESS;
}
} // namespace

//===----------------------------------------------------------------------===//
// C API
//===----------------------------------------------------------------------===//

extern "C" {

const char *lpattnRtStatusName(lpattnRtStatus status) {
  switch (status) {
  case LPATTN_RT_SUCCESS:
    return "LPATTN_RT_SUCCESS";
  case LPATTN_RT_ERROR_INVALID_ARGUMENT:
    return "LPATTN_RT_ERROR_INVALID_ARGUMENT";
  case LPATTN_RT_ERROR_NO_DRIVER:
    return "LPATTN_RT_ERROR_NO_DRIVER";
  case LPATTN_RT_ERROR_NOT_INITIALIZED:
    return "LPATTN_RT_ERROR_NOT_INITIALIZED";
  case LPATTN_RT_ERROR_NO_DEVICE:
    return "LPATTN_RT_ERROR_NO_DEVICE";
  case LPATTN_RT_ERROR_DRIVER:
    return "LPATTN_RT_ERROR_DRIVER";
  case LPATTN_RT_ERROR_INVALID_DESCRIPTOR:
    return "LPATTN_RT_ERROR_INVALID_DESCRIPTOR";
  case LPATTN_RT_ERROR_INVALID_CUBIN:
    return "LPATTN_RT_ERROR_INVALID_CUBIN";
  case LPATTN_RT_ERROR_UNSUPPORTED_ARCH:
    return "LPATTN_RT_ERROR_UNSUPPORTED_ARCH";
  case LPATTN_RT_ERROR_SHARED_MEMORY:
    return "LPATTN_RT_ERROR_SHARED_MEMORY";
  case LPATTN_RT_ERROR_ARGUMENT_MISMATCH:
    return "LPATTN_RT_ERROR_ARGUMENT_MISMATCH";
  case LPATTN_RT_ERROR_INTERNAL:
    return "LPATTN_RT_ERROR_INTERNAL";
  }
  return "<unknown lpattnRtStatus>";
}

const char *lpattnRtGetLastError(void) { return lastError.c_str(); }

lpattnRtStatus lpattnRtInit(void) {
  return guard([]() -> lpattnRtStatus {
    Driver &d = driver();
    {
      std::lock_guard<std::mutex> lock(d.mutex);
      if (d.initialized)
        return LPATTN_RT_SUCCESS;
      // A previous failed init leaves nothing open; start afresh (the
      // environment may name another driver now).
      const char *env = std::getenv("LPATTN_CUDA_DRIVER");
      d.path = env && *env ? env : "libcuda.so.1";
      dlerror();
      d.handle = dlopen(d.path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!d.handle) {
        const char *err = dlerror();
        return fail(LPATTN_RT_ERROR_NO_DRIVER,
                    "no CUDA driver: dlopen(" + d.path + ") failed: " +
                        (err ? err : "unknown error"));
      }
      d.symbols.clear();
    }
    auto closeDriver = [&d]() {
      std::lock_guard<std::mutex> lock(d.mutex);
      dlclose(d.handle);
      d.handle = nullptr;
      d.symbols.clear();
    };
    auto init = sym<PFN_cuInit>("cuInit");
    if (!init) {
      closeDriver();
      return LPATTN_RT_ERROR_NO_DRIVER;
    }
    CUresult r = init(0);
    if (r != CUDA_SUCCESS) {
      std::string message = describe(r);
      std::string path = d.path;
      closeDriver();
      if (r == CUDA_ERROR_STUB_LIBRARY)
        return fail(LPATTN_RT_ERROR_NO_DRIVER,
                    "no CUDA driver: " + path +
                        " is the toolkit's stub library; cuInit failed: " +
                        message);
      if (r == CUDA_ERROR_NO_DEVICE)
        return fail(LPATTN_RT_ERROR_NO_DEVICE,
                    "no CUDA device: cuInit failed: " + message);
      return fail(LPATTN_RT_ERROR_DRIVER, "cuInit failed: " + message);
    }
    std::lock_guard<std::mutex> lock(d.mutex);
    d.initialized = true;
    return LPATTN_RT_SUCCESS;
  });
}

lpattnRtStatus lpattnRtShutdown(void) {
  return guard([]() -> lpattnRtStatus {
    Driver &d = driver();
    std::map<int, std::pair<CUdevice, CUcontext>> contexts;
    {
      std::lock_guard<std::mutex> lock(d.mutex);
      if (!d.handle)
        return LPATTN_RT_SUCCESS;
      contexts.swap(d.contexts);
    }
    for (auto &[ordinal, devCtx] : contexts)
      (void)call<PFN_cuDevicePrimaryCtxRelease>(
          "cuDevicePrimaryCtxRelease_v2", LPATTN_RT_ERROR_DRIVER,
          devCtx.first);
    std::lock_guard<std::mutex> lock(d.mutex);
    dlclose(d.handle);
    d.handle = nullptr;
    d.initialized = false;
    d.symbols.clear();
    d.currentDevice = -1;
    return LPATTN_RT_SUCCESS;
  });
}

lpattnRtStatus lpattnRtDriverVersion(int *version) {
  return guard([&]() -> lpattnRtStatus {
    if (!version)
      return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT, "version is null");
    LPATTN_RT_TRY(requireInit());
    return call<PFN_cuDriverGetVersion>("cuDriverGetVersion",
                                        LPATTN_RT_ERROR_DRIVER, version);
  });
}

const char *lpattnRtDriverPath(void) {
  Driver &d = driver();
  std::lock_guard<std::mutex> lock(d.mutex);
  return d.handle ? d.path.c_str() : "";
}

lpattnRtStatus lpattnRtDeviceCount(int *count) {
  return guard([&]() -> lpattnRtStatus {
    if (!count)
      return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT, "count is null");
    LPATTN_RT_TRY(requireInit());
    return call<PFN_cuDeviceGetCount>("cuDeviceGetCount",
                                      LPATTN_RT_ERROR_DRIVER, count);
  });
}

lpattnRtStatus lpattnRtDeviceArch(int ordinal, int *major, int *minor) {
  return guard([&]() -> lpattnRtStatus {
    if (!major || !minor)
      return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT, "major or minor is null");
    LPATTN_RT_TRY(deviceAttribute(
        ordinal, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, *major));
    return deviceAttribute(ordinal,
                           CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                           *minor);
  });
}

lpattnRtStatus lpattnRtDeviceName(int ordinal, char *name, size_t size) {
  return guard([&]() -> lpattnRtStatus {
    if (!name || size == 0 || size > (1u << 20))
      return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT,
                  "name is null or size is 0 or too large");
    CUdevice dev;
    LPATTN_RT_TRY(getDevice(ordinal, dev));
    name[0] = '\0';
    LPATTN_RT_TRY(call<PFN_cuDeviceGetName>("cuDeviceGetName",
                                            LPATTN_RT_ERROR_DRIVER, name,
                                            static_cast<int>(size), dev));
    name[size - 1] = '\0';
    return LPATTN_RT_SUCCESS;
  });
}

lpattnRtStatus lpattnRtDeviceMaxSharedMemory(int ordinal, int *bytes) {
  return guard([&]() -> lpattnRtStatus {
    if (!bytes)
      return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT, "bytes is null");
    return deviceAttribute(
        ordinal, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, *bytes);
  });
}

lpattnRtStatus lpattnRtSetDevice(int ordinal) {
  return guard([&]() -> lpattnRtStatus { return useDevice(ordinal); });
}

lpattnRtStatus lpattnRtCheckArtifact(const char *descriptorPath) {
  return guard([&]() -> lpattnRtStatus {
    if (!descriptorPath)
      return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT, "descriptorPath is null");
    LaunchDescriptor desc;
    std::string error;
    if (!loadDescriptorFile(descriptorPath, desc, error))
      return fail(LPATTN_RT_ERROR_INVALID_DESCRIPTOR, error);
    std::vector<char> cubin;
    if (!readCubin(desc.cubinPath, cubin, error) ||
        !checkCubinArch(desc, cubin, error))
      return fail(LPATTN_RT_ERROR_INVALID_CUBIN, error);
    return LPATTN_RT_SUCCESS;
  });
}

lpattnRtStatus lpattnRtLoadArtifact(const char *descriptorPath,
                                    lpattnRtArtifact *artifact) {
  return guard([&]() -> lpattnRtStatus {
    if (!descriptorPath || !artifact)
      return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT,
                  "descriptorPath or artifact is null");
    *artifact = nullptr;
    auto a = std::make_unique<lpattnRtArtifact_>();
    std::string error;
    // The driver-free checks first: a corrupt artifact gets its own message
    // even on a machine without a driver.
    if (!loadDescriptorFile(descriptorPath, a->desc, error))
      return fail(LPATTN_RT_ERROR_INVALID_DESCRIPTOR, error);
    std::vector<char> cubin;
    if (!readCubin(a->desc.cubinPath, cubin, error) ||
        !checkCubinArch(a->desc, cubin, error))
      return fail(LPATTN_RT_ERROR_INVALID_CUBIN, error);
    std::string cubinPath = a->desc.cubinPath;
    return loadOnDevice(std::move(a), cubin, cubinPath, artifact);
  });
}

lpattnRtStatus lpattnRtLoadArtifactData(const char *descriptorJson,
                                        size_t descriptorSize,
                                        const void *cubin, size_t cubinSize,
                                        lpattnRtArtifact *artifact) {
  return guard([&]() -> lpattnRtStatus {
    if (!descriptorJson || !cubin || !artifact)
      return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT,
                  "descriptorJson, cubin or artifact is null");
    *artifact = nullptr;
    auto a = std::make_unique<lpattnRtArtifact_>();
    std::string error;
    if (!parseDescriptor(std::string_view(descriptorJson, descriptorSize), "",
                         a->desc, error))
      return fail(LPATTN_RT_ERROR_INVALID_DESCRIPTOR, error);
    const char *bytes = static_cast<const char *>(cubin);
    std::vector<char> image(bytes, bytes + cubinSize);
    const std::string name = "the in-memory cubin";
    if (!checkCubinImage(image, name, error) ||
        !checkCubinArch(a->desc, image, error))
      return fail(LPATTN_RT_ERROR_INVALID_CUBIN, error);
    return loadOnDevice(std::move(a), image, name, artifact);
  });
}

lpattnRtStatus lpattnRtUnloadArtifact(lpattnRtArtifact artifact) {
  return guard([&]() -> lpattnRtStatus {
    if (!artifact)
      return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT, "artifact is null");
    std::unique_ptr<lpattnRtArtifact_> owned(artifact);
    int ordinal;
    LPATTN_RT_TRY(ensureContext(ordinal));
    return call<PFN_cuModuleUnload>("cuModuleUnload", LPATTN_RT_ERROR_DRIVER,
                                    owned->module);
  });
}

const char *lpattnRtArtifactKernelName(lpattnRtArtifact artifact) {
  return artifact ? artifact->desc.kernel.c_str() : "";
}

size_t lpattnRtArtifactNumParams(lpattnRtArtifact artifact) {
  return artifact ? artifact->desc.params.size() : 0;
}

lpattnRtStatus lpattnRtMalloc(lpattnRtDevicePtr *ptr, size_t bytes) {
  return guard([&]() -> lpattnRtStatus {
    if (!ptr || bytes == 0)
      return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT,
                  "ptr is null or bytes is 0");
    int ordinal;
    LPATTN_RT_TRY(ensureContext(ordinal));
    CUdeviceptr p = 0;
    LPATTN_RT_TRY(call<PFN_cuMemAlloc>("cuMemAlloc_v2", LPATTN_RT_ERROR_DRIVER,
                                       &p, bytes));
    *ptr = p;
    return LPATTN_RT_SUCCESS;
  });
}

lpattnRtStatus lpattnRtFree(lpattnRtDevicePtr ptr) {
  return guard([&]() -> lpattnRtStatus {
    int ordinal;
    LPATTN_RT_TRY(ensureContext(ordinal));
    return call<PFN_cuMemFree>("cuMemFree_v2", LPATTN_RT_ERROR_DRIVER,
                               static_cast<CUdeviceptr>(ptr));
  });
}

lpattnRtStatus lpattnRtCopyHtoD(lpattnRtDevicePtr dst, const void *src,
                                size_t bytes) {
  return guard([&]() -> lpattnRtStatus {
    if (!src || !dst)
      return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT, "src or dst is null");
    int ordinal;
    LPATTN_RT_TRY(ensureContext(ordinal));
    return call<PFN_cuMemcpyHtoD>("cuMemcpyHtoD_v2", LPATTN_RT_ERROR_DRIVER,
                                  static_cast<CUdeviceptr>(dst), src, bytes);
  });
}

lpattnRtStatus lpattnRtCopyDtoH(void *dst, lpattnRtDevicePtr src,
                                size_t bytes) {
  return guard([&]() -> lpattnRtStatus {
    if (!src || !dst)
      return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT, "src or dst is null");
    int ordinal;
    LPATTN_RT_TRY(ensureContext(ordinal));
    return call<PFN_cuMemcpyDtoH>("cuMemcpyDtoH_v2", LPATTN_RT_ERROR_DRIVER,
                                  dst, static_cast<CUdeviceptr>(src), bytes);
  });
}

lpattnRtStatus lpattnRtEncodeTensorMap(lpattnRtTensorMap *map,
                                       lpattnRtTensorMapType type,
                                       unsigned rank, lpattnRtDevicePtr base,
                                       const uint64_t *dims,
                                       const uint64_t *strides,
                                       const uint32_t *box,
                                       unsigned swizzleBytes) {
  return guard([&]() -> lpattnRtStatus {
    if (!map || !dims || !strides || !box)
      return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT,
                  "map, dims, strides or box is null");
    unsigned elemBytes = 0;
    switch (type) {
    case LPATTN_RT_TENSOR_MAP_UINT8:
      elemBytes = 1;
      break;
    case LPATTN_RT_TENSOR_MAP_FLOAT16:
    case LPATTN_RT_TENSOR_MAP_BFLOAT16:
      elemBytes = 2;
      break;
    case LPATTN_RT_TENSOR_MAP_FLOAT32:
      elemBytes = 4;
      break;
    default:
      return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT,
                  "unknown tensor map type " + std::to_string(int(type)));
    }
    int swizzle;
    switch (swizzleBytes) {
    case 0:
      swizzle = CU_TENSOR_MAP_SWIZZLE_NONE;
      break;
    case 32:
      swizzle = CU_TENSOR_MAP_SWIZZLE_32B;
      break;
    case 64:
      swizzle = CU_TENSOR_MAP_SWIZZLE_64B;
      break;
    case 128:
      swizzle = CU_TENSOR_MAP_SWIZZLE_128B;
      break;
    default:
      return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT,
                  "swizzle must be 0, 32, 64 or 128 bytes, got " +
                      std::to_string(swizzleBytes));
    }
    LPATTN_RT_TRY(requireInit());
    static_assert(sizeof(lpattnRtTensorMap) == sizeof(CUtensorMap) &&
                      alignof(lpattnRtTensorMap) == alignof(CUtensorMap),
                  "lpattnRtTensorMap mirrors CUtensorMap");
    return encodeTensorMap(*reinterpret_cast<CUtensorMap *>(map), type,
                           elemBytes, rank, base, dims, strides, box, swizzle,
                           CU_TENSOR_MAP_L2_PROMOTION_NONE);
  });
}

lpattnRtStatus lpattnRtLaunch(lpattnRtArtifact artifact,
                              const lpattnRtArg *args, size_t numArgs,
                              lpattnRtStream stream) {
  return guard([&]() -> lpattnRtStatus {
    if (!artifact || (!args && numArgs))
      return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT, "artifact or args is null");
    const LaunchDescriptor &d = artifact->desc;
    if (numArgs != d.params.size())
      return fail(LPATTN_RT_ERROR_ARGUMENT_MISMATCH,
                  "kernel " + d.kernel + " takes " +
                      std::to_string(d.params.size()) + " arguments, got " +
                      std::to_string(numArgs));
    LPATTN_RT_TRY(useDevice(artifact->device));
    // Storage that the kernelParams pointers point into; reserved up front
    // so that no pointer is invalidated.
    std::vector<CUdeviceptr> ptrs(numArgs);
    std::vector<float> scalars(numArgs);
    std::vector<CUtensorMap> maps(numArgs);
    std::vector<void *> kernelParams(numArgs);
    for (size_t i = 0; i < numArgs; ++i) {
      const Param &p = d.params[i];
      const lpattnRtArg &a = args[i];
      if (!a.role || p.role != a.role)
        return fail(LPATTN_RT_ERROR_ARGUMENT_MISMATCH,
                    "argument " + std::to_string(i) + " is \"" +
                        (a.role ? a.role : "(null)") + "\", but kernel " +
                        d.kernel + " takes \"" + p.role + "\" there");
      if (p.kind == ParamKind::F32) {
        scalars[i] = a.scalar;
        kernelParams[i] = &scalars[i];
        continue;
      }
      if (!a.ptr)
        return fail(LPATTN_RT_ERROR_ARGUMENT_MISMATCH,
                    "argument \"" + p.role + "\" has a null device pointer");
      if (p.kind == ParamKind::Pointer) {
        ptrs[i] = a.ptr;
        kernelParams[i] = &ptrs[i];
        continue;
      }
      const TensorMapSpec *spec = nullptr;
      for (const TensorMapSpec &m : d.tensorMaps)
        if (m.tensor == p.role)
          spec = &m;
      if (!spec)
        return fail(LPATTN_RT_ERROR_INTERNAL,
                    "no tensor map for \"" + p.role + "\"");
      std::vector<uint64_t> dims(p.shape.begin(), p.shape.end());
      std::vector<uint64_t> strides(p.strides.begin(), p.strides.end());
      lpattnRtStatus s = encodeTensorMap(
          maps[i], spec->dataType, formatBytes(*p.dtype),
          static_cast<unsigned>(dims.size()), a.ptr, dims.data(),
          strides.data(), spec->box.data(), spec->swizzle, spec->l2Promotion);
      if (s != LPATTN_RT_SUCCESS)
        return fail(s, "tensor map of \"" + p.role + "\": " + lastError);
      kernelParams[i] = &maps[i];
    }
    CUlaunchAttribute cluster{};
    cluster.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    cluster.value.clusterDim.x = d.cluster[0];
    cluster.value.clusterDim.y = d.cluster[1];
    cluster.value.clusterDim.z = d.cluster[2];
    CUlaunchConfig config{};
    config.gridDimX = d.grid[0];
    config.gridDimY = d.grid[1];
    config.gridDimZ = d.grid[2];
    config.blockDimX = d.block[0];
    config.blockDimY = d.block[1];
    config.blockDimZ = d.block[2];
    config.sharedMemBytes = d.dynamicSharedBytes;
    config.hStream = reinterpret_cast<CUstream>(stream);
    // Only a real cluster gets the attribute: pre-Hopper devices refuse it.
    bool hasCluster = d.cluster[0] * d.cluster[1] * d.cluster[2] > 1;
    config.attrs = hasCluster ? &cluster : nullptr;
    config.numAttrs = hasCluster ? 1 : 0;
    return call<PFN_cuLaunchKernelEx>(
        "cuLaunchKernelEx", LPATTN_RT_ERROR_DRIVER, &config,
        artifact->function, kernelParams.data(), static_cast<void **>(nullptr));
  });
}

lpattnRtStatus lpattnRtLaunchAttention(lpattnRtArtifact artifact,
                                       const lpattnRtAttentionArgs *args,
                                       lpattnRtStream stream) {
  return guard([&]() -> lpattnRtStatus {
    if (!artifact || !args)
      return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT, "artifact or args is null");
    const LaunchDescriptor &d = artifact->desc;
    if (d.debugP || d.countsCollapse)
      return fail(LPATTN_RT_ERROR_ARGUMENT_MISMATCH,
                  "kernel " + d.kernel +
                      " takes more than the attention's tensors (" +
                      (d.debugP ? "a debug P dump" : "stats") +
                      "): launch it with lpattnRtLaunch");
    if (!d.hasMask && args->mask)
      return fail(LPATTN_RT_ERROR_ARGUMENT_MISMATCH,
                  "kernel " + d.kernel + " takes no mask, but mask is set");
    // The arguments in the descriptor's order; lpattnRtLaunch checks the
    // rest (a null device pointer names its role).
    std::vector<lpattnRtArg> launchArgs(d.params.size());
    const std::pair<KernelArg, lpattnRtDevicePtr> tensors[] = {
        {KernelArg::Query, args->q},
        {KernelArg::Key, args->k},
        {KernelArg::Value, args->v},
        {KernelArg::Mask, args->mask},
        {KernelArg::QueryDescale, args->descalePtrs[0]},
        {KernelArg::KeyDescale, args->descalePtrs[1]},
        {KernelArg::ValueDescale, args->descalePtrs[2]}};
    for (size_t i = 0; i < d.params.size(); ++i) {
      const Param &p = d.params[i];
      lpattnRtArg &a = launchArgs[i];
      a.role = p.role.c_str();
      if (p.role == "o")
        a.ptr = args->o;
      for (const auto &[arg, ptr] : tensors) {
        if (p.role != getKernelArgName(arg))
          continue;
        if (p.kind == ParamKind::F32) // a per-tensor descale
          a.scalar = args->descales
                         ? args->descales[int(arg) -
                                          int(KernelArg::QueryDescale)]
                         : 1.0f;
        else
          a.ptr = ptr;
      }
    }
    return lpattnRtLaunch(artifact, launchArgs.data(), launchArgs.size(),
                          stream);
  });
}

lpattnRtStatus lpattnRtSynchronize(void) {
  return guard([]() -> lpattnRtStatus {
    int ordinal;
    LPATTN_RT_TRY(ensureContext(ordinal));
    return call<PFN_cuCtxSynchronize>("cuCtxSynchronize",
                                      LPATTN_RT_ERROR_DRIVER);
  });
}

lpattnRtStatus lpattnRtEventCreate(lpattnRtEvent *event) {
  return guard([&]() -> lpattnRtStatus {
    if (!event)
      return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT, "event is null");
    *event = nullptr;
    int ordinal;
    LPATTN_RT_TRY(ensureContext(ordinal));
    auto e = std::make_unique<lpattnRtEvent_>();
    LPATTN_RT_TRY(call<PFN_cuEventCreate>("cuEventCreate",
                                          LPATTN_RT_ERROR_DRIVER, &e->event,
                                          CU_EVENT_DEFAULT));
    *event = e.release();
    return LPATTN_RT_SUCCESS;
  });
}

lpattnRtStatus lpattnRtEventRecord(lpattnRtEvent event,
                                   lpattnRtStream stream) {
  return guard([&]() -> lpattnRtStatus {
    if (!event)
      return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT, "event is null");
    LPATTN_RT_TRY(requireInit());
    return call<PFN_cuEventRecord>("cuEventRecord", LPATTN_RT_ERROR_DRIVER,
                                   event->event,
                                   reinterpret_cast<CUstream>(stream));
  });
}

lpattnRtStatus lpattnRtEventSynchronize(lpattnRtEvent event) {
  return guard([&]() -> lpattnRtStatus {
    if (!event)
      return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT, "event is null");
    LPATTN_RT_TRY(requireInit());
    return call<PFN_cuEventSynchronize>("cuEventSynchronize",
                                        LPATTN_RT_ERROR_DRIVER, event->event);
  });
}

lpattnRtStatus lpattnRtEventElapsedMs(lpattnRtEvent start, lpattnRtEvent end,
                                      float *milliseconds) {
  return guard([&]() -> lpattnRtStatus {
    if (!start || !end || !milliseconds)
      return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT,
                  "start, end or milliseconds is null");
    LPATTN_RT_TRY(requireInit());
    return call<PFN_cuEventElapsedTime>("cuEventElapsedTime_v2",
                                        LPATTN_RT_ERROR_DRIVER, milliseconds,
                                        start->event, end->event);
  });
}

lpattnRtStatus lpattnRtEventDestroy(lpattnRtEvent event) {
  return guard([&]() -> lpattnRtStatus {
    if (!event)
      return fail(LPATTN_RT_ERROR_INVALID_ARGUMENT, "event is null");
    std::unique_ptr<lpattnRtEvent_> owned(event);
    LPATTN_RT_TRY(requireInit());
    return call<PFN_cuEventDestroy>("cuEventDestroy_v2",
                                    LPATTN_RT_ERROR_DRIVER, owned->event);
  });
}

} // extern "C"
