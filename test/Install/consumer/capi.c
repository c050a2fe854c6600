/*===- capi.c - a C consumer of the installed lpattn C API -----------------===*
 *
 * Plain C against the installed headers (lpattn-c/) and libLPAttnCAPI.so:
 * compiles an all-f32 attention whose keys are all equal, so that every
 * query attends uniformly and O is the mean of V over the keys; exits 0
 * only if the run matches it.
 *
 *===----------------------------------------------------------------------===*/

#include "lpattn-c/Dialects.h"
#include "lpattn-c/Passes.h"
#include "lpattn-c/Runner.h"

#include <math.h>
#include <stdio.h>

static const char *kAttention =
    "func.func @attention(%q: tensor<1x1x4x8xf32>, %k: tensor<1x1x6x8xf32>,"
    "    %v: tensor<1x1x6x8xf32>) -> tensor<1x1x4x8xf32> {\n"
    "  %o = lpattn.attention %q, %k, %v\n"
    "    policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32,"
    "              out = f32, overflow = satfinite>\n"
    "    : tensor<1x1x4x8xf32>, tensor<1x1x6x8xf32>, tensor<1x1x6x8xf32>"
    "      -> tensor<1x1x4x8xf32>\n"
    "  return %o : tensor<1x1x4x8xf32>\n"
    "}\n";

int main(void) {
  /* MLIR's own C API, from the same library. */
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  mlirLPAttnRegisterAllDialects(registry);
  MlirContext ctx = mlirContextCreateWithRegistry(registry, false);
  mlirDialectRegistryDestroy(registry);
  mlirLPAttnRegisterPasses();
  mlirLPAttnRegisterPipelines();
  MlirModule module =
      mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(kAttention));
  if (mlirModuleIsNull(module) ||
      mlirLogicalResultIsFailure(mlirLPAttnModuleRunPipeline(
          module, mlirStringRefCreateFromCString("lpattn-cpu-pipeline")))) {
    printf("lpattn C consumer: pipeline failed: %s\n", lpattnGetLastError());
    return 1;
  }
  mlirModuleDestroy(module);
  mlirContextDestroy(ctx);

  LPAttnCPUAttention attention = lpattnCPUAttentionCompile(
      mlirStringRefCreateFromCString(kAttention), NULL);
  if (lpattnCPUAttentionIsNull(attention)) {
    printf("lpattn C consumer: compile failed: %s\n", lpattnGetLastError());
    return 2;
  }
  float q[32], k[48], v[48], o[32];
  for (int i = 0; i < 32; ++i)
    q[i] = (float)(i % 5) - 2.0f;
  for (int i = 0; i < 48; ++i) {
    k[i] = (float)(i % 8) * 0.25f; /* every key row the same */
    v[i] = (float)i * 0.125f;
  }
  if (mlirLogicalResultIsFailure(
          lpattnCPUAttentionRun(attention, q, k, v, NULL, NULL, o))) {
    printf("lpattn C consumer: run failed: %s\n", lpattnGetLastError());
    return 3;
  }
  lpattnCPUAttentionDestroy(attention);
  double maxError = 0.0;
  for (int i = 0; i < 4; ++i)
    for (int d = 0; d < 8; ++d) {
      double mean = 0.0;
      for (int j = 0; j < 6; ++j)
        mean += v[j * 8 + d] / 6.0;
      double error = fabs(o[i * 8 + d] - mean);
      if (!(error <= maxError))
        maxError = error;
    }
  printf("lpattn C consumer: max abs error %g\n", maxError);
  return maxError < 1e-5 ? 0 : 4;
}
