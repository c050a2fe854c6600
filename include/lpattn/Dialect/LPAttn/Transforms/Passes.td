//===- Passes.td - lpattn passes ---------------------------*- tablegen -*-===//
//
// The lowering of lpattn.attention to its tile-level form and the numerics
// safeguard passes. Every safeguard pass works at both levels: on a
// graph-level lpattn.attention it sets the matching attribute; on tile-level
// IR (after lpattn-tile) it inserts the IR. lpattn-tile applies the very same
// rewrites for the attributes it finds, so both routes give identical IR.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_DIALECT_LPATTN_TRANSFORMS_PASSES_TD
#define LPATTN_DIALECT_LPATTN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def LPAttnTile : Pass<"lpattn-tile", "::mlir::func::FuncOp"> {
  let summary = "Lower lpattn.attention to the tile-level flash-attention forward";
  let description = [{
    Rewrites each `lpattn.attention` into one `scf.forall` over (batch,
    query head, query tile), which a target maps to parallel work, and,
    inside, an `scf.for` over KV tiles (marked `lpattn.kv_loop`) carrying the
    running max m, the row sum l and the accumulator acc (SPEC.md, "The
    computation"). Every numerics step is its own op, built by its builder
    in TileSteps.h and tagged with `lpattn.step`, with its precision in its
    types: the QK product
    (`linalg.matmul`, qk inputs, summed into a fresh f32 tile), its rounding
    to the score type and the scale by c * q_ds * k_ds, masking (causal,
    ragged, additive), the row max, exp, the row sum of the uncast P, the
    cast of P (`lpattn.truncf`), the rescale of acc by exp(m - m') in f32,
    the PV product (summed into a fresh f32 tile), the new acc
    round_acc(acc * a + round_acc(P~ V)), and the final
    O = acc / (l * S) * v_ds. As on a tensor core, each tile product is
    rounded to its accumulator type once, when it leaves the MMA (SPEC.md,
    "Where the roundings happen").

    Ragged last tiles have dynamic sizes; with `causal`, KV tiles above the
    diagonal are skipped; rows with no visible key give 0, never NaN. The
    op's `p_scale`, `kv_order` and `softmax` attributes are realized by the
    same rewrites as the safeguard passes.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"];
  let options = [
    Option<"tileQ", "tile-q", "int64_t", "::lpattn::kDefaultTileQ",
           "Query tile size Br when the op has no `tiles`">,
    Option<"tileKV", "tile-kv", "int64_t", "::lpattn::kDefaultTileKV",
           "Key/value tile size Bc when the op has no `tiles`">,
  ];
}

def LPAttnInsertPScale : Pass<"lpattn-insert-p-scale", "::mlir::func::FuncOp"> {
  let summary = "Scale P by a power of two S before its low-precision cast (P-Cast)";
  let description = [{
    P~ = cast_p(P * S) and O = acc / (l * S): S is a power of two, so both
    the multiply and the division are exact; the cast sees P * S instead of
    P, which moves small probabilities out of the FP8 underflow range.

    On a graph-level `lpattn.attention` this sets `p_scale`; on tile-level IR
    it inserts the multiply before the P cast and folds S into the final
    denominator. Re-running with the same S changes nothing. A scale that is
    not a power of two, or that lets P * S exceed the max finite value of
    the p type (also when the running max may lag by `rescale-lag`, in log2
    units, as with lazy rescaling), is rejected with a diagnostic naming the
    bound.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect"];
  let options = [
    Option<"scale", "scale", "double", "0.0",
           "The P scale S; 0 means the largest power of two whose 1 * S does "
           "not exceed the max finite value of the p type (256 for "
           "f8E4M3FN, 32768 for f8E5M2)">,
    Option<"rescaleLag", "rescale-lag", "double", "0.0",
           "How far (log2 units) the running max may lag the true max before "
           "a rescale; P can then reach 2^lag">,
  ];
}

def LPAttnReverseKV : Pass<"lpattn-reverse-kv", "::mlir::func::FuncOp"> {
  let summary = "Iterate KV tiles from the last to the first (P-Cast)";
  let description = [{
    Attention sinks sit at the start of the sequence: in forward order they
    set the running max early, and every later P is a large gap below it and
    underflows in FP8. In reverse order the sink tile comes last and the
    rescale exp(m - m') of everything before happens on the f32 accumulator.

    On a graph-level `lpattn.attention` this sets `kv_order = reverse`; on
    tile-level IR it replaces the KV tile index j by (T - 1) - j in the KV
    loop (T = the number of visible KV tiles, causal skipping included).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def LPAttnBiasCorrectedSoftmax
    : Pass<"lpattn-bias-corrected-softmax", "::mlir::func::FuncOp"> {
  let summary = "LPTF bias-corrected online softmax: no probability exactly 1";
  let description = [{
    When two or more scores of a tile row lie within `tol` of the running
    max m', P has several entries exactly 1 and low-precision rounding of
    P V is biased. This rewrites m' to beta * m' where m' > 0 and to 0 where
    m' < 0 (the result is unchanged: online softmax accepts any m' used
    consistently for P, l and acc).

    Underflow guard: the shift m'_new - m' is clamped so that the largest
    P of the row, exp(m' - m'_new) * S, stays at or above the smallest
    normal value of the p type; the rewrite can thus never flush a whole
    row of P to zero.

    On a graph-level `lpattn.attention` this sets
    `softmax = bias_corrected(beta, tol)`.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect"];
  let options = [
    Option<"beta", "beta", "double",
           "*::lpattn::getDefaultSoftmaxBeta(" #
           "::lpattn::SoftmaxVariant::BiasCorrected)",
           "m' = beta * m' for m' > 0 (default 2)">,
    Option<"tol", "tol", "double",
           "*::lpattn::getDefaultSoftmaxTol(" #
           "::lpattn::SoftmaxVariant::BiasCorrected)",
           "Scores within tol of the row max count as ties">,
  ];
}

def LPAttnPasaShift : Pass<"lpattn-pasa-shift", "::mlir::func::FuncOp"> {
  let summary = "PASA: shift each KV tile by its mean key before the QK product";
  let description = [{
    K_j' = K_j - beta * mean(K_j) (mean over the tile's keys) is formed in
    f32 and rounded to the qk type; S' = Q K_j'^T is computed in the low
    precision (no common offset left to overflow f16). The shift r_j =
    Q (beta * mean(K_j))^T is constant along each row of the tile; only its
    difference to a reference shift r_ref = Q (beta * mu)^T (mu: the mean key
    of the KV head, computed before the KV loop), r_j - r_ref = Q d_j^T with
    d_j = beta * mean(K_j - mu) formed before any product, is added to the
    f32 scores. r_ref is the same for every tile of a row and cancels in the
    softmax, so the f32 scores stay small whatever the offset.

    On a graph-level `lpattn.attention` this sets `softmax = pasa(beta)`.
  }];
  let dependentDialects = ["::lpattn::LPAttnDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
  let options = [
    Option<"beta", "beta", "double",
           "*::lpattn::getDefaultSoftmaxBeta(::lpattn::SoftmaxVariant::Pasa)",
           "Fraction of the mean removed (default 1)">,
  ];
}

def LPAttnRaiseAttention
    : Pass<"lpattn-raise-attention", "::mlir::func::FuncOp"> {
  let summary = "Raise attention written in linalg to lpattn.attention";
  let description = [{
    Finds attention as front ends emit it (torch-mlir, StableHLO lowered to
    linalg) and replaces it by one `lpattn.attention`, with transposes
    into and out of its [B, H, N, D] layout. Recognized, from the P V
    product backwards:

    * both products as zero-filled contractions (`linalg.batch_matmul`,
      `linalg.matmul`, einsum-style `linalg.generic`), K transposed by a
      `linalg.transpose`, by the indexing maps or passed pre-transposed;
      P V also as Vᵀ Pᵀ; [B, H, N, D], [B, N, H, D] and 3-D [B*H, N, D]
      operands (B = 1);
    * the softmax as `linalg.softmax` or as max / sub / exp / sum / div
      generics, along the key axis of the scores;
    * between the products: the scale as a multiply or divide by a positive
      constant (on the scores, or on Q: then a power of two unless Q is f32),
      an additive mask added after all scaling, a causal `select` of -inf
      (or the lowest finite value, then only with Nq <= Nk: no row without
      keys) on `linalg.index` or iota comparisons that keeps
      key <= query + (Nk - Nq) (the op's bottom-right alignment; a top-left
      mask with Nq != Nk is left alone), `arith.extf`/`arith.truncf`;
    * GQA as torch's repeat_kv: `collapse_shape(linalg.broadcast(K))` that
      merges (Hkv, G) with Hkv major.

    The policy states what the IR computes: qk = element type of Q and K
    before any widening extf (products of widened inputs are exact), score
    = the QK product's result type, or the narrowest type the scores are
    rounded to before the softmax where the policy allows it, p = the
    narrowest type P passes through between the softmax and the P V product
    (a truncf there rounds P), v = V's type before widening, acc = out = the
    P V product's result type, overflow = nonsat (arith.truncf gives inf).
    The op keeps the softmax in f32 and sums each product in f32 before
    rounding it once, so low-precision results agree to a few ulps, not
    bit for bit. An unsupported policy, and
    every near miss (softmax over the wrong axis, Pᵀ V, a multiply between
    softmax and P V such as dropout, no P V), leaves the IR unchanged.
  }];
  let dependentDialects = ["::lpattn::LPAttnDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def LPAttnCPUMatmulLayout
    : Pass<"lpattn-cpu-matmul-layout", "::mlir::func::FuncOp"> {
  let summary = "Rewrite tile-level products into vectorizable CPU loop nests";
  let description = [{
    For the CPU path. Each 2-D `linalg.matmul` (C += A B or A B^T, products
    of the input types accumulated in C's type) becomes:

    * its inputs widened to C's element type once per tile (exact: every
      lpattn input type is a subset of the accumulator types it meets);
    * B transposed to [K, N] when the product reads it as [N, K];
    * a `linalg.generic` with loop order (m, k, n), so the innermost loop
      walks rows of B and C with unit stride and vectorizes, while each
      C[m, n] still sums over k = 0 .. K-1 in order: the same roundings, bit
      for bit, as the matmul.
  }];
  let dependentDialects = ["::lpattn::LPAttnDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def LPAttnCountCollapse
    : Pass<"lpattn-count-collapse", "::mlir::func::FuncOp"> {
  let summary = "Instrument the P cast: count non-sink P that collapse to 0";
  let description = [{
    Numerics instrumentation (P-Cast's collapse fraction). Appends a
    `memref<2xi64>` argument to each function holding a tile-level attention
    and, after every P cast, adds to it: [0] the number of P > 0 whose cast
    P~ is exactly 0 ("collapsed"), [1] the number of P > 0, both over keys
    at or after `sink-keys` (the non-sink keys). Used by `lpattn-run`.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect"];
  let options = [
    Option<"sinkKeys", "sink-keys", "int64_t", "0",
           "Keys [0, sink-keys) are sinks and not counted">,
  ];
}

def LPAttnPredictCollapse
    : Pass<"lpattn-predict-collapse", "::mlir::func::FuncOp"> {
  let summary = "Predict P-Cast's sink-induced P-collapse threshold per attention";
  let description = [{
    Analysis only (the IR is unchanged). For every graph-level
    `lpattn.attention`, from its p type, `p_scale` S, `kv_order` and KV tile
    size Bc, computes P-Cast's collapse threshold on the sink strength

      Delta_c = ln(1/u) + ln S - delta_k

    u: the largest P that the cast to the p type rounds to 0 (2^-10 for
    f8E4M3FN, 2^-17 for f8E5M2, 2^-25 for f16, 2^-134 for bf16; derived from
    the format with APFloat, Numerics/Formats.h); delta_k = jitter *
    E[max of k N(0, 1)], the expected excess of the largest of k sink logits
    over Delta (1.03 for 4 sinks with jitter 1; Numerics/Rules.h). At
    Delta = Delta_c half of the non-sink P flush to 0 in forward KV order.

    Always emits a remark with Delta_c and its terms. When a sink strength
    is known (the op's `lpattn.sink_strength`, else the `sink-strength`
    option) and exceeds Delta_c, emits a warning naming the fix: the
    largest safe P scale of the p type (256 for f8E4M3FN) and reverse KV
    order (`lpattn-robust-fp8`), and the share of non-sink keys still
    exposed in reverse order: those in the sink's own KV tile,
    min(ceil(k / Bc) Bc, Nk) - k of the Nk - k non-sink keys.

    The number of sinks and their jitter come from `lpattn.sink_count` and
    `lpattn.sink_jitter` on the op, else from the options.
  }];
  let options = [
    Option<"sinkStrength", "sink-strength", "double", "-1.0",
           "Sink strength Delta for ops without lpattn.sink_strength "
           "(-1: none, only the threshold remark)">,
    Option<"sinks", "sinks", "int64_t", "4",
           "Number of sink keys k for ops without lpattn.sink_count">,
    Option<"jitter", "jitter", "double", "1.0",
           "Stddev of the sink logit jitter for ops without "
           "lpattn.sink_jitter">,
    Option<"tileKV", "tile-kv", "int64_t", "::lpattn::kDefaultTileKV",
           "Key/value tile size Bc when the op has no `tiles` (as lpattn-tile)">,
  ];
}

def LPAttnGeometryScale
    : Pass<"lpattn-geometry-scale", "::mlir::func::FuncOp"> {
  let summary = "Bound the logits from the Q/K weights' spectral norm and "
                "scale Q K^T into the score type (RASB)";
  let description = [{
    RASB (SPEC.md, "Geometry-aware logit scale"; Numerics/Geometry.h). For
    every graph-level `lpattn.attention`:

    1. sigma_h = ||W_q^h^T W_k^g||_2 per query head h, g = h / (Hq / Hkv)
       its KV head, by implicit power iteration (`iterations`,
       `tolerance`; the dModel x dModel product is never formed). The
       weights are *known* when the op has `lpattn.qk_sigma` (one f64 per
       query head, as a checkpoint tool such as lpattn-calibrate writes it;
       it wins), or when its query and key operands trace back through
       `arith.truncf`/`extf`, `lpattn.truncf`, `tensor.cast`,
       `tensor.expand_shape`/`collapse_shape` and `linalg.transpose` to a
       `linalg.matmul` (default indexing maps) `x @ B` whose B is an
       `arith.constant` (dense or `dense_resource`) [dModel, H*D], or a
       `linalg.transpose` of a constant [H*D, dModel] (nn.Linear's weight),
       head h owning output features h*D .. (h+1)*D. Otherwise the op
       gets one error.
       RoPE: rotating q and k by position-dependent rotations R makes the
       product x^T W_q^T R W_k x', and ||W_q^T R W_k||_2 can exceed sigma_h.
       The op cannot tell whether its Q and K were rotated (RoPE is not
       traced), so `rope` (default false) says so: with it, traced weights
       give the RoPE-safe sigma_h = ||W_q^h||_2 ||W_k^g||_2 (|q . k| <=
       ||q|| ||k|| under any rotation), marked `lpattn.qk_sigma_rope_safe`;
       a given `lpattn.qk_sigma` must carry that mark (lpattn-calibrate
       --rope=on writes it), else the op gets one error.
    2. B_X, the bound on token norms: the `token-norm` option (required:
       this pass recognizes no RMSNorm/LayerNorm; their bounds are
       getRMSNormTokenNormBound / getLayerNormTokenNormBound).
    3. |q . k| <= B_X^2 sigma_h (with RoPE, for the RoPE-safe sigma); the logit bound
       |c q_ds k_ds q . k| fed to the softmax (c the softmax scale, constant
       descales; without constant descales it is not written).
    4. The scale s_h: the largest power of two <= 1 with
       s_h * alpha * B_X^2 sigma_h <= max finite of the op's *score* type,
       the type the Q K^T product is rounded to (the logits never live in
       the qk type; FP8 Q and K feed an f32 sum). s = min over heads.
       `alpha` (default 1, the worst case for every input) or `auto-alpha`:
       RASB's rank-aware tail bound solved for overflow probability 1e-6
       (gamma 2; needs traced weights for dModel).

    s takes effect in the lowering: lpattn-tile computes the score as
    (f32(round_score(s * Q K^T)) / s) * (c q_ds k_ds) (TileSteps.h,
    buildScore). s is a power of two, so both multiplies are exact in f32
    and the scores are bit for bit those of the unscaled op wherever
    those neither overflow the score type nor are subnormal in it; where
    the unscaled product overflows (Inf, or NaN after the softmax, with
    nonsat; max finite with satfinite) the scaled one stays finite and
    right. Q, K, the descales and c are unchanged, so FP8 operands need no
    requantization and the op keeps its operands.

    Writes `lpattn.qk_sigma` (when computed here; with `rope`, and
    `lpattn.qk_sigma_rope_safe`), `lpattn.logit_bound`
    (max over heads) and `lpattn.qk_scale` (s, 1 included), and one remark
    per op with sigma, the bounds and the scale per head. Ops that already
    carry `lpattn.qk_scale` are left alone (a remark says so).
  }];
  let options = [
    Option<"alpha", "alpha", "double", "1.0",
           "Calibration factor: the scale puts alpha * bound at the score "
           "type's max finite (> 0)">,
    Option<"autoAlpha", "auto-alpha", "bool", "false",
           "alpha from RASB's rank-aware tail bound (overflow probability "
           "1e-6, gamma 2) instead of `alpha`">,
    Option<"iterations", "iterations", "int64_t",
           "::lpattn::kDefaultPowerIterations",
           "Most power-iteration steps per head (>= 1)">,
    Option<"tolerance", "tolerance", "double",
           "::lpattn::kDefaultPowerTolerance",
           "Relative change of sigma at which the power iteration stops (> 0)">,
    Option<"tokenNorm", "token-norm", "double", "0.0",
           "Bound B_X on the norm of the tokens the Q/K projections read "
           "(> 0; 0: none given)">,
    Option<"rope", "rope", "bool", "false",
           "Q and K are RoPE-rotated: use sigma = ||W_q||_2 ||W_k||_2 per "
           "head, which bounds every rotation (the op cannot tell)">,
  ];
}

def LPAttnSelectPrecision
    : Pass<"lpattn-select-precision", "::mlir::ModuleOp"> {
  let summary = "Choose per attention the cheapest precision policy that is safe";
  let description = [{
    For every graph-level `lpattn.attention`, picks the first candidate of
    the cost table (`getCandidatePolicies` in Numerics/Selection.h, cheapest
    first: `fp8` = e4m3 Q/K/P/V with f32 scores; `f16qk-fp8pv`;
    `bf16qk-fp8pv`; `f16`; `bf16`; `f32qk-bf16pv`; acc f32, out and the
    overflow mode kept) that every rule accepts, sets its P scale, KV order
    and softmax, and explains the choice in one remark per op, numbers
    included. The rules (Numerics/Selection.h, each written once):

    * Q/K: rounding Q and K to a type of unit roundoff u moves a logit by at
      most (2u + u^2) L, L the bound on |scores| (after c); with a known
      common offset O, (2u + u^2) (L - O), as the offset is rounded alike
      for a whole row and cancels in the softmax; an f16 score tile adds
      2^-11 times the bound on what it holds. Safe when at most
      `max-logit-error` (1). Without a logit bound no FP8 Q/K and no f16
      score tile is chosen.
    * f16 score tile: holds the raw L / c (descales 1; not chosen for ops
      with descale operands), at most 65504. Where that overflows, or its
      rounding alone exceeds the tolerance, PASA (`softmax = pasa`) if a
      common offset O is known: the tile then holds (L - O) / c.
    * P: P-Cast's threshold (Rules.h): sink strength above Delta_c at S = 1
      gives `p_scale` = the largest safe power of two (at most 2^15, so
      that P S V stays far inside the f32 accumulator) and `kv_order =
      reverse`; above Delta_c even then, the p type is unsafe. With no sink
      strength known both safeguards are applied (they cost one multiply).

    Inputs per op: `lpattn.logit_bound` (as `lpattn-geometry-scale` writes
    it), `lpattn.score_offset`, `lpattn.sink_strength`, `lpattn.sink_count`,
    `lpattn.sink_jitter`; the options stand in for ops without them. When
    no candidate is safe, the last is chosen with a warning.

    Q, K and V get the chosen types: a `func.func` argument used only by the
    op, in a function nothing in the module calls, is retyped (the caller's
    data is rounded to the operand type, as `lpattn-run` does); any other
    operand is converted in the IR (`arith.extf` to f32, then
    `lpattn.truncf` with the op's overflow mode).
  }];
  let options = [
    Option<"logitBound", "logit-bound", "double", "-1.0",
           "Logit bound L for ops without lpattn.logit_bound (-1: unknown)">,
    Option<"scoreOffset", "score-offset", "double", "-1.0",
           "Common score offset O for ops without lpattn.score_offset "
           "(-1: unknown)">,
    Option<"sinkStrength", "sink-strength", "double", "-1.0",
           "Sink strength Delta for ops without lpattn.sink_strength "
           "(-1: unknown)">,
    Option<"sinks", "sinks", "int64_t", "4",
           "Number of sink keys k for ops without lpattn.sink_count">,
    Option<"jitter", "jitter", "double", "1.0",
           "Stddev of the sink logit jitter for ops without "
           "lpattn.sink_jitter">,
    Option<"maxLogitError", "max-logit-error", "double",
           "::lpattn::kDefaultMaxLogitError",
           "Largest worst-case logit error the Q/K rounding may cause">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def LPAttnExpandFloatCasts
    : Pass<"lpattn-expand-float-casts", "::mlir::ModuleOp"> {
  let summary = "Expand low-precision float casts into integer bit arithmetic";
  let description = [{
    For the CPU path: rewrites `lpattn.truncf` (f32 to f16, bf16, f8E4M3FN,
    f8E5M2; round to nearest even; satfinite or nonsat), `arith.truncf` from
    f32 to f8E4M3FN/f8E5M2 (as nonsat) and `arith.extf` from
    f8E4M3FN/f8E5M2 into `arith` integer operations on the bits, on scalars
    and vectors, so that LLVM (which has no FP8 types) can compile and
    vectorize them. Bit-exact with CUDA's conversions (`__nv_cvt_float_to_fp8`,
    `__float2half_rn`, `__float2bfloat16_rn`) and with lpattn::encodeRNE,
    subnormals included; any NaN becomes the positive all-ones NaN (0x7F,
    0x7FFF), and an FP8 NaN extends to 0x7FFFFFFF, as in CUDA.

    Afterwards FP8 element types appear only in loads, stores and
    `arith.bitcast` from/to i8, which the LLVM type converter maps to i8.
    f16/bf16 `arith.extf` is left to LLVM (exact). A cast the pass cannot
    expand (a tensor operand, a source other than f32) is an error.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

#endif // LPATTN_DIALECT_LPATTN_TRANSFORMS_PASSES_TD
