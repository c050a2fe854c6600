//===- FakeCudaDriver.h - what the tests' fake libcuda records -*- C++ -*-===//
//
// The runtime's unit tests point LPATTN_CUDA_DRIVER at a fake driver
// (FakeCudaDriver.cpp): a shared library with the CUDA driver entry points
// the runtime calls, backed by host memory, that records the arguments of
// cuTensorMapEncodeTiled and cuLaunchKernelEx. It checks the runtime's side
// of the calling convention on a machine without a GPU; it says nothing
// about what a real driver accepts.
//
// Its device is compute capability $LPATTN_FAKE_CUDA_CC (default 90) with
// $LPATTN_FAKE_CUDA_SMEM bytes of opt-in shared memory (default 232448, an
// H100's), and its kernels are "lpattn_attention_fp8" and
// $LPATTN_FAKE_CUDA_KERNEL (a real artifact's, for the tests of the C API
// and the Python package on compiled kernels). A launch runs
// nothing; with $LPATTN_FAKE_CUDA_OUTPUT = INDEX:FILE[,INDEX:FILE...] it
// copies each FILE's bytes to the device pointer passed as parameter INDEX
// (the "outputs" for the tests of lpattn-gpu-run: O, a debug P dump).
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_UNITTESTS_RUNTIME_FAKECUDADRIVER_H
#define LPATTN_UNITTESTS_RUNTIME_FAKECUDADRIVER_H

#include <cstdint>

struct FakeTensorMapCall {
  int dataType;
  unsigned rank;
  uint64_t dims[5], strides[4];
  uint32_t box[5], elementStrides[5];
  int interleave, swizzle, l2Promotion, oobFill;
};

struct FakeCudaState {
  /// Calls of cuTensorMapEncodeTiled; the first 8 are in tensorMaps.
  int tensorMapCalls = 0;
  FakeTensorMapCall tensorMaps[8];
  int launches = 0;
  unsigned grid[3], block[3], sharedMemBytes, numAttrs;
  int attrId;
  unsigned clusterDim[3];
  /// The first 8 bytes each kernel parameter points to (for the first
  /// `paramsToRecord` parameters, set by the test).
  int paramsToRecord = 0;
  uint64_t paramBytes[16];
  int maxDynamicSharedSet = -1;
  int liveAllocations = 0;
  /// The stream of the last launch.
  void *stream = nullptr;
};

/// Exported by the fake driver (found with dlsym).
extern "C" FakeCudaState *lpattnFakeCudaState();

#endif // LPATTN_UNITTESTS_RUNTIME_FAKECUDADRIVER_H
