//===- LPAttnOps.td - lpattn operations --------------------*- tablegen -*-===//
//
// The graph-level attention op. Tile-level ops live beside it once the
// lowering needs them.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_DIALECT_LPATTN_IR_LPATTNOPS_TD
#define LPATTN_DIALECT_LPATTN_IR_LPATTNOPS_TD

include "lpattn/Dialect/LPAttn/IR/LPAttnBase.td"
include "lpattn/Dialect/LPAttn/IR/LPAttnAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonAttrConstraints.td"

def LPAttn_AttnTensor : TensorRankOf<[AnyFloat], [4]>;
def LPAttn_TileSizes : ConfinedAttr<DenseI64ArrayAttr, [DenseArrayCount<2>]>;
// A descale: an f32 scalar (per tensor) or an f32 tensor, which the verifier
// requires to be [B, Hkv] (per batch and KV head, FlashAttention-3's form).
def LPAttn_Descale : AnyTypeOf<[F32, RankedTensorOf<[F32]>],
                               "f32 or a [B, Hkv] tensor of f32">;

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

def LPAttn_AttentionOp : LPAttn_Op<"attention",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "scaled-dot-product attention with explicit numerics";
  let description = [{
    `O = softmax(c * q_ds * k_ds * Q K^T + mask) V * v_ds`, computed as the
    flash-attention forward of SPEC.md with every precision explicit.

    Layout: `Q: [B, Hq, Nq, D]`, `K: [B, Hkv, Nk, D]`, `V: [B, Hkv, Nk, Dv]`,
    result `[B, Hq, Nq, Dv]`. `Hq` must be a multiple of `Hkv` (GQA/MQA: query
    head `h` reads KV head `h / (Hq / Hkv)`). The optional additive `mask` is
    `[B or 1, Hq or 1, Nq, Nk]`. The optional `descale` operands are the
    descales of Q, K and V (all three or none), in one of two forms (all
    three the same):

    * per tensor: three `f32` scalars, `descale(%q_ds, %k_ds, %v_ds)`;
    * per (batch, KV head), as FlashAttention-3 takes them: three
      `tensor<B x Hkv x f32>`, `descale(%q_ds, %k_ds, %v_ds : tensor<BxHkvxf32>)`
      (the type is written once). Query head `h` of batch `b` uses entry
      `[b, h / (Hq / Hkv)]` of each: all query heads of a GQA group share
      their KV head's q descale.

    Either way the score scale is `(c * q_ds) * k_ds` in f32 and O is
    multiplied by `v_ds` at the end.

    Attributes (all printed; the parser fills the defaults shown):

    * `policy`: the `#lpattn.precision` policy, printed without its
      `#lpattn.precision` prefix. Q and K have element type
      `qk`, V has `v`, the result has `out`.
    * `scale` (default `1/sqrt(D)`): the softmax scale c.
    * `p_scale` (default 1): the P-Cast scale S, a power of two with
      `1 * S <= max finite(p)` (256 is the largest for f8E4M3FN).
    * `kv_order` (default `forward`): `forward` or `reverse` KV tile order.
    * `softmax` (default `standard`): `standard`,
      `bias_corrected(beta = 2.0, tol = 1.0e-3)` (LPTF) or
      `pasa(beta = 1.0)` (PASA).
    * `causal` (default `false`): bottom-right aligned causal mask.
    * `tiles` (optional): `[Br, Bc]` query and key tile sizes.

    ```mlir
    %o = lpattn.attention %q, %k, %v
           descale(%q_ds, %k_ds, %v_ds : tensor<1x2xf32>)
           policy = <qk = f8E4M3FN, score = f32,
               p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16,
               overflow = satfinite>
           scale = 0.125 p_scale = 256.0 kv_order = reverse
           softmax = standard causal = false
           : tensor<1x8x128x64xf8E4M3FN>, tensor<1x2x128x64xf8E4M3FN>,
             tensor<1x2x128x64xf8E4M3FN> -> tensor<1x8x128x64xbf16>
    ```
  }];

  let arguments = (ins
    LPAttn_AttnTensor:$query,
    LPAttn_AttnTensor:$key,
    LPAttn_AttnTensor:$value,
    Optional<LPAttn_AttnTensor>:$mask,
    Variadic<LPAttn_Descale>:$descales,
    LPAttn_PrecisionPolicyAttr:$policy,
    F32Attr:$softmax_scale,
    F64Attr:$p_scale,
    LPAttn_KVOrderAttr:$kv_order,
    LPAttn_SoftmaxAttr:$softmax,
    BoolAttr:$causal,
    OptionalAttr<LPAttn_TileSizes>:$tile_sizes);
  let results = (outs LPAttn_AttnTensor:$result);

  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;

  // Tools, the C API and Python build the op with this builder (never by
  // printing and parsing IR text). The result type [B, Hq, Nq, Dv] x out
  // follows from the operands and the policy; omitted numerics take the
  // defaults of lpattn/Numerics/Rules.h, as the parser does.
  let builders = [
    OpBuilder<(ins "::mlir::Value":$query, "::mlir::Value":$key,
      "::mlir::Value":$value, "PrecisionPolicyAttr":$policy,
      CArg<"::mlir::Value", "{}">:$mask,
      CArg<"::mlir::ValueRange", "{}">:$descales,
      CArg<"std::optional<float>", "std::nullopt">:$softmaxScale,
      CArg<"double", "1.0">:$pScale,
      CArg<"KVOrder", "KVOrder::Forward">:$kvOrder,
      CArg<"SoftmaxAttr", "{}">:$softmax,
      CArg<"bool", "false">:$causal,
      CArg<"::llvm::ArrayRef<int64_t>", "{}">:$tileSizes)>
  ];

  let extraClassDeclaration = [{
    /// The softmax variant and its parameters.
    SoftmaxVariant getSoftmaxVariant() { return getSoftmax().getVariant(); }

    ::mlir::RankedTensorType getQueryType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getQuery().getType());
    }
    ::mlir::RankedTensorType getKeyType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getKey().getType());
    }
    ::mlir::RankedTensorType getValueType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getValue().getType());
    }
    ::mlir::RankedTensorType getResultType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getResult().getType());
    }
    /// Whether the descales are per (batch, KV head): three
    /// tensor<B x Hkv x f32> rather than three f32 scalars (or none).
    bool hasPerHeadDescales() {
      return !getDescales().empty() &&
             ::llvm::isa<::mlir::RankedTensorType>(getDescales()[0].getType());
    }
  }];
}

