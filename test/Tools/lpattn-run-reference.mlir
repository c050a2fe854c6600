// lpattn-run measures an .mlir file against the float64 attention of the op
// it ran: the op's own scale, causal flag, mask and descales, not the
// command-line defaults (non-causal, 1/sqrt(D)). All-f32 policies agree with
// it to relative RMSE < 1e-5 (the rel RMSE column is the fourth).
// RUN: split-file %s %t
// RUN: lpattn-run %t/causal.mlir | FileCheck %s --check-prefix=F32
// RUN: lpattn-run %t/causal_rect.mlir | FileCheck %s --check-prefix=F32
// RUN: lpattn-run %t/scale.mlir | FileCheck %s --check-prefix=F32
// RUN: lpattn-run %t/descales.mlir --q-descale 0.5 --k-descale 2 --v-descale 1.5 | FileCheck %s --check-prefix=F32
// RUN: lpattn-run %t/gqa_reverse_pasa.mlir | FileCheck %s --check-prefix=F32
// The same file with a scale from the command line: one reference for both.
// RUN: lpattn-run --nq 32 --nk 48 --head-dim 16 --heads 2 --qk-type f32 --v-type f32 --p-type f32 --out-type f32 --p-scale 1 --scale 0.5 --causal --q-descale 0.5 | FileCheck %s --check-prefix=F32
// F32: MSE
// F32-NEXT: {{[0-9.e+-]+ +[0-9.e+-]+ +[0-9.e+-]+ +([0-9]\.[0-9]+e-(0[6-9]|[1-9][0-9])|0\.0+e\+00) }}
//
// A file with a mask runs with --mask-npy (here key 0 hidden from query 0);
// without one, one clear error.
// RUN: printf "\x93NUMPY\x01\x00\x76\x00{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 16, 16), }%%50s\n\x00\x00\x80\xff" "" > %t.mask.npy
// RUN: head -c 1020 /dev/zero >> %t.mask.npy
// RUN: lpattn-run %t/mask.mlir --mask-npy %t.mask.npy | FileCheck %s --check-prefix=F32
// RUN: not lpattn-run %t/mask.mlir 2>&1 | FileCheck %s --check-prefix=NOMASK
// NOMASK: lpattn-run: error: the attention has a mask operand: give it with --mask-npy
// RUN: not lpattn-run %t/scale.mlir --mask-npy %t.mask.npy 2>&1 | FileCheck %s --check-prefix=NOOPERAND
// NOOPERAND: lpattn-run: error: --mask-npy: the attention has no mask operand

//--- causal.mlir
func.func @attention(%q: tensor<1x2x40x16xf32>, %k: tensor<1x2x40x16xf32>, %v: tensor<1x2x40x16xf32>) -> tensor<1x2x40x16xf32> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         causal = true tiles = [16, 16]
         : tensor<1x2x40x16xf32>, tensor<1x2x40x16xf32>, tensor<1x2x40x16xf32> -> tensor<1x2x40x16xf32>
  return %o : tensor<1x2x40x16xf32>
}
//--- causal_rect.mlir
func.func @attention(%q: tensor<1x2x24x16xf32>, %k: tensor<1x2x56x16xf32>, %v: tensor<1x2x56x16xf32>) -> tensor<1x2x24x16xf32> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         causal = true tiles = [16, 16]
         : tensor<1x2x24x16xf32>, tensor<1x2x56x16xf32>, tensor<1x2x56x16xf32> -> tensor<1x2x24x16xf32>
  return %o : tensor<1x2x24x16xf32>
}
//--- scale.mlir
func.func @attention(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x48x16xf32>, %v: tensor<1x2x48x16xf32>) -> tensor<1x2x32x16xf32> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         scale = 0.5 tiles = [16, 16]
         : tensor<1x2x32x16xf32>, tensor<1x2x48x16xf32>, tensor<1x2x48x16xf32> -> tensor<1x2x32x16xf32>
  return %o : tensor<1x2x32x16xf32>
}
//--- descales.mlir
func.func @attention(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x48x16xf32>, %v: tensor<1x2x48x16xf32>, %qd: f32, %kd: f32, %vd: f32) -> tensor<1x2x32x16xf32> {
  %o = lpattn.attention %q, %k, %v descale(%qd, %kd, %vd)
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         tiles = [16, 16]
         : tensor<1x2x32x16xf32>, tensor<1x2x48x16xf32>, tensor<1x2x48x16xf32> -> tensor<1x2x32x16xf32>
  return %o : tensor<1x2x32x16xf32>
}
//--- gqa_reverse_pasa.mlir
func.func @attention(%q: tensor<1x4x32x16xf32>, %k: tensor<1x2x48x16xf32>, %v: tensor<1x2x48x16xf32>) -> tensor<1x4x32x16xf32> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         kv_order = reverse softmax = pasa causal = true tiles = [16, 16]
         : tensor<1x4x32x16xf32>, tensor<1x2x48x16xf32>, tensor<1x2x48x16xf32> -> tensor<1x4x32x16xf32>
  return %o : tensor<1x4x32x16xf32>
}
//--- mask.mlir
func.func @attention(%q: tensor<1x1x16x16xf32>, %k: tensor<1x1x16x16xf32>, %v: tensor<1x1x16x16xf32>, %m: tensor<1x1x16x16xf32>) -> tensor<1x1x16x16xf32> {
  %o = lpattn.attention %q, %k, %v mask(%m)
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         tiles = [16, 16]
         : tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32> -> tensor<1x1x16x16xf32>
  return %o : tensor<1x1x16x16xf32>
}
