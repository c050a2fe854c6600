#!/usr/bin/env python3
"""Artifacts and cases for testing lpattn-gpu-run and the GPU check scripts
on a machine without a GPU (python3 standard library only).

  fake_artifact.py descriptor CASE_DIR OUT/NAME [--bc 128] [--kernel K]
                                                 [--dump-p]
      Writes OUT/NAME.json, the launch descriptor (docs/launch-descriptor.md)
      that `lpattn-compile` is to write for the attention of CASE_DIR/case.json
      (the kernel ABI of the sm_90a lowering: q, k, v as UINT8 tensor maps,
      q box [1, 1, 128, min(D, 128)] and k box [1, 1, Bc, min(D, 128)] with
      the 128B swizzle (64B when D = 64), v box [1, 1, Bc, Dv] unswizzled,
      descales as f32, o a pointer; grid [ceil(Nq / 128), Hq, B], block
      [384, 1, 1]), and OUT/NAME.cubin, a 64-byte ELF header of an sm_90a
      cubin: enough for the runtime's checks and the tests' fake driver
      (whose only kernel is lpattn_attention_fp8), not a kernel. With
      --dump-p, a debug artifact (lpattn-compile --dump-p): signature
      "debug_p": true and, after o, p_scaled (f32) and p_codes (policy.p),
      both pointers to [64, Bc].

  fake_artifact.py compile IN.mlir -o OUT/NAME [--dump-p]
      The same from an attention's MLIR (the command line of lpattn-compile;
      runtime/test/fake-lpattn-compile runs this): OUT/NAME.json with the
      op's shapes, numerics and tiles, OUT/NAME.cubin (fake) and
      OUT/NAME.ptx (a stub), for testing the scripts around the compiler.

  fake_artifact.py case OUT_DIR --shape B,Hq,Hkv,Nq,Nk,D [--descales] ...
      Writes a synthetic case directory as `lpattn-run --save-case` does
      (random FP8 codes, o_cpu = o_ref = 0, a tolerance), for tests of the
      file handling where lpattn-run is not built (the runtime alone).

  fake_artifact.py pdump OUT_DIR [--p f8E4M3FN] [--keys 64] [--p-scale 256]
                                 [--flip ROW,KEY]... [--unwritten N]
      A P dump as a debug kernel writes it ([64, keys] P * S values, f32,
      and their codes, the RNE satfinite cast computed here with exact
      arithmetic): OUT_DIR/p_scaled.bin and p_codes.bin (raw, for the fake
      driver's LPATTN_FAKE_CUDA_OUTPUT) and p_scaled.npy, p_codes.npy,
      p_dump.json (what `lpattn-gpu-run --p-dump` writes). The values mix
      random P * S, exact ties between neighbouring codes, exact codes and
      subnormals. --flip changes the code at (ROW, KEY) by one; --unwritten
      leaves the last N codes at the fill 0xFF.
"""
import argparse
import fractions
import json
import math
import os
import random
import re
import struct
import sys

# The ELF header of `nvcc -cubin -arch=sm_90a` (CUDA 13): OSABI 0x41, ABI
# version 8, ET_EXEC, EM_CUDA, e_flags 0x06005a04 (unittests/Runtime/
# RuntimeTestUtil.h).
CUBIN_HEADER = bytes([
    0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x41, 0x08, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0xbe, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xd8, 0x0d, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x18, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x04, 0x5a, 0x00, 0x06, 0x40, 0x00, 0x38, 0x00, 0x05, 0x00, 0x40, 0x00,
    0x0f, 0x00, 0x01, 0x00])

DTYPE_BYTES = {"f8E4M3FN": 1, "f8E5M2": 1, "f16": 2, "bf16": 2, "f32": 4}
MAP_TYPE = {"f8E4M3FN": "UINT8", "f8E5M2": "UINT8", "f16": "FLOAT16",
            "bf16": "BFLOAT16", "f32": "FLOAT32"}


def strides(shape):
    out = [1] * len(shape)
    for i in range(len(shape) - 2, -1, -1):
        out[i] = out[i + 1] * shape[i + 1]
    return out


