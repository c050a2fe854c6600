# The GPU half of the package without a GPU: lpattn.compile_gpu (C API,
# ptxas) gives an artifact whose cubin and descriptor match the problem; it
# saves and loads back; a process whose libLPAttnCAPI.so is missing still
# imports lpattn, loads the saved artifact and launches it (runtime only),
# while compiling fails with one clear error; launches on the tests' fake
# driver put the kernel's output where the descriptor says O is; without a
# driver the launch fails with the runtime's message.
# REQUIRES: ptxas
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t %fake_cuda_driver | FileCheck %s
# CHECK: artifact: kernel attention_sm90, arch sm_90a, ELF cubin
# CHECK: shapes: q (1, 4, 128, 64), k (1, 2, 128, 64), v (1, 2, 128, 64), o (1, 4, 128, 64)
# CHECK: numerics: {{.*}}'out': 'bf16', 'overflow': 'satfinite', 'p': 'f8E4M3FN', 'qk': 'f8E4M3FN'{{.*}} p_scale 256 kv_order reverse
# CHECK: f16: lpattn.LPAttnError {{.*}}cannot run on sm_90a: qk, p and v must be f8E4M3FN or f8E5M2
# CHECK: tiles: tiles [64, 128]
# CHECK: per-head: per_head_descales True, q_ds [1, 2]
# CHECK: no-capi: loaded (1, 4, 128, 64); compile: LPAttnLibraryNotFound lpattn: cannot load libLPAttnCAPI.so (the C API, needed to compile; running a saved GPU artifact does not need it): LPATTN_CAPI_LIBRARY is set but does not name a loadable library
# CHECK: no-capi: fake launch ok
# CHECK: no-driver: lpattn.LPAttnError lpattn: cannot open the CUDA driver: no CUDA driver: dlopen(/nonexistent/libcuda.so.1) failed
# CHECK: corrupt: lpattn.LPAttnError lpattn: cannot load the artifact {{.*}}: cubin: {{.*}}is not an ELF file
# CHECK: OK

import json
import os
import subprocess
import sys

import numpy as np

import lpattn

work, fake_driver = sys.argv[1], sys.argv[2]

# FP8 e4m3, GQA, per-tensor descales, the P-Cast safeguards.
shapes = dict(q_shape=(1, 4, 128, 64), k_shape=(1, 2, 128, 64),
              v_shape=(1, 2, 128, 64))
text = lpattn.attention_mlir(**shapes, policy="fp8", p_scale=256,
                             kv_order="reverse", descale=True)
art = lpattn.compile_gpu(text)
d = art.descriptor
assert art.cubin[:4] == b"\x7fELF", art.cubin[:4]
print(f"artifact: kernel {d['kernel']}, arch {d['arch']}, ELF cubin")
print("shapes: " + ", ".join(f"{r} {art.shapes[r]}" for r in "qkvo"))
assert art.shapes["q"] == shapes["q_shape"] and art.shapes["o"] == (1, 4,
                                                                   128, 64)
assert [p["role"] for p in d["params"]] == ["q", "k", "v", "q_ds", "k_ds",
                                           "v_ds", "o"]
assert art.dtypes["q"] == "f8E4M3FN" and art.dtypes["o"] == "bf16"
assert art.has_descales and not art.per_head_descales and not art.has_mask
print(f"numerics: {d['policy']} p_scale {d['safeguards']['p_scale']} "
      f"kv_order {d['safeguards']['kv_order']}")
assert d["safeguards"]["p_scale"] == 256 and len(art.ptx) > 0


def expect(label, exc, f):
    try:
        f()
    except exc as e:
        print(f"{label}: {type(e).__module__}.{type(e).__name__} "
              + " | ".join(str(e).splitlines()))
        return str(e)
    raise AssertionError(f"{label}: no {exc.__name__}")


# A policy the kernel cannot run: lpattn-check-sm90's message.
f16 = dict(lpattn.POLICIES["fp8"], qk="f16")
expect("f16", lpattn.LPAttnError,
       lambda: lpattn.compile_gpu(lpattn.attention_mlir(**shapes,
                                                        policy=f16)))
