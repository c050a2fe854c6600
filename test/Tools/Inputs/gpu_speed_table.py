#!/usr/bin/env python3
"""Tests bench/gpu_speed.py's table writer without a GPU: made-up numbers
(not measurements, and the files say so), through write_outputs.

  gpu_speed_table.py BENCH_DIR OUT_PREFIX
"""
import json
import os
import sys

sys.path.insert(0, sys.argv[1])
import gpu_speed  # noqa: E402

prefix = sys.argv[2]
rows = []
for i, c in enumerate(gpu_speed.configurations([64, 128], [1024, 2048],
                                               16384, 2048)):
    row = dict(c)
    row["flop"] = gpu_speed.flop(c)
    # Placeholders: 100 + i TFLOP/s and their times; one refusal, one
    # missing artifact.
    results = {}
    for j, (key, _) in enumerate(gpu_speed.IMPLEMENTATIONS):
        tflops = 100.0 + i + 10 * j
        results[key] = {"tflops": tflops,
                        "ms": row["flop"] / (tflops * 1e12) * 1e3}
    if i == 1:
        results["torch_cudnn"] = {"error": "No available kernel"}
    if i == 2:
        results["lpattn_plain"] = {"error": "no artifact (gpu-prepare.sh)"}
    row["results"] = results
    rows.append(row)
meta = {"measured": False, "gpu": "no GPU (test)", "date": "2026-01-01",
        "torch": None, "iters": 0, "warmup": 0,
        "note": "made-up numbers from test/Tools/gpu-speed.test, to test "
                "the table writer"}
written = gpu_speed.write_outputs(rows, prefix, meta)
print("\n".join(os.path.basename(w) for w in written))
print(open(prefix + ".md").read())
data = json.load(open(prefix + ".json"))
print("json measured", data["meta"]["measured"], "rows", len(data["rows"]))