def descriptor(case, name, bc, kernel, dump_p=False):
    q, k, v, o = case["query"], case["key"], case["value"], case["result"]
    pol, sg = case["policy"], case["safeguards"]
    b, hq, nq, d = q
    nk, dv = k[2], v[3]
    br = 128
    bc = min(bc, nk)
    swizzle = "64B" if min(d, 128) * DTYPE_BYTES[pol["qk"]] <= 64 else "128B"

    def tensor(role, shape, dtype, kind):
        return {"role": role, "kind": kind, "dtype": dtype,
                "shape": shape, "strides": strides(shape)}

    params = [tensor("q", q, pol["qk"], "tensor_map"),
              tensor("k", k, pol["qk"], "tensor_map"),
              tensor("v", v, pol["v"], "tensor_map")]
    if case["has_mask"]:
        mask_shape = case.get("mask_shape", [1, 1, nq, nk])
        params.append(tensor("mask", mask_shape, "f32", "pointer"))
    if case["has_descales"]:
        params += [{"role": r, "kind": "f32"} for r in ("q_ds", "k_ds", "v_ds")]
    params.append(tensor("o", o, pol["out"], "pointer"))
    if dump_p:
        # The debug P dump (lpattn-compile --dump-p): one consumer
        # warpgroup's rows by one KV tile.
        params.append(tensor("p_scaled", [64, bc], "f32", "pointer"))
        params.append(tensor("p_codes", [64, bc], pol["p"], "pointer"))
    # Shared memory: Q, two stages of K and V, barriers.
    smem = br * d + 2 * bc * (d + dv) + 1024
    signature = {"mask": bool(case["has_mask"]),
                 "descales": bool(case["has_descales"]), "stats": False}
    if dump_p:
        signature["debug_p"] = True
    return {
        "format": "lpattn-launch-descriptor",
        "version": 1,
        "kernel": kernel,
        "cubin": name + ".cubin",
        "arch": "sm_90a",
        "grid": [(nq + br - 1) // br, hq, b],
        "block": [384, 1, 1],
        "cluster": [1, 1, 1],
        "dynamic_shared_memory": smem,
        "signature": signature,
        "params": params,
        "tensor_maps": [
            {"tensor": "q", "element_type": MAP_TYPE[pol["qk"]],
             "box": [1, 1, min(br, nq), min(d, 128)], "swizzle": swizzle},
            {"tensor": "k", "element_type": MAP_TYPE[pol["qk"]],
             "box": [1, 1, bc, min(d, 128)], "swizzle": swizzle},
            {"tensor": "v", "element_type": MAP_TYPE[pol["v"]],
             "box": [1, 1, bc, dv], "swizzle": "none"},
        ],
        "policy": pol,
        "safeguards": {"scale": sg["scale"], "p_scale": sg["p_scale"],
                       "kv_order": sg["kv_order"],
                       "softmax": {"variant": sg["softmax"]["variant"],
                                   "beta": sg["softmax"].get("beta", 0) or 2,
                                   "tol": sg["softmax"].get("tol", 0) or 1e-3},
                       "causal": sg["causal"]},
        "tiles": [br, bc],
    }


def parse_mlir(text):
    """The case.json members descriptor() reads, from the lpattn.attention
    of `text` (as lpattn-opt and lpattn-run print it)."""
    m = re.search(r"lpattn\.attention (.*)", text)
    if not m:
        sys.exit("fake-lpattn-compile: error: no lpattn.attention in the input")
    op = m.group(1)
    types = re.findall(r"tensor<([0-9x]+)x(f8E4M3FN|f8E5M2|bf16|f16|f32)>",
                       op.split(" : ", 1)[1])
    shapes = [[int(x) for x in t[0].split("x")] for t in types]
    has_mask = len(shapes) == 5
    pol = dict(re.findall(r"(\w+) = (\w+)", re.search(r"policy = <([^>]*)>",
                                                      op).group(1)))
    num = lambda key: float(re.search(key + r" = ([-0-9.e+]+)", op).group(1))
    softmax = re.search(r"softmax = (\w+)", op).group(1)
    tiles = re.search(r"tiles = \[(\d+), (\d+)\]", op)
    case = {
        "query": shapes[0], "key": shapes[1], "value": shapes[2],
        "result": shapes[-1], "policy": pol,
        "has_mask": has_mask, "has_descales": "descale(" in op,
        "safeguards": {"scale": num("scale"), "p_scale": num("p_scale"),
                       "kv_order": re.search(r"kv_order = (\w+)", op).group(1),
                       "softmax": {"variant": softmax},
                       "causal": "causal = true" in op},
        "tiles": [int(tiles.group(1)), int(tiles.group(2))] if tiles else None,
    }
    if has_mask:
        case["mask_shape"] = shapes[3]
    return case


def write_artifact(case, out, bc, kernel, ptx, dump_p=False):
    name = os.path.basename(out)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    d = descriptor(case, name, bc, kernel, dump_p)
    if ptx:
        d["ptx"] = name + ".ptx"
        with open(out + ".ptx", "w") as f:
            f.write("// fake PTX of %s (runtime/test/fake_artifact.py)\n" % name)
    with open(out + ".json", "w") as f:
        json.dump(d, f, indent=2)
    with open(out + ".cubin", "wb") as f:
        f.write(CUBIN_HEADER)


def write_npy(path, descr, shape, data):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else ""))
    header += " " * (64 - (10 + len(header) + 1) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
        f.write(header.encode("latin1"))
        f.write(data)


# FP8 layouts: exponent bits, mantissa bits, bias, largest finite value.
FP8 = {"f8E4M3FN": (4, 3, 7, 448.0), "f8E5M2": (5, 2, 15, 57344.0)}


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def fp8_decode(code, fmt):
    ebits, mbits, bias, _ = FP8[fmt]
    sign = -1.0 if code & 0x80 else 1.0
    e = (code >> mbits) & ((1 << ebits) - 1)
    m = code & ((1 << mbits) - 1)
    if e == 0:
        return sign * m * 2.0 ** (1 - bias - mbits)
    return sign * (1 + m / 2.0 ** mbits) * 2.0 ** (e - bias)


def fp8_encode(x, fmt):
    """Round to nearest, ties to even, satfinite (cvt.rn.satfinite), with
    exact arithmetic; NaN gives 0x7F."""
    ebits, mbits, bias, top = FP8[fmt]
    if math.isnan(x):
        return 0x7F
    sign = 0x80 if math.copysign(1.0, x) < 0 else 0
    a = abs(x)
    max_code = 0x7E if fmt == "f8E4M3FN" else 0x7B
    if math.isinf(a):
        return sign | max_code
    if a == 0:
        return sign
    emin = 1 - bias
    e = max(math.frexp(a)[1] - 1, emin)
    quantum = fractions.Fraction(2) ** (e - mbits)
    n = fractions.Fraction(a) / quantum
    r = round(n)  # Python's round of a Fraction: half to even
    value = r * quantum
    if value > top:
        return sign | max_code
    if value == 0:
        return sign
    v = float(value)
    ev = math.frexp(v)[1] - 1
    if ev < emin:
        return sign | int(value / fractions.Fraction(2) ** (emin - mbits))
    mant = int(value / fractions.Fraction(2) ** (ev - mbits)) - (1 << mbits)
    return sign | ((ev + bias) << mbits) | mant


def pdump(out, fmt, keys, p_scale, flips, unwritten, seed=5):
    ebits, mbits, bias, top = FP8[fmt]
    rng = random.Random(seed)
    rows = 64
    scaled = []
    for i in range(rows * keys):
        mode = i % 4
        if i == 0:
            x = float(p_scale)  # the row max: P = 1
        elif mode == 0:  # a probability times S
            x = math.exp(-16 * rng.random()) * p_scale
        elif mode == 1:  # a tie between two neighbouring positive codes
            c = rng.randrange(0, 0x7E if fmt == "f8E4M3FN" else 0x7B)
            x = (fp8_decode(c, fmt) + fp8_decode(c + 1, fmt)) / 2
        elif mode == 2:  # a code's exact value
            x = fp8_decode(rng.randrange(0, 0x7F if fmt == "f8E4M3FN" else 0x7C),
                           fmt)
        else:  # around the subnormals
            x = rng.random() * 2.0 ** (1 - bias - mbits + 3)
        scaled.append(f32(x))
    codes = [fp8_encode(x, fmt) for x in scaled]
    for row, key in flips:
        i = row * keys + key
        codes[i] = codes[i] + 1 if codes[i] < 0x7E else codes[i] - 1
    for i in range(len(codes) - unwritten, len(codes)):
        codes[i] = 0xFF
    os.makedirs(out, exist_ok=True)
    scaled_bytes = struct.pack("<%df" % len(scaled), *scaled)
    code_bytes = bytes(codes)
    with open(os.path.join(out, "p_scaled.bin"), "wb") as f:
        f.write(scaled_bytes)
    with open(os.path.join(out, "p_codes.bin"), "wb") as f:
        f.write(code_bytes)
    write_npy(os.path.join(out, "p_scaled.npy"), "<f4", [rows, keys],
              scaled_bytes)
    write_npy(os.path.join(out, "p_codes.npy"), "|u1", [rows, keys],
              code_bytes)
    with open(os.path.join(out, "p_dump.json"), "w") as f:
        json.dump({"format": "lpattn-p-dump", "version": 1, "p": fmt,
                   "overflow": "satfinite", "p_scale": p_scale,
                   "shape": [rows, keys], "descriptor": "fake_artifact.py",
                   "kernel": "lpattn_attention_fp8"}, f, indent=2)


def synthetic_case(out, shape, descales, causal, seed):
    b, hq, hkv, nq, nk, d = shape
    os.makedirs(out, exist_ok=True)
    rng = random.Random(seed)
    fp8 = "f8E4M3FN"

    def codes(n):
        # Finite e4m3 codes (0x7f / 0xff are NaN).
        return bytes(rng.choice([c for c in range(256) if c & 0x7f != 0x7f])
                     for _ in range(n))

    q, k, v = [b, hq, nq, d], [b, hkv, nk, d], [b, hkv, nk, d]
    o = [b, hq, nq, d]
    n = lambda s: s[0] * s[1] * s[2] * s[3]
    write_npy(os.path.join(out, "q.npy"), "|u1", q, codes(n(q)))
    write_npy(os.path.join(out, "k.npy"), "|u1", k, codes(n(k)))
    write_npy(os.path.join(out, "v.npy"), "|u1", v, codes(n(v)))
    write_npy(os.path.join(out, "o_cpu.npy"), "<f4", o, bytes(4 * n(o)))
    write_npy(os.path.join(out, "o_ref.npy"), "<f8", o, bytes(8 * n(o)))
    write_npy(os.path.join(out, "atol.npy"), "<f4", o[:3],
              struct.pack("<f", 0.01) * (b * hq * nq))
    case = {
        "format": "lpattn-gpu-case", "version": 1, "mlir": "case.mlir",
        "query": q, "key": k, "value": v, "result": o,
        "dtypes": {"q": fp8, "k": fp8, "v": fp8, "o": "bf16"},
        "files": {"q": "q.npy", "k": "k.npy", "v": "v.npy", "mask": None,
                  "o_cpu": "o_cpu.npy", "o_ref": "o_ref.npy",
                  "atol": "atol.npy"},
        "has_descales": descales, "has_mask": False,
        "descales": {"q": 0.5 if descales else 1, "k": 1, "v": 2 if descales else 1},
        "policy": {"qk": fp8, "score": "f32", "p": fp8, "v": fp8,
                   "acc": "f32", "out": "bf16", "overflow": "satfinite"},
        "safeguards": {"scale": 1 / d ** 0.5, "p_scale": 256,
                       "kv_order": "reverse",
                       "softmax": {"variant": "standard", "beta": 0, "tol": 0},
                       "causal": causal},
        "tiles": [128, 128],
        "inputs": {"generator": "synthetic (fake_artifact.py)", "seed": seed},
        "cpu": {"mse": 0, "max_abs_error": 0, "collapsed": -1,
                "positive": -1, "collapse_fraction": 0},
        "tolerance": {"ulps": 2, "atol_max": 0.01, "row_atol": "atol.npy",
                      "mse_rel": 0.05, "max_error_factor": 2,
                      "collapse_rel": 0.05},
    }
    with open(os.path.join(out, "case.json"), "w") as f:
        json.dump(case, f, indent=2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("descriptor")
    a.add_argument("case_dir")
    a.add_argument("out")
    a.add_argument("--bc", type=int, default=128)
    a.add_argument("--kernel", default="lpattn_attention_fp8")
    a.add_argument("--dump-p", action="store_true")
    m = sub.add_parser("compile")
    m.add_argument("input")
    m.add_argument("-o", dest="out", required=True)
    m.add_argument("--kernel", default="lpattn_attention_fp8")
    m.add_argument("--dump-p", action="store_true")
    pd = sub.add_parser("pdump")
    pd.add_argument("out")
    pd.add_argument("--p", default="f8E4M3FN", choices=sorted(FP8))
    pd.add_argument("--keys", type=int, default=64)
    pd.add_argument("--p-scale", type=float, default=256)
    pd.add_argument("--flip", action="append", default=[],
                    help="ROW,KEY: that code off by one")
    pd.add_argument("--unwritten", type=int, default=0)
    c = sub.add_parser("case")
    c.add_argument("out")
    c.add_argument("--shape", required=True, help="B,Hq,Hkv,Nq,Nk,D")
    c.add_argument("--descales", action="store_true")
    c.add_argument("--causal", action="store_true")
    c.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.cmd == "descriptor":
        with open(os.path.join(args.case_dir, "case.json")) as f:
            case = json.load(f)
        write_artifact(case, args.out, args.bc, args.kernel, ptx=False,
                       dump_p=args.dump_p)
    elif args.cmd == "compile":
        with open(args.input) as f:
            case = parse_mlir(f.read())
        bc = case["tiles"][1] if case["tiles"] else 128
        write_artifact(case, args.out, bc, args.kernel, ptx=True,
                       dump_p=args.dump_p)
    elif args.cmd == "pdump":
        flips = [tuple(int(x) for x in f.split(",")) for f in args.flip]
        pdump(args.out, args.p, args.keys, args.p_scale, flips,
              args.unwritten)
    else:
        shape = [int(x) for x in args.shape.split(",")]
        if len(shape) != 6:
            sys.exit("--shape: expected B,Hq,Hkv,Nq,Nk,D")
        synthetic_case(args.out, shape, args.descales, args.causal, args.seed)


if __name__ == "__main__":
    main()
