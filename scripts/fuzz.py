#!/usr/bin/env python3
"""Mutation fuzzer of lpattn's tools: lpattn-opt and lpattn-run.

Each input is run in a fresh process and classified by how it ended:

  ok       exit 0
  error    exit 1 with an error message (what bad input must give)
  timeout  still running after --timeout seconds
  crash    a signal, an exit status other than 0 and 1, or a crash report on
           stderr (stack dump, LLVM ERROR, sanitizer report, uncaught C++
           exception); split into `project` (a frame or message of lpattn's
           own code) and `upstream` (only MLIR/LLVM frames: see the README's
           known issues)

Targets (all on by default; --targets picks some):

  opt       lpattn-opt on mutated .mlir from the project's tests and
            examples, through a random pass pipeline (or none, the parser
            and verifier alone, or a round trip)
  run-mlir  lpattn-run on mutated small runnable .mlir files
  run-cli   lpattn-run with mutated option values (sizes, scales, sweeps,
            generators) on a small problem
  run-npy   lpattn-run --inputs npy with mutated .npy headers and bodies

Mutations are seeded (--seed): the same seed gives the same inputs. Every
crash and timeout is kept under --out with its input, command and stderr.
Exit status 1 if a project crash was found (upstream crashes and timeouts
are reported, not failures, unless --strict).

  python3 scripts/fuzz.py --bin build/bin --count 200 --seed 1   # smoke
  bash scripts/fuzz.sh                                            # long run
"""

import argparse
import collections
import concurrent.futures
import os
import pathlib
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Values that have broken parsers and size arithmetic before.
INTERESTING_INTS = [
    "0", "-1", "1", "2", "3", "7", "63", "64", "65", "255", "256", "4096",
    "65536", "2147483647", "2147483648", "4294967295", "4294967296",
    "4611686018427387904", "9223372036854775807", "9223372036854775808",
    "-9223372036854775808", "1000000000", "18446744073709551616",
]
INTERESTING_FLOATS = [
    "0.0", "-0.0", "1.0", "-1.0", "0.5", "2.0", "256.0", "448.0", "512.0",
    "1e-3", "1.0e-45", "1.0e-50", "1e-200", "6.223015277861142e-61",
    "1.0e39", "1e300", "3.4028235e38", "nan", "inf", "-inf",
    "0x7FF8000000000000", "0x7FF0000000000000", "0x0000000000000001",
    "0x7F800000", "1.17549435e-38", "1.401298e-45",
]
TOKENS = [
    "%", "%q", "%k", "%v", ":", ",", "(", ")", "<", ">", "[", "]", "{", "}",
    "=", "->", "?", "x", "tensor<", "f32", "f16", "bf16", "f8E4M3FN",
    "f8E5M2", "f64", "i32", "index", "lpattn.attention", "func.func",
    "return", "mask(%q)", "descale(%q, %k, %v)", "policy = <>",
    "softmax = bias_corrected", "softmax = pasa(beta = 0.5)", "causal = true",
    "tiles = [1, 1]", "tiles = [0, 0]", "kv_order = reverse", "p_scale = ",
    "scale = ", "\"", "#lpattn.precision<", "gpu.module @g {", "module {",
    "// -----", "\n", " ", "\x00", "\xff",
    "{lpattn.sink_strength = 9.0 : f64}", "{lpattn.sink_count = 1 : i64}",
    "{lpattn.sink_jitter = 0.0 : f64}",
]
# lpattn-opt pass pipelines (each a list of arguments).
PIPELINES = [
    [], ["--mlir-print-op-generic"], ["--verify-roundtrip"],
    ["--lpattn-tile"], ["--lpattn-tile", "--lpattn-robust-fp8"],
    ["--lpattn-insert-p-scale"], ["--lpattn-reverse-kv"],
    ["--lpattn-tile", "--lpattn-bias-corrected-softmax"],
    ["--lpattn-tile", "--lpattn-pasa-shift"],
    ["--lpattn-tile", "--lpattn-cpu-matmul-layout"],
    ["--lpattn-tile", "--lpattn-count-collapse"],
    ["--lpattn-expand-float-casts"],
    ["--lpattn-tile", "--lpattn-cpu-matmul-layout",
     "--lpattn-expand-float-casts"],
    ["--lpattn-bias-corrected-softmax", "--lpattn-pasa-shift"],
    ["--lpattn-predict-collapse"],
    ["--lpattn-robust-fp8", "--lpattn-predict-collapse=sink-strength=20"],
]
PASS_OPTIONS = [
    "--lpattn-insert-p-scale=scale={f}", "--lpattn-insert-p-scale=rescale-lag={f}",
    "--lpattn-tile=tile-q={i}", "--lpattn-tile=tile-kv={i}",
    "--lpattn-bias-corrected-softmax=beta={f}",
    "--lpattn-bias-corrected-softmax=tol={f}",
    "--lpattn-pasa-shift=beta={f}", "--lpattn-count-collapse=sink-keys={i}",
    "--lpattn-robust-fp8=scale={f}",
    "--lpattn-predict-collapse=sink-strength={f}",
    "--lpattn-predict-collapse=sinks={i}",
    "--lpattn-predict-collapse=jitter={f}",
    "--lpattn-predict-collapse=tile-kv={i}",
]

