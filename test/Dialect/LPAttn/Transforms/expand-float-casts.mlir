// RUN: lpattn-opt %s --lpattn-expand-float-casts | FileCheck %s
// RUN: lpattn-opt %s --lpattn-expand-float-casts | FileCheck %s --check-prefix=NONE
// RUN: lpattn-opt %s --lpattn-expand-float-casts --convert-arith-to-llvm \
// RUN:   --convert-func-to-llvm --reconcile-unrealized-casts > %t.llvm.mlir
// RUN: FileCheck %s --check-prefix=LLVM < %t.llvm.mlir
// RUN: FileCheck %s --check-prefix=LLVM-NONE < %t.llvm.mlir

// The casts become integer arithmetic on the f32 bits; no cast LLVM cannot
// lower is left.
// NONE-NOT: lpattn.truncf
// NONE-NOT: arith.extf {{.*}}f8E
// NONE-NOT: arith.truncf {{.*}}f8E

// After the LLVM conversions FP8 values are plain i8 (the type converter maps
// float types LLVM lacks to integers of their width).
// LLVM-NONE-NOT: f8E
// LLVM-NONE-NOT: unrealized_conversion_cast
// LLVM-LABEL: llvm.func @truncf_e4m3_satfinite(
// LLVM-SAME:    %{{.*}}: f32) -> i8
// LLVM:         %[[I8:.*]] = llvm.trunc %{{.*}} : i32 to i8
// LLVM-NEXT:    llvm.return %[[I8]] : i8
// LLVM-LABEL: llvm.func @extf_e5m2_vector(
// LLVM-SAME:    %[[X:.*]]: vector<4xi8>) -> vector<4xf32>
// LLVM:         llvm.zext %[[X]] : vector<4xi8> to vector<4xi32>

