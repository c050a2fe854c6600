/*===- lpattn-capi-test.c - the lpattn C API, from plain C -----------------===*
 *
 * Exercises include/lpattn-c/ through libLPAttnCAPI.so: registers the
 * dialects and passes into an MLIR context, parses an attention, lowers it
 * with lpattn-cpu-pipeline through MLIR's own pass manager C API, compiles
 * and runs an attention on caller-owned buffers against a float64 reference
 * written here in C, and checks the error texts of invalid inputs. Any
 * mismatch prints "FAILED" and exits non-zero.
 *
 *===----------------------------------------------------------------------===*/

// REQUIRES: lpattn-capi
// RUN: lpattn-capi-test 2>&1 | FileCheck %s

#include "lpattn-c/Dialects.h"
#include "lpattn-c/Passes.h"
#include "lpattn-c/Runner.h"

#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"
#include "mlir-c/Support.h"

#include <math.h>
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

/* Sizes of the attention below: GQA (4 query heads on 2 KV heads), causal
 * (bottom-right aligned), ragged tiles (20 queries, 40 keys, tiles 16 x 16),
 * descales. All-f32 policy: the result is the plain softmax attention. */
enum { B = 1, HQ = 4, HKV = 2, NQ = 20, NK = 40, D = 8, DV = 8 };
static const double kScale = 0.5;

static const char *kAttention =
    "func.func @attention(%q: tensor<1x4x20x8xf32>, %k: tensor<1x2x40x8xf32>,"
    "    %v: tensor<1x2x40x8xf32>, %qd: f32, %kd: f32, %vd: f32)"
    "    -> tensor<1x4x20x8xf32> {\n"
    "  %o = lpattn.attention %q, %k, %v descale(%qd, %kd, %vd)\n"
    "    policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32,"
    "              out = f32, overflow = satfinite>\n"
    "    scale = 0.5 causal = true tiles = [16, 16]\n"
    "    : tensor<1x4x20x8xf32>, tensor<1x2x40x8xf32>, tensor<1x2x40x8xf32>"
    "      -> tensor<1x4x20x8xf32>\n"
    "  return %o : tensor<1x4x20x8xf32>\n"
    "}\n";

/* The same attention with per-(batch, KV head) descales, tensor<1x2xf32>. */
static const char *kAttentionPerHead =
    "func.func @attention(%q: tensor<1x4x20x8xf32>, %k: tensor<1x2x40x8xf32>,"
    "    %v: tensor<1x2x40x8xf32>, %qd: tensor<1x2xf32>, %kd: tensor<1x2xf32>,"
    "    %vd: tensor<1x2xf32>) -> tensor<1x4x20x8xf32> {\n"
    "  %o = lpattn.attention %q, %k, %v descale(%qd, %kd, %vd : tensor<1x2xf32>)\n"
    "    policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32,"
    "              out = f32, overflow = satfinite>\n"
    "    scale = 0.5 causal = true tiles = [16, 16]\n"
    "    : tensor<1x4x20x8xf32>, tensor<1x2x40x8xf32>, tensor<1x2x40x8xf32>"
    "      -> tensor<1x4x20x8xf32>\n"
    "  return %o : tensor<1x4x20x8xf32>\n"
    "}\n";

/* p_scale = 448 on an e4m3 P: rejected by the verifier. */
static const char *kInvalidPScale =
    "func.func @attention(%q: tensor<1x1x16x16xf8E4M3FN>,"
    "    %k: tensor<1x1x16x16xf8E4M3FN>, %v: tensor<1x1x16x16xf8E4M3FN>)"
    "    -> tensor<1x1x16x16xbf16> {\n"
    "  %o = lpattn.attention %q, %k, %v\n"
    "    policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN,"
    "              acc = f32, out = bf16, overflow = satfinite>\n"
    "    p_scale = 448.0\n"
    "    : tensor<1x1x16x16xf8E4M3FN>, tensor<1x1x16x16xf8E4M3FN>,"
    "      tensor<1x1x16x16xf8E4M3FN> -> tensor<1x1x16x16xbf16>\n"
    "  return %o : tensor<1x1x16x16xbf16>\n"
    "}\n";

