"""Shared helpers of the numerics benchmarks: run lpattn-run, write tables.

Every number comes from `lpattn-run --json` (the compiler's own CPU
pipeline with bit-exact low-precision emulation); nothing is computed here
but the bookkeeping. Run with Debian's python3 (numpy/matplotlib from
python3-matplotlib, installed by scripts/setup.sh).
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, os.environ.get("LPATTN_BUILD_DIR", "build"), "bin")
RESULTS = os.path.join(ROOT, "bench", "results")

# Q/K/V and output in f32, only P cast to e4m3: P-Cast's isolating setting.
ISOLATING = ["--qk-type", "f32", "--v-type", "f32", "--out-type", "f32",
             "--p-type", "f8E4M3FN"]
# Everything FP8 but the f32 accumulators and the f32 output.
ALL_E4M3 = ["--qk-type", "f8E4M3FN", "--v-type", "f8E4M3FN",
            "--out-type", "f32", "--p-type", "f8E4M3FN"]


def run(args, check=True):
    """Runs lpattn-run with `args` (+ --json); returns (results, stderr)."""
    cmd = [os.path.join(BIN, "lpattn-run"), "--json"] + [str(a) for a in args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        if check:
            sys.exit("lpattn-run failed: %s\n%s" % (" ".join(cmd), proc.stderr))
        return None, proc.stderr
    return json.loads(proc.stdout)["results"], proc.stderr


def rejected(args):
    """The diagnostic lpattn-run prints for a configuration it rejects."""
    results, stderr = run(args, check=False)
    if results is not None:
        sys.exit("expected a rejection: %s" % args)
    # The verifier's own diagnostic is the last error line.
    line = [l for l in stderr.splitlines() if "error:" in l][-1]
    return line[line.index("error:"):]


def progress(text):
    sys.stderr.write("\r" + text + " " * 10)
    sys.stderr.flush()


def write_markdown(name, title, header, rows, notes=()):
    path = os.path.join(RESULTS, name)
    with open(path, "w") as f:
        f.write("# %s\n\n" % title)
        for note in notes:
            f.write(note + "\n\n")
        f.write("| " + " | ".join(header) + " |\n")
        f.write("|" + "---|" * len(header) + "\n")
        for row in rows:
            f.write("| " + " | ".join(str(c) for c in row) + " |\n")
    print("wrote", os.path.relpath(path, ROOT))


def plot_path(name):
    os.makedirs(RESULTS, exist_ok=True)
    return os.path.join(RESULTS, name)
