# An all-f32 lpattn.attention against a float64 numpy reference: MHA, GQA,
# causal (bottom-right aligned), mask, descales, Dv != D.
# RUN: %python %s | FileCheck %s
# CHECK: mha OK
# CHECK: gqa OK
# CHECK: gqa-causal OK
# CHECK: mask-descale OK
# CHECK: causal-forward OK
# CHECK: per-head-descale-equal OK
# CHECK: per-head-descale OK
# CHECK: all OK

import numpy as np

import lpattn


def reference(q, k, v, causal=False, mask=None, descale=None, scale=None):
    q, k, v = (x.astype(np.float64) for x in (q, k, v))
    b, hq, nq, d = q.shape
    hkv, nk = k.shape[1], k.shape[2]
    if scale is None:
        scale = 1.0 / np.sqrt(d)
    qd, kd, vd = (1.0, 1.0, 1.0) if descale is None else descale
    if np.ndim(qd) == 2:
        # Per (batch, KV head) [B, Hkv]: one value per (b, query head).
        qd, kd, vd = (np.repeat(np.asarray(x, np.float64), hq // hkv,
                                axis=1)[:, :, None, None]
                      for x in (qd, kd, vd))
    k = np.repeat(k, hq // hkv, axis=1)
    v = np.repeat(v, hq // hkv, axis=1)
    s = scale * qd * kd * np.einsum("bhqd,bhkd->bhqk", q, k)
    if mask is not None:
        s = s + mask.astype(np.float64)
    if causal:
        i = np.arange(nq)[:, None]
        j = np.arange(nk)[None, :]
        s = np.where(j <= i + (nk - nq), s, -np.inf)
    s = s - s.max(axis=-1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(axis=-1, keepdims=True)
    return np.einsum("bhqk,bhkd->bhqd", p, v) * vd


def check(name, o, ref):
    assert o.dtype == np.float32, o.dtype
    assert o.shape == ref.shape, (o.shape, ref.shape)
    rel = np.linalg.norm(o - ref) / np.linalg.norm(ref)
    worst = np.max(np.abs(o - ref)) / np.max(np.abs(ref))
    assert rel < 1e-5 and worst < 1e-5, f"{name}: rel {rel:.3e} max {worst:.3e}"
    print(name, "OK", f"(rel {rel:.2e})")


rng = np.random.default_rng(16)


def rand(*shape):
    return rng.standard_normal(shape).astype(np.float32)


q, k, v = rand(2, 3, 17, 16), rand(2, 3, 33, 16), rand(2, 3, 33, 16)
check("mha", lpattn.attention(q, k, v, policy="f32"), reference(q, k, v))

q, k, v = rand(1, 8, 40, 32), rand(1, 2, 70, 32), rand(1, 2, 70, 24)
check("gqa", lpattn.attention(q, k, v, policy="f32"), reference(q, k, v))
check("gqa-causal", lpattn.attention(q, k, v, policy="f32", causal=True),
      reference(q, k, v, causal=True))

mask = rand(1, 8, 40, 70)
ds = (0.5, 2.0, 0.25)
check("mask-descale",
      lpattn.attention(q, k, v, policy="f32", mask=mask, descale=ds,
                       scale=0.1),
      reference(q, k, v, mask=mask, descale=ds, scale=0.1))

q = rand(1, 8, 70, 32)
check("causal-forward",
      lpattn.attention(q, k, v, policy="f32", causal=True,
                       kv_order="forward"),
      reference(q, k, v, causal=True))
# Per-(batch, KV head) descales, a (3, B, Hkv) array: all equal to the
# per-tensor ones, the same bits; different ones, the float64 attention of
# them (GQA: each group's query heads share their KV head's descales).
q, k, v = rand(2, 4, 24, 16), rand(2, 2, 40, 16), rand(2, 2, 40, 16)
ds = (0.5, 2.0, 1.5)
flat = lpattn.attention(q, k, v, policy="f32", descale=ds, causal=True)
equal = np.broadcast_to(np.array(ds, np.float32)[:, None, None], (3, 2, 2))
assert np.array_equal(
    lpattn.attention(q, k, v, policy="f32", descale=equal, causal=True),
    flat)
print("per-head-descale-equal OK")
per_head = np.exp2(rng.uniform(-2, 2, (3, 2, 2))).astype(np.float32)
check("per-head-descale",
      lpattn.attention(q, k, v, policy="f32", descale=per_head, causal=True),
      reference(q, k, v, causal=True, descale=tuple(per_head)))
print("all OK")