/* An all-f32 attention with an additive mask operand. */
static const char *kMasked =
    "func.func @attention(%q: tensor<1x1x16x16xf32>, %k: tensor<1x1x16x16xf32>,"
    "    %v: tensor<1x1x16x16xf32>, %m: tensor<1x1x16x16xf32>)"
    "    -> tensor<1x1x16x16xf32> {\n"
    "  %o = lpattn.attention %q, %k, %v mask(%m)\n"
    "    policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32,"
    "              out = f32, overflow = satfinite>\n"
    "    : tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>,"
    "      tensor<1x1x16x16xf32> -> tensor<1x1x16x16xf32>\n"
    "  return %o : tensor<1x1x16x16xf32>\n"
    "}\n";

/*===----------------------------------------------------------------------===*
 * Helpers
 *===----------------------------------------------------------------------===*/

/* Appends printed IR to a growable string. */
typedef struct {
  char *data;
  size_t size, capacity;
} Text;

static void appendText(MlirStringRef piece, void *userData) {
  Text *text = (Text *)userData;
  if (text->size + piece.length + 1 > text->capacity) {
    text->capacity = 2 * (text->size + piece.length + 1);
    text->data = (char *)realloc(text->data, text->capacity);
  }
  memcpy(text->data + text->size, piece.data, piece.length);
  text->size += piece.length;
  text->data[text->size] = '\0';
}

static char *printModule(MlirModule module) {
  Text text = {NULL, 0, 0};
  appendText(mlirStringRefCreateFromCString(""), &text);
  mlirOperationPrint(mlirModuleGetOperation(module), appendText, &text);
  return text.data;
}

static void printStringRef(MlirStringRef ref, void *userData) {
  (void)userData;
  fwrite(ref.data, 1, ref.length, stdout);
}

/* Deterministic inputs in [-2, 2): a 32-bit LCG. */
static unsigned lcgState = 12345u;
static float nextInput(void) {
  lcgState = lcgState * 1664525u + 1013904223u;
  return (float)((lcgState >> 8) / 16777216.0 * 4.0 - 2.0);
}

/* The float64 attention of the ops above: S = c q_ds k_ds Q K^T,
 * bottom-right causal mask (key j visible to query i iff j <= i + NK - NQ),
 * softmax, O = P V v_ds. `ds` = {q_ds, k_ds, v_ds}, or with `perHead` the
 * per-KV-head ones (B = 1): q_ds[HKV], k_ds[HKV], v_ds[HKV]. */
static void referenceAttention(const float *q, const float *k, const float *v,
                               const float *descales, int perHead,
                               double *out) {
  for (int h = 0; h < HQ; ++h) {
    int hk = h / (HQ / HKV);
    double ds[3];
    for (int t = 0; t < 3; ++t)
      ds[t] = perHead ? descales[t * HKV + hk] : descales[t];
    for (int i = 0; i < NQ; ++i) {
      double s[NK], m = -INFINITY, l = 0.0;
      for (int j = 0; j < NK; ++j) {
        if (j > i + NK - NQ) {
          s[j] = -INFINITY;
          continue;
        }
        double dot = 0.0;
        for (int d = 0; d < D; ++d)
          dot += (double)q[(h * NQ + i) * D + d] * k[(hk * NK + j) * D + d];
        s[j] = dot * kScale * ds[0] * ds[1];
        if (s[j] > m)
          m = s[j];
      }
      for (int j = 0; j < NK; ++j)
        l += (s[j] = exp(s[j] - m));
      for (int d = 0; d < DV; ++d) {
        double o = 0.0;
        for (int j = 0; j < NK; ++j)
          o += s[j] * v[(hk * NK + j) * DV + d];
        out[(h * NQ + i) * DV + d] = o / l * ds[2];
      }
    }
  }
}

