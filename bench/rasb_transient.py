#!/usr/bin/python3
"""RASB's transient experiment (arXiv "Rank-Aware Spectral Bounds on
Attention Logits", Fig. 2): a weight spike under delayed scaling (amax
history 16 and 1024) against geometry-aware scaling, on lpattn's CPU
pipeline.

One attention layer (d_model 256, 4 heads of d_head 64, 256 tokens) runs
for 2000 steps. Each step draws fresh tokens (rows normalized to norm
sqrt(d_model), as after an RMSNorm with gain 1) and moves W_Q, W_K by a
small random step (slow training drift). W_Q and W_K start with entries of
standard deviation 2 / sqrt(d_model): logits up to about 20, and a logit
bound (233) that the spike takes past 448, so that the geometry scale,
at most 1, has to move. At steps 400 and 1200 the
interaction matrix M = W_Q W_K^T jumps by 4x (W_Q and W_K each doubled; the
paper's 4x weight spike) and decays back with a time constant of 50 steps.
Each scheme gives one logit scale s per step (per layer, as the paper's),
and a scaled logit s * S_ij overflows the qk type (f8E4M3FN) when
|s * S_ij| > 448:

- delayed-16, delayed-1024: s = 448 / max(amax of the logits over the last
  16 resp. 1024 steps), the current step's amax recorded after the step
  (Transformer Engine's delayed scaling, margin 0; s = 1 before any
  history), so a step never sees its own logits;
- geometry: s = the largest power of two s <= 1 with s * alpha * B_X^2 *
  sigma / sqrt(d_head) <= 448 (the rule of getGeometryScale in lpattn's
  Numerics/Geometry.h), sigma = max over heads of ||W_Q W_K^T||_2 of the
  current weights, B_X = sqrt(d_model) the token-norm bound, alpha = 1
  (the paper's guarantee, before auto-alpha): no activation statistics.

Computed in numpy (float64): tokens, weights, the logits, sigma (exactly,
by SVD: ||W_Q W_K^T||_2 is the largest singular value of R_Q R_K^T with
W_Q = Q_Q R_Q, W_K = Q_K R_K, so the 256 x 256 M is never formed), the
scales, the overflow counts, and the float64 reference softmax(S) V.

Computed by lpattn (python/lpattn, the CPU pipeline with bit-exact FP8
emulation): the attention output with the logits in FP8. lpattn's score
tile is f32 or 16-bit, never FP8, so the FP8 logits enter through its qk
cast: per head, the query is the scaled logit matrix s * S (Nq x Nk, cast
by lpattn to f8E4M3FN, satfinite: an overflowing logit is clamped to 448)
and the key is the Nk x Nk identity (exact in FP8), with softmax scale 1
and q descale 1/s; then Q K^T = cast(s * S) exactly, the score is
cast(s * S) / s, and P and V stay f32, so the output error is the FP8
logits' alone. lpattn runs around each spike (steps t-3 .. t+30) and every
25th step.

Writes bench/results/rasb_transient.{md,csv,png}.
"""
import argparse
import csv
import math
import os
import sys
import time

import numpy as np

# The package from this source tree (python/lpattn over build/lib).
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(_ROOT, "python"))
try:
    import lpattn  # noqa: E402
except ImportError as e:  # no libLPAttnCAPI.so: the package says where it looked
    sys.exit("rasb_transient.py: %s" % e)

# Max finite of the qk type f8E4M3FN (SPEC.md "Reference semantics").
QK_TYPE = "f8E4M3FN"
QK_MAX_FINITE = 448.0
# FP8 logits only; everything after the score in f32.
POLICY = dict(qk=QK_TYPE, score="f32", p="f32", v="f32", acc="f32",
              out="f32", overflow="satfinite")
SCHEMES = ("delayed-16", "delayed-1024", "geometry")


# --- numpy: model, scales, overflow counts ----------------------------------


def spectral_norms(wq, wk):
    """||W_Q W_K^T||_2 per head (wq, wk: [heads, d_model, d_head]) by SVD
    of R_Q R_K^T, without forming M."""
    rq = np.linalg.qr(wq, mode="r")
    rk = np.linalg.qr(wk, mode="r")
    return np.linalg.svd(rq @ np.swapaxes(rk, 1, 2), compute_uv=False)[:, 0]


