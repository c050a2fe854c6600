#!/usr/bin/env python3
"""Attention forward speed on the GPU: lpattn's FP8 kernels against PyTorch's
scaled_dot_product_attention (bf16) with the flash and the cuDNN backend,
side by side in one run.

Configurations: head dim D in 64, 128, 256; sequence length N in 1k, 2k,
4k, 8k, 16k with 16k tokens per batch (B = 16384 / N) and hidden size 2048
(Hq = Hkv = 2048 / D); non-causal and causal. For each: PyTorch SDPA bf16
under torch.nn.attention.sdpa_kernel(FLASH_ATTENTION) and (CUDNN_ATTENTION),
and lpattn's e4m3 kernels with robust numerics (P scale 256, reverse KV
order) and without (P scale 1, forward): the difference is the cost of
robustness. lpattn's artifacts are compiled beforehand on the CPU machine by
scripts/gpu-prepare.sh (build/gpu-check/manifest.json) and timed with
`lpattn-gpu-run --bench ITERS --json --random fast` (runtime events); PyTorch
with CUDA events around ITERS calls after WARMUP calls, on N(0, 1) inputs.
TFLOP/s = 4 B Hq N^2 D / time, halved when causal (the FlashAttention
convention, for every implementation alike).

Writes PREFIX.md (table), PREFIX.json and PREFIX.png (matplotlib, if
installed). Runs on the GPU machine (scripts/gpu-check.sh calls it);
--dry-run lists the plan anywhere.
"""
import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMPLEMENTATIONS = [
    ("torch_flash", "PyTorch SDPA flash (bf16)"),
    ("torch_cudnn", "PyTorch SDPA cuDNN (bf16)"),
    ("lpattn_robust", "lpattn e4m3, P scale 256 + reverse"),
    ("lpattn_plain", "lpattn e4m3, P scale 1, forward"),
]


def int_list(text):
    try:
        values = [int(x) for x in text.split(",") if x]
    except ValueError:
        raise argparse.ArgumentTypeError("expected comma-separated integers, "
                                         "got %r" % text)
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError("expected positive integers, got %r"
                                         % text)
    return values


def parse_args(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0].replace("\n", " "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--manifest",
                    default=os.path.join(ROOT, "build", "gpu-check",
                                         "manifest.json"),
                    help="gpu-prepare.sh's manifest (lpattn's artifacts)")
    ap.add_argument("--gpu-run",
                    default=os.path.join(ROOT, "build-rt", "lpattn-gpu-run"),
                    help="the lpattn-gpu-run binary")
    ap.add_argument("--out", default=None,
                    help="output prefix (default bench/results/"
                         "gpu-speed-<gpu>-<date>)")
    ap.add_argument("--head-dims", type=int_list, default=[64, 128, 256])
    ap.add_argument("--seq-lens", type=int_list,
                    default=[1024, 2048, 4096, 8192, 16384])
    ap.add_argument("--tokens", type=int, default=16384,
                    help="tokens per batch: B = tokens / N")
    ap.add_argument("--hidden", type=int, default=2048,
                    help="hidden size: Hq = hidden / D")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--deadline", type=float, default=0,
                    help="stop measuring after this many seconds (0: none); "
                         "the rest is reported as not run")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--no-lpattn", action="store_true")
    ap.add_argument("--dry-run", action="store_true",
                    help="print the configurations and what would run; "
                         "measure nothing (no GPU needed)")
    args = ap.parse_args(argv)
    for name in ("iters", "warmup", "tokens", "hidden"):
        if getattr(args, name) < (0 if name == "warmup" else 1):
            ap.error("--%s=%d: expected a positive number" %
                     (name, getattr(args, name)))
    for n in args.seq_lens:
        if args.tokens % n:
            ap.error("--seq-lens: %d does not divide --tokens=%d" %
                     (n, args.tokens))
    for d in args.head_dims:
        if args.hidden % d:
            ap.error("--head-dims: %d does not divide --hidden=%d" %
                     (d, args.hidden))
    return args


def configurations(head_dims, seq_lens, tokens, hidden):
    """Every (D, N, causal) of the sweep with its B and Hq."""
    out = []
    for d in head_dims:
        for n in seq_lens:
            for causal in (False, True):
                out.append({"head_dim": d, "seq_len": n,
                            "batch": tokens // n, "heads": hidden // d,
                            "causal": causal})
    return out


def flop(cfg):
    """4 B Hq N^2 D, halved when causal."""
    f = 4.0 * cfg["batch"] * cfg["heads"] * cfg["seq_len"] ** 2 * cfg["head_dim"]
    return f / 2 if cfg["causal"] else f