// f8E4M3FN: bias 7, 3 mantissa bits, max finite 448 = 0x7E, NaN 0x7F.
// CHECK-LABEL: func.func @truncf_e4m3_satfinite(
// CHECK-SAME:      %[[X:.*]]: f32) -> f8E4M3FN
// CHECK-DAG:     %[[SIGN_MASK:.*]] = arith.constant -2147483648 : i32
// CHECK-DAG:     %[[ABS_MASK:.*]] = arith.constant 2147483647 : i32
// (127 - 7) << 23
// CHECK-DAG:     %[[REBIAS:.*]] = arith.constant 1006632960 : i32
// CHECK-DAG:     %[[C23:.*]] = arith.constant 23 : i32
// Exponent fields below 128 - 7 are subnormal (or zero) in e4m3.
// CHECK-DAG:     %[[SUB_EXP:.*]] = arith.constant 121 : i32
// CHECK-DAG:     %[[FRAC_MASK:.*]] = arith.constant 8388607 : i32
// CHECK-DAG:     %[[IMPLICIT:.*]] = arith.constant 8388608 : i32
// Subnormal shift 151 - 7 - 3 - e, capped at 31.
// CHECK-DAG:     %[[C141:.*]] = arith.constant 141 : i32
// CHECK-DAG:     %[[C31:.*]] = arith.constant 31 : i32
// Normal shift 23 - 3.
// CHECK-DAG:     %[[C20:.*]] = arith.constant 20 : i32
// CHECK-DAG:     %[[C1:.*]] = arith.constant 1 : i32
// CHECK-DAG:     %[[MAX:.*]] = arith.constant 126 : i32
// CHECK-DAG:     %[[C24:.*]] = arith.constant 24 : i32
// CHECK-DAG:     %[[INF32:.*]] = arith.constant 2139095040 : i32
// CHECK-DAG:     %[[NAN:.*]] = arith.constant 127 : i32
// Sign.
// CHECK:         %[[BITS:.*]] = arith.bitcast %[[X]] : f32 to i32
// CHECK-NEXT:    %[[SIGN:.*]] = arith.andi %[[BITS]], %[[SIGN_MASK]] : i32
// CHECK-NEXT:    %[[ABS:.*]] = arith.andi %[[BITS]], %[[ABS_MASK]] : i32
// Exponent rebias.
// CHECK-NEXT:    %[[NORMAL:.*]] = arith.subi %[[ABS]], %[[REBIAS]] : i32
// Subnormal shift: the mantissa with its implicit one, shifted further.
// CHECK-NEXT:    %[[EXP:.*]] = arith.shrui %[[ABS]], %[[C23]] : i32
// CHECK-NEXT:    %[[IS_SUB:.*]] = arith.cmpi ult, %[[EXP]], %[[SUB_EXP]] : i32
// CHECK-NEXT:    %[[FRAC:.*]] = arith.andi %[[ABS]], %[[FRAC_MASK]] : i32
// CHECK-NEXT:    %[[MANT:.*]] = arith.ori %[[FRAC]], %[[IMPLICIT]] : i32
// CHECK-NEXT:    %[[SUB_SHIFT:.*]] = arith.subi %[[C141]], %[[EXP]] : i32
// CHECK-NEXT:    %[[SUB_SHIFT_CAP:.*]] = arith.minui %[[SUB_SHIFT]], %[[C31]] : i32
// CHECK-NEXT:    %[[V:.*]] = arith.select %[[IS_SUB]], %[[MANT]], %[[NORMAL]] : i32
// CHECK-NEXT:    %[[S:.*]] = arith.select %[[IS_SUB]], %[[SUB_SHIFT_CAP]], %[[C20]] : i32
// RNE: (v + (2^(s-1) - 1) + lsb) >> s; the carry may reach the exponent.
// CHECK-NEXT:    %[[KEPT:.*]] = arith.shrui %[[V]], %[[S]] : i32
// CHECK-NEXT:    %[[LSB:.*]] = arith.andi %[[KEPT]], %[[C1]] : i32
// CHECK-NEXT:    %[[S_M1:.*]] = arith.subi %[[S]], %[[C1]] : i32
// CHECK-NEXT:    %[[HALF:.*]] = arith.shli %[[C1]], %[[S_M1]] : i32
// CHECK-NEXT:    %[[HALF_M1:.*]] = arith.subi %[[HALF]], %[[C1]] : i32
// CHECK-NEXT:    %[[SUM:.*]] = arith.addi %[[V]], %[[HALF_M1]] : i32
// CHECK-NEXT:    %[[SUM_LSB:.*]] = arith.addi %[[SUM]], %[[LSB]] : i32
// CHECK-NEXT:    %[[ROUNDED:.*]] = arith.shrui %[[SUM_LSB]], %[[S]] : i32
// Saturation: satfinite clamps the magnitude code to max finite.
// CHECK-NEXT:    %[[CLAMPED:.*]] = arith.minui %[[ROUNDED]], %[[MAX]] : i32
// CHECK-NEXT:    %[[SIGN8:.*]] = arith.shrui %[[SIGN]], %[[C24]] : i32
// CHECK-NEXT:    %[[SIGNED:.*]] = arith.ori %[[CLAMPED]], %[[SIGN8]] : i32
// NaN: any f32 NaN becomes the canonical 0x7F.
// CHECK-NEXT:    %[[IS_NAN:.*]] = arith.cmpi ugt, %[[ABS]], %[[INF32]] : i32
// CHECK-NEXT:    %[[RES:.*]] = arith.select %[[IS_NAN]], %[[NAN]], %[[SIGNED]] : i32
// CHECK-NEXT:    %[[I8:.*]] = arith.trunci %[[RES]] : i32 to i8
// CHECK-NEXT:    %[[F8:.*]] = arith.bitcast %[[I8]] : i8 to f8E4M3FN
// CHECK-NEXT:    return %[[F8]] : f8E4M3FN
func.func @truncf_e4m3_satfinite(%x: f32) -> f8E4M3FN {
  %y = lpattn.truncf %x rne satfinite : f32 to f8E4M3FN
  return %y : f8E4M3FN
}

