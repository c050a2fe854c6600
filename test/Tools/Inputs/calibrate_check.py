"""Checks lpattn-calibrate --json against a dense SVD in numpy.

  calibrate_check.py CHECKPOINT RESULT.json [TOKEN_NORM]

For every layer and query head h, sigma = the largest singular value of
W_q^h^T W_k^g (nn.Linear layout, g = h // (Hq / Hkv)), from
np.linalg.svd of the dense d x d matrix, or, for a layer whose JSON says
"rope": true, the RoPE-safe norm(W_q^h, 2) * norm(W_k^g, 2) (numpy's
spectral norms); the checkpoint is read here
independently of the tool (struct, json, numpy). Prints the largest
relative error and 'ok' when every head is within 1e-3, else the offending
heads, and exits 1. Also checks each layer's token-norm bound (from its
input norm: sqrt(d) max|g| (+ ||b||_2 for GPT-2's LayerNorm), unless the
JSON says it was given), logit bound B_X^2 sigma_max / sqrt(dh) and scale
(the largest power of two <= 1 with scale * alpha * B_X^2 sigma_max <= the
score type's max finite, as lpattn-geometry-scale chooses it).
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


MAX_FINITE = {"f8E4M3FN": 448.0, "f8E5M2": 57344.0, "f16": 65504.0,
              "bf16": 3.3895313892515355e38, "f32": 3.4028234663852886e38}


def close(a, b, rel=1e-9):
    return abs(a - b) <= rel * max(abs(a), abs(b))


def check_layer_bounds(tensors, layer, given_token_norm, max_finite):
    """The problems with a layer's token norm, bound and scale."""
    problems = []
    d = layer["model_dim"]
    prefix = layer["query_tensor"].rsplit("attn.c_attn" if layer["query_tensor"]
                                          == layer["key_tensor"] else
                                          "self_attn.", 1)[0]
    if given_token_norm is not None:
        token_norm = given_token_norm
    elif prefix + "ln_1.weight" in tensors:
        token_norm = (np.sqrt(d) * np.abs(tensors[prefix + "ln_1.weight"]).max()
                      + np.linalg.norm(tensors[prefix + "ln_1.bias"]))
    else:
        token_norm = np.sqrt(d) * np.abs(
            tensors[prefix + "input_layernorm.weight"]).max()
    if not close(layer["token_norm"], token_norm):
        problems.append(f"token norm {layer['token_norm']}, expected {token_norm}")
    bound = token_norm ** 2 * max(layer["sigma"]) / np.sqrt(layer["head_dim"])
    if not close(layer["logit_bound"], bound):
        problems.append(f"logit bound {layer['logit_bound']}, expected {bound}")
    scale = layer["scale"]
    need = layer["alpha"] * token_norm ** 2 * max(layer["sigma"])
    exponent = np.log2(scale)
    if (scale > 1 or exponent != round(exponent) or scale * need > max_finite
            or (scale < 1 and 2 * scale * need <= max_finite)):
        problems.append(f"scale {scale} for alpha * bound = {need}")
    return [f"layer {layer['layer']}: {p}" for p in problems]


def main(checkpoint, result_path, given_token_norm=None):
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
            query_rows = query[h * dh:(h + 1) * dh]
            key_rows = key[g * dh:(g + 1) * dh]
            if layer["rope"]:
                sigma = (np.linalg.norm(query_rows, 2) *
                         np.linalg.norm(key_rows, 2))
            else:
                product = query_rows.T @ key_rows
                sigma = np.linalg.svd(product, compute_uv=False)[0]
            error = abs(layer["sigma"][h] - sigma) / sigma
            worst = max(worst, error)
            heads_checked += 1
            if error > 1e-3:
                failures.append(f"layer {layer['layer']} head {h}: tool "
                                f"{layer['sigma'][h]}, SVD {sigma}")
        failures += check_layer_bounds(tensors, layer, given_token_norm,
                                       MAX_FINITE[result["score_type"]])
    kinds = sorted({"rope" if layer["rope"] else "plain"
                    for layer in result["layers"]})
    print(f"{heads_checked} heads ({'/'.join(kinds)}), max relative error "
          f"{worst:.2e}")
    for failure in failures:
        print(failure)
    if failures or heads_checked == 0:
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2],
         float(sys.argv[3]) if len(sys.argv) > 3 else None)