# Compile options reach the kernel: an op without tiles gets tile_kv.
wide = lpattn.compile_gpu(lpattn.attention_mlir(**shapes), tile_kv=128)
print(f"tiles: tiles {wide.descriptor['tiles']}")
assert wide.descriptor["tiles"] == [64, 128]
ph = lpattn.compile_gpu(lpattn.attention_mlir(**shapes, descale="per_head"))
print(f"per-head: per_head_descales {ph.per_head_descales}, q_ds "
      f"{ph.descriptor['params'][3]['shape']}")

# The same bytes as lpattn-compile's for the same text.
with open(os.path.join(work, "attn.mlir"), "w") as f:
    f.write(text)
subprocess.run([os.path.join(os.environ["LPATTN_TOOLS_DIR"], "lpattn-compile"),
                os.path.join(work, "attn.mlir"), "-o",
                os.path.join(work, "ref", "attn")], check=True)
with open(os.path.join(work, "ref", "attn.cubin"), "rb") as f:
    assert f.read() == art.cubin, "cubin differs from lpattn-compile's"
with open(os.path.join(work, "ref", "attn.json")) as f:
    assert json.load(f) == art.descriptor, "descriptor differs"

# Saved: lpattn-compile's files; loaded back: the same artifact.
path = art.save(os.path.join(work, "art"))
assert path == os.path.join(work, "art", "attn.json")
back = lpattn.GPUArtifact.load(os.path.join(work, "art"))
assert back.cubin == art.cubin and back.descriptor == art.descriptor
assert back.ptx == art.ptx and back.shapes == art.shapes

# Without libLPAttnCAPI.so: import, load and a launch on the fake driver
# work; compiling fails with one clear error. The fake "kernel" copies a
# file to the pointer of parameter 6 (o); the launch must pass O there.
o_bytes = np.arange(1 * 4 * 128 * 64, dtype=np.uint16).tobytes()
with open(os.path.join(work, "o.bin"), "wb") as f:
    f.write(o_bytes)
child = r'''
import sys, numpy as np, lpattn
art = lpattn.GPUArtifact.load(sys.argv[1])
print(f"no-capi: loaded {art.shapes['q']}", end="; ")
try:
    lpattn.compile_gpu("func.func @")
except lpattn.LPAttnLibraryNotFound as e:
    print("compile: LPAttnLibraryNotFound", str(e).split("; tried")[0])
# Device buffers of the fake driver are host memory (16-byte aligned).
q = np.zeros(art.shapes["q"], np.uint8)
k = np.zeros(art.shapes["k"], np.uint8)
v = np.zeros(art.shapes["v"], np.uint8)
o = np.zeros(art.shapes["o"], np.uint16)
art.launch(q.ctypes.data, k.ctypes.data, v.ctypes.data, o.ctypes.data,
           descale=(0.5, 2.0, 1.0), stream=0)
assert o.tobytes() == open(sys.argv[2], "rb").read(), "O not written"
o[:] = 0
art.launch(q.ctypes.data, k.ctypes.data, v.ctypes.data, o.ctypes.data)
assert o.tobytes() == open(sys.argv[2], "rb").read(), "second launch"
print("no-capi: fake launch ok")
'''
env = dict(os.environ, LPATTN_CAPI_LIBRARY="/nonexistent/libLPAttnCAPI.so",
           LPATTN_CUDA_DRIVER=fake_driver,
           LPATTN_FAKE_CUDA_KERNEL="attention_sm90",
           LPATTN_FAKE_CUDA_OUTPUT="6:" + os.path.join(work, "o.bin"))
r = subprocess.run([sys.executable, "-c", child, path,
                    os.path.join(work, "o.bin")], env=env,
                   capture_output=True, text=True)
sys.stdout.write(r.stdout)
assert r.returncode == 0, r.stderr

# No driver: the runtime's message, no crash.
os.environ["LPATTN_CUDA_DRIVER"] = "/nonexistent/libcuda.so.1"
q = np.zeros(art.shapes["q"], np.uint8)
expect("no-driver", lpattn.LPAttnError,
       lambda: art.launch(q.ctypes.data, q.ctypes.data, q.ctypes.data,
                          q.ctypes.data))

# A corrupt artifact is refused at load, before any driver.
with open(os.path.join(work, "art", "attn.cubin"), "wb") as f:
    f.write(b"not a cubin")
expect("corrupt", lpattn.LPAttnError,
       lambda: lpattn.GPUArtifact.load(os.path.join(work, "art")))
print("OK")
