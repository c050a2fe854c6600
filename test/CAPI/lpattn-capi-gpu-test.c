/*===- lpattn-capi-gpu-test.c - the lpattn GPU C API, from plain C ---------===*
 *
 * Exercises include/lpattn-c/GPU.h through libLPAttnCAPI.so without a GPU:
 * compiles an FP8 GQA attention for sm_90a (ptxas), checks the cubin and the
 * launch descriptor against the problem, saves the files, checks the errors
 * (what the kernel cannot run, bad options), and runs the artifact on the
 * driver $LPATTN_CUDA_DRIVER names. Mode (second argument):
 *   no-driver  the run must fail with the runtime's "no CUDA driver" message;
 *   fake       the tests' fake driver (its "kernel" copies the file
 *              $LPATTN_FAKE_CUDA_OUTPUT names to O): the run must succeed and
 *              O hold that file's bytes, which this program wrote.
 * Any mismatch prints "FAILED" and exits non-zero.
 *
 *===----------------------------------------------------------------------===*/

// REQUIRES: lpattn-capi, ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: env LPATTN_CUDA_DRIVER=/nonexistent/libcuda.so.1 lpattn-capi-gpu-test %t/saved no-driver 2>&1 | FileCheck %s --check-prefixes=CHECK,NODRIVER
// RUN: env LPATTN_CUDA_DRIVER=%fake_cuda_driver LPATTN_FAKE_CUDA_KERNEL=attention_sm90 LPATTN_FAKE_CUDA_OUTPUT=6:%t/saved.o.bin lpattn-capi-gpu-test %t/saved fake 2>&1 | FileCheck %s --check-prefixes=CHECK,FAKE
// The saved files are an artifact the runtime accepts, and lpattn-compile's
// byte for byte (the program writes the attention it compiled to
// PREFIX.mlir).
// RUN: lpattn-rt-info %t/saved.json 2>&1 | FileCheck %s --check-prefix=INFO
// RUN: lpattn-compile %t/saved.mlir -o %t/ref/attn
// RUN: cmp %t/ref/attn.cubin %t/saved.cubin
// RUN: cmp %t/ref/attn.ptx %t/saved.ptx

// CHECK: cubin: {{[0-9]+}} bytes, ELF
// CHECK: descriptor: kernel attention_sm90, arch sm_90a, q [1, 4, 128, 64], k [1, 2, 128, 64], o [1, 4, 128, 64]
// CHECK: f16 policy: {{.*}}'lpattn.attention' op cannot run on sm_90a: qk, p and v must be f8E4M3FN or f8E5M2 (the wgmma FP8 forms), got qk = 'f16'
// CHECK: tile-q 32: {{.*}}cannot run on sm_90a: tile-q must be 64 (one warpgroup's wgmma M), got 32
// CHECK: stages 5: invalid GPU compile options: tile sizes must be >= 0 (0: the default) and stages 2 to 4, got tileQ = 64, tileKV = 64, stages = 5
// CHECK: parse: cannot parse the attention:
// NODRIVER: run: no CUDA driver: dlopen(/nonexistent/libcuda.so.1) failed
// FAKE: run: ok, O holds the kernel's bytes (65536), twice
// FAKE: mask: kernel attention_sm90 takes no mask, but mask is set
// FAKE: device: lpattnGPUArtifactRun: device -1 is not a device ordinal
// CHECK: OK
// INFO: saved.json: ok

#include "lpattn-c/GPU.h"
#include "lpattn-c/Runner.h"

