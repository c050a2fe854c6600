#!/usr/bin/env python3
"""The attention projections of a Llama-architecture GGUF file as a
Hugging Face-style safetensors checkpoint, for lpattn-calibrate.

  gguf-to-safetensors.py MODEL.gguf OUT_DIR

Writes OUT_DIR/model.safetensors (model.layers.N.self_attn.{q,k}_proj.weight,
F32, [out, in] as nn.Linear, and model.layers.N.input_layernorm.weight) and OUT_DIR/config.json (num_attention_heads,
num_key_value_heads, head_dim from the GGUF metadata). Quantized tensors
(Q4_1, Q8_0, ...) are dequantized by the gguf package: the result is the
quantized model's weights, not the original float ones. llama.cpp's
converter permutes the rows of Q and K within each head (for its RoPE
layout); the same permutation on both leaves every W_q^h^T W_k^g, and so
sigma, unchanged. Needs `pip install gguf safetensors` (and numpy).
"""

import json
import os
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize
from safetensors.numpy import save_file


def field(reader, key):
    value = reader.fields.get(key)
    if value is None:
        return None
    return value.parts[value.data[0]].tolist()[0]


def main(path, out):
    reader = GGUFReader(path)
    arch = bytes(reader.fields["general.architecture"].parts[
        reader.fields["general.architecture"].data[0]]).decode()
    if arch != "llama":
        sys.exit(f"{path}: architecture '{arch}', expected llama")
    heads = field(reader, f"{arch}.attention.head_count")
    kv_heads = field(reader, f"{arch}.attention.head_count_kv") or heads
    # GGUF's names -> Hugging Face's (the RMSNorm before attention bounds
    # the token norm).
    names = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
             "attn_norm": "input_layernorm"}
    tensors = {}
    for tensor in reader.tensors:
        parts = tensor.name.split(".")  # blk.N.attn_q.weight
        if len(parts) != 4 or parts[0] != "blk" or parts[2] not in names:
            continue
        weight = dequantize(tensor.data, tensor.tensor_type)
        name = f"model.layers.{parts[1]}.{names[parts[2]]}.weight"
        tensors[name] = np.ascontiguousarray(weight, dtype=np.float32)
    if not tensors:
        sys.exit(f"{path}: no blk.N.attn_q/attn_k tensors")
    query = tensors["model.layers.0.self_attn.q_proj.weight"]
    os.makedirs(out, exist_ok=True)
    save_file(tensors, os.path.join(out, "model.safetensors"),
              metadata={"source": os.path.basename(path)})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump({"num_attention_heads": heads,
                   "num_key_value_heads": kv_heads,
                   "head_dim": query.shape[0] // heads}, f, indent=1)
    print(f"{len(tensors)} tensors, {heads} query heads, {kv_heads} KV heads"
          f" -> {out}/model.safetensors, {out}/config.json")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