/*===----------------------------------------------------------------------===*
 * Tests
 *===----------------------------------------------------------------------===*/

/* The dialect and the pipelines through MLIR's own C API. */
static void testDialectAndPipelines(void) {
  printf("== dialect and pipelines\n");
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  mlirLPAttnRegisterAllDialects(registry);
  MlirContext ctx = mlirContextCreateWithRegistry(registry, false);
  mlirDialectRegistryDestroy(registry);

  MlirDialect lpattn =
      mlirDialectHandleLoadDialect(mlirGetDialectHandle__lpattn__(), ctx);
  EXPECT(!mlirDialectIsNull(lpattn), "lpattn dialect not loaded");
  printf("dialect: ");
  printStringRef(mlirDialectGetNamespace(lpattn), NULL);
  printf("\n");
  // CHECK-LABEL: == dialect and pipelines
  // CHECK: dialect: lpattn

  MlirModule module = mlirModuleCreateParse(
      ctx, mlirStringRefCreateFromCString(kAttention));
  EXPECT(!mlirModuleIsNull(module), "the attention does not parse");
  if (mlirModuleIsNull(module)) {
    mlirContextDestroy(ctx);
    return;
  }
  EXPECT(mlirOperationVerify(mlirModuleGetOperation(module)),
         "the attention does not verify");
  char *ir = printModule(module);
  /* The printer states every clause, defaults included. */
  printf("parsed: %s\n", strstr(ir, "kv_order = forward") ? "kv_order = forward"
                                                          : "no kv_order");
  free(ir);
  // CHECK: parsed: kv_order = forward

  mlirLPAttnRegisterPasses();
  mlirLPAttnRegisterPipelines();
  /* Again: registration is idempotent (MLIR aborts on a pipeline name
   * registered twice). */
  mlirLPAttnRegisterPasses();
  mlirLPAttnRegisterPipelines();

  /* lpattn-cpu-pipeline by name, through mlirParsePassPipeline. */
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  MlirLogicalResult parsed = mlirParsePassPipeline(
      mlirPassManagerGetAsOpPassManager(pm),
      mlirStringRefCreateFromCString("builtin.module(lpattn-cpu-pipeline)"),
      printStringRef, NULL);
  EXPECT(mlirLogicalResultIsSuccess(parsed),
         "lpattn-cpu-pipeline is not registered");
  MlirLogicalResult ran =
      mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module));
  EXPECT(mlirLogicalResultIsSuccess(ran), "lpattn-cpu-pipeline failed");
  mlirPassManagerDestroy(pm);
  ir = printModule(module);
  printf("cpu pipeline: %s, %s\n",
         strstr(ir, "llvm.func @attention") ? "llvm.func @attention"
                                            : "no llvm.func",
         strstr(ir, "lpattn.attention") ? "lpattn.attention left"
                                        : "no lpattn.attention left");
  free(ir);
  mlirModuleDestroy(module);
  // CHECK: cpu pipeline: llvm.func @attention, no lpattn.attention left

  /* A pipeline by text through mlirLPAttnModuleRunPipeline. */
  module = mlirModuleCreateParse(ctx,
                                 mlirStringRefCreateFromCString(kAttention));
  ran = mlirLPAttnModuleRunPipeline(
      module, mlirStringRefCreateFromCString("func.func(lpattn-tile,lpattn-reverse-kv)"));
  EXPECT(mlirLogicalResultIsSuccess(ran), "lpattn-tile failed: %s",
         lpattnGetLastError());
  ir = printModule(module);
  printf("lpattn-tile: %s, %s, %s\n",
         strstr(ir, "lpattn.kv_loop") ? "lpattn.kv_loop" : "no kv loop",
         strstr(ir, "#lpattn<step qk_mma>") ? "qk_mma step" : "no qk_mma step",
         strstr(ir, "#lpattn<step kv_index>") ? "reversed" : "not reversed");
  free(ir);
  // CHECK: lpattn-tile: lpattn.kv_loop, qk_mma step, reversed

  ran = mlirLPAttnModuleRunPipeline(
      module, mlirStringRefCreateFromCString("lpattn-no-such-pass"));
  EXPECT(mlirLogicalResultIsFailure(ran), "an unknown pass ran");
  printf("unknown pass: %s\n", lpattnGetLastError());
  // CHECK: unknown pass: invalid pass pipeline 'lpattn-no-such-pass': {{.*}}lpattn-no-such-pass
  mlirModuleDestroy(module);

  /* A pass's diagnostic becomes the error text. */
  module = mlirModuleCreateParse(ctx,
                                 mlirStringRefCreateFromCString(kAttention));
  ran = mlirLPAttnModuleRunPipeline(
      module, mlirStringRefCreateFromCString(
                  "builtin.module(func.func(lpattn-insert-p-scale{scale=3}))"));
  EXPECT(mlirLogicalResultIsFailure(ran), "p-scale 3 was accepted");
  printf("bad pass option: %s\n", lpattnGetLastError());
  // CHECK: bad pass option: {{.*}}error: 'lpattn.attention' op p_scale = 3 is not a power of two
  mlirModuleDestroy(module);
  mlirContextDestroy(ctx);
}