# lpattn-run: a small problem that runs in well under a second.
RUN_BASE = ["--nq", "16", "--nk", "48", "--head-dim", "16", "--heads", "2",
            "--tile-q", "16", "--tile-kv", "16"]
RUN_INT_OPTIONS = ["batch", "heads", "kv-heads", "nq", "nk", "head-dim",
                   "tile-q", "tile-kv", "sinks", "tied", "seed",
                   "max-memory"]
RUN_FLOAT_OPTIONS = ["p-scale", "beta", "delta", "jitter", "offset"]
RUN_CHOICES = {
    "inputs": ["random", "sinks", "offset", "ties", "npy", "bogus", ""],
    "softmax": ["standard", "bias_corrected", "pasa", "fast"],
    "qk-type": ["f32", "f16", "bf16", "f8E4M3FN", "f8E5M2", "f64", ""],
    "score-type": ["f32", "f16", "bf16", "f8E4M3FN"],
    "p-type": ["f32", "f16", "bf16", "f8E4M3FN", "f8E5M2"],
    "v-type": ["f32", "f16", "bf16", "f8E4M3FN", "f8E5M2"],
    "acc-type": ["f32", "f16", "bf16"],
    "out-type": ["f32", "f16", "bf16", "f8E4M3FN", "f8E5M2"],
    "reverse": ["true", "false"], "causal": ["true", "false"],
    "nonsat": ["true", "false"],
}
# Sizes lpattn-run may meet and still finish quickly: a fuzzed size is one
# of INTERESTING_INTS (huge ones must be refused), the rest stay small.
SWEEP_PARAMS = ["delta", "offset", "p-scale", "bogus"]

CRASH_PATTERNS = [
    "Stack dump", "PLEASE submit a bug report", "LLVM ERROR",
    "AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
    "runtime error:", "terminate called", "Assertion", "std::length_error",
    "std::bad_alloc", "Segmentation fault", "Aborted",
]
# A crash is the project's if its report names project code.
PROJECT_PATTERNS = [
    "lpattn::", "LPAttn", "AttentionOp", "TruncFOp", "CPUAttention",
    "/lib/Dialect/LPAttn/", "/lib/Runner/", "/lib/Lab/", "/lib/Numerics/",
    "/lib/Conversion/", "/tools/lpattn-", "_ZN6lpattn",
]


def load_corpus():
    """Every test and example .mlir of the project, split at '// -----'."""
    chunks = []
    for path in sorted(list(ROOT.glob("test/**/*.mlir")) +
                       list(ROOT.glob("examples/*.mlir"))):
        text = path.read_text(errors="replace")
        for chunk in text.split("// -----"):
            if chunk.strip():
                chunks.append(chunk)
    return chunks