//===----------------------------------------------------------------------===//
// TruncFOp
//===----------------------------------------------------------------------===//

def LPAttn_TruncFOp : LPAttn_Op<"truncf",
    [Pure, SameOperandsAndResultShape]
    # ElementwiseMappable.traits> {
  let summary = "round-to-nearest-even f32 cast with explicit overflow";
  let description = [{
    Rounds f32 values to a narrower lpattn format (f16, bf16, f8E4M3FN,
    f8E5M2) with round-to-nearest, ties-to-even, and states what happens
    above the max finite value: `satfinite` clamps to +-max finite (PTX
    `cvt.rn.satfinite`, CUDA `__NV_SATFINITE`; +-Inf clamps too), `nonsat`
    gives +-Inf, or NaN for f8E4M3FN which has no Inf. Any NaN becomes the
    format's positive all-ones NaN, as CUDA's conversions do.

    `arith.truncf` cannot say this: it has no saturation, and MLIR 22 cannot
    lower its FP8 forms to LLVM. Works on scalars, vectors and tensors
    (elementwise).

    ```mlir
    %p8 = lpattn.truncf %p rne satfinite : tensor<64x64xf32> to tensor<64x64xf8E4M3FN>
    ```
  }];
  let arguments = (ins FloatLike:$in, LPAttn_OverflowModeAttr:$overflow);
  let results = (outs FloatLike:$out);
  let assemblyFormat = [{
    $in `rne` `` $overflow attr-dict `:` type($in) `to` type($out)
  }];
  let hasVerifier = 1;
}

#endif // LPATTN_DIALECT_LPATTN_IR_LPATTNOPS_TD
