//===- DriverTest.cpp - the C API with no, a stub and a fake CUDA driver ---===//
//
// No GPU is needed: LPATTN_CUDA_DRIVER points the runtime at a missing file,
// a library without the driver's symbols (libm), the toolkit's stub libcuda
// (cuInit fails) and the tests' fake driver (FakeCudaDriver.h), which
// records what the runtime passes to cuTensorMapEncodeTiled and
// cuLaunchKernelEx.
//
//===----------------------------------------------------------------------===//

#include "FakeCudaDriver.h"
#include "RuntimeTestUtil.h"
#include "lpattn-rt/Runtime.h"

#include "gtest/gtest.h"

#include <cstring>
#include <dlfcn.h>
#include <set>
#include <thread>

using namespace lpattn::rt::test;

namespace {
#define EXPECT_CONTAINS(text, part)                                            \
  EXPECT_NE(std::string(text).find(part), std::string::npos)                   \
      << "'" << (text) << "' lacks '" << (part) << "'"

class RuntimeDriver : public ::testing::Test {
protected:
  void TearDown() override {
    lpattnRtShutdown();
    unsetenv("LPATTN_CUDA_DRIVER");
    unsetenv("LPATTN_FAKE_CUDA_CC");
    unsetenv("LPATTN_FAKE_CUDA_SMEM");
  }
  lpattnRtStatus initWith(const char *driver) {
    setenv("LPATTN_CUDA_DRIVER", driver, 1);
    return lpattnRtInit();
  }
  /// Opens the fake driver and returns its recorder.
  FakeCudaState *initFake() {
    EXPECT_EQ(initWith(LPATTN_RT_FAKE_DRIVER), LPATTN_RT_SUCCESS)
        << lpattnRtGetLastError();
    // The runtime holds the library open, so this returns the same copy.
    void *h = dlopen(LPATTN_RT_FAKE_DRIVER, RTLD_NOW | RTLD_NOLOAD);
    EXPECT_NE(h, nullptr);
    auto get = reinterpret_cast<FakeCudaState *(*)()>(
        h ? dlsym(h, "lpattnFakeCudaState") : nullptr);
    EXPECT_NE(get, nullptr);
    if (h)
      dlclose(h);
    static FakeCudaState none;
    if (!get)
      return &none;
    *get() = FakeCudaState();
    return get();
  }
};

TEST_F(RuntimeDriver, NoDriverAtThePath) {
  EXPECT_EQ(initWith("/nonexistent/libcuda.so.1"), LPATTN_RT_ERROR_NO_DRIVER);
  EXPECT_EQ(std::string(lpattnRtGetLastError()),
            "no CUDA driver: dlopen(/nonexistent/libcuda.so.1) failed: "
            "/nonexistent/libcuda.so.1: cannot open shared object file: No "
            "such file or directory");
  // Nothing is open afterwards: every later call says so.
  int count = -1;
  EXPECT_EQ(lpattnRtDeviceCount(&count), LPATTN_RT_ERROR_NOT_INITIALIZED);
  EXPECT_EQ(count, -1);
  EXPECT_STREQ(lpattnRtDriverPath(), "");
}

TEST_F(RuntimeDriver, LibraryWithoutTheDriverSymbols) {
  EXPECT_EQ(initWith("libm.so.6"), LPATTN_RT_ERROR_NO_DRIVER);
  EXPECT_CONTAINS(lpattnRtGetLastError(),
                  "no CUDA driver: symbol cuInit not found in libm.so.6: ");
  EXPECT_CONTAINS(lpattnRtGetLastError(), "undefined symbol: cuInit");
}

TEST_F(RuntimeDriver, StubDriverFailsCuInit) {
  const char *stub = "/usr/local/cuda/lib64/stubs/libcuda.so";
  if (access(stub, R_OK) != 0)
    GTEST_SKIP() << "no CUDA toolkit stub at " << stub;
  EXPECT_EQ(initWith(stub), LPATTN_RT_ERROR_NO_DRIVER);
  EXPECT_CONTAINS(lpattnRtGetLastError(),
                  std::string("no CUDA driver: ") + stub +
                      " is the toolkit's stub library; cuInit failed: "
                      "CUDA_ERROR_STUB_LIBRARY (34)");
}

TEST_F(RuntimeDriver, InitRetriesWithTheCurrentEnvironment) {
  EXPECT_EQ(initWith("/nonexistent/a.so"), LPATTN_RT_ERROR_NO_DRIVER);
  EXPECT_CONTAINS(lpattnRtGetLastError(), "dlopen(/nonexistent/a.so)");
  EXPECT_EQ(initWith("libm.so.6"), LPATTN_RT_ERROR_NO_DRIVER);
  EXPECT_CONTAINS(lpattnRtGetLastError(), "symbol cuInit not found");
}

TEST_F(RuntimeDriver, CallsBeforeInitAndNullArguments) {
  int count, major, minor;
  lpattnRtDevicePtr p;
  EXPECT_EQ(lpattnRtDeviceCount(&count), LPATTN_RT_ERROR_NOT_INITIALIZED);
  EXPECT_EQ(std::string(lpattnRtGetLastError()),
            "the runtime is not initialized: call lpattnRtInit first");
  EXPECT_EQ(lpattnRtDeviceArch(0, &major, &minor),
            LPATTN_RT_ERROR_NOT_INITIALIZED);
  EXPECT_EQ(lpattnRtMalloc(&p, 16), LPATTN_RT_ERROR_NOT_INITIALIZED);
  EXPECT_EQ(lpattnRtSynchronize(), LPATTN_RT_ERROR_NOT_INITIALIZED);
  EXPECT_EQ(lpattnRtDeviceCount(nullptr), LPATTN_RT_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(lpattnRtMalloc(nullptr, 16), LPATTN_RT_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(lpattnRtLaunch(nullptr, nullptr, 0, nullptr),
            LPATTN_RT_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(lpattnRtEventDestroy(nullptr), LPATTN_RT_ERROR_INVALID_ARGUMENT);
  lpattnRtArtifact a = reinterpret_cast<lpattnRtArtifact>(1);
  EXPECT_EQ(lpattnRtLoadArtifact(nullptr, &a), LPATTN_RT_ERROR_INVALID_ARGUMENT);
}

TEST_F(RuntimeDriver, ArtifactChecksComeBeforeTheDriver) {
  // Without a driver a valid artifact stops at "not initialized", a corrupt
  // one at its own error.
  ScratchDir dir;
  lpattnRtArtifact a = nullptr;
  std::string good = dir.artifact(exampleDescriptor());
  EXPECT_EQ(lpattnRtLoadArtifact(good.c_str(), &a),
            LPATTN_RT_ERROR_NOT_INITIALIZED);
  EXPECT_EQ(a, nullptr);
  std::string corrupt = dir.artifact(exampleDescriptor(), std::vector<char>());
  EXPECT_EQ(lpattnRtLoadArtifact(corrupt.c_str(), &a),
            LPATTN_RT_ERROR_INVALID_CUBIN);
  EXPECT_CONTAINS(lpattnRtGetLastError(), "attention_fp8.cubin is empty");
}

TEST_F(RuntimeDriver, StatusNamesAreDistinct) {
  std::set<std::string> names;
  for (int s = LPATTN_RT_SUCCESS; s <= LPATTN_RT_ERROR_INTERNAL; ++s)
    names.insert(lpattnRtStatusName(static_cast<lpattnRtStatus>(s)));
  EXPECT_EQ(names.size(), 12u);
  EXPECT_EQ(names.count("<unknown lpattnRtStatus>"), 0u);
  EXPECT_STREQ(lpattnRtStatusName(LPATTN_RT_ERROR_NO_DRIVER),
               "LPATTN_RT_ERROR_NO_DRIVER");
}

TEST_F(RuntimeDriver, LastErrorIsPerThread) {
  int count;
  EXPECT_EQ(lpattnRtDeviceCount(&count), LPATTN_RT_ERROR_NOT_INITIALIZED);
  std::string other = "unset";
  std::thread([&] { other = lpattnRtGetLastError(); }).join();
  EXPECT_EQ(other, "");
  EXPECT_STRNE(lpattnRtGetLastError(), "");
}

//===----------------------------------------------------------------------===//
// With the fake driver
//===----------------------------------------------------------------------===//

TEST_F(RuntimeDriver, FakeDriverDevices) {
  initFake();
  int version = 0, count = 0, major = 0, minor = 0, smem = 0;
  EXPECT_EQ(lpattnRtDriverVersion(&version), LPATTN_RT_SUCCESS);
  EXPECT_EQ(version, 13000);
  EXPECT_STREQ(lpattnRtDriverPath(), LPATTN_RT_FAKE_DRIVER);
  EXPECT_EQ(lpattnRtDeviceCount(&count), LPATTN_RT_SUCCESS);
  EXPECT_EQ(count, 1);
  EXPECT_EQ(lpattnRtDeviceArch(0, &major, &minor), LPATTN_RT_SUCCESS);
  EXPECT_EQ(major * 10 + minor, 90);
  EXPECT_EQ(lpattnRtDeviceMaxSharedMemory(0, &smem), LPATTN_RT_SUCCESS);
  EXPECT_EQ(smem, 232448);
  char name[8];
  EXPECT_EQ(lpattnRtDeviceName(0, name, sizeof(name)), LPATTN_RT_SUCCESS);
  EXPECT_STREQ(name, "lpattn "); // truncated to the buffer, NUL-terminated
  EXPECT_EQ(lpattnRtDeviceArch(3, &major, &minor), LPATTN_RT_ERROR_NO_DEVICE);
  EXPECT_EQ(std::string(lpattnRtGetLastError()),
            "no CUDA device 3 (1 device found)");
  EXPECT_EQ(lpattnRtSetDevice(-1), LPATTN_RT_ERROR_NO_DEVICE);
}

TEST_F(RuntimeDriver, FakeDriverMemoryAndEvents) {
  FakeCudaState *s = initFake();
  lpattnRtDevicePtr p = 0;
  ASSERT_EQ(lpattnRtMalloc(&p, 64), LPATTN_RT_SUCCESS) << lpattnRtGetLastError();
  EXPECT_EQ(s->liveAllocations, 1);
  char in[64], out[64] = {};
  for (int i = 0; i < 64; ++i)
    in[i] = static_cast<char>(i * 3);
  EXPECT_EQ(lpattnRtCopyHtoD(p, in, 64), LPATTN_RT_SUCCESS);
  EXPECT_EQ(lpattnRtCopyDtoH(out, p, 64), LPATTN_RT_SUCCESS);
  EXPECT_EQ(std::memcmp(in, out, 64), 0);
  EXPECT_EQ(lpattnRtFree(p), LPATTN_RT_SUCCESS);
  EXPECT_EQ(s->liveAllocations, 0);
  lpattnRtEvent start, end;
  ASSERT_EQ(lpattnRtEventCreate(&start), LPATTN_RT_SUCCESS);
  ASSERT_EQ(lpattnRtEventCreate(&end), LPATTN_RT_SUCCESS);
  EXPECT_EQ(lpattnRtEventRecord(start, nullptr), LPATTN_RT_SUCCESS);
  EXPECT_EQ(lpattnRtEventRecord(end, nullptr), LPATTN_RT_SUCCESS);
  EXPECT_EQ(lpattnRtEventSynchronize(end), LPATTN_RT_SUCCESS);
  float ms = 0;
  EXPECT_EQ(lpattnRtEventElapsedMs(start, end, &ms), LPATTN_RT_SUCCESS);
  EXPECT_EQ(ms, 1.5f);
  EXPECT_EQ(lpattnRtEventDestroy(start), LPATTN_RT_SUCCESS);
  EXPECT_EQ(lpattnRtEventDestroy(end), LPATTN_RT_SUCCESS);
}

TEST_F(RuntimeDriver, FakeDriverLoadAndLaunch) {
  FakeCudaState *s = initFake();
  ScratchDir dir;
  std::string path = dir.artifact(exampleDescriptor());
  lpattnRtArtifact a = nullptr;
  ASSERT_EQ(lpattnRtLoadArtifact(path.c_str(), &a), LPATTN_RT_SUCCESS)
      << lpattnRtGetLastError();
  EXPECT_STREQ(lpattnRtArtifactKernelName(a), "lpattn_attention_fp8");
  EXPECT_EQ(lpattnRtArtifactNumParams(a), 7u);
  // Above 48 KiB the kernel opts in to its dynamic shared memory.
  EXPECT_EQ(s->maxDynamicSharedSet, 98304);

  lpattnRtDevicePtr q, k, v, o;
  ASSERT_EQ(lpattnRtMalloc(&q, 65536), LPATTN_RT_SUCCESS);
  ASSERT_EQ(lpattnRtMalloc(&k, 16384), LPATTN_RT_SUCCESS);
  ASSERT_EQ(lpattnRtMalloc(&v, 16384), LPATTN_RT_SUCCESS);
  ASSERT_EQ(lpattnRtMalloc(&o, 131072), LPATTN_RT_SUCCESS);
  lpattnRtArg args[] = {{"q", q, 0},     {"k", k, 0},     {"v", v, 0},
                        {"q_ds", 0, 0.5f}, {"k_ds", 0, 2.0f}, {"v_ds", 0, 4.0f},
                        {"o", o, 0}};
  s->paramsToRecord = 7;
  ASSERT_EQ(lpattnRtLaunch(a, args, 7, nullptr), LPATTN_RT_SUCCESS)
      << lpattnRtGetLastError();
  EXPECT_EQ(s->launches, 1);
  EXPECT_EQ(s->grid[0], 1u);
  EXPECT_EQ(s->grid[1], 8u);
  EXPECT_EQ(s->block[0], 384u);
  EXPECT_EQ(s->sharedMemBytes, 98304u);
  EXPECT_EQ(s->numAttrs, 0u); // cluster 1x1x1: no attribute

  // Three tensor maps, FP8 as UINT8, innermost dim first, byte strides.
  ASSERT_EQ(s->tensorMapCalls, 3);
  const FakeTensorMapCall &mq = s->tensorMaps[0];
  EXPECT_EQ(mq.dataType, 0);
  EXPECT_EQ(mq.rank, 4u);
  EXPECT_EQ(std::vector<uint64_t>(mq.dims, mq.dims + 4),
            (std::vector<uint64_t>{64, 128, 8, 1}));
  EXPECT_EQ(std::vector<uint64_t>(mq.strides, mq.strides + 3),
            (std::vector<uint64_t>{64, 8192, 65536}));
  EXPECT_EQ(std::vector<uint32_t>(mq.box, mq.box + 4),
            (std::vector<uint32_t>{64, 128, 1, 1}));
  EXPECT_EQ(std::vector<uint32_t>(mq.elementStrides, mq.elementStrides + 4),
            (std::vector<uint32_t>{1, 1, 1, 1}));
  EXPECT_EQ(mq.swizzle, 2);     // 64B
  EXPECT_EQ(mq.l2Promotion, 2); // 128B
  EXPECT_EQ(mq.interleave, 0);
  EXPECT_EQ(s->tensorMaps[1].box[1], 64u);

  // Kernel parameters: maps 1..3 (their first int), the scalars, o.
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(static_cast<int>(s->paramBytes[i] & 0xffffffff), i + 1);
  float ds[3];
  for (int i = 0; i < 3; ++i)
    std::memcpy(&ds[i], &s->paramBytes[3 + i], sizeof(float));
  EXPECT_EQ(ds[0], 0.5f);
  EXPECT_EQ(ds[1], 2.0f);
  EXPECT_EQ(ds[2], 4.0f);
  EXPECT_EQ(s->paramBytes[6], o);

  // Mismatching arguments: count, role, null pointer.
  EXPECT_EQ(lpattnRtLaunch(a, args, 6, nullptr),
            LPATTN_RT_ERROR_ARGUMENT_MISMATCH);
  EXPECT_EQ(std::string(lpattnRtGetLastError()),
            "kernel lpattn_attention_fp8 takes 7 arguments, got 6");
  std::swap(args[0], args[1]);
  EXPECT_EQ(lpattnRtLaunch(a, args, 7, nullptr),
            LPATTN_RT_ERROR_ARGUMENT_MISMATCH);
  EXPECT_EQ(std::string(lpattnRtGetLastError()),
            "argument 0 is \"k\", but kernel lpattn_attention_fp8 takes \"q\" "
            "there");
  std::swap(args[0], args[1]);
  args[6].ptr = 0;
  EXPECT_EQ(lpattnRtLaunch(a, args, 7, nullptr),
            LPATTN_RT_ERROR_ARGUMENT_MISMATCH);
  EXPECT_CONTAINS(lpattnRtGetLastError(), "\"o\" has a null device pointer");
  args[6].ptr = o;
  args[0].ptr = q + 8; // TMA needs 16-byte aligned bases
  EXPECT_EQ(lpattnRtLaunch(a, args, 7, nullptr),
            LPATTN_RT_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(lpattnRtGetLastError()),
            "tensor map of \"q\": tensor map base address is not 16-byte "
            "aligned");
  EXPECT_EQ(s->launches, 1);

  for (lpattnRtDevicePtr p : {q, k, v, o})
    EXPECT_EQ(lpattnRtFree(p), LPATTN_RT_SUCCESS);
  EXPECT_EQ(lpattnRtUnloadArtifact(a), LPATTN_RT_SUCCESS);
}

TEST_F(RuntimeDriver, FakeDriverLoadsFromMemoryAndLaunchesAnAttention) {
  // lpattnRtLoadArtifactData: the same checks as from files, no file read
  // (the descriptor's cubin member names nothing that exists).
  FakeCudaState *s = initFake();
  std::string json = exampleDescriptor();
  std::vector<char> cubin = fakeCubin();
  lpattnRtArtifact a = nullptr;
  ASSERT_EQ(lpattnRtLoadArtifactData(json.data(), json.size(), cubin.data(),
                                     cubin.size(), &a),
            LPATTN_RT_SUCCESS)
      << lpattnRtGetLastError();
  EXPECT_STREQ(lpattnRtArtifactKernelName(a), "lpattn_attention_fp8");

  lpattnRtDevicePtr q, k, v, o;
  ASSERT_EQ(lpattnRtMalloc(&q, 65536), LPATTN_RT_SUCCESS);
  ASSERT_EQ(lpattnRtMalloc(&k, 16384), LPATTN_RT_SUCCESS);
  ASSERT_EQ(lpattnRtMalloc(&v, 16384), LPATTN_RT_SUCCESS);
  ASSERT_EQ(lpattnRtMalloc(&o, 131072), LPATTN_RT_SUCCESS);
  const float ds[3] = {0.5f, 2.0f, 4.0f};
  lpattnRtAttentionArgs args{};
  args.q = q;
  args.k = k;
  args.v = v;
  args.o = o;
  args.descales = ds;
  s->paramsToRecord = 7;
  auto *stream = reinterpret_cast<lpattnRtStream>(0x1234);
  ASSERT_EQ(lpattnRtLaunchAttention(a, &args, stream), LPATTN_RT_SUCCESS)
      << lpattnRtGetLastError();
  EXPECT_EQ(s->launches, 1);
  EXPECT_EQ(s->stream, reinterpret_cast<void *>(0x1234));
  // The descriptor's order: three tensor maps (of q, k, v: their bases), the
  // descale scalars, then o.
  ASSERT_EQ(s->tensorMapCalls, 3);
  float got[3];
  for (int i = 0; i < 3; ++i)
    std::memcpy(&got[i], &s->paramBytes[3 + i], sizeof(float));
  EXPECT_EQ(got[0], 0.5f);
  EXPECT_EQ(got[1], 2.0f);
  EXPECT_EQ(got[2], 4.0f);
  EXPECT_EQ(s->paramBytes[6], o);
  // No descales given: all ones.
  args.descales = nullptr;
  ASSERT_EQ(lpattnRtLaunchAttention(a, &args, nullptr), LPATTN_RT_SUCCESS);
  std::memcpy(&got[0], &s->paramBytes[3], sizeof(float));
  EXPECT_EQ(got[0], 1.0f);

  // Bad arguments, each one message and no launch.
  args.mask = q;
  EXPECT_EQ(lpattnRtLaunchAttention(a, &args, nullptr),
            LPATTN_RT_ERROR_ARGUMENT_MISMATCH);
  EXPECT_EQ(std::string(lpattnRtGetLastError()),
            "kernel lpattn_attention_fp8 takes no mask, but mask is set");
  args.mask = 0;
  args.o = 0;
  EXPECT_EQ(lpattnRtLaunchAttention(a, &args, nullptr),
            LPATTN_RT_ERROR_ARGUMENT_MISMATCH);
  EXPECT_CONTAINS(lpattnRtGetLastError(), "\"o\" has a null device pointer");
  EXPECT_EQ(lpattnRtLaunchAttention(a, nullptr, nullptr),
            LPATTN_RT_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(s->launches, 2);

  for (lpattnRtDevicePtr p : {q, k, v, o})
    EXPECT_EQ(lpattnRtFree(p), LPATTN_RT_SUCCESS);
  EXPECT_EQ(lpattnRtUnloadArtifact(a), LPATTN_RT_SUCCESS);

  // The in-memory cubin gets the file checks' messages.
  std::vector<char> notElf(100, 'x');
  EXPECT_EQ(lpattnRtLoadArtifactData(json.data(), json.size(), notElf.data(),
                                     notElf.size(), &a),
            LPATTN_RT_ERROR_INVALID_CUBIN);
  EXPECT_CONTAINS(lpattnRtGetLastError(), "the in-memory cubin is not an ELF");
  EXPECT_EQ(a, nullptr);
  std::string broken = json.substr(0, 40);
  EXPECT_EQ(lpattnRtLoadArtifactData(broken.data(), broken.size(),
                                     cubin.data(), cubin.size(), &a),
            LPATTN_RT_ERROR_INVALID_DESCRIPTOR);
  EXPECT_CONTAINS(lpattnRtGetLastError(), "descriptor: malformed JSON");
}

TEST_F(RuntimeDriver, FakeDriverLaunchesPerHeadDescalesByPointer) {
  // Per-(batch, KV head) descales are pointers; all three are required.
  FakeCudaState *s = initFake();
  std::string json = exampleDescriptor();
  for (const char *role : {"q_ds", "k_ds", "v_ds"})
    json = edit(json, std::string("{\"role\": \"") + role +
                          "\", \"kind\": \"f32\"}",
                std::string("{\"role\": \"") + role +
                    "\", \"kind\": \"pointer\", \"dtype\": \"f32\", "
                    "\"shape\": [1, 2], \"strides\": [2, 1]}");
  std::vector<char> cubin = fakeCubin();
  lpattnRtArtifact a = nullptr;
  ASSERT_EQ(lpattnRtLoadArtifactData(json.data(), json.size(), cubin.data(),
                                     cubin.size(), &a),
            LPATTN_RT_SUCCESS)
      << lpattnRtGetLastError() << "\n" << json;
  lpattnRtDevicePtr buf;
  ASSERT_EQ(lpattnRtMalloc(&buf, 131072), LPATTN_RT_SUCCESS);
  lpattnRtAttentionArgs args{};
  args.q = args.k = args.v = args.o = buf;
  args.descalePtrs[0] = buf + 256;
  args.descalePtrs[1] = buf + 512;
  EXPECT_EQ(lpattnRtLaunchAttention(a, &args, nullptr),
            LPATTN_RT_ERROR_ARGUMENT_MISMATCH);
  EXPECT_CONTAINS(lpattnRtGetLastError(),
                  "\"v_ds\" has a null device pointer");
  args.descalePtrs[2] = buf + 768;
  s->paramsToRecord = 7;
  ASSERT_EQ(lpattnRtLaunchAttention(a, &args, nullptr), LPATTN_RT_SUCCESS)
      << lpattnRtGetLastError();
  EXPECT_EQ(s->paramBytes[3], buf + 256);
  EXPECT_EQ(s->paramBytes[4], buf + 512);
  EXPECT_EQ(s->paramBytes[5], buf + 768);
  EXPECT_EQ(lpattnRtFree(buf), LPATTN_RT_SUCCESS);
  EXPECT_EQ(lpattnRtUnloadArtifact(a), LPATTN_RT_SUCCESS);
}

TEST_F(RuntimeDriver, FakeDriverClusterLaunch) {
  FakeCudaState *s = initFake();
  ScratchDir dir;
  std::string path = dir.artifact(
      edit(exampleDescriptor(), "\"cluster\": [1, 1, 1]", "\"cluster\": [1, 2, 1]"));
  lpattnRtArtifact a = nullptr;
  ASSERT_EQ(lpattnRtLoadArtifact(path.c_str(), &a), LPATTN_RT_SUCCESS)
      << lpattnRtGetLastError();
  lpattnRtDevicePtr buf;
  ASSERT_EQ(lpattnRtMalloc(&buf, 131072), LPATTN_RT_SUCCESS);
  lpattnRtArg args[] = {{"q", buf, 0},  {"k", buf, 0},  {"v", buf, 0},
                        {"q_ds", 0, 1}, {"k_ds", 0, 1}, {"v_ds", 0, 1},
                        {"o", buf, 0}};
  ASSERT_EQ(lpattnRtLaunch(a, args, 7, nullptr), LPATTN_RT_SUCCESS)
      << lpattnRtGetLastError();
  EXPECT_EQ(s->numAttrs, 1u);
  EXPECT_EQ(s->attrId, 4); // CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION
  EXPECT_EQ(s->clusterDim[0], 1u);
  EXPECT_EQ(s->clusterDim[1], 2u);
  EXPECT_EQ(s->clusterDim[2], 1u);
  EXPECT_EQ(lpattnRtFree(buf), LPATTN_RT_SUCCESS);
  EXPECT_EQ(lpattnRtUnloadArtifact(a), LPATTN_RT_SUCCESS);
}

TEST_F(RuntimeDriver, FakeDriverLaunchesADebugPDumpArtifact) {
  // A debug artifact (signature.debug_p): the P dump pointers follow o and
  // are passed like any pointer parameter.
  FakeCudaState *s = initFake();
  ScratchDir dir;
  std::string text = edit(
      edit(exampleDescriptor(), "\"stats\": false}",
           "\"stats\": false, \"debug_p\": true}"),
      "\"strides\": [65536, 8192, 64, 1]}\n  ]",
      "\"strides\": [65536, 8192, 64, 1]},\n"
      "    {\"role\": \"p_scaled\", \"kind\": \"pointer\", \"dtype\": \"f32\", "
      "\"shape\": [64, 64], \"strides\": [64, 1]},\n"
      "    {\"role\": \"p_codes\", \"kind\": \"pointer\", \"dtype\": "
      "\"f8E4M3FN\", \"shape\": [64, 64], \"strides\": [64, 1]}\n  ]");
  std::string path = dir.artifact(text);
  lpattnRtArtifact a = nullptr;
  ASSERT_EQ(lpattnRtLoadArtifact(path.c_str(), &a), LPATTN_RT_SUCCESS)
      << lpattnRtGetLastError();
  EXPECT_EQ(lpattnRtArtifactNumParams(a), 9u);
  lpattnRtDevicePtr buf, scaled, codes;
  ASSERT_EQ(lpattnRtMalloc(&buf, 131072), LPATTN_RT_SUCCESS);
  ASSERT_EQ(lpattnRtMalloc(&scaled, 64 * 64 * 4), LPATTN_RT_SUCCESS);
  ASSERT_EQ(lpattnRtMalloc(&codes, 64 * 64), LPATTN_RT_SUCCESS);
  lpattnRtArg args[] = {{"q", buf, 0},         {"k", buf, 0},
                        {"v", buf, 0},         {"q_ds", 0, 1},
                        {"k_ds", 0, 1},        {"v_ds", 0, 1},
                        {"o", buf, 0},         {"p_scaled", scaled, 0},
                        {"p_codes", codes, 0}};
  s->paramsToRecord = 9;
  ASSERT_EQ(lpattnRtLaunch(a, args, 9, nullptr), LPATTN_RT_SUCCESS)
      << lpattnRtGetLastError();
  EXPECT_EQ(s->paramBytes[6], buf);
  EXPECT_EQ(s->paramBytes[7], scaled);
  EXPECT_EQ(s->paramBytes[8], codes);
  // Without the dump arguments the launch is refused.
  EXPECT_EQ(lpattnRtLaunch(a, args, 7, nullptr),
            LPATTN_RT_ERROR_ARGUMENT_MISMATCH);
  EXPECT_EQ(std::string(lpattnRtGetLastError()),
            "kernel lpattn_attention_fp8 takes 9 arguments, got 7");
  args[8].ptr = 0;
  EXPECT_EQ(lpattnRtLaunch(a, args, 9, nullptr),
            LPATTN_RT_ERROR_ARGUMENT_MISMATCH);
  EXPECT_CONTAINS(lpattnRtGetLastError(),
                  "\"p_codes\" has a null device pointer");
  for (lpattnRtDevicePtr p : {buf, scaled, codes})
    EXPECT_EQ(lpattnRtFree(p), LPATTN_RT_SUCCESS);
  EXPECT_EQ(lpattnRtUnloadArtifact(a), LPATTN_RT_SUCCESS);
}

TEST_F(RuntimeDriver, FakeDriverWrongArchitecture) {
  setenv("LPATTN_FAKE_CUDA_CC", "89", 1);
  initFake();
  ScratchDir dir;
  std::string path = dir.artifact(exampleDescriptor());
  lpattnRtArtifact a = nullptr;
  EXPECT_EQ(lpattnRtLoadArtifact(path.c_str(), &a),
            LPATTN_RT_ERROR_UNSUPPORTED_ARCH);
  EXPECT_EQ(a, nullptr);
  EXPECT_EQ(std::string(lpattnRtGetLastError()),
            "kernel lpattn_attention_fp8 was compiled for sm_90a, which does "
            "not run on a device of compute capability 8.9 (arch-specific 'a' "
            "code runs only on 9.0)");
}

TEST_F(RuntimeDriver, FakeDriverTooLittleSharedMemory) {
  setenv("LPATTN_FAKE_CUDA_SMEM", "65536", 1);
  initFake();
  ScratchDir dir;
  std::string path = dir.artifact(exampleDescriptor());
  lpattnRtArtifact a = nullptr;
  EXPECT_EQ(lpattnRtLoadArtifact(path.c_str(), &a),
            LPATTN_RT_ERROR_SHARED_MEMORY);
  EXPECT_EQ(std::string(lpattnRtGetLastError()),
            "kernel lpattn_attention_fp8 needs 98304 bytes of dynamic shared "
            "memory, more than the device's opt-in maximum of 65536 bytes per "
            "block");
}

TEST_F(RuntimeDriver, FakeDriverRefusesTheImageOrKernel) {
  initFake();
  ScratchDir dir;
  lpattnRtArtifact a = nullptr;
  // ELF for CUDA but not an executable (ET_REL): the driver's refusal.
  std::string rel = dir.artifact(exampleDescriptor(), fakeCubin(190, 1));
  EXPECT_EQ(lpattnRtLoadArtifact(rel.c_str(), &a),
            LPATTN_RT_ERROR_INVALID_CUBIN);
  EXPECT_CONTAINS(lpattnRtGetLastError(),
                  "attention_fp8.cubin: cuModuleLoadData failed: "
                  "CUDA_ERROR_INVALID_IMAGE (200)");
  // A descriptor naming a kernel the cubin lacks.
  std::string other = dir.artifact(edit(exampleDescriptor(),
                                        "\"kernel\": \"lpattn_attention_fp8\"",
                                        "\"kernel\": \"other_kernel\""));
  EXPECT_EQ(lpattnRtLoadArtifact(other.c_str(), &a),
            LPATTN_RT_ERROR_INVALID_DESCRIPTOR);
  EXPECT_CONTAINS(lpattnRtGetLastError(),
                  "has no kernel \"other_kernel\" (descriptor and cubin "
                  "mismatch): cuModuleGetFunction failed: CUDA_ERROR_NOT_FOUND");
  EXPECT_EQ(a, nullptr);
}

TEST_F(RuntimeDriver, FakeDriverEncodeTensorMap) {
  FakeCudaState *s = initFake();
  lpattnRtTensorMap map;
  uint64_t dims[] = {4, 256, 128}, strides[] = {32768, 128, 1};
  uint32_t box[] = {1, 64, 128};
  EXPECT_EQ(lpattnRtEncodeTensorMap(&map, LPATTN_RT_TENSOR_MAP_UINT8, 3, 4096,
                                    dims, strides, box, 128),
            LPATTN_RT_SUCCESS)
      << lpattnRtGetLastError();
  ASSERT_EQ(s->tensorMapCalls, 1);
  EXPECT_EQ(s->tensorMaps[0].dataType, 0);
  EXPECT_EQ(s->tensorMaps[0].swizzle, 3);
  EXPECT_EQ(s->tensorMaps[0].dims[0], 128u);
  EXPECT_EQ(s->tensorMaps[0].strides[1], 32768u);
  EXPECT_EQ(lpattnRtEncodeTensorMap(&map, LPATTN_RT_TENSOR_MAP_UINT8, 3, 4096,
                                    dims, strides, box, 16),
            LPATTN_RT_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(lpattnRtGetLastError()),
            "swizzle must be 0, 32, 64 or 128 bytes, got 16");
  EXPECT_EQ(lpattnRtEncodeTensorMap(&map, LPATTN_RT_TENSOR_MAP_UINT8, 6, 4096,
                                    dims, strides, box, 0),
            LPATTN_RT_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(s->tensorMapCalls, 1);
}
} // namespace
