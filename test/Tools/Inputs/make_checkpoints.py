"""Writes the safetensors checkpoints of lpattn-calibrate's tests.

  make_checkpoints.py OUT_DIR

Valid ones: gpt2.safetensors (GPT-2's fused Conv1D c_attn, F32, 2 layers,
d = 16, 4 heads, with a 'transformer.' prefix and unrelated tensors),
gpt2 also has ln_1 (LayerNorm gain, bias);
llama/model.safetensors with llama/config.json (q_proj/k_proj, GQA 4 query
heads over 2 KV heads, head dim 8, d = 24; layer 0 F16, layer 1 BF16,
layer 2 F32; input_layernorm gains). no-norm.safetensors: one valid
layer without a norm (8 x 8 F32, head dim from --head-dim). Then one malformed file per error case (bad-*.safetensors).
The format is written by hand (struct, json), not by the safetensors
package, so that the malformed cases can be made at all.
"""

import json
import os
import struct
import sys

import numpy as np


def encode(header, data, header_length=None):
    text = json.dumps(header).encode()
    length = len(text) if header_length is None else header_length
    return struct.pack("<Q", length) + text + data


def to_bytes(array, dtype):
    if dtype == "F32":
        return array.astype("<f4").tobytes()
    if dtype == "F16":
        return array.astype("<f2").tobytes()
    if dtype == "BF16":  # round to nearest even, from f32's bits
        bits = array.astype("<f4").view("<u4").astype(np.uint64)
        rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
        return rounded.astype("<u2").tobytes()
    raise ValueError(dtype)


def checkpoint(tensors, metadata=None):
    """tensors: list of (name, dtype, array); data laid out in order."""
    header = {"__metadata__": metadata} if metadata is not None else {}
    data = b""
    for name, dtype, array in tensors:
        raw = to_bytes(array, dtype)
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    return header, data


def projection(rng, heads, head_dim, model_dim, boost):
    """[heads * head_dim, d] Gaussian plus a rank-one term per head, so that
    each head's W_q^T W_k has a clear largest singular value."""
    weight = rng.standard_normal((heads * head_dim, model_dim)) / np.sqrt(
        model_dim)
    for h in range(heads):
        weight[h * head_dim:(h + 1) * head_dim] += np.outer(boost[h % len(boost)],
                                                             rng.standard_normal(model_dim)) / np.sqrt(model_dim)
    return weight