def logits(x, wq, wk):
    """S [heads, N, N] = (x W_Q)(x W_K)^T / sqrt(d_head)."""
    q, k = x @ wq, x @ wk
    return (q @ np.swapaxes(k, 1, 2)) / math.sqrt(wq.shape[2])


def geometry_scale(sigma, token_bound, d_head, alpha=1.0,
                   max_finite=QK_MAX_FINITE):
    """The largest power of two s <= 1 with s * alpha * B_X^2 * sigma /
    sqrt(d_h) <= max finite: the rule of lpattn's getGeometryScale
    (Numerics/Geometry.h, branch rasb): a power of two so that scaling and
    descaling are exact, at most 1 because scaling up buys no precision
    above the subnormal range."""
    target = alpha * token_bound ** 2 * sigma / math.sqrt(d_head)
    if not target > max_finite:
        return 1.0
    # As getGeometryScale: frexp, not log2, whose rounding could miss a
    # boundary; max / target in [2^(e-1), 2^e).
    scale = 2.0 ** (math.frexp(max_finite / target)[1] - 1)
    while scale * target > max_finite:
        scale /= 2.0
    return scale


class DelayedScaling:
    """s = max finite / max(amax history); the amax of a step is recorded
    after it, so a step is scaled by its predecessors' amax only."""

    def __init__(self, history, max_finite=QK_MAX_FINITE):
        self.history, self.max_finite, self.amaxes = history, max_finite, []

    def scale(self):
        if not self.amaxes:
            return 1.0
        return self.max_finite / max(self.amaxes[-self.history:])

    def record(self, amax):
        self.amaxes.append(amax)


def count_overflows(s_logits, scale, max_finite=QK_MAX_FINITE):
    """Scaled logits past the qk type's max finite value."""
    return int(np.count_nonzero(np.abs(scale * s_logits) > max_finite))


def spike_factor(step, spikes, decay):
    """The factor on M: 1, jumping to 4 at each spike step and decaying back
    with time constant `decay` (spikes overlap multiplicatively)."""
    factor = 1.0
    for t0 in spikes:
        if step >= t0:
            factor *= 1.0 + 3.0 * math.exp(-(step - t0) / decay)
    return factor


def tokens(rng, n, d_model):
    """n tokens of norm sqrt(d_model) (RMS-normalized, gain 1)."""
    x = rng.standard_normal((n, d_model))
    return x * (math.sqrt(d_model) / np.linalg.norm(x, axis=1, keepdims=True))


def reference_output(s_logits, v):
    """softmax(S) V in float64, per head."""
    p = np.exp(s_logits - s_logits.max(axis=-1, keepdims=True))
    return (p / p.sum(axis=-1, keepdims=True)) @ v


# --- lpattn: the attention with FP8 logits ----------------------------------


def lpattn_output(s_logits, v, scale):
    """lpattn's output with the logits cast to the qk type by `scale`:
    query s * S, key the identity, q descale 1/s (see the module doc)."""
    heads, n, nk = s_logits.shape
    identity = np.broadcast_to(np.eye(nk), (1, heads, nk, nk))
    out = lpattn.attention((scale * s_logits)[None], identity, v[None],
                           policy=POLICY, scale=1.0,
                           descale=(1.0 / scale, 1.0, 1.0))
    return out[0].astype(np.float64)


# --- the experiment ---------------------------------------------------------


