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

// The modes of an attention are plain C++ enums (lpattn/Numerics/Enums.h,
// shared with the runtime, which has no MLIR); each attribute below wraps
// one, and its spelling comes from that header's stringify/symbolize.
class LPAttn_NumericsEnumAttr<string enumName, string attrMnemonic,
                              string summaryText>
    : LPAttn_Attr<enumName, attrMnemonic> {
  let summary = summaryText;
  let parameters = (ins
      AttrParameter<"::lpattn::" # enumName, summaryText>:$value);
  let assemblyFormat = "$value";
  let returnType = "::lpattn::" # enumName;
  let convertFromStorage = "$_self.getValue()";
  let constBuilderCall =
      "::lpattn::" # enumName # "Attr::get($_builder.getContext(), $0)";
}

def LPAttn_KVOrderAttr : LPAttn_NumericsEnumAttr<"KVOrder", "kv_order",
    "order of the KV tile loop: forward or reverse">;

def LPAttn_OverflowModeAttr : LPAttn_NumericsEnumAttr<"OverflowMode",
    "overflow",
    "what a round-to-nearest-even cast does above max finite: satfinite "
    "(clamp, CUDA __NV_SATFINITE) or nonsat (Inf, or NaN for f8E4M3FN)">;

//===----------------------------------------------------------------------===//
// SoftmaxAttr
//===----------------------------------------------------------------------===//

def LPAttn_SoftmaxAttr : LPAttn_Attr<"Softmax", "softmax"> {
  let summary = "online-softmax variant and its parameters";
  let description = [{
    `standard`; `bias_corrected(beta = b, tol = t)`, LPTF's bias-corrected
    safe softmax (arXiv 2510.04212): where >= 2 scores of a tile row lie
    within `tol` of the row max m, use m' = beta * m (m > 0) or 0 (m < 0),
    so that no P is exactly 1; or `pasa(beta = b)`, PASA's shifted softmax
    (arXiv 2503.01873): each KV tile is shifted by beta times its mean key
    before the low-precision product.

    Parameters a variant takes are always present (the parser and
    `getWithDefaults` fill the defaults of lpattn/Numerics/Rules.h:
    bias_corrected beta 2, tol 1e-3; pasa beta 1), and parameters it does
    not take are absent; the verifier checks their ranges.

    ```mlir
    #lpattn.softmax<bias_corrected(beta = 2.0, tol = 1.0e-3)>
    ```
  }];
  let parameters = (ins
    AttrParameter<"::lpattn::SoftmaxVariant", "the variant">:$variant,
    OptionalParameter<"::mlir::FloatAttr", "beta (f64)">:$beta,
    OptionalParameter<"::mlir::FloatAttr", "tolerance of a tie (f64)">:$tol);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// `variant` with the parameters given and the variant's defaults for
    /// those that are not.
    static SoftmaxAttr getWithDefaults(::mlir::MLIRContext *context,
                                       ::lpattn::SoftmaxVariant variant,
                                       std::optional<double> beta = {},
                                       std::optional<double> tol = {});
    /// `variant` with exactly the parameters given (f64).
    static SoftmaxAttr getExact(::mlir::MLIRContext *context,
                                ::lpattn::SoftmaxVariant variant,
                                std::optional<double> beta,
                                std::optional<double> tol);
    /// The parameters as doubles; nullopt where absent.
    std::optional<double> getBetaValue() const;
    std::optional<double> getTolValue() const;
    /// `variant` or `variant(beta = b[, tol = t])`, the form the op's
    /// `softmax = ...` clause and `#lpattn.softmax<...>` share.
    static ::mlir::FailureOr<SoftmaxAttr> parseBody(::mlir::AsmParser &parser);
    void printBody(::mlir::AsmPrinter &printer) const;
  }];
}

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
    I32EnumAttrCase<"PasaReference", 22, "pasa_reference">,
    I32EnumAttrCase<"KVOffset", 23, "kv_offset">]> { // first key of the tile
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
    AttrParameter<"::lpattn::OverflowMode", "overflow mode">:$overflow);
  // `<qk = t, score = t, ...>`: every field required, in any order; a
  // hand-written parser names a missing, unknown or repeated field.
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The plain C++ policy (no MLIR types) used by the numerics library and
    /// the runtime.
    ::lpattn::PrecisionPolicy toPolicy() const;
    /// The attribute of a plain C++ policy.
    static PrecisionPolicyAttr get(::mlir::MLIRContext *context,
                                   const ::lpattn::PrecisionPolicy &policy);
  }];
}

#endif // LPATTN_DIALECT_LPATTN_IR_LPATTNATTRS_TD