/* Compile and run on caller-owned buffers; compare with the reference. */
static void testRunner(void) {
  printf("== runner\n");
  LPAttnCPUCompileOptions options = lpattnCPUCompileOptionsGetDefault();
  LPAttnCPUAttention attention = lpattnCPUAttentionCompile(
      mlirStringRefCreateFromCString(kAttention), &options);
  EXPECT(!lpattnCPUAttentionIsNull(attention), "compile failed: %s",
         lpattnGetLastError());
  if (lpattnCPUAttentionIsNull(attention))
    return;
  printf("output: rank %ld, [%ld, %ld, %ld, %ld], mask %d, descales %d\n",
         (long)lpattnCPUAttentionGetRank(attention, LPAttnTensorOutput),
         (long)lpattnCPUAttentionGetDim(attention, LPAttnTensorOutput, 0),
         (long)lpattnCPUAttentionGetDim(attention, LPAttnTensorOutput, 1),
         (long)lpattnCPUAttentionGetDim(attention, LPAttnTensorOutput, 2),
         (long)lpattnCPUAttentionGetDim(attention, LPAttnTensorOutput, 3),
         (int)lpattnCPUAttentionHasMask(attention),
         (int)lpattnCPUAttentionHasDescales(attention));
  // CHECK-LABEL: == runner
  // CHECK: output: rank 4, [1, 4, 20, 8], mask 0, descales 1
  EXPECT(lpattnCPUAttentionGetNumElements(attention, LPAttnTensorQuery) ==
             B * HQ * NQ * D,
         "query size");
  EXPECT(lpattnCPUAttentionGetNumElements(attention, LPAttnTensorKey) ==
             B * HKV * NK * D,
         "key size");
  EXPECT(lpattnCPUAttentionGetRank(attention, LPAttnTensorMask) == -1,
         "a mask rank without a mask");

  static float q[B * HQ * NQ * D], k[B * HKV * NK * D], v[B * HKV * NK * DV];
  static float out[B * HQ * NQ * DV];
  static double ref[B * HQ * NQ * DV];
  for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); ++i)
    q[i] = nextInput();
  for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); ++i)
    k[i] = nextInput();
  for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); ++i)
    v[i] = nextInput();
  const float descales[3] = {0.5f, 2.0f, 1.5f};
  for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); ++i)
    out[i] = NAN;

  MlirLogicalResult ran = lpattnCPUAttentionRun(attention, q, k, v, NULL,
                                                descales, out);
  EXPECT(mlirLogicalResultIsSuccess(ran), "run failed: %s",
         lpattnGetLastError());
  referenceAttention(q, k, v, descales, 0, ref);
  double maxError = 0.0, maxRef = 0.0;
  for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); ++i) {
    double error = fabs((double)out[i] - ref[i]);
    if (!(error <= maxError)) /* NaN counts as the largest error */
      maxError = isnan(error) ? INFINITY : error;
    if (fabs(ref[i]) > maxRef)
      maxRef = fabs(ref[i]);
  }
  EXPECT(maxError < 1e-5 * (1.0 + maxRef), "max abs error %g vs reference",
         maxError);
  EXPECT(maxRef > 0.1, "degenerate reference (max |O| = %g)", maxRef);
  printf("run vs float64 reference: %s\n",
         maxError < 1e-5 * (1.0 + maxRef) ? "max abs error < 1e-5" : "MISMATCH");
  // CHECK: run vs float64 reference: max abs error < 1e-5

  /* The same descales again give the same bits; others change the output. */
  static float again[B * HQ * NQ * DV];
  const float other[3] = {1.0f, 1.0f, 1.0f};
  lpattnCPUAttentionRun(attention, q, k, v, NULL, other, again);
  EXPECT(memcmp(again, out, sizeof(out)) != 0, "descales ignored");
  lpattnCPUAttentionRun(attention, q, k, v, NULL, descales, again);
  EXPECT(memcmp(again, out, sizeof(out)) == 0, "not deterministic");

  ran = lpattnCPUAttentionRun(attention, NULL, k, v, NULL, descales, out);
  EXPECT(mlirLogicalResultIsFailure(ran), "a NULL query ran");
  printf("null buffer: %s\n", lpattnGetLastError());
  // CHECK: null buffer: lpattnCPUAttentionRun: the query, key, value and output buffers must not be NULL
  EXPECT(!lpattnCPUAttentionHasPerHeadDescales(attention),
         "per-tensor descales reported as per-head");
  lpattnCPUAttentionDestroy(attention);

  /* Per-(batch, KV head) descales: 3 * B * HKV floats, q_ds [B, HKV], then
   * k_ds, then v_ds. Entries equal to the per-tensor ones give the same bits;
   * different ones per KV head match the float64 reference. */
  attention = lpattnCPUAttentionCompile(
      mlirStringRefCreateFromCString(kAttentionPerHead), NULL);
  EXPECT(!lpattnCPUAttentionIsNull(attention), "per-head compile failed: %s",
         lpattnGetLastError());
  if (!lpattnCPUAttentionIsNull(attention)) {
    printf("per-head: descales %d, per head %d\n",
           (int)lpattnCPUAttentionHasDescales(attention),
           (int)lpattnCPUAttentionHasPerHeadDescales(attention));
    // CHECK: per-head: descales 1, per head 1
    const float equal[3 * B * HKV] = {0.5f, 0.5f, 2.0f, 2.0f, 1.5f, 1.5f};
    static float perHeadOut[B * HQ * NQ * DV];
    ran = lpattnCPUAttentionRun(attention, q, k, v, NULL, equal, perHeadOut);
    EXPECT(mlirLogicalResultIsSuccess(ran), "per-head run failed: %s",
           lpattnGetLastError());
    EXPECT(memcmp(perHeadOut, out, sizeof(out)) == 0,
           "equal per-head descales changed the bits");
    const float differ[3 * B * HKV] = {0.5f, 0.25f, 2.0f, 4.0f, 1.5f, 0.75f};
    ran = lpattnCPUAttentionRun(attention, q, k, v, NULL, differ, perHeadOut);
    EXPECT(mlirLogicalResultIsSuccess(ran), "per-head run failed: %s",
           lpattnGetLastError());
    referenceAttention(q, k, v, differ, 1, ref);
    double maxHeadError = 0.0;
    for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); ++i) {
      double error = fabs((double)perHeadOut[i] - ref[i]);
      if (!(error <= maxHeadError))
        maxHeadError = isnan(error) ? INFINITY : error;
    }
    EXPECT(maxHeadError < 1e-5 * (1.0 + maxRef),
           "per-head max abs error %g vs reference", maxHeadError);
    EXPECT(memcmp(perHeadOut, out, sizeof(out)) != 0,
           "per-head descales ignored");
    printf("per-head run vs float64 reference: %s\n",
           maxHeadError < 1e-5 * (1.0 + maxRef) ? "max abs error < 1e-5"
                                                : "MISMATCH");
    // CHECK: per-head run vs float64 reference: max abs error < 1e-5
    lpattnCPUAttentionDestroy(attention);
  }

  /* A mask operand needs a mask buffer. */
  attention = lpattnCPUAttentionCompile(
      mlirStringRefCreateFromCString(kMasked), NULL);
  EXPECT(!lpattnCPUAttentionIsNull(attention), "masked compile failed: %s",
         lpattnGetLastError());
  if (!lpattnCPUAttentionIsNull(attention)) {
    static float mq[256], mk[256], mv[256], mask[256], mout[256];
    for (int i = 0; i < 256; ++i) {
      mq[i] = nextInput();
      mk[i] = nextInput();
      mv[i] = nextInput();
      mask[i] = 0.0f;
    }
    ran = lpattnCPUAttentionRun(attention, mq, mk, mv, NULL, NULL, mout);
    EXPECT(mlirLogicalResultIsFailure(ran), "ran without its mask");
    printf("missing mask: %s\n", lpattnGetLastError());
    // CHECK: missing mask: lpattnCPUAttentionRun: the attention has a mask operand [1, 1, 16, 16], but mask is NULL
    /* Key 0 hidden from every query: row i of O must not depend on V[0]. */
    for (int i = 0; i < 16; ++i)
      mask[i * 16] = -INFINITY;
    ran = lpattnCPUAttentionRun(attention, mq, mk, mv, mask, NULL, mout);
    EXPECT(mlirLogicalResultIsSuccess(ran), "masked run failed: %s",
           lpattnGetLastError());
    EXPECT(strcmp(lpattnGetLastError(), "") == 0,
           "a success left an error text");
    static float mout2[256];
    for (int d = 0; d < 16; ++d)
      mv[d] += 100.0f;
    lpattnCPUAttentionRun(attention, mq, mk, mv, mask, NULL, mout2);
    EXPECT(memcmp(mout, mout2, sizeof(mout)) == 0,
           "a masked key changed the output");
    printf("masked run: ok\n");
    // CHECK: masked run: ok
    lpattnCPUAttentionDestroy(attention);
  }
}