def run(steps=2000, d_model=256, heads=4, d_head=64, n_tokens=256,
        spikes=(400, 1200), decay=50.0, drift=2e-3, alpha=1.0,
        weight_gain=2.0, histories=(16, 1024), lpattn_steps=None, seed=0):
    """Runs the experiment; returns one dict per step with, per scheme,
    `scale`, `overflows`, `max_scaled` (max |s S|) and, where lpattn ran,
    `mse` (lpattn's output vs the float64 reference)."""
    rng = np.random.default_rng(seed)
    init = weight_gain / math.sqrt(d_model)
    wq = rng.standard_normal((heads, d_model, d_head)) * init
    wk = rng.standard_normal((heads, d_model, d_head)) * init
    wv = rng.standard_normal((heads, d_model, d_head)) / math.sqrt(d_model)
    token_bound = math.sqrt(d_model)
    delayed = {"delayed-%d" % h: DelayedScaling(h) for h in histories}
    if lpattn_steps is None:
        lpattn_steps = set(range(0, steps, 25))
        for t0 in spikes:
            lpattn_steps.update(range(max(t0 - 3, 0), min(t0 + 31, steps)))
    records = []
    for step in range(steps):
        wq += rng.standard_normal(wq.shape) * (drift * init)
        wk += rng.standard_normal(wk.shape) * (drift * init)
        half = math.sqrt(spike_factor(step, spikes, decay))
        wq_t, wk_t = half * wq, half * wk
        x = tokens(rng, n_tokens, d_model)
        s_logits = logits(x, wq_t, wk_t)
        sigma = float(spectral_norms(wq_t, wk_t).max())
        scales = {name: d.scale() for name, d in delayed.items()}
        scales["geometry"] = geometry_scale(sigma, token_bound, d_head, alpha)
        amax = float(np.abs(s_logits).max())
        rec = {"step": step, "factor": half * half, "sigma": sigma,
               "amax": amax}
        ref = None
        if step in lpattn_steps:
            v = x @ wv
            ref = reference_output(s_logits, v)
        for name, scale in scales.items():
            r = {"scale": scale, "overflows": count_overflows(s_logits, scale),
                 "max_scaled": scale * amax}
            if ref is not None:
                out = lpattn_output(s_logits, v, scale)
                r["mse"] = float(np.mean((out - ref) ** 2))
            rec[name] = r
        for d in delayed.values():
            d.record(amax)
        records.append(rec)
    return records


def summarize(records, spikes, scheme):
    """The table's row of one scheme."""
    over = [r[scheme]["overflows"] for r in records]
    row = {"total": sum(over), "steps": sum(1 for o in over if o),
           "max": max(over)}
    # Steps after a spike until the first step without overflow (0: none).
    row["recover"] = []
    for t0 in spikes:
        t = t0
        while t < len(records) and over[t]:
            t += 1
        row["recover"].append(t - t0)
    # Steps between a spike and the next (or the end) with the scale below
    # half its value just before the spike: delayed scaling keeps the
    # spike's amax for its whole history, long after the weights recovered.
    row["low_scale"] = []
    for t0, t1 in zip(spikes, list(spikes[1:]) + [len(records)]):
        before = records[t0 - 1][scheme]["scale"]
        row["low_scale"].append(sum(
            1 for r in records[t0:t1] if r[scheme]["scale"] < before / 2))
    row["mse_spike"] = [records[t0][scheme].get("mse") for t0 in spikes]
    # Away from the spikes (factor on M below 1.01).
    quiet = [r[scheme]["mse"] for r in records
             if "mse" in r[scheme] and r["factor"] < 1.01]
    row["mse_quiet"] = float(np.median(quiet)) if quiet else None
    row["utilization"] = float(np.median(
        [r[scheme]["max_scaled"] for r in records])) / QK_MAX_FINITE
    return row


