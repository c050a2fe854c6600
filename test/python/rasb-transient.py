# A short run of bench/rasb_transient.py (RASB's transient experiment) on
# tiny sizes: delayed scaling overflows the qk type at a 4x spike of
# W_Q W_K^T and lpattn's output shows it, geometry-aware scaling never
# overflows; and the pieces the claim rests on (the overflow counter, the
# spectral norm, both scale rules) are checked on their own.
# RUN: %python %s %lpattn_src_root/bench | FileCheck %s
# CHECK: counter OK
# CHECK: sigma OK
# CHECK: scales OK
# CHECK: transient OK

import math
import sys

import numpy as np

sys.path.insert(0, sys.argv[1])
import rasb_transient as rt  # noqa: E402

rng = np.random.default_rng(7)
heads, d_model, d_head, n = 2, 32, 16, 32
wq = rng.standard_normal((heads, d_model, d_head)) / math.sqrt(d_model)
wk = rng.standard_normal((heads, d_model, d_head)) / math.sqrt(d_model)
x = rt.tokens(rng, n, d_model)
s = rt.logits(x, wq, wk)

# The counter counts: a scale putting amax exactly at 448 overflows
# nothing, twice that overflows at least the largest logit, and a scale
# 1000x too large overflows most of them.
amax = np.abs(s).max()
assert rt.count_overflows(s, rt.QK_MAX_FINITE / amax) == 0
assert rt.count_overflows(s, 2 * rt.QK_MAX_FINITE / amax) >= 1
assert rt.count_overflows(s, 1000 * rt.QK_MAX_FINITE / amax) > s.size // 2
print("counter OK")

# sigma without forming M equals the 2-norm of the formed M, per head.
sigma = rt.spectral_norms(wq, wk)
for h in range(heads):
    m = wq[h] @ wk[h].T
    assert abs(sigma[h] - np.linalg.norm(m, 2)) <= 1e-12 * sigma[h], h
# Every token has norm sqrt(d_model), so the bound holds for every logit.
bound = d_model * sigma.max() / math.sqrt(d_head)
assert np.abs(s).max() <= bound
print("sigma OK")

# Geometry: the largest power of two s <= 1 with s * bound <= 448.
for factor in (1.0, 8.0, 100.0):
    g = rt.geometry_scale(factor * sigma.max(), math.sqrt(d_model), d_head)
    assert math.log2(g) == round(math.log2(g)) and g <= 1.0, (factor, g)
    assert g * factor * bound <= rt.QK_MAX_FINITE, (factor, g)
    assert g == 1.0 or 2 * g * factor * bound > rt.QK_MAX_FINITE, (factor, g)
# This bound (about 50) needs no scaling down; 100x it does.
assert rt.geometry_scale(sigma.max(), math.sqrt(d_model), d_head) == 1.0
assert rt.geometry_scale(100 * sigma.max(), math.sqrt(d_model), d_head) < 1
# Delayed: scaled by the largest amax of the last H steps, never its own.
d = rt.DelayedScaling(2)
assert d.scale() == 1.0
for amax_step, want in [(1.0, 448.0), (4.0, 112.0), (2.0, 112.0),
                        (1.0, 224.0)]:
    d.record(amax_step)
    assert d.scale() == want, (amax_step, d.scale(), want)
print("scales OK")

# The experiment: spikes at steps 20 and 44 (24 > 16 steps apart), lpattn
# at the spike steps and just before them; weights large enough that the
# spike takes the logit bound past 448.
spikes = (20, 44)
records = rt.run(steps=50, d_model=d_model, heads=heads, d_head=d_head,
                 n_tokens=n, spikes=spikes, decay=2.0, drift=1e-3,
                 weight_gain=3.0, lpattn_steps={19, 20, 43, 44}, seed=1)
over = {sch: [r[sch]["overflows"] for r in records] for sch in rt.SCHEMES}
assert sum(over["geometry"]) == 0, over["geometry"]
# ... because its scale drops with the weights, at the spike itself.
for t in spikes:
    assert (records[t]["geometry"]["scale"]
            < records[t - 1]["geometry"]["scale"]), records[t - 1:t + 1]
for sch in ("delayed-16", "delayed-1024"):
    # A 4x jump: every logit above a quarter of the history's amax.
    assert over[sch][20] > s.size // 100, (sch, over[sch][20])
# History 16 has forgotten the first spike at the second.
assert over["delayed-16"][44] > s.size // 100, over["delayed-16"][44]
# The consequence on lpattn's output: clamped FP8 logits.
for t in spikes:
    geo = records[t]["geometry"]["mse"]
    assert records[t]["delayed-16"]["mse"] > 4 * geo, (t, records[t])
    # Before the spike no scheme is far off the others.
    before = [records[t - 1][sch]["mse"] for sch in rt.SCHEMES]
    assert max(before) < 10 * min(before), (t, before)
print("transient OK")
