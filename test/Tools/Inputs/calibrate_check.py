"""Checks lpattn-calibrate --json against a dense SVD in numpy.

  calibrate_check.py CHECKPOINT RESULT.json

For every layer and query head h, sigma = the largest singular value of
W_q^h^T W_k^g (nn.Linear layout, g = h // (Hq / Hkv)), from
np.linalg.svd of the dense d x d matrix; the checkpoint is read here
independently of the tool (struct, json, numpy). Prints the largest
relative error and 'ok' when every head is within 1e-3, else the offending
heads, and exits 1.
"""

import json
import struct
import sys

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    data = raw[8 + length:]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        chunk = data[begin:end]
        if entry["dtype"] == "F32":
            values = np.frombuffer(chunk, "<f4")
        elif entry["dtype"] == "F16":
            values = np.frombuffer(chunk, "<f2").astype(np.float64)
        elif entry["dtype"] == "BF16":
            values = (np.frombuffer(chunk, "<u2").astype(np.uint32)
                      << 16).view(np.float32)
        else:
            continue
        tensors[name] = values.astype(np.float64).reshape(entry["shape"])
    return tensors


def main(checkpoint, result_path):
    tensors = read_safetensors(checkpoint)
    with open(result_path) as f:
        result = json.load(f)
    worst, failures, heads_checked = 0.0, [], 0
    for layer in result["layers"]:
        heads, kv_heads, dh = layer["heads"], layer["kv_heads"], layer["head_dim"]
        d = layer["model_dim"]
        if layer["query_tensor"] == layer["key_tensor"]:  # GPT-2 Conv1D
            fused = tensors[layer["query_tensor"]]
            query, key = fused[:, :d].T, fused[:, d:2 * d].T
        else:
            query, key = tensors[layer["query_tensor"]], tensors[layer["key_tensor"]]
        for h in range(heads):
            g = h // (heads // kv_heads)
            product = query[h * dh:(h + 1) * dh].T @ key[g * dh:(g + 1) * dh]
            sigma = np.linalg.svd(product, compute_uv=False)[0]
            error = abs(layer["sigma"][h] - sigma) / sigma
            worst = max(worst, error)
            heads_checked += 1
            if error > 1e-3:
                failures.append(f"layer {layer['layer']} head {h}: tool "
                                f"{layer['sigma'][h]}, SVD {sigma}")
    print(f"{heads_checked} heads, max relative error {worst:.2e}")
    for failure in failures:
        print(failure)
    if failures or heads_checked == 0:
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