def fmt(x):
    return "n/a" if x is None else "%.2e" % x


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join(_ROOT, "bench",
                                                      "results"))
    args = parser.parse_args()
    # Two spikes at steps/5 and 3 steps/5 with history before and after.
    if args.steps < 50:
        parser.error("--steps must be at least 50, got %d" % args.steps)
    spikes = (args.steps // 5, 3 * args.steps // 5)
    start = time.time()
    records = run(steps=args.steps, spikes=spikes, seed=args.seed)
    elapsed = time.time() - start
    lpattn_runs = sum(1 for r in records if "mse" in r["geometry"])

    header = ["scheme", "overflowing logits (total)", "steps with overflow",
              "max overflows in a step",
              "steps to recover (spike 1, 2)",
              "steps with scale < 1/2 pre-spike (1, 2)",
              "MSE at spike 1", "MSE at spike 2",
              "median MSE away from spikes",
              "median of max abs(s S) / 448"]
    rows = []
    for scheme in SCHEMES:
        s = summarize(records, spikes, scheme)
        rows.append([scheme, s["total"], s["steps"], s["max"],
                     "%d, %d" % tuple(s["recover"]),
                     "%d, %d" % tuple(s["low_scale"]),
                     fmt(s["mse_spike"][0]), fmt(s["mse_spike"][1]),
                     fmt(s["mse_quiet"]), "%.3f" % s["utilization"]])
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    for row in [header] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
    print("%d steps, %d logits per step, lpattn at %d steps x %d schemes, "
          "%.0f s" % (len(records), 4 * 256 * 256, lpattn_runs,
                      len(SCHEMES), elapsed))

    os.makedirs(args.out, exist_ok=True)
    notes = [
        "Generated by `bench/rasb_transient.py` (%d steps, seed %d, %.0f s "
        "on this machine). One layer: d_model 256, 4 heads x d_head 64, "
        "256 fresh tokens per step (norm sqrt(256)), W_Q and W_K drifting "
        "slowly; at steps %d and %d M = W_Q W_K^T jumps 4x (W_Q, W_K each "
        "doubled) and decays back (time constant 50 steps)."
        % (args.steps, args.seed, elapsed, spikes[0], spikes[1]),
        "A logit overflows when |s * S| > 448 (f8E4M3FN). delayed-H: s = "
        "448 / max amax of the logits over the last H steps (margin 0). "
        "geometry: the largest power of two s <= 1 with s * alpha * B_X^2 * "
        "sigma / sqrt(d_head) <= 448 (getGeometryScale's rule), sigma = max "
        "over heads of ||W_Q W_K^T||_2 of the current weights (numpy SVD of "
        "R_Q R_K^T), B_X = 16, alpha = 1. W_Q, W_K start with entries of "
        "std 2/16.",
        "MSE: lpattn's CPU pipeline (FP8 logits through its qk cast, "
        "satfinite; P, V and the accumulator f32) against float64 "
        "softmax(S) V, at steps t-3..t+30 around each spike and every 25th "
        "step (%d steps). Steps to recover: from the spike to the first "
        "step without overflow." % lpattn_runs,
    ]
    md = os.path.join(args.out, "rasb_transient.md")
    with open(md, "w") as f:
        f.write("# RASB transient: weight spike, delayed vs geometry-aware "
                "logit scale\n\n")
        for note in notes:
            f.write(note + "\n\n")
        f.write("| " + " | ".join(header) + " |\n")
        f.write("|" + "---|" * len(header) + "\n")
        for row in rows:
            f.write("| " + " | ".join(str(c) for c in row) + " |\n")
    print("wrote", os.path.relpath(md, _ROOT))

    path = os.path.join(args.out, "rasb_transient.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", "spike_factor", "sigma", "amax"] +
                   ["%s_%s" % (s, k) for s in SCHEMES
                    for k in ("scale", "overflows", "max_scaled", "mse")])
        for r in records:
            w.writerow([r["step"], "%.6g" % r["factor"], "%.6g" % r["sigma"],
                        "%.6g" % r["amax"]] +
                       [v for s in SCHEMES for v in (
                           "%.6g" % r[s]["scale"], r[s]["overflows"],
                           "%.6g" % r[s]["max_scaled"],
                           "" if "mse" not in r[s] else "%.6g" % r[s]["mse"])])
    print("wrote", os.path.relpath(path, _ROOT))
    plot(records, spikes, os.path.join(args.out, "rasb_transient.png"))


def plot(records, spikes, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in records]
    fig, axes = plt.subplots(2, 2, figsize=(12, 7), sharex=True)
    (ax_max, ax_scale), (ax_over, ax_mse) = axes
    for scheme, marker in zip(SCHEMES, "o^s"):
        ax_max.semilogy(steps, [r[scheme]["max_scaled"] for r in records],
                        label=scheme, lw=1)
        ax_scale.semilogy(steps, [r[scheme]["scale"] for r in records],
                          label=scheme, lw=1)
        ax_over.plot(steps, [r[scheme]["overflows"] for r in records],
                     label=scheme, lw=1)
        ran = [r for r in records if "mse" in r[scheme]]
        ax_mse.semilogy([r["step"] for r in ran],
                        [r[scheme]["mse"] for r in ran], marker, ms=3,
                        mfc="none",
                        label=scheme)
    ax_max.axhline(QK_MAX_FINITE, color="k", lw=0.8, ls=":")
    ax_max.set_ylabel("max |s S| (448 dotted)")
    ax_scale.set_ylabel("logit scale s")
    ax_over.set_yscale("symlog", linthresh=1)
    ax_over.set_ylim(bottom=0)
    ax_over.set_ylabel("logits with |s S| > 448")
    ax_mse.set_ylabel("lpattn output MSE vs float64")
    for ax in axes.flat:
        for t0 in spikes:
            ax.axvline(t0, color="r", lw=0.6, ls="--")
    for ax in axes[1]:
        ax.set_xlabel("step (red: 4x spike of W_Q W_K^T)")
    ax_max.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print("wrote", os.path.relpath(path, _ROOT))


if __name__ == "__main__":
    main()
