//===- LPAttnAttrs.td - lpattn enums and attributes --------*- tablegen -*-===//
//
// The precision policy and the numerics modes of lpattn. The enums are plain
// C++ (namespace lpattn) so that the numerics library and the runtime use the
// same type as the IR.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_DIALECT_LPATTN_IR_LPATTNATTRS_TD
#define LPATTN_DIALECT_LPATTN_IR_LPATTNATTRS_TD

include "lpattn/Dialect/LPAttn/IR/LPAttnBase.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def LPAttn_KVOrder : I32EnumAttr<"KVOrder", "order of the KV tile loop", [
    I32EnumAttrCase<"Forward", 0, "forward">,
    I32EnumAttrCase<"Reverse", 1, "reverse">]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::lpattn";
}
def LPAttn_KVOrderAttr : EnumAttr<LPAttn_Dialect, LPAttn_KVOrder, "kv_order">;

def LPAttn_SoftmaxVariant : I32EnumAttr<"SoftmaxVariant",
    "online-softmax variant", [
    I32EnumAttrCase<"Standard", 0, "standard">,
    I32EnumAttrCase<"BiasCorrected", 1, "bias_corrected">,
    I32EnumAttrCase<"Pasa", 2, "pasa">]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::lpattn";
}
def LPAttn_SoftmaxVariantAttr
    : EnumAttr<LPAttn_Dialect, LPAttn_SoftmaxVariant, "softmax">;

def LPAttn_OverflowMode : I32EnumAttr<"OverflowMode",
    "what a round-to-nearest-even cast does with values above max finite", [
    // Clamp to +-max finite (CUDA __NV_SATFINITE, PTX cvt.rn.satfinite).
    I32EnumAttrCase<"SatFinite", 0, "satfinite">,
    // IEEE overflow: Inf where the format has one, NaN for f8E4M3FN.
    I32EnumAttrCase<"NonSat", 1, "nonsat">]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::lpattn";
}
def LPAttn_OverflowModeAttr
    : EnumAttr<LPAttn_Dialect, LPAttn_OverflowMode, "overflow">;

// The numerics step an op of the tile-level form performs (SPEC.md, "The
// computation"). lpattn-tile tags every op it creates with `lpattn.step`, so
// that IR reads as the algorithm and the safeguard passes find their anchors.
def LPAttn_Step : I32EnumAttr<"Step", "numerics step of the tile-level form", [
    I32EnumAttrCase<"QKMma", 0, "qk_mma">,           // Q_i K_j^T, f32 sums
    I32EnumAttrCase<"Score", 1, "score">,     // f32(round_score(S)) * c q_ds k_ds
    I32EnumAttrCase<"Mask", 2, "mask">,              // causal / additive mask
    I32EnumAttrCase<"RowMax", 3, "row_max">,         // m' = max(m, rowmax(S))
    I32EnumAttrCase<"MaxGuard", 4, "max_guard">,     // m' = -inf -> 0
    I32EnumAttrCase<"Exp", 5, "exp">,                // P = exp(S - m')
    I32EnumAttrCase<"RescaleFactor", 6, "rescale_factor">, // exp(m - m')
    I32EnumAttrCase<"RowSum", 7, "row_sum">,         // l' = l * a + rowsum(P)
    I32EnumAttrCase<"PScale", 8, "p_scale">,         // P * S
    I32EnumAttrCase<"PCast", 9, "p_cast">,           // P~ = cast_p(...)
    I32EnumAttrCase<"AccRescale", 10, "acc_rescale">, // f32(acc) * exp(m - m')
    I32EnumAttrCase<"PVMma", 11, "pv_mma">,          // P~ V_j, f32 sums
    I32EnumAttrCase<"UnscaleSum", 12, "unscale_sum">, // l * S
    I32EnumAttrCase<"Normalize", 13, "normalize">,   // acc / l * v_ds
    I32EnumAttrCase<"TieCount", 14, "tie_count">,    // LPTF: #scores near m'
    I32EnumAttrCase<"BiasCorrect", 15, "bias_correct">, // LPTF: m' rewrite
    I32EnumAttrCase<"PasaMean", 16, "pasa_mean">,    // d_j = beta mean(K_j - mu)
    I32EnumAttrCase<"PasaShift", 17, "pasa_shift">,  // K_j - beta * mean(K_j)
    I32EnumAttrCase<"PasaRecover", 18, "pasa_recover">, // Q_i d_j^T
    I32EnumAttrCase<"PasaAdd", 19, "pasa_add">,      // S + recovered shift c
    I32EnumAttrCase<"KVIndex", 20, "kv_index">,      // reversed tile index
    // round_acc(acc * a + f32(round_acc(P~ V_j))): one rounding of acc.
    I32EnumAttrCase<"Accumulate", 21, "accumulate">,
    // PASA: the reference key mean whose shift cancels in the softmax.
    I32EnumAttrCase<"PasaReference", 22, "pasa_reference">]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::lpattn";
}
def LPAttn_StepAttr : EnumAttr<LPAttn_Dialect, LPAttn_Step, "step">;

//===----------------------------------------------------------------------===//
// PrecisionPolicyAttr
//===----------------------------------------------------------------------===//

def LPAttn_PrecisionPolicyAttr : LPAttn_Attr<"PrecisionPolicy", "precision"> {
  let summary = "element types of every numerics step of an attention";
  let description = [{
    The one precision policy of lpattn. Each parameter is the element type of
    one step of the flash-attention forward (SPEC.md, "The computation"):

    * `qk`: inputs of the Q K^T product (Q and K operands have this type);
    * `score`: the score tile S, the Q K^T product (summed in f32) rounded
      to this type once;
    * `p`: type P is cast to (round-to-nearest-even) before the P V product;
    * `v`: V operand of the P V product;
    * `acc`: the output accumulator `acc`, kept in this type between KV
      tiles; each tile's P V product (summed in f32) is rounded to it once,
      and so is acc * exp(m - m') + P V (the softmax statistics m, l are
      always f32);
    * `out`: the result;
    * `overflow`: what every cast does above the max finite value.

    Supported element types: f32, f16, bf16, f8E4M3FN, f8E5M2 for qk, p and
    v; f32, f16, bf16 for score, acc and out.

    ```mlir
    #lpattn.precision<qk = f8E4M3FN, score = f32, p = f8E4M3FN,
                      v = f8E4M3FN, acc = f32, out = bf16,
                      overflow = satfinite>
    ```
  }];
  let parameters = (ins
    "::mlir::Type":$qk,
    "::mlir::Type":$score,
    "::mlir::Type":$p,
    "::mlir::Type":$v,
    "::mlir::Type":$acc,
    "::mlir::Type":$out,
    EnumParameter<LPAttn_OverflowMode>:$overflow);
  // `<qk = t, score = t, ...>`: every field required, in any order; a
  // hand-written parser names a missing, unknown or repeated field.
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The plain C++ policy (no MLIR types) used by the numerics library and
    /// the runtime.
    ::lpattn::PrecisionPolicy toPolicy() const;
  }];
}

#endif // LPATTN_DIALECT_LPATTN_IR_LPATTNATTRS_TD
