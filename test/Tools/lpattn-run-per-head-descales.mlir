// Per-(batch, KV head) descales (tensor<B x Hkv x f32>, FlashAttention-3's
// form) end to end on the CPU: the runner passes them as memrefs, the
// float64 reference reads the same values.
// RUN: rm -rf %t && split-file %s %t
//
// --- Per-head descales whose entries all equal the per-tensor ones give
// bit-identical O: FP8, GQA (4 query heads on 2 KV heads), B = 2, causal,
// ragged tiles, reverse KV order with P scaling; a described problem ...
// RUN: lpattn-run --batch 2 --heads 4 --kv-heads 2 --nq 40 --nk 72 --head-dim 32 --tile-q 16 --tile-kv 32 --causal --q-descale 0.5 --k-descale 2 --v-descale 1.5 --output-npy %t/scalar.npy | FileCheck %s --check-prefix=FP8
// RUN: lpattn-run --batch 2 --heads 4 --kv-heads 2 --nq 40 --nk 72 --head-dim 32 --tile-q 16 --tile-kv 32 --causal --q-descale 0.5 --k-descale 2 --v-descale 1.5 --descale-per-head --output-npy %t/per-head.npy | FileCheck %s --check-prefix=FP8
// RUN: cmp %t/scalar.npy %t/per-head.npy
// ... and .mlir files, the per-head one filled from the same options.
// RUN: lpattn-run %t/scalar.mlir --q-descale 0.75 --k-descale 1.25 --v-descale 2 --output-npy %t/file-scalar.npy | FileCheck %s --check-prefix=FP8
// RUN: lpattn-run %t/per-head.mlir --q-descale 0.75 --k-descale 1.25 --v-descale 2 --output-npy %t/file-per-head.npy | FileCheck %s --check-prefix=FP8
// RUN: cmp %t/file-scalar.npy %t/file-per-head.npy
//
// --- Descales that differ per (batch, KV head): each entry is the option's
// value times 2^(2u), u uniform in [-1, 1]. The output changes, and it is
// the float64 attention of those descales: all-f32 policies to relative
// RMSE < 1e-5 (fourth column), FP8 to an MSE below 1e-2 and a relative
// RMSE below 0.1, as with per-tensor descales.
// RUN: lpattn-run --batch 2 --heads 4 --kv-heads 2 --nq 40 --nk 72 --head-dim 32 --tile-q 16 --tile-kv 32 --causal --q-descale 0.5 --k-descale 2 --v-descale 1.5 --descale-spread 2 --output-npy %t/spread.npy | FileCheck %s --check-prefix=FP8
// RUN: not cmp -s %t/per-head.npy %t/spread.npy
// RUN: lpattn-run --batch 2 --heads 4 --kv-heads 2 --nq 40 --nk 72 --head-dim 32 --tile-q 16 --tile-kv 32 --causal --qk-type f32 --v-type f32 --p-type f32 --out-type f32 --p-scale 1 --q-descale 0.5 --k-descale 2 --v-descale 1.5 --descale-spread 2 | FileCheck %s --check-prefix=F32
// RUN: lpattn-run %t/per-head-f32.mlir --descale-spread 1.5 --seed 7 | FileCheck %s --check-prefix=F32
// From [B, Hkv] .npy files (values 1.5 + sin(0.37 i + 0.1), in [0.5, 2.5]):
// RUN: %python %S/Inputs/make_npy.py %t/ds.npy 2,2 --add 1.5
// RUN: lpattn-run %t/per-head-f32.mlir --q-descale-npy %t/ds.npy --k-descale-npy %t/ds.npy --v-descale-npy %t/ds.npy | FileCheck %s --check-prefix=F32
// FP8: MSE
// FP8-NEXT: {{^ *[0-9]\.[0-9]+e-(0[3-9]|[1-9][0-9]) +[0-9.e+-]+ +[0-9.e+-]+ +[0-9]\.[0-9]+e-(0[2-9]|[1-9][0-9]) +0 +0 }}
// F32: MSE
// F32-NEXT: {{[0-9.e+-]+ +[0-9.e+-]+ +[0-9.e+-]+ +([0-9]\.[0-9]+e-(0[6-9]|[1-9][0-9])|0\.0+e\+00) }}
//
// --- Errors: one each, naming the option.
// RUN: not lpattn-run %t/scalar.mlir --descale-spread 1 2>&1 | FileCheck %s --check-prefix=SPREADSCALAR
// SPREADSCALAR: lpattn-run: error: --descale-spread: the attention has f32 scalar (per-tensor) descales, not per-(batch, KV head) ones
// RUN: not lpattn-run %t/none.mlir --descale-per-head 2>&1 | FileCheck %s --check-prefix=PERHEADNONE
// PERHEADNONE: lpattn-run: error: --descale-per-head: the attention has no descales, not per-(batch, KV head) ones
// RUN: not lpattn-run --descale-spread -1 2>&1 | FileCheck %s --check-prefix=NEGSPREAD
// NEGSPREAD: lpattn-run: error: --descale-spread=-1: expected a spread >= 0 (log2 units)
// RUN: not lpattn-run --q-descale-npy %t/ds.npy 2>&1 | FileCheck %s --check-prefix=ONEFILE
// ONEFILE: lpattn-run: error: --q-descale-npy, --k-descale-npy and --v-descale-npy go together (per-head descales of Q, K and V)
// RUN: not lpattn-run --q-descale-npy %t/ds.npy --k-descale-npy %t/ds.npy --v-descale-npy %t/ds.npy --q-descale 2 2>&1 | FileCheck %s --check-prefix=FILEANDVALUE
// FILEANDVALUE: lpattn-run: error: --*-descale-npy give the per-head descale values; --q-descale, --k-descale, --v-descale and --descale-spread cannot be combined with them
// RUN: %python %S/Inputs/make_npy.py %t/ds3.npy 2,3 --add 1.5
// RUN: not lpattn-run %t/per-head-f32.mlir --q-descale-npy %t/ds3.npy --k-descale-npy %t/ds.npy --v-descale-npy %t/ds.npy 2>&1 | FileCheck %s --check-prefix=FILESHAPE
// FILESHAPE: lpattn-run: error: '{{.*}}ds3.npy' has shape [2, 3]: the attention's per-head descales are [B, Hkv] = [2, 2]