RUNNABLE = """\
func.func @attention(%q: tensor<1x2x{nq}x16x{qk}>, %k: tensor<1x{hkv}x24x16x{qk}>, %v: tensor<1x{hkv}x24x16x{v}>) -> tensor<1x2x{nq}x16x{out}> {{
  %o = lpattn.attention %q, %k, %v
         policy = <qk = {qk}, score = f32, p = {p}, v = {v}, acc = f32, out = {out}, overflow = satfinite>
         scale = 0.25 p_scale = {ps} kv_order = reverse softmax = {sm} causal = {causal} tiles = [8, 8]
         : tensor<1x2x{nq}x16x{qk}>, tensor<1x{hkv}x24x16x{qk}>, tensor<1x{hkv}x24x16x{v}> -> tensor<1x2x{nq}x16x{out}>
  return %o : tensor<1x2x{nq}x16x{out}>
}}
"""


def runnable_seed(rng):
    return RUNNABLE.format(
        nq=rng.choice([8, 16, 24]), hkv=rng.choice([1, 2]),
        qk=rng.choice(["f32", "f8E4M3FN", "bf16"]),
        v=rng.choice(["f32", "f8E4M3FN"]), p=rng.choice(["f8E4M3FN", "f32"]),
        out=rng.choice(["bf16", "f32"]), ps=rng.choice(["1.0", "16.0"]),
        sm=rng.choice(["standard", "bias_corrected", "pasa(beta = 0.5)"]),
        causal=rng.choice(["true", "false"]))


NUMBER = re.compile(r"(?<![\w.])-?(?:0x[0-9A-Fa-f]+|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)")


def mutate_text(rng, text, rounds=None):
    """A few random edits, biased to numbers (sizes, scales) and tokens."""
    for _ in range(rounds or rng.randint(1, 4)):
        kind = rng.random()
        numbers = list(NUMBER.finditer(text))
        if kind < 0.45 and numbers:
            m = rng.choice(numbers)
            pool = INTERESTING_FLOATS if "." in m.group() or "e" in m.group() \
                else INTERESTING_INTS + INTERESTING_FLOATS[:6]
            text = text[:m.start()] + rng.choice(pool) + text[m.end():]
        elif kind < 0.6:
            pos = rng.randrange(len(text) + 1)
            text = text[:pos] + rng.choice(TOKENS) + text[pos:]
        elif kind < 0.75 and text:
            start = rng.randrange(len(text))
            text = text[:start] + text[start + rng.randint(1, 40):]
        elif kind < 0.85 and text:
            start = rng.randrange(len(text))
            span = text[start:start + rng.randint(1, 80)]
            pos = rng.randrange(len(text) + 1)
            text = text[:pos] + span + text[pos:]
        elif text:
            pos = rng.randrange(len(text))
            text = text[:pos] + chr(rng.randrange(1, 256)) + text[pos + 1:]
    return text


def npy_bytes(shape, values=None, descr="<f4", fortran=False, pad=0,
              version=1):
    count = 1
    for d in shape:
        count *= d
    dims = ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "")
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (
        descr, "True" if fortran else "False", dims) + " " * pad
    prefix = 8 + (2 if version == 1 else 4)
    header += " " * ((64 - (prefix + len(header) + 1) % 64) % 64) + "\n"
    length = struct.pack("<H" if version == 1 else "<I", len(header))
    body = struct.pack("<%df" % count,
                       *(values or [((i * 37) % 17 - 8) / 8.0
                                    for i in range(count)]))
    return b"\x93NUMPY" + bytes([version, 0]) + length + \
        header.encode("latin1") + body


