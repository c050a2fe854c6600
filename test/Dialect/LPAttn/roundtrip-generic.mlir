// RUN: lpattn-opt %s --mlir-print-op-generic | lpattn-opt | FileCheck %s
// RUN: lpattn-opt %s --emit-bytecode | lpattn-opt | FileCheck %s

// The generic form and the bytecode carry every attribute of the op
// (properties included) and read back into the same custom form.

// CHECK-LABEL: func.func @generic_roundtrip
// CHECK:       lpattn.attention %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}} mask(%{{[a-z0-9]+}}) descale(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}})
// CHECK-SAME:    policy = <qk = f8E5M2, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = f16, overflow = nonsat>
// CHECK-SAME:    scale = 6.250000e-02 p_scale = 6.400000e+01 kv_order = reverse
// CHECK-SAME:    softmax = bias_corrected(beta = 4.000000e+00, tol = 5.000000e-04) causal = true tiles = [128, 64]
func.func @generic_roundtrip(%q: tensor<1x4x32x256xf8E5M2>, %k: tensor<1x1x64x256xf8E5M2>,
                             %v: tensor<1x1x64x64xf8E4M3FN>, %m: tensor<1x4x32x64xf32>,
                             %qd: f32, %kd: f32, %vd: f32) -> tensor<1x4x32x64xf16> {
  %o = lpattn.attention %q, %k, %v mask(%m) descale(%qd, %kd, %vd)
         policy = <qk = f8E5M2, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = f16, overflow = nonsat>
         scale = 0.0625 p_scale = 64.0 kv_order = reverse
         softmax = bias_corrected(beta = 4.0, tol = 5.0e-4) causal = true tiles = [128, 64]
         : tensor<1x4x32x256xf8E5M2>, tensor<1x1x64x256xf8E5M2>, tensor<1x1x64x64xf8E4M3FN>, tensor<1x4x32x64xf32>
           -> tensor<1x4x32x64xf16>
  return %o : tensor<1x4x32x64xf16>
}

// CHECK-LABEL: func.func @generic_per_head
// CHECK:       lpattn.attention %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}} descale(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}} : tensor<1x2xf32>) policy =
func.func @generic_per_head(%q: tensor<1x4x16x16xf32>, %k: tensor<1x2x16x16xf32>, %v: tensor<1x2x16x16xf32>,
                            %qd: tensor<1x2xf32>, %kd: tensor<1x2xf32>, %vd: tensor<1x2xf32>) -> tensor<1x4x16x16xf32> {
  %o = lpattn.attention %q, %k, %v descale(%qd, %kd, %vd : tensor<1x2xf32>)
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         : tensor<1x4x16x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32> -> tensor<1x4x16x16xf32>
  return %o : tensor<1x4x16x16xf32>
}
