//===- lpattn-rt-info.cpp - what the lpattn runtime sees on this machine ---===//
//
// Prints the CUDA driver, its version and every device's name, compute
// capability and opt-in shared memory; with descriptor paths, checks each
// artifact (driver-free checks only, so it works on a machine without a
// GPU). Exits 1 with the runtime's message when anything fails, e.g.
//   lpattn-rt-info: no CUDA driver: dlopen(libcuda.so.1) failed: ...
//
//===----------------------------------------------------------------------===//

#include "lpattn-rt/Runtime.h"

#include <cstdio>
#include <cstring>

namespace {
int failWith(lpattnRtStatus status) {
  std::fprintf(stderr, "lpattn-rt-info: %s [%s]\n", lpattnRtGetLastError(),
               lpattnRtStatusName(status));
  return 1;
}
} // namespace

int main(int argc, char **argv) {
  if (argc > 1) {
    if (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
      std::printf("usage: lpattn-rt-info              driver and devices\n"
                  "       lpattn-rt-info NAME.json... check artifacts "
                  "(no driver needed)\n");
      return 0;
    }
    int rc = 0;
    for (int i = 1; i < argc; ++i) {
      lpattnRtStatus s = lpattnRtCheckArtifact(argv[i]);
      if (s != LPATTN_RT_SUCCESS)
        rc = failWith(s);
      else
        std::printf("%s: ok\n", argv[i]);
    }
    return rc;
  }

  lpattnRtStatus s = lpattnRtInit();
  if (s != LPATTN_RT_SUCCESS)
    return failWith(s);
  int version = 0, count = 0;
  if ((s = lpattnRtDriverVersion(&version)) != LPATTN_RT_SUCCESS)
    return failWith(s);
  std::printf("driver: %s (CUDA %d.%d)\n", lpattnRtDriverPath(),
              version / 1000, (version % 1000) / 10);
  if ((s = lpattnRtDeviceCount(&count)) != LPATTN_RT_SUCCESS)
    return failWith(s);
  std::printf("devices: %d\n", count);
  for (int d = 0; d < count; ++d) {
    char name[256];
    int major = 0, minor = 0, smem = 0;
    if ((s = lpattnRtDeviceName(d, name, sizeof(name))) != LPATTN_RT_SUCCESS ||
        (s = lpattnRtDeviceArch(d, &major, &minor)) != LPATTN_RT_SUCCESS ||
        (s = lpattnRtDeviceMaxSharedMemory(d, &smem)) != LPATTN_RT_SUCCESS)
      return failWith(s);
    std::printf("  %d: %s, sm_%d%d, %d bytes opt-in shared memory per block\n",
                d, name, major, minor, smem);
  }
  return count > 0 ? 0 : 1;
}