#include "mlir-c/Support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define EXPECT(cond, ...)                                                      \
  do {                                                                         \
    if (!(cond)) {                                                             \
      printf("FAILED (line %d): ", __LINE__);                                  \
      printf(__VA_ARGS__);                                                     \
      printf("\n");                                                            \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

enum { B = 1, HQ = 4, HKV = 2, NQ = 128, NK = 128, D = 64 };

/* FP8 e4m3, GQA (4 query heads on 2 KV heads), per-tensor descales, the
 * P-Cast safeguards, bf16 out: what the sm_90a kernel runs. */
#define ATTENTION(QK)                                                   \
  "func.func @attention(%q: tensor<1x4x128x64x" QK ">,"                        \
  "    %k: tensor<1x2x128x64x" QK ">, %v: tensor<1x2x128x64xf8E4M3FN>,"        \
  "    %qd: f32, %kd: f32, %vd: f32) -> tensor<1x4x128x64xbf16> {\n"           \
  "  %o = lpattn.attention %q, %k, %v descale(%qd, %kd, %vd)\n"                \
  "    policy = <qk = " QK ", score = f32, p = f8E4M3FN, v = f8E4M3FN,"        \
  "              acc = f32, out = bf16, overflow = satfinite>\n"               \
  "    p_scale = 256.0 kv_order = reverse\n"                                    \
  "    : tensor<1x4x128x64x" QK ">, tensor<1x2x128x64x" QK ">,"                \
  "      tensor<1x2x128x64xf8E4M3FN> -> tensor<1x4x128x64xbf16>\n"             \
  "  return %o : tensor<1x4x128x64xbf16>\n"                                    \
  "}\n"

static MlirStringRef ref(const char *s) {
  return mlirStringRefCreateFromCString(s);
}

/* The dims of the `shape` member that follows role `role` in the
 * descriptor's params, as "[1, 4, 128, 64]" into `out`. */
static void descriptorShape(const char *json, const char *role, char *out,
                            size_t size) {
  char key[64];
  snprintf(key, sizeof key, "\"role\": \"%s\"", role);
  const char *at = strstr(json, key);
  const char *shape = at ? strstr(at, "\"shape\":") : NULL;
  const char *end = shape ? strchr(shape, ']') : NULL;
  size_t n = 0;
  out[0] = '\0';
  if (!end)
    return;
  for (const char *c = strchr(shape, '['); c && c <= end && n + 3 < size;
       ++c) {
    if (*c == ' ' || *c == '\n')
      continue;
    out[n++] = *c;
    if (*c == ',')
      out[n++] = ' ';
  }
  out[n] = '\0';
}

/* The string value of `"member": "..."` in the descriptor. */
static void descriptorString(const char *json, const char *member, char *out,
                             size_t size) {
  char key[64];
  snprintf(key, sizeof key, "\"%s\": \"", member);
  const char *at = strstr(json, key);
  out[0] = '\0';
  if (!at)
    return;
  at += strlen(key);
  size_t n = 0;
  while (at[n] && at[n] != '"' && n + 1 < size) {
    out[n] = at[n];
    ++n;
  }
  out[n] = '\0';
}

/* Compiles `text`, expecting failure; prints the last error's last line. */
static void expectCompileError(const char *label, const char *text,
                               const LPAttnGPUCompileOptions *options) {
  LPAttnGPUArtifact a = lpattnGPUArtifactCompile(ref(text), options);
  EXPECT(lpattnGPUArtifactIsNull(a), "%s: compiled", label);
  const char *error = lpattnGetLastError();
  EXPECT(error[0] != '\0', "%s: no error message", label);
  printf("%s: %s\n", label, error);
  lpattnGPUArtifactDestroy(a);
}

static unsigned char *deviceBuffer(size_t bytes) {
  /* The fake driver's device memory is the host's; TMA needs 16-byte
   * aligned bases. */
  size_t rounded = (bytes + 255) / 256 * 256;
  unsigned char *p = (unsigned char *)aligned_alloc(256, rounded);
  memset(p, 0, rounded);
  return p;
}

static uint64_t address(const void *p) { return (uint64_t)(uintptr_t)p; }

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: lpattn-capi-gpu-test PREFIX no-driver|fake\n");
    return 2;
  }
  const char *prefix = argv[1];
  int fake = strcmp(argv[2], "fake") == 0;

  /* Compile, then what can be checked without a GPU. */
  LPAttnGPUArtifact a =
      lpattnGPUArtifactCompile(ref(ATTENTION("f8E4M3FN")), NULL);
  if (lpattnGPUArtifactIsNull(a)) {
    printf("FAILED: compile: %s\n", lpattnGetLastError());
    return 1;
  }
  EXPECT(lpattnGetLastError()[0] == '\0', "error text after success");
  MlirStringRef cubin = lpattnGPUArtifactGetCubin(a);
  EXPECT(cubin.length > 64, "cubin of %zu bytes", cubin.length);
  EXPECT(cubin.length >= 4 && memcmp(cubin.data, "\x7f" "ELF", 4) == 0,
         "cubin is no ELF image");
  printf("cubin: %zu bytes, %s\n", cubin.length,
         memcmp(cubin.data, "\x7f" "ELF", 4) == 0 ? "ELF" : "not ELF");
  EXPECT(lpattnGPUArtifactGetPTX(a).length > 0, "no PTX");
  MlirStringRef log = lpattnGPUArtifactGetPtxasLog(a);
  EXPECT(log.length > 0, "no ptxas log");

  MlirStringRef descriptorRef = lpattnGPUArtifactGetDescriptor(a);
  char *json = (char *)malloc(descriptorRef.length + 1);
  memcpy(json, descriptorRef.data, descriptorRef.length);
  json[descriptorRef.length] = '\0';
  char kernel[64], arch[16], cubinName[64], qShape[64], kShape[64],
      oShape[64], kvOrder[16];
  descriptorString(json, "kernel", kernel, sizeof kernel);
  descriptorString(json, "arch", arch, sizeof arch);
  descriptorString(json, "cubin", cubinName, sizeof cubinName);
  descriptorString(json, "kv_order", kvOrder, sizeof kvOrder);
  descriptorShape(json, "q", qShape, sizeof qShape);
  descriptorShape(json, "k", kShape, sizeof kShape);
  descriptorShape(json, "o", oShape, sizeof oShape);
  printf("descriptor: kernel %s, arch %s, q %s, k %s, o %s\n", kernel, arch,
         qShape, kShape, oShape);
  EXPECT(strcmp(cubinName, "attn.cubin") == 0, "cubin member '%s'",
         cubinName);
  EXPECT(strcmp(kvOrder, "reverse") == 0, "kv_order '%s'", kvOrder);
  EXPECT(strstr(json, "\"p_scale\": 256") != NULL, "p_scale is not 256");
  EXPECT(strstr(json, "\"descales\": true") != NULL, "no descales");
  free(json);

  /* The shape queries agree with the problem. */
  EXPECT(lpattnGPUArtifactGetRank(a, LPAttnTensorQuery) == 4, "rank of q");
  EXPECT(lpattnGPUArtifactGetDim(a, LPAttnTensorQuery, 1) == HQ, "Hq");
  EXPECT(lpattnGPUArtifactGetDim(a, LPAttnTensorKey, 1) == HKV, "Hkv");
  EXPECT(lpattnGPUArtifactGetDim(a, LPAttnTensorValue, 2) == NK, "Nk");
  EXPECT(lpattnGPUArtifactGetDim(a, LPAttnTensorOutput, 3) == D, "Dv");
  EXPECT(lpattnGPUArtifactGetDim(a, LPAttnTensorOutput, 4) == -1, "dim 4");
  EXPECT(lpattnGPUArtifactGetRank(a, LPAttnTensorMask) == -1, "a mask");
  EXPECT(!lpattnGPUArtifactHasMask(a), "has a mask");
  EXPECT(lpattnGPUArtifactHasDescales(a), "no descales");
  EXPECT(!lpattnGPUArtifactHasPerHeadDescales(a), "per-head descales");

  /* Saved: the files of lpattn-compile -o PREFIX, and the input. */
  char mlirPath[4096];
  snprintf(mlirPath, sizeof mlirPath, "%s.mlir", prefix);
  FILE *mlirFile = fopen(mlirPath, "w");
  EXPECT(mlirFile && fputs(ATTENTION("f8E4M3FN"), mlirFile) >= 0,
         "cannot write %s", mlirPath);
  if (mlirFile)
    fclose(mlirFile);
  EXPECT(mlirLogicalResultIsSuccess(lpattnGPUArtifactSave(a, ref(prefix))),
         "save: %s", lpattnGetLastError());
  EXPECT(mlirLogicalResultIsFailure(lpattnGPUArtifactSave(a, ref(""))),
         "saved to an empty prefix");

  /* The errors, each one message. */
  expectCompileError("f16 policy", ATTENTION("f16"), NULL);
  expectCompileError("tile-q 32", ATTENTION("f8E4M3FN"),
                     &(LPAttnGPUCompileOptions){32, 64, 2, NULL, NULL});
  LPAttnGPUCompileOptions options = lpattnGPUCompileOptionsGetDefault();
  options.stages = 5;
  expectCompileError("stages 5", ATTENTION("f8E4M3FN"), &options);
  expectCompileError("parse", "func.func @", NULL);
  LPAttnGPUArtifact none = {NULL};
  EXPECT(lpattnGPUArtifactGetCubin(none).length == 0, "null handle's cubin");
  EXPECT(lpattnGPUArtifactGetRank(none, LPAttnTensorQuery) == -1,
         "null handle's rank");

  /* Running. The device buffers: FP8 codes of q, k, v, bf16 O. */
  size_t qBytes = (size_t)B * HQ * NQ * D, kvBytes = (size_t)B * HKV * NK * D,
         oBytes = 2 * (size_t)B * HQ * NQ * D;
  unsigned char *q = deviceBuffer(qBytes), *k = deviceBuffer(kvBytes),
                *v = deviceBuffer(kvBytes), *o = deviceBuffer(oBytes);
  /* What the fake kernel writes to O (parameter 6: q, k, v, 3 descales). */
  unsigned char *expected = (unsigned char *)malloc(oBytes);
  for (size_t i = 0; i < oBytes; ++i)
    expected[i] = (unsigned char)(i * 7 + 3);
  char outFile[4096];
  snprintf(outFile, sizeof outFile, "%s.o.bin", prefix);
  FILE *f = fopen(outFile, "wb");
  EXPECT(f && fwrite(expected, 1, oBytes, f) == oBytes, "cannot write %s",
         outFile);
  if (f)
    fclose(f);

  LPAttnGPURunArgs args = {address(q), address(k), address(v), 0,
                           {0, 0, 0},  address(o)};
  const float descales[3] = {0.5f, 2.0f, 1.0f};
  MlirLogicalResult run = lpattnGPUArtifactRun(a, 0, NULL, &args, descales);
  if (!fake) {
    EXPECT(mlirLogicalResultIsFailure(run), "ran without a driver");
    printf("run: %s\n", lpattnGetLastError());
  } else {
    EXPECT(mlirLogicalResultIsSuccess(run), "run: %s", lpattnGetLastError());
    EXPECT(memcmp(o, expected, oBytes) == 0, "O lacks the kernel's bytes");
    memset(o, 0, oBytes);
    /* A second run reuses the module loaded by the first. */
    run = lpattnGPUArtifactRun(a, 0, (void *)0x10, &args, NULL);
    EXPECT(mlirLogicalResultIsSuccess(run), "second run: %s",
           lpattnGetLastError());
    EXPECT(memcmp(o, expected, oBytes) == 0, "second run: O");
    printf("run: ok, O holds the kernel's bytes (%zu), twice\n", oBytes);
    args.mask = address(q);
    EXPECT(mlirLogicalResultIsFailure(
               lpattnGPUArtifactRun(a, 0, NULL, &args, NULL)),
           "ran with a mask");
    printf("mask: %s\n", lpattnGetLastError());
    args.mask = 0;
    EXPECT(mlirLogicalResultIsFailure(
               lpattnGPUArtifactRun(a, -1, NULL, &args, NULL)),
           "ran on device -1");
    printf("device: %s\n", lpattnGetLastError());
  }
  free(expected);
  free(q);
  free(k);
  free(v);
  free(o);
  lpattnGPUArtifactDestroy(a);
  lpattnGPUArtifactDestroy(none);

  if (failures) {
    printf("FAILED: %d check(s)\n", failures);
    return 1;
  }
  printf("OK\n");
  return 0;
}