// The same steps, lane-wise, with splat constants.
// CHECK-LABEL: func.func @truncf_e4m3_satfinite_vector(
// CHECK-SAME:      %[[X:.*]]: vector<8xf32>) -> vector<8xf8E4M3FN>
// CHECK-DAG:     %[[REBIAS:.*]] = arith.constant dense<1006632960> : vector<8xi32>
// CHECK-DAG:     %[[SUB_EXP:.*]] = arith.constant dense<121> : vector<8xi32>
// CHECK-DAG:     %[[MAX:.*]] = arith.constant dense<126> : vector<8xi32>
// CHECK-DAG:     %[[NAN:.*]] = arith.constant dense<127> : vector<8xi32>
// Sign.
// CHECK:         %[[BITS:.*]] = arith.bitcast %[[X]] : vector<8xf32> to vector<8xi32>
// CHECK-NEXT:    %[[SIGN:.*]] = arith.andi %[[BITS]], %{{.*}} : vector<8xi32>
// CHECK-NEXT:    %[[ABS:.*]] = arith.andi %[[BITS]], %{{.*}} : vector<8xi32>
// Exponent rebias.
// CHECK-NEXT:    %[[NORMAL:.*]] = arith.subi %[[ABS]], %[[REBIAS]] : vector<8xi32>
// Subnormal shift.
// CHECK:         %[[IS_SUB:.*]] = arith.cmpi ult, %{{.*}}, %[[SUB_EXP]] : vector<8xi32>
// CHECK:         %[[V:.*]] = arith.select %[[IS_SUB]], %{{.*}}, %[[NORMAL]] : vector<8xi1>, vector<8xi32>
// CHECK-NEXT:    %[[S:.*]] = arith.select %[[IS_SUB]], %{{.*}} : vector<8xi1>, vector<8xi32>
// RNE.
// CHECK-NEXT:    %[[KEPT:.*]] = arith.shrui %[[V]], %[[S]] : vector<8xi32>
// CHECK:         %[[SUM:.*]] = arith.addi %[[V]], %{{.*}} : vector<8xi32>
// CHECK-NEXT:    %[[SUM_LSB:.*]] = arith.addi %[[SUM]], %{{.*}} : vector<8xi32>
// CHECK-NEXT:    %[[ROUNDED:.*]] = arith.shrui %[[SUM_LSB]], %[[S]] : vector<8xi32>
// Saturation.
// CHECK-NEXT:    %[[CLAMPED:.*]] = arith.minui %[[ROUNDED]], %[[MAX]] : vector<8xi32>
// NaN.
// CHECK:         %[[IS_NAN:.*]] = arith.cmpi ugt, %[[ABS]], %{{.*}} : vector<8xi32>
// CHECK-NEXT:    %[[RES:.*]] = arith.select %[[IS_NAN]], %[[NAN]], %{{.*}} : vector<8xi1>, vector<8xi32>
// CHECK-NEXT:    %[[I8:.*]] = arith.trunci %[[RES]] : vector<8xi32> to vector<8xi8>
// CHECK-NEXT:    %[[F8:.*]] = arith.bitcast %[[I8]] : vector<8xi8> to vector<8xf8E4M3FN>
// CHECK-NEXT:    return %[[F8]]
func.func @truncf_e4m3_satfinite_vector(%x: vector<8xf32>) -> vector<8xf8E4M3FN> {
  %y = lpattn.truncf %x rne satfinite : vector<8xf32> to vector<8xf8E4M3FN>
  return %y : vector<8xf8E4M3FN>
}

