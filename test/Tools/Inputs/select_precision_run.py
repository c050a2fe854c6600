#!/usr/bin/python3
"""Runs lpattn-select-precision's choice against all-FP8 on the CPU.

Writes one attention with f32 arguments and the hints of the inputs it will
run on (logit bound, sink strength), lets lpattn-select-precision rewrite
it, and runs the rewritten IR and the all-FP8 policy (e4m3 Q/K/P/V, f32
scores, S = 1, forward order; or, with --baseline without-pasa, the chosen
policy without its PASA shift) with lpattn-run on the same inputs. Prints
both MSEs (against float64), collapse fractions and NaN counts, and "ok"
when the chosen policy has no NaN and an MSE at least `--factor` times
lower (a baseline with NaN outputs counts as infinitely worse).

usage: select_precision_run.py LPATTN_OPT LPATTN_RUN WORKDIR
       [--generator sinks|offset] [--delta 9] [--offset 0] [--bound 14]
       [--factor 4]
"""
import argparse
import json
import os
import re
import subprocess
import sys

SHAPE = "tensor<1x{h}x{n}x{d}x{t}>"


def mlir(args, qk, p, v, extra, attrs):
    q = SHAPE.format(h=args.heads, n=args.nq, d=args.head_dim, t=qk)
    k = SHAPE.format(h=args.heads, n=args.nk, d=args.head_dim, t=qk)
    vt = SHAPE.format(h=args.heads, n=args.nk, d=args.head_dim, t=v)
    o = SHAPE.format(h=args.heads, n=args.nq, d=args.head_dim, t="f32")
    return ("func.func @attn(%q: {q}, %k: {k}, %v: {vt}) -> {o} {{\n"
            "  %o = lpattn.attention %q, %k, %v\n"
            "         policy = <qk = {qk}, score = f32, p = {p}, v = {v}, "
            "acc = f32, out = f32, overflow = {ovf}>\n"
            "         {extra} tiles = [64, 64]\n"
            "         {attrs}\n"
            "         : {q}, {k}, {vt} -> {o}\n"
            "  return %o : {o}\n}}\n").format(
                q=q, k=k, vt=vt, o=o, qk=qk, p=p, v=v, extra=extra,
                attrs=attrs, ovf=args.overflow)


def run(tool, path, args):
    cmd = [tool, path, "--json", "--seed", "0", "--inputs", args.generator]
    if args.generator == "sinks":
        cmd += ["--delta", str(args.delta)]
    else:
        cmd += ["--offset", str(args.offset)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit("lpattn-run failed: %s\n%s" % (" ".join(cmd), proc.stderr))
    return json.loads(proc.stdout)["results"][0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("opt")
    parser.add_argument("run")
    parser.add_argument("workdir")
    parser.add_argument("--generator", default="sinks")
    parser.add_argument("--delta", type=float, default=9.0)
    parser.add_argument("--offset", type=float, default=0.0)
    parser.add_argument("--bound", type=float, default=14.0)
    parser.add_argument("--heads", type=int, default=2)
    parser.add_argument("--nq", type=int, default=64)
    parser.add_argument("--nk", type=int, default=1024)
    parser.add_argument("--head-dim", type=int, default=64)
    parser.add_argument("--overflow", default="satfinite")
    parser.add_argument("--factor", type=float, default=4.0)
    parser.add_argument("--baseline", default="all-fp8",
                        choices=["all-fp8", "without-pasa"])
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)

    hints = ["lpattn.logit_bound = %r : f64" % args.bound]
    if args.generator == "sinks":
        hints.append("lpattn.sink_strength = %r : f64" % args.delta)
    else:
        # The generator's offset is raw (before c = 1/sqrt(D)); the hint is
        # in the units of the scores the softmax sees.
        hints.append("lpattn.score_offset = %r : f64" %
                     (args.offset / args.head_dim ** 0.5))
        hints.append("lpattn.sink_strength = 0.0 : f64")
    source = os.path.join(args.workdir, "source.mlir")
    with open(source, "w") as f:
        f.write(mlir(args, "f32", "f32", "f32", "", "{%s}" % ", ".join(hints)))
    chosen = os.path.join(args.workdir, "chosen.mlir")
    proc = subprocess.run([args.opt, source, "--lpattn-select-precision",
                           "-o", chosen, "--mlir-print-op-on-diagnostic=false"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit("lpattn-opt failed:\n" + proc.stderr)
    print(proc.stderr.strip().split("remark: ")[-1])
    baseline = os.path.join(args.workdir, "baseline.mlir")
    if args.baseline == "all-fp8":
        e4m3 = "f8E4M3FN"
        text = mlir(args, e4m3, e4m3, e4m3,
                    "p_scale = 1.0 kv_order = forward", "")
    else:
        # The chosen policy without its PASA shift.
        with open(chosen) as f:
            text = f.read()
        if "softmax = pasa" not in text:
            sys.exit("the chosen policy has no PASA shift:\n" + text)
        text = re.sub(r"softmax = pasa\([^)]*\)", "softmax = standard", text)
    with open(baseline, "w") as f:
        f.write(text)

    a, b = run(args.run, chosen, args), run(args.run, baseline, args)
    for name, r in (("chosen", a), (args.baseline, b)):
        # lpattn-run gives no MSE (null) when every output is NaN.
        error = "%.3e" % r["mse"] if r["mse"] is not None else "none"
        print("%s: mse %s collapse %.3f nan %d" %
              (name, error, r["collapse_fraction"], r["nan"]))
    # A baseline whose every output is NaN has no MSE: infinitely worse.
    worse = b["mse"] if b["nan"] == 0 else float("inf")
    if a["mse"] is None:
        sys.exit("the chosen policy gave no MSE")
    ratio = worse / a["mse"] if a["mse"] > 0 else float("inf")
    ok = a["nan"] == 0 and ratio >= args.factor
    print("mse ratio baseline / chosen = %.1f %s" %
          (ratio, "ok" if ok else "FAIL (need >= %g)" % args.factor))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
