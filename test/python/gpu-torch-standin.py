# lpattn.attention's torch path without torch or a GPU: a stand-in "torch"
# module (CUDA tensors backed by host memory, which is what the tests' fake
# CUDA driver treats as device memory) drives the dispatch, the dtype and
# descale checks, the compile cache and the launch. The fake "kernel" copies
# a file to parameter 6, O in these artifacts (all have descales): the returned tensor must hold
# exactly those bytes. What real torch and a real GPU do is checked by
# gpu-torch.py and scripts/gpu-check.sh where they exist.
# REQUIRES: ptxas
# RUN: rm -rf %t && mkdir -p %t
# RUN: env LPATTN_CUDA_DRIVER=%fake_cuda_driver LPATTN_FAKE_CUDA_KERNEL=attention_sm90 %python %s %t | FileCheck %s
# CHECK: run: bfloat16 (1, 4, 128, 64), O holds the kernel's bytes
# CHECK: cache: CacheInfo(hits=1, misses=1, compiles=1, currsize=1)
# CHECK: dtype: ValueError lpattn: q has dtype bfloat16, but the policy's qk = f8E4M3FN needs float8_e4m3fn (the GPU kernel takes torch.float8_e4m3fn or torch.float8_e5m2 Q, K, V)
# CHECK: e5m2: float8_e5m2 policy ok
# CHECK: per-head: O holds the kernel's bytes; per-tensor floats refused: ValueError lpattn: q_ds must be a contiguous float32 tensor [B, Hkv] = [1, 2]
# CHECK: mixed: TypeError lpattn: q is a torch tensor, k is ndarray
# CHECK: OK

import os
import sys
import types

import numpy as np

work = sys.argv[1]

# --- The stand-in torch ------------------------------------------------------
torch = types.ModuleType("torch")
_ITEMSIZE = {"float8_e4m3fn": 1, "float8_e5m2": 1, "bfloat16": 2,
             "float16": 2, "float32": 4}
for name in _ITEMSIZE:
    setattr(torch, name, name)


class device:
    def __init__(self, kind, index=None):
        self.type, self.index = kind, index

    def __eq__(self, other):
        return (self.type, self.index) == (other.type, other.index)

    def __repr__(self):
        return f"{self.type}:{self.index}"


class Tensor:
    def __init__(self, shape, dtype, dev, buf=None, offset=0):
        self.shape, self.dtype, self.device = tuple(shape), dtype, dev
        n = int(np.prod(self.shape)) * _ITEMSIZE[dtype]
        # 256-byte aligned host memory (TMA needs 16).
        self._buf = buf if buf is not None else np.zeros(n + 256, np.uint8)
        base = self._buf.ctypes.data
        self._offset = offset if buf is not None else (-base) % 256
        self._bytes = n

    def data_ptr(self):
        return self._buf.ctypes.data + self._offset

    def is_contiguous(self):
        return True

    def __getitem__(self, i):
        inner = self.shape[1:]
        step = int(np.prod(inner)) * _ITEMSIZE[self.dtype]
        return Tensor(inner, self.dtype, self.device, self._buf,
                      self._offset + i * step)

    def tobytes(self):
        return self._buf[self._offset:self._offset + self._bytes].tobytes()


def empty(shape, dtype, device):
    return Tensor(shape, dtype, device)


class _Stream:
    cuda_stream = 0


torch.device, torch.Tensor, torch.empty = device, Tensor, empty
torch.cuda = types.SimpleNamespace(
    current_device=lambda: 0,
    current_stream=lambda dev=None: _Stream(),
    get_device_capability=lambda dev=None: (9, 0))
sys.modules["torch"] = torch

import lpattn  # noqa: E402

cuda = device("cuda", 0)
q = Tensor((1, 4, 128, 64), torch.float8_e4m3fn, cuda)
k = Tensor((1, 2, 128, 64), torch.float8_e4m3fn, cuda)
v = Tensor((1, 2, 128, 64), torch.float8_e4m3fn, cuda)

expected = np.arange(4 * 128 * 64, dtype=np.uint16).tobytes()
out_file = os.path.join(work, "o.bin")
with open(out_file, "wb") as f:
    f.write(expected)
os.environ["LPATTN_FAKE_CUDA_OUTPUT"] = "6:" + out_file

o = lpattn.attention(q, k, v, p_scale=256, descale=(0.5, 2.0, 1.0))
assert isinstance(o, Tensor) and o.tobytes() == expected
print(f"run: {o.dtype} {o.shape}, O holds the kernel's bytes")
o = lpattn.attention(q, k, v, p_scale=256, descale=(0.5, 2.0, 1.0))
assert o.tobytes() == expected
print("cache:", lpattn.cache_info())


def expect(label, exc, f):
    try:
        f()
    except exc as e:
        text = f"{type(e).__name__} {e}"
        if label:
            print(f"{label}: {text}")
        return text
    raise AssertionError(f"{label}: no {exc.__name__}")


expect("dtype", ValueError, lambda: lpattn.attention(
    Tensor(q.shape, torch.bfloat16, cuda), k, v))
e5 = [Tensor(t.shape, torch.float8_e5m2, cuda) for t in (q, k, v)]
pol = dict(lpattn.POLICIES["fp8"], qk="f8E5M2", p="f8E5M2", v="f8E5M2")
# (With descales, so that O stays parameter 6.)
assert lpattn.attention(*e5, policy=pol,
                        descale=(1.0, 1.0, 1.0)).tobytes() == expected
print("e5m2: float8_e5m2 policy ok")

# Per (batch, KV head): one (3, B, Hkv) float32 tensor; O is still param 6.
ds = Tensor((3, 1, 2), torch.float32, cuda)
assert lpattn.attention(q, k, v, descale=ds).tobytes() == expected
art = lpattn.compile_gpu(lpattn.attention_mlir(q.shape, k.shape, v.shape,
                                               descale="per_head"))
refused = expect("", ValueError,
                 lambda: art(q, k, v, descale=(1.0, 1.0, 1.0)))
print(f"per-head: O holds the kernel's bytes; per-tensor floats refused: "
      f"{refused}")
expect("mixed", TypeError, lambda: lpattn.attention(q, np.zeros(k.shape), v))
print("OK")
