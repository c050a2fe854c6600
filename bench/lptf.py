#!/usr/bin/python3
"""LPTF (Qiu & Yao, arXiv 2510.04212) on lpattn's CPU pipeline, in the
setting its bias needs: t keys tied exactly at every row max (P = 1
exactly), every other key at least `gap` lower (P tiny but not zero), V rows
similar with a non-zero mean (N(mean, 0.2^2)), bf16 everywhere (Q, K, V,
scores, P, the accumulator), each tile product P~ V summed in f32 and rounded
to bf16 once. Sweeps gap 4..14, V mean -1.5 / 0 / +1.5 and t = 1, 2, 4, 8 tied
keys (t = 1: one key at the max, no tie), standard vs bias_corrected softmax,
reporting the mean signed error of O, its t-statistic over rows and the RMS
error. Every row's logits are shifted by up to 4 (--row-shift), so that the
row maxima differ; the pinned point is also run without it.

Writes bench/results/lptf.md and lptf.png.
"""
import math

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

import lab

BASE = ["--heads", 4, "--nq", 128, "--nk", 256, "--head-dim", 64,
        "--tile-kv", 256, "--inputs", "ties", "--v-stddev", 0.2,
        "--row-shift", 4,
        "--qk-type", "bf16", "--score-type", "bf16", "--p-type", "bf16",
        "--v-type", "bf16", "--acc-type", "bf16", "--out-type", "f32",
        "--p-scale", 1, "--reverse=false"]
GAPS = [4, 6, 8, 10, 12, 14]
MEANS = [-1.5, 0.0, 1.5]
TIES = [1, 2, 4, 8]


def fmt(r):
    return "bias %+.3e (t = %+.1f), RMS %.3e" % (
        r["mean_error"], r["bias_t"], math.sqrt(r["mse"]))


def main():
    # One max logit for every row of a head (no row shift), at the pinned
    # point: the bias-corrected P = exp(-d) then rounds the same way in every
    # row of a head.
    same_max = {}
    for variant in ("standard", "bias_corrected"):
        (r,), _ = lab.run(BASE + ["--tied", 2, "--v-mean", -1.5, "--gap", 12,
                                  "--row-shift", 0, "--softmax", variant])
        same_max[variant] = fmt(r)
    rows, curves = [], {}
    for tied in TIES:
        for mean in MEANS:
            for gap in GAPS:
                cells = []
                for variant in ("standard", "bias_corrected"):
                    lab.progress("t=%d mean=%g gap=%g %s" % (tied, mean, gap,
                                                             variant))
                    (r,), _ = lab.run(BASE + ["--tied", tied, "--v-mean", mean,
                                              "--gap", gap, "--softmax",
                                              variant])
                    cells.append(r)
                std, cor = cells
                curves.setdefault((tied, mean), []).append(
                    (gap, std["mean_error"], cor["mean_error"]))
                removed = ("%.0f %%" % (100 * (1 - abs(cor["mean_error"]) /
                                               abs(std["mean_error"])))
                           if std["mean_error"] else "n/a")
                rows.append([tied, "%+.1f" % mean, gap,
                             "%+.3e" % std["mean_error"], "%+.1f" % std["bias_t"],
                             "%.3e" % math.sqrt(std["mse"]),
                             "%+.3e" % cor["mean_error"], "%+.1f" % cor["bias_t"],
                             "%.3e" % math.sqrt(cor["mse"]), removed])
    print()
    lab.write_markdown(
        "lptf.md",
        "LPTF: tied maxima and the bias-corrected softmax on lpattn's CPU pipeline",
        ["tied keys t", "V mean", "gap", "standard bias", "standard t",
         "standard RMS", "corrected bias", "corrected t", "corrected RMS",
         "bias removed"],
        rows,
        notes=["4 heads x 128 queries x 256 keys (one KV tile of 256), d = 64; "
               "`--inputs ties`: t keys tied exactly at every row max, every "
               "other logit at least `gap` below it (N(0, 1) tails below "
               "that), V ~ N(mean, 0.2^2); all inputs bf16-exact. Q, K, V, "
               "scores, P and the accumulator bf16 (f32 output), P scale 1, "
               "forward order; each tile product summed in f32 and rounded to "
               "bf16 once. bias = mean signed error of O against float64; t = "
               "bias / its standard error over the 512 rows (each row's mean "
               "error is one sample); RMS = sqrt(MSE). \"bias removed\" = "
               "1 - |corrected bias| / |standard bias|. `--row-shift 4`: all "
               "logits of a row move by up to 4 (softmax and gap unchanged), "
               "so that the row maxima differ.",
               "Without the row shift (every row of a head at the same max "
               "logit), t = 2, gap 12, V mean -1.5: standard %s; "
               "bias_corrected %s." % (same_max["standard"],
                                       same_max["bias_corrected"])])
    fig, axes = plt.subplots(1, len(TIES), figsize=(4 * len(TIES), 3.8),
                             sharey=True)
    for ax, tied in zip(axes, TIES):
        for mean, color in zip(MEANS, ("tab:blue", "tab:gray", "tab:red")):
            points = curves[(tied, mean)]
            ax.plot([p[0] for p in points], [p[1] for p in points], "o-",
                    color=color, label="standard, V mean %+.1f" % mean)
            ax.plot([p[0] for p in points], [p[2] for p in points], "x--",
                    color=color, label="bias_corrected, V mean %+.1f" % mean)
        ax.axhline(0.0, color="black", linewidth=0.5)
        ax.set_title("t = %d tied key%s" % (tied, "" if tied == 1 else "s"))
        ax.set_xlabel("gap below the tie (logits)")
    axes[0].set_ylabel("mean signed error of O")
    axes[-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(lab.plot_path("lptf.png"), dpi=110)
    print("wrote bench/results/lptf.png")


if __name__ == "__main__":
    main()