def main(out):
    os.makedirs(os.path.join(out, "llama"), exist_ok=True)
    rng = np.random.default_rng(17)

    # GPT-2: c_attn.weight [d, 3d], x W, Q K V side by side.
    d, heads = 16, 4
    tensors = [("transformer.wte.weight", "F32", rng.standard_normal((10, d)))]
    for layer in range(2):
        boost = [2 * rng.standard_normal(d // heads) for _ in range(heads)]
        q = projection(rng, heads, d // heads, d, boost)
        k = projection(rng, heads, d // heads, d, boost)
        v = rng.standard_normal((d, d))
        fused = np.concatenate([q.T, k.T, v], axis=1)
        tensors.append((f"transformer.h.{layer}.ln_1.weight", "F32",
                        1 + 0.1 * rng.standard_normal(d)))
        tensors.append((f"transformer.h.{layer}.ln_1.bias", "F32",
                        0.1 * rng.standard_normal(d)))
        tensors.append((f"transformer.h.{layer}.attn.c_attn.weight", "F32",
                        fused))
        tensors.append((f"transformer.h.{layer}.attn.c_attn.bias", "F32",
                        rng.standard_normal(3 * d)))
    header, data = checkpoint(tensors, {"format": "pt"})
    with open(os.path.join(out, "gpt2.safetensors"), "wb") as f:
        f.write(encode(header, data))

    # Llama with GQA: 4 query heads, 2 KV heads, head dim 8, d = 24.
    d, heads, kv_heads, head_dim = 24, 4, 2, 8
    tensors = []
    for layer, dtype in enumerate(["F16", "BF16", "F32"]):
        boost = [2 * rng.standard_normal(head_dim) for _ in range(kv_heads)]
        # Query head h shares KV head h // 2's direction.
        q_boost = [boost[h // (heads // kv_heads)] for h in range(heads)]
        tensors.append((f"model.layers.{layer}.input_layernorm.weight", dtype,
                        1 + 0.1 * rng.standard_normal(d)))
        prefix = f"model.layers.{layer}.self_attn."
        tensors.append((prefix + "q_proj.weight", dtype,
                        projection(rng, heads, head_dim, d, q_boost)))
        tensors.append((prefix + "k_proj.weight", dtype,
                        projection(rng, kv_heads, head_dim, d, boost)))
        tensors.append((prefix + "v_proj.weight", dtype,
                        rng.standard_normal((kv_heads * head_dim, d))))
    header, data = checkpoint(tensors)
    with open(os.path.join(out, "llama", "model.safetensors"), "wb") as f:
        f.write(encode(header, data))
    with open(os.path.join(out, "llama", "config.json"), "w") as f:
        json.dump({"architectures": ["LlamaForCausalLM"], "hidden_size": d,
                   "num_attention_heads": heads,
                   "num_key_value_heads": kv_heads}, f)

    # Malformed files, one problem each, built from a valid one-layer file.
    q = rng.standard_normal((8, 8))
    k = rng.standard_normal((8, 8))
    good_header, good_data = checkpoint([
        ("layers.0.self_attn.q_proj.weight", "F32", q),
        ("layers.0.self_attn.k_proj.weight", "F32", k)])
    good = encode(good_header, good_data)
    qname, kname = "layers.0.self_attn.q_proj.weight", "layers.0.self_attn.k_proj.weight"

    def variant(**changes):
        header = json.loads(json.dumps(good_header))
        for name, entry in changes.items():
            header[name.replace("Q", qname).replace("K", kname)].update(entry)
        return encode(header, good_data)

    bad = {
        "short": good[:5],
        "truncated-header": good[:40],
        "huge-header": struct.pack("<Q", 2**64 - 1) + good[8:],
        "header-past-end": struct.pack("<Q", len(good)) + good[8:],
        "not-json": struct.pack("<Q", 9) + b"{not json",
        "not-object": struct.pack("<Q", 6) + b"[1, 2]",
        "offsets-past-end": variant(K={"data_offsets": [256, 256 + 1024]}),
        "offsets-reversed": variant(K={"data_offsets": [256, 0]}),
        "offsets-vs-shape": variant(K={"shape": [8, 4]}),
        "shape-overflow": variant(K={"shape": [2**62, 2**62]}),
        "negative-shape": variant(K={"shape": [-8, -8]}),
        "no-dtype": encode({qname: {"shape": [8, 8], "data_offsets": [0, 256]},
                            kname: good_header[kname]}, good_data),
        "unsupported-dtype": variant(K={"dtype": "I32"}),
        "unknown-dtype": variant(K={"dtype": "F7"}),
        "overlap": variant(K={"data_offsets": [128, 384]}),
        "metadata-not-string": encode(dict(good_header, __metadata__={"n_head": 4}),
                               good_data),
        "no-k-proj": encode({qname: good_header[qname]}, good_data[:256]),
        "no-projections": encode(
            {"encoder.weight": good_header[qname]}, good_data[:256]),
        "truncated-data": good[:-100],
        # 3 query heads over 2 KV heads (head dim 8).
        "gqa": encode(*checkpoint([
            (qname, "F32", rng.standard_normal((24, 8))),
            (kname, "F32", rng.standard_normal((16, 8)))])),
        # The same tensor twice in the header (JSON with a duplicate key).
        "duplicate-name": (lambda text: struct.pack("<Q", len(text)) + text
                           + good_data)(
            json.dumps(good_header)[:-1].encode() + b", " +
            json.dumps({qname: good_header[qname]})[1:].encode()),
    }
    # Valid, but without the input norm that bounds the token norm.
    with open(os.path.join(out, "no-norm.safetensors"), "wb") as f:
        f.write(good)
    for name, contents in bad.items():
        with open(os.path.join(out, f"bad-{name}.safetensors"), "wb") as f:
            f.write(contents)


if __name__ == "__main__":
    main(sys.argv[1])