def mutate_bytes(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        kind = rng.random()
        if kind < 0.5 and data:
            # The header (first 128 bytes) is where the structure is.
            limit = min(len(data), 128) if rng.random() < 0.8 else len(data)
            data[rng.randrange(limit)] = rng.choice(
                [0, 0xff, ord("("), ord(")"), ord(","), ord("'"), ord("9"),
                 ord("-"), ord(" "), ord("\n"), rng.randrange(256)])
        elif kind < 0.65 and data:
            del data[rng.randrange(len(data)):][:rng.randint(1, 64)]
        elif kind < 0.8:
            pos = rng.randrange(len(data) + 1)
            data[pos:pos] = rng.choice(
                [b"0", b"99999999999999999999", b"4294967296", b", 0",
                 b"True", b"'<f8'", b"'<i4'", b"nan", b"\x00" * 8,
                 struct.pack("<f", float("nan")),
                 struct.pack("<f", float("inf"))])
        elif len(data) > 10:
            # The header length field.
            data[8] = rng.randrange(256)
            data[9] = rng.randrange(256)
    return bytes(data)


class Case:
    def __init__(self, target, args, files):
        self.target, self.args, self.files = target, args, files


def make_case(rng, target, corpus, workdir, bindir):
    opt = str(bindir / "lpattn-opt")
    run = str(bindir / "lpattn-run")
    if target == "opt":
        text = mutate_text(rng, rng.choice(corpus))
        args = [opt, "{in}"] + list(rng.choice(PIPELINES))
        if rng.random() < 0.3:
            spec = rng.choice(PASS_OPTIONS)
            args.append(spec.format(f=rng.choice(INTERESTING_FLOATS),
                                    i=rng.choice(INTERESTING_INTS)))
        return Case(target, args + ["-o", os.devnull],
                    {"in.mlir": text.encode("utf-8", "surrogateescape")})
    if target == "run-mlir":
        text = runnable_seed(rng)
        if rng.random() < 0.1:
            # Bytecode must be refused before the upstream reader sees it.
            data = b"ML\xefR" + mutate_text(rng, text).encode()
        else:
            # One edit: most inputs should still reach the JIT.
            data = mutate_text(rng, text, rounds=1).encode(
                "utf-8", "surrogateescape")
        return Case(target, [run, "{in}", "--json"], {"in.mlir": data})
    if target == "run-cli":
        args = [run] + RUN_BASE
        for _ in range(rng.randint(1, 3)):
            kind = rng.random()
            if kind < 0.35:
                args += ["--" + rng.choice(RUN_INT_OPTIONS),
                         rng.choice(INTERESTING_INTS)]
            elif kind < 0.65:
                args += ["--" + rng.choice(RUN_FLOAT_OPTIONS),
                         rng.choice(INTERESTING_FLOATS + ["1e-20", "-5"])]
            elif kind < 0.85:
                name = rng.choice(list(RUN_CHOICES))
                args += ["--" + name + "=" + rng.choice(RUN_CHOICES[name])]
            else:
                vals = [rng.choice(["0", "1", "2", "1e-20", "inf", "nan",
                                   "-1", "5", "1e300", "256", "0.5"])
                        for _ in range(3)]
                args += ["--sweep", rng.choice(SWEEP_PARAMS) + ":" +
                         ":".join(vals)]
        args.append("--json")
        return Case(target, args, {})
    if target == "run-npy":
        hq, hkv, n, m, d = 2, rng.choice([1, 2]), 16, 24, 8
        shapes = {"q": [1, hq, n, d], "k": [1, hkv, m, d], "v": [1, hkv, m, d]}
        files = {}
        victim = rng.choice(["q", "k", "v"])
        for name, shape in shapes.items():
            data = npy_bytes(shape)
            if name == victim:
                kind = rng.random()
                if kind < 0.5:
                    data = mutate_bytes(rng, data)
                elif kind < 0.6:
                    data = npy_bytes(shape, descr=rng.choice(
                        ["<i4", ">f4", "<f2", "<f8", "|b1", "<c8"]))
                elif kind < 0.65:
                    data = npy_bytes(shape, fortran=True)
                elif kind < 0.8:
                    bad = list(shape)
                    bad[rng.randrange(len(bad))] = rng.choice([0, 1, 3, 64])
                    if rng.random() < 0.3:
                        bad = bad[:rng.randrange(len(bad))]
                    data = npy_bytes(bad)
                elif kind < 0.9:
                    count = shape[0] * shape[1] * shape[2] * shape[3]
                    values = [((i * 37) % 17 - 8) / 8.0 for i in range(count)]
                    for _ in range(rng.randint(1, 4)):
                        values[rng.randrange(count)] = rng.choice(
                            [float("nan"), float("inf"), -float("inf"),
                             3.0e38, 1e-45])
                    data = npy_bytes(shape, values)
                else:
                    data = npy_bytes(shape, pad=rng.choice([0, 70000, 1 << 20]),
                                     version=2)
            files[name + ".npy"] = data
        args = [run, "--inputs", "npy", "--q-npy", "{q.npy}", "--k-npy",
                "{k.npy}", "--v-npy", "{v.npy}", "--tile-q", "8",
                "--tile-kv", "8", "--json"]
        if rng.random() < 0.3:
            args += ["--output-npy", "{dir}/o.npy"]
        return Case(target, args, files)
    raise ValueError(target)


FRAME = re.compile(r"#\d+ 0x[0-9a-f]+ ([^ (]+)")
# LLVM: "#4 0x55a7 main (/path/build/bin/lpattn-run+0x1cbe8)";
# sanitizers: "#4 0x55a7 in main /path/tools/lpattn-run/lpattn-run.cpp:12".
FRAME_MODULE = re.compile(
    r"#\d+ 0x[0-9a-f]+ (?:(\S+?)(?:\(.*\))?(?: const)? )?\(([^)+]+)\+0x")
FRAME_SANITIZER = re.compile(r"#\d+ 0x[0-9a-f]+ in (\S+).* (\S+)$")
SKIP_FRAMES = ("llvm::sys::", "SignalHandler", "__", "_start", "abort",
               "raise", "gsignal")


def signature(stderr):
    """The first three named frames below the signal handlers."""
    frames = [f for f in FRAME.findall(stderr)
              if not any(f.startswith(s) or s in f for s in SKIP_FRAMES)]
    if frames:
        return " < ".join(frames[:3])
    for line in stderr.splitlines():
        if any(p in line for p in CRASH_PATTERNS):
            return line.strip()[:120]
    return "(no report)"


def top_frames_in_project(stderr, depth=8):
    """Whether one of the top `depth` frames below the signal handlers is in
    a tool binary (lpattn's own code is linked into it; MLIR and LLVM are
    shared libraries) or names lpattn code."""
    frames = []
    for line in stderr.splitlines():
        m = FRAME_MODULE.search(line) or FRAME_SANITIZER.search(line.rstrip())
        if not m:
            continue
        name, where = m.group(1) or "", m.group(2)
        if "libc.so" in where or "libasan" in where or "libubsan" in where \
                or "sanitizer_common" in where or \
                name.startswith(("llvm::sys::", "__asan", "__ubsan",
                                 "__sanitizer", "__interceptor")) or \
                (not name and "libLLVM" in where and not frames):
            continue
        frames.append((name, where))
    for name, where in frames[:depth]:
        in_binary = where.startswith("/") and ".so" not in \
            os.path.basename(where) and not where.startswith("/usr/")
        if in_binary or where.startswith(str(ROOT)) or \
                any(p in name for p in PROJECT_PATTERNS):
            return True
    return False


def classify(rc, stderr, timed_out):
    if timed_out:
        return "timeout", False
    crashed = rc < 0 or rc not in (0, 1) or any(
        p in stderr for p in CRASH_PATTERNS)
    if not crashed:
        return ("ok" if rc == 0 else "error"), False
    # Sanitizer reports and messages name project files; stack dumps are
    # judged by their top frames.
    project = top_frames_in_project(stderr) or any(
        line.startswith(str(ROOT)) and "runtime error:" in line
        for line in stderr.splitlines())
    return "crash", project


def run_case(index, case, workdir, timeout, env):
    d = workdir / ("case%06d" % index)
    d.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, data in case.files.items():
        p = d / name
        p.write_bytes(data)
        paths[name] = str(p)
    args = []
    for a in case.args:
        a = a.replace("{dir}", str(d))
        for name, p in paths.items():
            a = a.replace("{" + name + "}", p)
        if a == "{in}":
            a = paths.get("in.mlir", a)
        args.append(a)
    start = time.time()
    try:
        proc = subprocess.run(args, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=timeout, env=env)
        rc, stderr, timed_out = proc.returncode, proc.stderr, False
    except subprocess.TimeoutExpired as e:
        rc, stderr, timed_out = -999, e.stderr or b"", True
    except OSError as e:  # the tool could not start (e.g. being rebuilt)
        rc, stderr, timed_out = 1, ("error: cannot run: %s" % e).encode(), False
    stderr = stderr.decode("utf-8", "replace")
    kind, project = classify(rc, stderr, timed_out)
    return index, case, args, d, kind, project, rc, stderr, time.time() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--bin", default=str(ROOT / "build" / "bin"))
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--time-limit", type=float, default=0,
                    help="stop starting new inputs after this many seconds")
    ap.add_argument("--targets", default="opt,run-mlir,run-cli,run-npy")
    ap.add_argument("--weights", default="6,2,2,2",
                    help="relative share of each target, in --targets order")
    ap.add_argument("--out", default=None,
                    help="where crashes and timeouts are kept")
    ap.add_argument("--strict", action="store_true",
                    help="fail on upstream crashes and timeouts too")
    args = ap.parse_args()

    bindir = pathlib.Path(args.bin).resolve()
    targets = args.targets.split(",")
    weights = [float(w) for w in args.weights.split(",")][:len(targets)]
    weights += [1.0] * (len(targets) - len(weights))
    rng = random.Random(args.seed)
    corpus = load_corpus()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="lpattn-fuzz-"))
    out = pathlib.Path(args.out) if args.out else None
    env = dict(os.environ)

    counts = collections.Counter()
    per_target = collections.defaultdict(collections.Counter)
    findings = []
    begin = time.time()
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        pending = set()
        index = 0
        while index < args.count or pending:
            while (index < args.count and len(pending) < 2 * args.jobs and
                   not (args.time_limit and
                        time.time() - begin > args.time_limit)):
                target = rng.choices(targets, weights)[0]
                case = make_case(rng, target, corpus, tmp, bindir)
                pending.add(pool.submit(run_case, index, case, tmp,
                                        args.timeout, env))
                index += 1
            if not pending:
                break
            done, pending = concurrent.futures.wait(
                pending, return_when=concurrent.futures.FIRST_COMPLETED)
            for fut in done:
                i, case, cmd, d, kind, project, rc, stderr, secs = fut.result()
                label = kind + ("-project" if kind == "crash" and project
                                else "-upstream" if kind == "crash" else "")
                counts[label] += 1
                per_target[case.target][label] += 1
                if kind in ("crash", "timeout"):
                    findings.append((i, case.target, label, cmd, stderr))
                    if out:
                        keep = out / ("%s-%06d-%s" % (label, i, case.target))
                        shutil.copytree(d, keep, dirs_exist_ok=True)
                        (keep / "cmd").write_text(" ".join(cmd) + "\n")
                        (keep / "stderr").write_text(stderr)
                shutil.rmtree(d, ignore_errors=True)
            if args.time_limit and time.time() - begin > args.time_limit:
                index = max(index, args.count)  # finish what is running
    shutil.rmtree(tmp, ignore_errors=True)

    total = sum(counts.values())
    print("lpattn fuzz: %d inputs in %.0f s (seed %d)" %
          (total, time.time() - begin, args.seed))
    for target in targets:
        c = per_target[target]
        print("  %-9s %6d: %s" % (target, sum(c.values()), ", ".join(
            "%s %d" % kv for kv in sorted(c.items()))))
    signatures = collections.Counter(
        (label, signature(stderr)) for _, _, label, _, stderr in findings
        if label.startswith("crash"))
    if signatures:
        print("\ncrash signatures:")
        for (label, sig), n in signatures.most_common():
            print("  %5d  %s  %s" % (n, label, sig))
    for i, target, label, cmd, stderr in findings[:5]:
        print("\n[%s] input %d (%s): %s" % (label, i, target, " ".join(cmd)))
        print("  " + "\n  ".join(stderr.strip().splitlines()[:12]))
    bad = counts["crash-project"]
    if args.strict:
        bad += counts["crash-upstream"] + counts["timeout"]
    print("\nproject crashes: %d, upstream crashes: %d, timeouts: %d" %
          (counts["crash-project"], counts["crash-upstream"],
           counts["timeout"]))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
