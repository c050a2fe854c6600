//===- LPAttnBase.td - lpattn dialect definition -----------*- tablegen -*-===//
//
// The lpattn dialect: numerically robust low-precision (FP8/FP16/BF16)
// attention. Every precision and scale is an explicit attribute.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_DIALECT_LPATTN_IR_LPATTNBASE_TD
#define LPATTN_DIALECT_LPATTN_IR_LPATTNBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def LPAttn_Dialect : Dialect {
  let name = "lpattn";
  let cppNamespace = "::lpattn";
  let summary = "Numerically robust low-precision attention";
  let description = [{
    The `lpattn` dialect models scaled-dot-product attention whose numerics
    are fully explicit: the element types of both matrix products, of the
    softmax probabilities after their cast, of the accumulator and of the
    output form a `#lpattn.precision` policy; the softmax scale, the P scale
    (P-Cast, arXiv 2606.06521), the KV iteration order, the softmax variant
    (bias-corrected, LPTF arXiv 2510.04212; shifted, PASA arXiv 2503.01873)
    and causality are attributes. Safeguard passes rewrite these attributes
    or the tile-level form; nothing about precision is implied by code.
  }];
  let useDefaultAttributePrinterParser = 1;

  // The tile-level protocol: the attributes lpattn-tile and the safeguard
  // passes leave on upstream ops (linalg, tensor, scf). Declared, so that
  // every pass reads and writes them through one helper, and verified
  // (verifyOperationAttribute), so that a malformed tile IR gets a
  // diagnostic instead of a silently skipped rewrite.
  let discardableAttrs = (ins
    // The numerics step an op performs (SPEC.md, "The computation").
    "::lpattn::StepAttr":$step,
    // Marks the scf.for over KV tiles of one query tile.
    "::mlir::UnitAttr":$kv_loop,
    // On a KV loop: the order its tiles are visited in.
    "::lpattn::KVOrderAttr":$kv_order,
    // On a KV loop: the precision policy of its attention.
    "::lpattn::PrecisionPolicyAttr":$policy,
    // On the p_scale and unscale_sum steps: the P scale S (f64); on the
    // score step: the qk scale s of lpattn.qk_scale (f64).
    "::mlir::FloatAttr":$scale,
    // On the bias_correct and pasa_shift steps: beta (f64).
    "::mlir::FloatAttr":$beta,
    // On the bias_correct step: the tie tolerance (f64).
    "::mlir::FloatAttr":$tol,
    // On a module lowered for a GPU: the kernel half of its launch
    // descriptor (lpattn-tile-to-sm90, docs/launch-descriptor.md).
    "::mlir::DictionaryAttr":$launch,
    // Hints on a graph-level lpattn.attention for lpattn-predict-collapse
    // (P-Cast): the sink strength Delta (f64), the number of sink keys at
    // the start of the sequence (i64) and the stddev of their logit jitter
    // (f64).
    "::mlir::FloatAttr":$sink_strength,
    "::mlir::IntegerAttr":$sink_count,
    "::mlir::FloatAttr":$sink_jitter,
    // RASB on a graph-level lpattn.attention (lpattn-geometry-scale,
    // Numerics/Geometry.h). qk_sigma: sigma = ||W_q^T W_k||_2 per query
    // head (f64 >= 0, one per query head) of the weights that make the
    // op's Q and K operands as the op receives them (lpattn-calibrate
    // writes it from a checkpoint). logit_bound: the bound on |scores| fed
    // to the softmax, after the softmax scale and descales, max over heads
    // (f64 >= 0; read by precision selection). qk_scale: the power of two
    // s <= 1 the Q K^T product is multiplied by before its rounding to the
    // score type, and divided by after it (lpattn-tile honours it; f64).
    "::mlir::DenseF64ArrayAttr":$qk_sigma,
    // With qk_sigma: its values are the RoPE-safe ||W_q||_2 ||W_k||_2,
    // which bound ||W_q^T R W_k||_2 for every rotation R (RoPE at any
    // position); without it, qk_sigma is ||W_q^T W_k||_2, which RoPE can
    // exceed.
    "::mlir::UnitAttr":$qk_sigma_rope_safe,
    "::mlir::FloatAttr":$logit_bound,
    "::mlir::FloatAttr":$qk_scale,
    // A hint for lpattn-select-precision: the magnitude of a common offset
    // of the scores along the sequence (PASA's setting; the units of
    // logit_bound). f64, finite, >= 0.
    "::mlir::FloatAttr":$score_offset
  );
  let hasOperationAttrVerify = 1;
}

class LPAttn_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<LPAttn_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

class LPAttn_Op<string mnemonic, list<Trait> traits = []>
    : Op<LPAttn_Dialect, mnemonic, traits>;

#endif // LPATTN_DIALECT_LPATTN_IR_LPATTNBASE_TD
