// lpattn-run end to end on the CPU, and its errors.
// RUN: lpattn-run %s --json | FileCheck %s
// The op below (GQA, causal, f8 P) runs and its metrics come back finite.
// CHECK: "inputs": "random"
// CHECK: "collapse_fraction":
// CHECK: "mse": {{[0-9]}}
// CHECK: "nan": 0
//
// A described problem: P-Cast's naive configuration collapses non-sink P.
// RUN: lpattn-run --nq 64 --nk 1024 --inputs sinks --delta 12 --p-scale 1 --reverse=false --json | FileCheck %s --check-prefix=NAIVE
// NAIVE: "collapse_fraction": {{(0\.9|1)}}
//
// Bad input: one clear error each, exit code 1.
// RUN: not lpattn-run --p-scale 448 2>&1 | FileCheck %s --check-prefix=S448
// S448: p_scale = 448 is not a power of two
// RUN: not lpattn-run --p-scale 512 2>&1 | FileCheck %s --check-prefix=S512
// S512: p_scale = 512 saturates P = 1
// RUN: not lpattn-run --softmax fast 2>&1 | FileCheck %s --check-prefix=SOFTMAX
// SOFTMAX: lpattn-run: error: --softmax=fast: expected standard, bias_corrected or pasa
// RUN: not lpattn-run --qk-type f64 2>&1 | FileCheck %s --check-prefix=TYPE
// TYPE: lpattn-run: error: --qk-type=f64: expected f32, f16, bf16, f8E4M3FN or f8E5M2
// RUN: not lpattn-run --sweep delta:5:1:1 2>&1 | FileCheck %s --check-prefix=SWEEP
// SWEEP: lpattn-run: error: --sweep=delta:5:1:1: expected param:start:stop:step
// RUN: not lpattn-run --inputs npy --q-npy %t.missing --k-npy %t.missing --v-npy %t.missing 2>&1 | FileCheck %s --check-prefix=NPY
// NPY: lpattn-run: error: {{.*}}missing
// RUN: not lpattn-run %t.missing.mlir 2>&1 | FileCheck %s --check-prefix=FILE
// FILE: lpattn-run: error: cannot read
// RUN: printf 'func.func @f() { return }' > %t.empty.mlir
// RUN: not lpattn-run %t.empty.mlir 2>&1 | FileCheck %s --check-prefix=NOOP
// NOOP: lpattn-run: error: the input holds no lpattn.attention

func.func @attention(%q: tensor<1x4x32x16xf32>, %k: tensor<1x2x48x16xf32>, %v: tensor<1x2x48x16xf32>) -> tensor<1x4x32x16xbf16> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = bf16, overflow = satfinite>
         p_scale = 256.0 kv_order = reverse causal = true tiles = [16, 16]
         : tensor<1x4x32x16xf32>, tensor<1x2x48x16xf32>, tensor<1x2x48x16xf32> -> tensor<1x4x32x16xbf16>
  return %o : tensor<1x4x32x16xbf16>
}
