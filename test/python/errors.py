# Errors: the C API's messages as LPAttnError, shape mismatches as ValueError
# (before calling C), a missing library as an ImportError from the first call
# that needs it (import lpattn itself needs no library).
# RUN: %python %s | FileCheck %s
# CHECK: p_scale: {{.*}}'lpattn.attention' op p_scale = 448 is not a power of two
# CHECK: compile: {{.*}}error
# CHECK: shapes: lpattn: shapes q (1, 2, 8, 16), k (1, 2, 20, 8)
# CHECK: heads: lpattn: query heads 3 are no multiple of KV heads 2
# CHECK: call: lpattn: k has shape (1, 2, 21, 16), the compiled attention takes (1, 2, 20, 16)
# CHECK: mask: lpattn: the compiled attention takes a mask of shape (1, 1, 8, 20)
# CHECK: no-mask: lpattn: the compiled attention takes no mask
# CHECK: mask-shape: lpattn: mask has shape (1, 2, 8, 21)
# CHECK: policy: lpattn: policy keys are
# CHECK: per-head: lpattn: the compiled attention takes per-(batch, KV head) descales: descale must have shape (3, B, Hkv) = (3, 1, 2) (q, k, v), got shape (3,)
# CHECK: library: LPAttnLibraryNotFound lpattn: cannot load libLPAttnCAPI.so (the C API, needed to compile; running a saved GPU artifact does not need it): LPATTN_CAPI_LIBRARY is set
# CHECK: OK

import os
import subprocess
import sys

import numpy as np

import lpattn

rng = np.random.default_rng(4)
q = rng.standard_normal((1, 2, 8, 16)).astype(np.float32)
k = rng.standard_normal((1, 2, 20, 16)).astype(np.float32)
v = rng.standard_normal((1, 2, 20, 16)).astype(np.float32)


def expect(label, exc, f):
    try:
        f()
    except exc as e:
        text = str(e)
        print(f"{label}: {text.splitlines()[-1]}")
        return text
    raise AssertionError(f"{label}: no {exc.__name__}")


text = expect("p_scale", lpattn.LPAttnError,
              lambda: lpattn.attention(q, k, v, p_scale=448))
assert "is not a power of two" in text
expect("compile", lpattn.LPAttnError, lambda: lpattn.compile("func.func @"))
expect("shapes", ValueError, lambda: lpattn.attention(q, k[..., :8], v))
expect("heads", ValueError,
       lambda: lpattn.attention(np.zeros((1, 3, 8, 16)), k, v))
a = lpattn.compile(lpattn.attention_mlir(q.shape, k.shape, v.shape,
                                         mask_shape=(1, 1, 8, 20)))
expect("call", ValueError, lambda: a(q, np.zeros((1, 2, 21, 16)), v))
expect("mask", ValueError, lambda: a(q, k, v))
b = lpattn.compile(lpattn.attention_mlir(q.shape, k.shape, v.shape))
expect("no-mask", ValueError, lambda: b(q, k, v, mask=np.zeros((1, 1, 8, 20))))
expect("mask-shape", ValueError,
       lambda: lpattn.attention(q, k, v, mask=np.zeros((1, 2, 8, 21))))
expect("policy", ValueError,
       lambda: lpattn.attention(q, k, v, policy={"qk": "f32"}))
# The handles still work after the errors; close() frees, twice is harmless.
assert a(q, k, v, mask=np.zeros((1, 1, 8, 20))).shape == (1, 2, 8, 16)
a.close()
a.close()
expect("closed", ValueError, lambda: a(q, k, v))

with lpattn.compile(lpattn.attention_mlir(q.shape, k.shape, v.shape,
                                          policy="f32",
                                          descale="per_head")) as ph:
    expect("per-head", ValueError, lambda: ph(q, k, v, descale=(1, 1, 1)))

env = dict(os.environ, LPATTN_CAPI_LIBRARY="/nonexistent/libLPAttnCAPI.so")
r = subprocess.run([sys.executable, "-c",
                    "import lpattn, numpy as np\n"
                    "lpattn.attention(np.ones((1, 1, 4, 4)), "
                    "np.ones((1, 1, 4, 4)), np.ones((1, 1, 4, 4)))"],
                   env=env, capture_output=True, text=True)
assert r.returncode != 0
last = r.stderr.strip().splitlines()[-1]
assert last.startswith("lpattn.LPAttnLibraryNotFound: "), last
print("library: LPAttnLibraryNotFound", last.split(": ", 1)[1])
print("OK")