/* Invalid inputs give a null handle and an error text. */
static void testErrors(void) {
  printf("== errors\n");
  LPAttnCPUAttention attention = lpattnCPUAttentionCompile(
      mlirStringRefCreateFromCString(kInvalidPScale), NULL);
  EXPECT(lpattnCPUAttentionIsNull(attention), "p_scale = 448 compiled");
  printf("invalid p_scale: %s\n", lpattnGetLastError());
  // CHECK-LABEL: == errors
  // CHECK: invalid p_scale: invalid input:
  // CHECK-NEXT: error: 'lpattn.attention' op p_scale = 448 is not a power of two
  attention = lpattnCPUAttentionCompile(
      mlirStringRefCreateFromCString("this is not MLIR"), NULL);
  EXPECT(lpattnCPUAttentionIsNull(attention), "garbage compiled");
  EXPECT(strlen(lpattnGetLastError()) > 0, "no error text for garbage");
  printf("garbage: %s\n", strlen(lpattnGetLastError()) > 0 ? "error text"
                                                           : "no error text");
  // CHECK: garbage: error text
  EXPECT(lpattnCPUAttentionGetRank(attention, LPAttnTensorQuery) == -1 &&
             !lpattnCPUAttentionHasMask(attention),
         "queries on a null handle");
  lpattnCPUAttentionDestroy(attention); /* a null handle is ignored */
}

int main(void) {
  testDialectAndPipelines();
  testRunner();
  testErrors();
  printf("%d failure(s)\n", failures);
  // CHECK: 0 failure(s)
  return failures ? 1 : 0;
}
