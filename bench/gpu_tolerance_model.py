#!/usr/bin/env python3
"""A numpy model of the GPU kernel's roundings, to test the GPU check's
tolerance on the CPU (docs/gpu-check.md, "The tolerance"). Not a
measurement of any GPU.

For each case directory (written by `lpattn-run --save-case`, e.g. under
build/gpu-check/) it recomputes O from the case's FP8 codes as the tile-level
algorithm of SPEC.md does (KV tiles of Bc in the case's order, f32 scores,
exp, P cast to the p format with the P scale, P~ V in f32, bf16 output),
once as is (which should match the CPU emulation's o_cpu.npy to about an
ulp: a check of the model) and once with the kernel's expected
differences drawn at random:

  S     += U(-1, 1) * noise * (D / 32 + 1) * 2^-13 * sum_d |q_d k_d|
  P     *= 1 + U(-1, 1) * 2^-21                 (ex2.approx)
  P~ V  += U(-1, 1) * 2^-13 * sum |P~| |v|      (reduced-precision MMA)

and reports, against the case's own rule, the worst |gpu - cpu| / bound
and the MSE ratio. --bug runs a deliberately wrong kernel instead (the
other KV order, P scale 1, softmax scale +1 %), to see what the check can
tell apart. Needs numpy; Q, K, V, P must be FP8, score and acc f32, out
bf16, standard softmax.

  python3 bench/gpu_tolerance_model.py build/gpu-check/m-d128-e4m3-robust
  python3 bench/gpu_tolerance_model.py --noise 1 --bug forward DIR...
"""
import argparse
import json
import os
import sys

import numpy as np


def fp8_values(fmt):
    """The non-negative finite values of an FP8 format, indexed by code."""
    e, m, bias = (4, 3, 7) if fmt == "f8E4M3FN" else (5, 2, 15)
    vals = []
    for code in range(1 << (e + m)):
        f, mant = code >> m, code & ((1 << m) - 1)
        if (fmt == "f8E4M3FN" and f == 15 and mant == 7) or \
           (fmt == "f8E5M2" and f == 31):
            break
        vals.append(mant * 2.0 ** (1 - bias - m) if f == 0 else
                    (1 + mant / 2 ** m) * 2.0 ** (f - bias))
    return np.array(vals)


def decode(codes, fmt):
    t = fp8_values(fmt)
    c = codes.astype(np.int64)
    v = t[np.minimum(c & 0x7f, len(t) - 1)]
    return np.where(c & 0x80, -v, v)


def cast_fp8(x, fmt):
    """Round to nearest even, satfinite."""
    t = fp8_values(fmt)
    a = np.abs(x)
    idx = np.clip(np.searchsorted(t, a), 1, len(t) - 1)
    lo, hi = t[idx - 1], t[idx]
    up = (hi - a < a - lo) | ((hi - a == a - lo) & (idx % 2 == 0))
    r = np.where(a >= t[-1], t[-1], np.where(up, hi, lo))
    return np.sign(x) * r


def bf16(x):
    b = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    b = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16) << 16
    return b.astype(np.uint32).view(np.float32)