def artifacts(manifest_path):
    """(D, N, causal, variant) -> artifact path, from the manifest."""
    if not os.path.exists(manifest_path):
        return {}
    with open(manifest_path) as f:
        manifest = json.load(f)
    base = os.path.dirname(manifest_path)
    found = {}
    for s in manifest.get("speed", []):
        if s.get("artifact"):
            key = (s["head_dim"], s["seq_len"], s["causal"], s["variant"])
            found[key] = os.path.join(base, s["artifact"])
    return found


def measure_torch(cfg, backend_name, iters, warmup):
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    backend = {"torch_flash": SDPBackend.FLASH_ATTENTION,
               "torch_cudnn": SDPBackend.CUDNN_ATTENTION}[backend_name]
    shape = (cfg["batch"], cfg["heads"], cfg["seq_len"], cfg["head_dim"])
    gen = torch.Generator(device="cuda").manual_seed(0)
    q, k, v = (torch.randn(shape, device="cuda", dtype=torch.bfloat16,
                           generator=gen) for _ in range(3))
    sdpa = torch.nn.functional.scaled_dot_product_attention
    try:
        with sdpa_kernel([backend]):
            for _ in range(warmup):
                sdpa(q, k, v, is_causal=cfg["causal"])
            torch.cuda.synchronize()
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(iters):
                sdpa(q, k, v, is_causal=cfg["causal"])
            end.record()
            torch.cuda.synchronize()
        ms = start.elapsed_time(end) / iters
        return {"ms": ms, "tflops": flop(cfg) / (ms * 1e-3) / 1e12}
    except RuntimeError as e:
        return {"error": str(e).splitlines()[0][:160]}
    finally:
        del q, k, v
        torch.cuda.empty_cache()