// nonsat clamps to the code above max finite: NaN for e4m3.
// CHECK-LABEL: func.func @truncf_e4m3_nonsat(
// CHECK:         %[[NAN:.*]] = arith.constant 127 : i32
// CHECK:         arith.minui %{{.*}}, %[[NAN]] : i32
func.func @truncf_e4m3_nonsat(%x: f32) -> f8E4M3FN {
  %y = lpattn.truncf %x rne nonsat : f32 to f8E4M3FN
  return %y : f8E4M3FN
}

// f16: bias 15, 10 mantissa bits; nonsat overflows to Inf 0x7C00 = 31744,
// NaN is 0x7FFF = 32767.
// CHECK-LABEL: func.func @truncf_f16_nonsat(
// CHECK-DAG:     %[[NAN:.*]] = arith.constant 32767 : i32
// CHECK-DAG:     %[[INF:.*]] = arith.constant 31744 : i32
// CHECK-DAG:     %[[SUB_EXP:.*]] = arith.constant 113 : i32
// CHECK-DAG:     %[[REBIAS:.*]] = arith.constant 939524096 : i32
// CHECK:         arith.subi %{{.*}}, %[[REBIAS]] : i32
// CHECK:         arith.cmpi ult, %{{.*}}, %[[SUB_EXP]] : i32
// CHECK:         arith.minui %{{.*}}, %[[INF]] : i32
// CHECK:         arith.select %{{.*}}, %[[NAN]], %{{.*}} : i32
// CHECK:         arith.trunci %{{.*}} : i32 to i16
// CHECK:         arith.bitcast %{{.*}} : i16 to f16
func.func @truncf_f16_nonsat(%x: f32) -> f16 {
  %y = lpattn.truncf %x rne nonsat : f32 to f16
  return %y : f16
}

// bf16 has the exponent range of f32: no rebias, no subnormal path, a
// fixed shift of 16; satfinite clamps to 0x7F7F = 32639.
// CHECK-LABEL: func.func @truncf_bf16_satfinite(
// CHECK-DAG:     %[[MAX:.*]] = arith.constant 32639 : i32
// CHECK:         arith.bitcast %{{.*}} : f32 to i32
// CHECK-NOT:     arith.subi
// CHECK-NOT:     arith.cmpi ult
// CHECK:         arith.minui %{{.*}}, %[[MAX]] : i32
// CHECK:         arith.trunci %{{.*}} : i32 to i16
// CHECK:         arith.bitcast %{{.*}} : i16 to bf16
func.func @truncf_bf16_satfinite(%x: f32) -> bf16 {
  %y = lpattn.truncf %x rne satfinite : f32 to bf16
  return %y : bf16
}

// arith.truncf to FP8 has IEEE overflow: the nonsat expansion (e5m2: Inf
// 0x7C = 124).
// CHECK-LABEL: func.func @arith_truncf_e5m2(
// CHECK:         %[[INF:.*]] = arith.constant 124 : i32
// CHECK:         arith.minui %{{.*}}, %[[INF]] : i32
// CHECK:         arith.bitcast %{{.*}} : i8 to f8E5M2
func.func @arith_truncf_e5m2(%x: f32) -> f8E5M2 {
  %y = arith.truncf %x : f32 to f8E5M2
  return %y : f8E5M2
}