def attention(case, codes, noise, rng, bug=None):
    pol, sg = case["policy"], case["safeguards"]
    q = decode(codes["q"], pol["qk"])
    k = decode(codes["k"], pol["qk"])
    v = decode(codes["v"], pol["v"]).astype(np.float32)
    ds = case["descales"] if case["has_descales"] else {"q": 1, "k": 1, "v": 1}
    scale = sg["scale"] * (1.01 if bug == "scale" else 1.0)
    scale = np.float32(scale * ds["q"] * ds["k"])
    p_scale = np.float32(1 if bug == "pscale1" else sg["p_scale"])
    reverse = (sg["kv_order"] == "reverse") != (bug == "forward")
    b_, hq, nq, d = q.shape
    hkv, nk = k.shape[1], k.shape[2]
    bc = case["tiles"][1]
    tiles = (nk + bc - 1) // bc
    out = np.zeros((b_, hq, nq, v.shape[3]), np.float32)
    for b in range(b_):
        for h in range(hq):
            kh = h // (hq // hkv)
            Q, K, V = q[b, h], k[b, kh], v[b, kh]
            m = np.full(nq, -np.inf, np.float32)
            l = np.zeros(nq, np.float32)
            acc = np.zeros((nq, V.shape[1]), np.float32)
            for t in range(tiles):
                j = tiles - 1 - t if reverse else t
                Kj, Vj = K[j * bc:(j + 1) * bc], V[j * bc:(j + 1) * bc]
                s = Q @ Kj.T  # exact: sums of exact FP8 products
                if noise:
                    s = s + (np.abs(Q) @ np.abs(Kj).T) * (d / 32 + 1) * \
                        2.0 ** -13 * noise * rng.uniform(-1, 1, s.shape)
                s = np.float32(s) * scale
                if sg["causal"]:
                    cols = np.arange(j * bc, j * bc + len(Kj))[None, :]
                    rows = np.arange(nq)[:, None]
                    s = np.where(cols > rows + (nk - nq), -np.inf, s)
                s = s.astype(np.float32)
                mn = np.maximum(m, s.max(axis=1))
                mg = np.where(np.isinf(mn), np.float32(0), mn)
                p = np.exp(s - mg[:, None]).astype(np.float32)
                if noise:
                    p = (p * (1 + rng.uniform(-1, 1, p.shape) * 2.0 ** -21)
                         ).astype(np.float32)
                a = np.exp(np.where(np.isinf(m), -np.inf, m - mg)
                           ).astype(np.float32)
                l = (l * a + p.sum(axis=1, dtype=np.float32)).astype(np.float32)
                pt = cast_fp8(p * p_scale, pol["p"]).astype(np.float32)
                pv = (pt @ Vj).astype(np.float32)
                if noise:
                    pv = pv + (np.abs(pt) @ np.abs(Vj)) * 2.0 ** -13 * \
                        rng.uniform(-1, 1, pv.shape)
                acc = (acc * a[:, None] + pv).astype(np.float32)
                m = mn
            o = np.where(l[:, None] > 0,
                         acc / (l[:, None] * p_scale) * np.float32(ds["v"]), 0)
            out[b, h] = bf16(o)
    return out


def judge(case_dir, o):
    """The worst |o - cpu| / bound of the case's rule, and the MSE ratio."""
    cpu = np.load(os.path.join(case_dir, "o_cpu.npy")).astype(np.float64)
    ref = np.load(os.path.join(case_dir, "o_ref.npy"))
    atol = np.load(os.path.join(case_dir, "atol.npy"))
    with open(os.path.join(case_dir, "case.json")) as f:
        ulps = json.load(f)["tolerance"]["ulps"]
    e = np.floor(np.log2(np.maximum(np.abs(cpu), 2.0 ** -126)))
    ulp = 2.0 ** (np.maximum(e, -126) - 7)
    diff = np.abs(o - cpu)
    return {"worst_ratio": float((diff / (ulps * ulp + atol[..., None])).max()),
            "differ": int((diff > 0).sum()), "elements": diff.size,
            "mse_ratio": float(np.mean((o - ref) ** 2) /
                               np.mean((cpu - ref) ** 2))}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cases", nargs="+")
    ap.add_argument("--noise", type=float, default=1 / 3,
                    help="the factor of the S error (default 1/3)")
    ap.add_argument("--bug", choices=["forward", "pscale1", "scale"])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    for d in args.cases:
        with open(os.path.join(d, "case.json")) as f:
            case = json.load(f)
        if case["policy"]["out"] != "bf16" or \
           case["safeguards"]["softmax"]["variant"] != "standard":
            print("%s: skipped (the model needs bf16 out and the standard "
                  "softmax)" % d)
            continue
        codes = {r: np.load(os.path.join(d, case["files"][r]))
                 for r in ("q", "k", "v")}
        exact = judge(d, attention(case, codes, 0, rng))
        model = judge(d, attention(case, codes, args.noise, rng, args.bug))
        print("%s: without noise %s; %s%s" % (
            d, exact, "with noise %g " % args.noise,
            ("and bug %s " % args.bug if args.bug else "") + str(model)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