//--- scalar.mlir
func.func @attention(%q: tensor<2x4x48x64xf8E4M3FN>, %k: tensor<2x2x80x64xf8E4M3FN>, %v: tensor<2x2x80x64xf8E4M3FN>, %qd: f32, %kd: f32, %vd: f32) -> tensor<2x4x48x64xbf16> {
  %o = lpattn.attention %q, %k, %v descale(%qd, %kd, %vd)
         policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite>
         p_scale = 256.0 kv_order = reverse tiles = [32, 32]
         : tensor<2x4x48x64xf8E4M3FN>, tensor<2x2x80x64xf8E4M3FN>, tensor<2x2x80x64xf8E4M3FN> -> tensor<2x4x48x64xbf16>
  return %o : tensor<2x4x48x64xbf16>
}
//--- per-head.mlir
func.func @attention(%q: tensor<2x4x48x64xf8E4M3FN>, %k: tensor<2x2x80x64xf8E4M3FN>, %v: tensor<2x2x80x64xf8E4M3FN>, %qd: tensor<2x2xf32>, %kd: tensor<2x2xf32>, %vd: tensor<2x2xf32>) -> tensor<2x4x48x64xbf16> {
  %o = lpattn.attention %q, %k, %v descale(%qd, %kd, %vd : tensor<2x2xf32>)
         policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite>
         p_scale = 256.0 kv_order = reverse tiles = [32, 32]
         : tensor<2x4x48x64xf8E4M3FN>, tensor<2x2x80x64xf8E4M3FN>, tensor<2x2x80x64xf8E4M3FN> -> tensor<2x4x48x64xbf16>
  return %o : tensor<2x4x48x64xbf16>
}
//--- per-head-f32.mlir
func.func @attention(%q: tensor<2x4x32x16xf32>, %k: tensor<2x2x48x16xf32>, %v: tensor<2x2x48x16xf32>, %qd: tensor<2x2xf32>, %kd: tensor<2x2xf32>, %vd: tensor<2x2xf32>) -> tensor<2x4x32x16xf32> {
  %o = lpattn.attention %q, %k, %v descale(%qd, %kd, %vd : tensor<2x2xf32>)
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         kv_order = reverse softmax = pasa causal = true tiles = [16, 16]
         : tensor<2x4x32x16xf32>, tensor<2x2x48x16xf32>, tensor<2x2x48x16xf32> -> tensor<2x4x32x16xf32>
  return %o : tensor<2x4x32x16xf32>
}
//--- none.mlir
func.func @attention(%q: tensor<1x1x16x16xf32>, %k: tensor<1x1x16x16xf32>, %v: tensor<1x1x16x16xf32>) -> tensor<1x1x16x16xf32> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         tiles = [16, 16]
         : tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32> -> tensor<1x1x16x16xf32>
  return %o : tensor<1x1x16x16xf32>
}
