# attention()'s compile cache: a second identical call does not compile, a
# call that differs in any attribute does.
# RUN: %python %s | FileCheck %s
# CHECK: CacheInfo(hits=0, misses=1, compiles=1, currsize=1)
# CHECK: CacheInfo(hits=1, misses=1, compiles=1, currsize=1)
# CHECK: CacheInfo(hits=2, misses=6, compiles=6, currsize=6)
# CHECK: CacheInfo(hits=0, misses=0, compiles=0, currsize=0)
# CHECK: OK

import numpy as np

import lpattn

rng = np.random.default_rng(3)
q = rng.standard_normal((1, 2, 8, 16)).astype(np.float32)
k = rng.standard_normal((1, 2, 20, 16)).astype(np.float32)
v = rng.standard_normal((1, 2, 20, 16)).astype(np.float32)

a = lpattn.attention(q, k, v, p_scale=256)
print(lpattn.cache_info())
# float64 inputs of the same shapes: same entry.
b = lpattn.attention(q.astype(np.float64), k, v, p_scale=256.0)
print(lpattn.cache_info())
assert np.array_equal(a, b)
# Each of these differs from the first in one thing: five more compiles.
lpattn.attention(q, k, v, p_scale=128)
lpattn.attention(q, k, v, p_scale=256, causal=True)
lpattn.attention(q, k, v, p_scale=256, kv_order="forward")
lpattn.attention(q, k, v, p_scale=256, policy="f32")
lpattn.attention(q[:, :, :4], k, v, p_scale=256)
# And the first again.
c = lpattn.attention(q, k, v, p_scale=256)
print(lpattn.cache_info())
assert np.array_equal(a, c)
lpattn.cache_clear()
print(lpattn.cache_info())
print("OK")