// arith.extf from e4m3: sign to bit 31, normal codes shifted and rebiased,
// subnormal codes as mantissa * 2^-9, NaN to 0x7FFFFFFF.
// CHECK-LABEL: func.func @extf_e4m3(
// CHECK-SAME:      %[[X:.*]]: f8E4M3FN) -> f32
// CHECK-DAG:     %[[NAN32:.*]] = arith.constant 2147483647 : i32
// CHECK-DAG:     %[[UNIT:.*]] = arith.constant 0.001953125 : f32
// CHECK-DAG:     %[[REBIAS:.*]] = arith.constant 1006632960 : i32
// CHECK:         %[[I8:.*]] = arith.bitcast %[[X]] : f8E4M3FN to i8
// CHECK-NEXT:    %[[CODE:.*]] = arith.extui %[[I8]] : i8 to i32
// Sign.
// CHECK-NEXT:    %[[SIGN_BIT:.*]] = arith.andi %[[CODE]], %{{.*}} : i32
// CHECK-NEXT:    %[[SIGN:.*]] = arith.shli %[[SIGN_BIT]], %{{.*}} : i32
// CHECK-NEXT:    %[[ABS:.*]] = arith.andi %[[CODE]], %{{.*}} : i32
// Exponent rebias.
// CHECK-NEXT:    %[[SHIFTED:.*]] = arith.shli %[[ABS]], %{{.*}} : i32
// CHECK-NEXT:    %[[NORMAL:.*]] = arith.addi %[[SHIFTED]], %[[REBIAS]] : i32
// Subnormals.
// CHECK-NEXT:    %[[MANT:.*]] = arith.uitofp %[[ABS]] : i32 to f32
// CHECK-NEXT:    %[[SUB:.*]] = arith.mulf %[[MANT]], %[[UNIT]] : f32
// CHECK-NEXT:    %[[SUB_BITS:.*]] = arith.bitcast %[[SUB]] : f32 to i32
// CHECK-NEXT:    %[[IS_SUB:.*]] = arith.cmpi ult, %[[ABS]], %{{.*}} : i32
// CHECK-NEXT:    %[[MAG:.*]] = arith.select %[[IS_SUB]], %[[SUB_BITS]], %[[NORMAL]] : i32
// NaN (e4m3 has no Inf).
// CHECK-NEXT:    %[[IS_NAN:.*]] = arith.cmpi eq, %[[ABS]], %{{.*}} : i32
// CHECK-NEXT:    %[[SIGNED:.*]] = arith.ori %[[MAG]], %[[SIGN]] : i32
// CHECK-NEXT:    %[[RES:.*]] = arith.select %[[IS_NAN]], %[[NAN32]], %[[SIGNED]] : i32
// CHECK-NEXT:    %[[F:.*]] = arith.bitcast %[[RES]] : i32 to f32
// CHECK-NEXT:    return %[[F]] : f32
func.func @extf_e4m3(%x: f8E4M3FN) -> f32 {
  %y = arith.extf %x : f8E4M3FN to f32
  return %y : f32
}

// e5m2 has Inf (0x7C = 124): codes above it are NaN.
// CHECK-LABEL: func.func @extf_e5m2_vector(
// CHECK-DAG:     %[[INF_CODE:.*]] = arith.constant dense<124> : vector<4xi32>
// CHECK-DAG:     %[[INF32:.*]] = arith.constant dense<2139095040> : vector<4xi32>
// CHECK:         %[[IS_INF:.*]] = arith.cmpi eq, %[[ABS:.*]], %[[INF_CODE]] : vector<4xi32>
// CHECK-NEXT:    arith.select %[[IS_INF]], %[[INF32]], %{{.*}} : vector<4xi1>, vector<4xi32>
// CHECK-NEXT:    arith.cmpi ugt, %[[ABS]], %[[INF_CODE]] : vector<4xi32>
// CHECK:         arith.bitcast %{{.*}} : vector<4xi32> to vector<4xf32>
func.func @extf_e5m2_vector(%x: vector<4xf8E5M2>) -> vector<4xf32> {
  %y = arith.extf %x : vector<4xf8E5M2> to vector<4xf32>
  return %y : vector<4xf32>
}

// Other result types: one exact cast from f32. f16/bf16 sources are left to
// LLVM.
// CHECK-LABEL: func.func @extf_other_types(
// CHECK:         arith.extf %{{.*}} : f32 to f64
// CHECK:         arith.extf %{{.*}} : f16 to f32
func.func @extf_other_types(%x: f8E5M2, %h: f16) -> (f64, f32) {
  %y = arith.extf %x : f8E5M2 to f64
  %z = arith.extf %h : f16 to f32
  return %y, %z : f64, f32
}
