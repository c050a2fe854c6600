#!/usr/bin/env python3
"""The Python GPU path on one GPU-check case (docs/gpu-check.md).

Runs a compiled artifact through the lpattn package on torch CUDA tensors
(lpattn.GPUArtifact: the runtime alone, no libLPAttnCAPI.so, so it runs on
the GPU machine without LLVM) on the case's inputs, and requires its O to be
bit-identical to lpattn-gpu-run's O for the same artifact and inputs.
lpattn-gpu-run checks that O against the CPU emulation within the case's
tolerance, so the Python path inherits that check without a second copy of
the tolerance rule. With --with-capi (a machine that also has the C API)
it also checks that lpattn.attention on torch tensors (compile, cache, run)
gives the same bits, and that lpattn.attention on numpy arrays of the same
FP8 values reproduces the CPU emulation's o_cpu.npy bit for bit.

Usage: gpu_python_check.py ARTIFACT.json CASE_DIR --gpu-run LPATTN-GPU-RUN
                           [--with-capi] [--work DIR]
Exit status 0: PASS; 2: a check failed; 1: it could not run (no torch, no
CUDA device, a bad case).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("artifact")
    ap.add_argument("case")
    ap.add_argument("--gpu-run", required=True)
    ap.add_argument("--with-capi", action="store_true")
    ap.add_argument("--work", default=None)
    a = ap.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, os.path.join(repo, "python"))
    try:
        import torch
    except ImportError:
        print("gpu-python: torch is not installed", file=sys.stderr)
        return 1
    if not torch.cuda.is_available():
        print("gpu-python: torch sees no CUDA device", file=sys.stderr)
        return 1
    import lpattn

    with open(os.path.join(a.case, "case.json")) as f:
        case = json.load(f)
    if case.get("has_mask"):
        print("gpu-python: cases with a mask are not supported here",
              file=sys.stderr)
        return 1
    dev = torch.device("cuda", torch.cuda.current_device())
    dtypes = {"f8E4M3FN": torch.float8_e4m3fn, "f8E5M2": torch.float8_e5m2,
              "bf16": torch.bfloat16, "f16": torch.float16,
              "f32": torch.float32}

    def codes(name):
        # The case stores storage codes ('|u1' FP8, '<u2' 16-bit, '<f4').
        arr = np.load(os.path.join(a.case, case["files"][name]))
        t = torch.from_numpy(np.ascontiguousarray(arr)).to(dev)
        return t.view(dtypes[case["dtypes"][name]])

    q, k, v = codes("q"), codes("k"), codes("v")
    descale = None
    if case["has_descales"]:
        ds = case["descales"]
        descale = (ds["q"], ds["k"], ds["v"])

    art = lpattn.GPUArtifact.load(a.artifact)
    o = art(q, k, v, descale=descale)
    torch.cuda.synchronize()
    o_python = o.float().cpu().numpy()

    work = a.work or tempfile.mkdtemp(prefix="lpattn-gpu-python-")
    os.makedirs(work, exist_ok=True)
    ref_npy = os.path.join(work, "o_gpu_run.npy")
    r = subprocess.run([a.gpu_run, a.artifact, "--inputs", a.case,
                        "--output-npy", ref_npy], capture_output=True,
                       text=True)
    # Exit 2 is a failed numerics check of lpattn-gpu-run's own (reported
    # by gpu-check.sh's case rows); its O is still written.
    if r.returncode not in (0, 2) or not os.path.exists(ref_npy):
        print(f"gpu-python: lpattn-gpu-run failed: {r.stderr.strip()}",
              file=sys.stderr)
        return 1
    o_gpu_run = np.load(ref_npy)
    failures = []

    def same_bits(label, x, y):
        x = np.ascontiguousarray(x, dtype=np.float32)
        y = np.ascontiguousarray(y, dtype=np.float32)
        if x.shape != y.shape:
            failures.append(f"{label}: shape {x.shape} vs {y.shape}")
            return
        differ = int(np.count_nonzero(x.view(np.uint32) != y.view(np.uint32)))
        if differ:
            failures.append(f"{label}: {differ} of {x.size} elements differ")

    same_bits("GPUArtifact vs lpattn-gpu-run", o_python, o_gpu_run)
    if a.with_capi:
        sg = case["safeguards"]
        pol = dict(case["policy"])
        params = dict(policy=pol, p_scale=sg["p_scale"],
                      kv_order=sg["kv_order"],
                      softmax=sg["softmax"]["variant"], causal=sg["causal"],
                      scale=sg["scale"], tiles=case["tiles"],
                      descale=descale)
        o_attn = lpattn.attention(q, k, v, **params)
        torch.cuda.synchronize()
        same_bits("lpattn.attention(torch) vs lpattn-gpu-run",
                  o_attn.float().cpu().numpy(), o_gpu_run)
        # The CPU path on numpy arrays of the same FP8 values.
        o_cpu = lpattn.attention(q.float().cpu().numpy(),
                                 k.float().cpu().numpy(),
                                 v.float().cpu().numpy(), **params)
        same_bits("lpattn.attention(numpy) vs o_cpu.npy", o_cpu,
                  np.load(os.path.join(a.case, case["files"]["o_cpu"])))
    name = os.path.basename(os.path.normpath(a.case))
    if failures:
        print(f"gpu-python: {name}: FAIL: " + "; ".join(failures))
        return 2
    gpu_run_check = "PASS" if r.returncode == 0 else "FAIL"
    print(f"gpu-python: {name}: PASS: O of the Python path is bit-identical "
          f"to lpattn-gpu-run's ({o_python.size} elements; its check "
          f"against the CPU emulation: {gpu_run_check})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