def measure_lpattn(artifact, gpu_run, iters, warmup, timeout):
    cmd = [gpu_run, artifact, "--bench", str(iters), "--warmup", str(warmup),
           "--random", "fast", "--json"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": "timed out after %d s" % timeout}
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        return {"error": lines[-1][:160] if lines else
                "exit status %d" % proc.returncode}
    res = json.loads(proc.stdout)["results"][0]
    return {"ms": res["ms"], "tflops": res["tflops"]}


def cell(result):
    if result is None:
        return "-"
    if "tflops" in result:
        return "%.1f" % result["tflops"]
    return "n/a"


def write_outputs(rows, prefix, meta):
    """PREFIX.json, PREFIX.md and (with matplotlib) PREFIX.png of `rows`
    (configurations with one result per implementation). `meta["measured"]`
    False marks the files as not a measurement (tests of this writer)."""
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    with open(prefix + ".json", "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    lines = ["# Attention forward speed: %s" % meta.get("gpu", "?"), ""]
    if not meta.get("measured", False):
        lines += ["**NOT A MEASUREMENT: %s**" %
                  meta.get("note", "numbers written by a test"), ""]
    lines += [
        "`python3 bench/gpu_speed.py` on %s, %s; torch %s; %d timed "
        "iterations after %d warm-up. TFLOP/s = 4 B Hq N^2 D / time, halved "
        "when causal; 16k tokens per batch (B = 16384 / N), hidden 2048 "
        "(Hq = 2048 / D). PyTorch runs bf16, lpattn e4m3 (FP8) with bf16 "
        "output; n/a: the backend refused the configuration or no artifact "
        "(details in the JSON)." % (meta.get("gpu", "?"), meta.get("date", "?"),
                                    meta.get("torch", "-"),
                                    meta.get("iters", 0),
                                    meta.get("warmup", 0)), ""]
    header = ["D", "N", "B", "Hq", "causal"] + [label for _, label in
                                               IMPLEMENTATIONS]
    header.append("robust / plain")
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for r in rows:
        res = r["results"]
        rob, plain = res.get("lpattn_robust"), res.get("lpattn_plain")
        ratio = "-"
        if rob and plain and "ms" in rob and "ms" in plain:
            ratio = "%.3f" % (rob["ms"] / plain["ms"])
        lines.append("| " + " | ".join(
            [str(r["head_dim"]), str(r["seq_len"]), str(r["batch"]),
             str(r["heads"]), "yes" if r["causal"] else "no"] +
            [cell(res.get(key)) for key, _ in IMPLEMENTATIONS] + [ratio]) +
            " |")
    lines += ["", "(TFLOP/s; robust / plain: time ratio of lpattn's two "
              "variants, the cost of the safeguards.)", ""]
    with open(prefix + ".md", "w") as f:
        f.write("\n".join(lines))
    written = [prefix + ".json", prefix + ".md"]
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("gpu_speed: matplotlib is not installed: no plot", file=sys.stderr)
        return written
    dims = sorted({r["head_dim"] for r in rows})
    fig, axes = plt.subplots(2, len(dims), figsize=(4.2 * len(dims), 7),
                             squeeze=False)
    for col, d in enumerate(dims):
        for row, causal in enumerate((False, True)):
            ax = axes[row][col]
            sel = [r for r in rows if r["head_dim"] == d and r["causal"] == causal]
            for key, label in IMPLEMENTATIONS:
                pts = [(r["seq_len"], r["results"][key]["tflops"]) for r in sel
                       if r["results"].get(key) and
                       "tflops" in r["results"][key]]
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-",
                            label=label)
            ax.set_xscale("log", base=2)
            ax.set_title("D = %d, %s" % (d, "causal" if causal else "non-causal"))
            ax.set_xlabel("N")
            ax.set_ylabel("TFLOP/s")
            ax.grid(True, alpha=0.3)
    axes[0][0].legend(fontsize=7)
    title = "Attention forward, %s" % meta.get("gpu", "?")
    if not meta.get("measured", False):
        title += " (NOT A MEASUREMENT)"
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(prefix + ".png", dpi=100)
    plt.close(fig)
    written.append(prefix + ".png")
    return written


def main(argv=None):
    args = parse_args(argv)
    configs = configurations(args.head_dims, args.seq_lens, args.tokens,
                             args.hidden)
    arts = artifacts(args.manifest)
    if args.dry_run:
        print("gpu_speed: %d configurations, %d timed iterations after %d "
              "warm-up (dry run: nothing is measured)" %
              (len(configs), args.iters, args.warmup))
        for c in configs:
            have = [v for v in ("robust", "plain")
                    if (c["head_dim"], c["seq_len"], c["causal"], v) in arts]
            print("  D=%-3d N=%-5d B=%-2d Hq=%-2d causal=%-5s %.3g FLOP; "
                  "lpattn artifacts: %s" %
                  (c["head_dim"], c["seq_len"], c["batch"], c["heads"],
                   c["causal"], flop(c), ", ".join(have) or "none"))
        return 0

    torch_version = None
    gpu = "unknown GPU"
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            sys.exit("gpu_speed: error: PyTorch is not installed (this script "
                     "runs on the GPU machine; --no-torch times lpattn alone, "
                     "--dry-run lists the plan)")
        if not torch.cuda.is_available():
            sys.exit("gpu_speed: error: PyTorch sees no CUDA device")
        torch_version = torch.__version__
        gpu = torch.cuda.get_device_name(0)
    if not args.no_lpattn and not os.path.exists(args.gpu_run):
        sys.exit("gpu_speed: error: %s does not exist (build the runtime: "
                 "cmake -S runtime -B build-rt && cmake --build build-rt)"
                 % args.gpu_run)
    if not args.no_lpattn and args.no_torch:
        info = shutil.which("nvidia-smi")
        if info:
            out = subprocess.run([info, "--query-gpu=name", "--format=csv,noheader"],
                                 capture_output=True, text=True)
            gpu = out.stdout.strip().splitlines()[0] if out.stdout.strip() else gpu
    date = datetime.date.today().isoformat()
    prefix = args.out or os.path.join(
        ROOT, "bench", "results", "gpu-speed-%s-%s" %
        ("".join(ch if ch.isalnum() else "-" for ch in gpu.lower()).strip("-"),
         date))

    start = time.time()
    rows = []
    for c in configs:
        results = {}
        for key, _ in IMPLEMENTATIONS:
            if args.deadline and time.time() - start > args.deadline:
                results[key] = {"error": "not run (out of time)"}
                continue
            if key.startswith("torch"):
                if args.no_torch:
                    continue
                results[key] = measure_torch(c, key, args.iters, args.warmup)
            else:
                if args.no_lpattn:
                    continue
                variant = key.split("_")[1]
                art = arts.get((c["head_dim"], c["seq_len"], c["causal"],
                                variant))
                if not art:
                    results[key] = {"error": "no artifact (gpu-prepare.sh)"}
                    continue
                left = args.deadline - (time.time() - start) if args.deadline else 300
                results[key] = measure_lpattn(art, args.gpu_run, args.iters,
                                              args.warmup, max(10, int(left)))
        row = dict(c)
        row["flop"] = flop(c)
        row["results"] = results
        rows.append(row)
        print("D=%-3d N=%-5d causal=%-5s %s" % (
            c["head_dim"], c["seq_len"], c["causal"],
            "  ".join("%s %s" % (k, cell(results.get(k)))
                      for k, _ in IMPLEMENTATIONS)), flush=True)
    meta = {"measured": True, "gpu": gpu, "date": date, "torch": torch_version,
            "iters": args.iters, "warmup": args.warmup,
            "seconds": round(time.time() - start, 1),
            "tokens": args.tokens, "hidden": args.hidden}
    for path in write_outputs(rows, prefix, meta):
        print("wrote", os.path.relpath(path, ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
