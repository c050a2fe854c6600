// lpattn-geometry-scale changes what the attention computes, not what it
// means: on the CPU (bit-exact emulation), Q K^T products up to 1.69e5
// overflow an f16 score unscaled (satfinite clamps them to 65504: wrong
// softmax; nonsat makes them Inf: every output NaN); with the pass's
// qk scale 0.25 (sigma = 1 from lpattn.qk_sigma, token norm 420 >= every
// row norm of Q and K, 411.6) the same op is finite and close to the
// float64 reference. Where nothing overflows, scaled and unscaled outputs are
// the same bits.
// RUN: split-file %s %t
// Q, K: sin(0.37 i + 0.1) * 200 (products up to 1.69e5); V: the pattern.
// RUN: %python %S/Inputs/make_npy.py %t/q.npy 1,1,16,8 --mul 200
// RUN: %python %S/Inputs/make_npy.py %t/k.npy 1,1,24,8 --mul 200
// RUN: %python %S/Inputs/make_npy.py %t/v.npy 1,1,24,8
// RUN: lpattn-opt %t/satfinite.mlir --lpattn-geometry-scale=token-norm=420 -o %t/satfinite-scaled.mlir 2>/dev/null
// RUN: lpattn-opt %t/nonsat.mlir --lpattn-geometry-scale=token-norm=420 -o %t/nonsat-scaled.mlir 2>/dev/null
// RUN: FileCheck %s --check-prefix=ATTR < %t/satfinite-scaled.mlir
// ATTR: lpattn.qk_scale = 2.500000e-01 : f64
//
// Columns: MSE, mean err, max|err|, rel RMSE, NaN, Inf.
// RUN: lpattn-run %t/satfinite.mlir --inputs npy --q-npy %t/q.npy --k-npy %t/k.npy --v-npy %t/v.npy --tile-q 8 --tile-kv 8 | FileCheck %s --check-prefix=CLAMPED
// CLAMPED: MSE
// CLAMPED-NEXT: {{^ *[0-9.e+-]+ +[0-9.e+-]+ +[0-9.e+-]+ +[1-9]\.[0-9]+e-01 +0 +0 }}
// RUN: lpattn-run %t/nonsat.mlir --inputs npy --q-npy %t/q.npy --k-npy %t/k.npy --v-npy %t/v.npy --tile-q 8 --tile-kv 8 | FileCheck %s --check-prefix=NAN
// NAN: MSE
// NAN-NEXT: {{^ *nan +nan +nan +nan +128 +0 }}
// RUN: lpattn-run %t/satfinite-scaled.mlir --inputs npy --q-npy %t/q.npy --k-npy %t/k.npy --v-npy %t/v.npy --tile-q 8 --tile-kv 8 | FileCheck %s --check-prefix=SCALED
// RUN: lpattn-run %t/nonsat-scaled.mlir --inputs npy --q-npy %t/q.npy --k-npy %t/k.npy --v-npy %t/v.npy --tile-q 8 --tile-kv 8 | FileCheck %s --check-prefix=SCALED
// SCALED: MSE
// SCALED-NEXT: {{^ *[0-9.e+-]+ +[0-9.e+-]+ +[0-9.e+-]+ +[0-9]\.[0-9]+e-0[2-9] +0 +0 }}
//
// Small inputs (products up to 420): the scaled op gives the same bits.
// RUN: %python %S/Inputs/make_npy.py %t/q-small.npy 1,1,16,8 --mul 10
// RUN: %python %S/Inputs/make_npy.py %t/k-small.npy 1,1,24,8 --mul 10
// RUN: lpattn-run %t/satfinite.mlir --inputs npy --q-npy %t/q-small.npy --k-npy %t/k-small.npy --v-npy %t/v.npy --tile-q 8 --tile-kv 8 --output-npy %t/small.npy
// RUN: lpattn-run %t/satfinite-scaled.mlir --inputs npy --q-npy %t/q-small.npy --k-npy %t/k-small.npy --v-npy %t/v.npy --tile-q 8 --tile-kv 8 --output-npy %t/small-scaled.npy
// RUN: cmp %t/small.npy %t/small-scaled.npy

//--- satfinite.mlir
func.func @attention(%q: tensor<1x1x16x8xf16>, %k: tensor<1x1x24x8xf16>, %v: tensor<1x1x24x8xf32>) -> tensor<1x1x16x8xf32> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f16, score = f16, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         {lpattn.qk_sigma = array<f64: 1.0>}
         : tensor<1x1x16x8xf16>, tensor<1x1x24x8xf16>, tensor<1x1x24x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}
//--- nonsat.mlir
func.func @attention(%q: tensor<1x1x16x8xf16>, %k: tensor<1x1x24x8xf16>, %v: tensor<1x1x24x8xf32>) -> tensor<1x1x16x8xf32> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f16, score = f16, p = f32, v = f32, acc = f32, out = f32, overflow = nonsat>
         {lpattn.qk_sigma = array<f64: 1.0>}
         : tensor<1x1x16x8xf16>, tensor<1x1x24x8xf16>, tensor<1x1x24x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}
