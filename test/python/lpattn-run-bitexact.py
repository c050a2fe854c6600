# lpattn.attention with an FP8 policy equals lpattn-run --inputs npy on the
# same inputs, bit for bit.
# RUN: rm -rf %t && mkdir -p %t && %python %s %t | FileCheck %s
# CHECK: standard-causal-reverse OK
# CHECK: pasa-forward-mask-descale OK
# CHECK: bias-corrected-e5m2 OK
# CHECK: all OK

import os
import subprocess
import sys

import numpy as np

import lpattn

tmp = sys.argv[1]
run = os.path.join(os.environ["LPATTN_TOOLS_DIR"], "lpattn-run")
rng = np.random.default_rng(5)
q = (3 * rng.standard_normal((1, 4, 50, 32))).astype(np.float32)
k = (3 * rng.standard_normal((1, 2, 90, 32))).astype(np.float32)
v = rng.standard_normal((1, 2, 90, 32)).astype(np.float32)
mask = rng.uniform(-4, 0, (1, 1, 50, 90)).astype(np.float32)
files = {}
for name, x in (("q", q), ("k", k), ("v", v), ("mask", mask)):
    files[name] = os.path.join(tmp, name + ".npy")
    np.save(files[name], x)


def lpattn_run(name, *flags):
    out = os.path.join(tmp, name + ".out.npy")
    subprocess.run([run, "--inputs", "npy", "--q-npy", files["q"],
                    "--k-npy", files["k"], "--v-npy", files["v"],
                    "--output-npy", out, *flags],
                   check=True, stdout=subprocess.DEVNULL)
    return np.load(out)


def check(name, o, ref):
    assert o.shape == ref.shape and ref.dtype == np.float32, \
        (o.shape, ref.shape, ref.dtype)
    same = o.view(np.uint32) == ref.view(np.uint32)
    assert same.all(), f"{name}: {np.count_nonzero(~same)} of {o.size} differ"
    # Not vacuous: the FP8 result is not the f32 one.
    assert not np.array_equal(o, lpattn.attention(q, k, v, policy="f32"))
    print(name, "OK")


check("standard-causal-reverse",
      lpattn.attention(q, k, v, policy="fp8", p_scale=256, causal=True),
      lpattn_run("a", "--p-scale", "256", "--causal"))
check("pasa-forward-mask-descale",
      lpattn.attention(q, k, v, policy="fp8", p_scale=128, softmax="pasa",
                       kv_order="forward", mask=mask,
                       descale=(0.5, 0.25, 2.0)),
      lpattn_run("b", "--p-scale", "128", "--softmax", "pasa",
                 "--reverse=false", "--mask-npy", files["mask"],
                 "--q-descale", "0.5", "--k-descale", "0.25",
                 "--v-descale", "2.0"))
policy = dict(qk="f8E5M2", score="f32", p="f8E4M3FN", v="f8E5M2",
              acc="f32", out="f16", overflow="satfinite")
check("bias-corrected-e5m2",
      lpattn.attention(q, k, v, policy=policy, p_scale=64,
                       softmax="bias_corrected", scale=0.125),
      lpattn_run("c", "--qk-type", "f8E5M2", "--v-type", "f8E5M2",
                 "--out-type", "f16", "--p-scale", "64", "--softmax",
                 "bias_corrected", "--scale", "0.125"))
print("all OK")
