#!/usr/bin/env python3
"""Reads the GPU check case files of `lpattn-run --save-case` for the lit
tests, without numpy (the .npy headers and data by hand).

  case_tool.py summary DIR          each file's dtype and shape, and the
                                    case.json members the GPU check reads
  case_tool.py bf16 O.npy OUT.bin [--ulps INDEX N]...
                                    O (f32 values that are bf16 values) as
                                    bf16 codes, optionally element INDEX
                                    moved by N bf16 ulps (its code + N):
                                    an "output" for the fake driver
"""
import ast
import json
import os
import struct
import sys


def read_npy(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY", path
    major = data[6]
    if major == 1:
        (length,) = struct.unpack("<H", data[8:10])
        start = 10
    else:
        (length,) = struct.unpack("<I", data[8:12])
        start = 12
    header = ast.literal_eval(data[start:start + length].decode("latin1"))
    return header["descr"], tuple(header["shape"]), data[start + length:]


def summary(case_dir):
    for name in sorted(os.listdir(case_dir)):
        if name.endswith(".npy"):
            descr, shape, body = read_npy(os.path.join(case_dir, name))
            print("%s %s %s %d" % (name, descr, shape, len(body)))
    with open(os.path.join(case_dir, "case.json")) as f:
        case = json.load(f)
    tol = case["tolerance"]
    print("descales", case["has_descales"], case["descales"])
    print("safeguards", json.dumps(case["safeguards"], sort_keys=True))
    print("tiles", case["tiles"])
    print("tolerance ulps %g eta %g p_rel_ulp %g atol_max %.6g row %s" %
          (tol["ulps"], tol["eta"], tol["p_rel_ulp"], tol["atol_max"],
           tol["row_weight"]))
    # atol.npy's largest entry is atol_max, and every row bound is >= the
    # eta floor v_descale * eta * v_rms.
    _, shape, body = read_npy(os.path.join(case_dir, "atol.npy"))
    atol = struct.unpack("<%df" % (len(body) // 4), body)
    floor = tol["v_descale"] * tol["eta"] * tol["v_rms"]
    print("atol max matches", max(atol) == tol["atol_max"],
          "floor holds", min(atol) >= floor * (1 - 1e-6))


def bf16(src, dst, moves):
    descr, shape, body = read_npy(src)
    assert descr == "<f4"
    values = struct.unpack("<%dI" % (len(body) // 4), body)
    # Exact for bf16 values (their low 16 bits are 0).
    codes = [bits >> 16 for bits in values]
    for index, n in moves:
        codes[index] += n
    out = bytearray()
    for c in codes:
        out += struct.pack("<H", c)
    with open(dst, "wb") as f:
        f.write(out)


def main():
    if sys.argv[1] == "summary":
        summary(sys.argv[2])
    elif sys.argv[1] == "bf16":
        moves = []
        rest = sys.argv[4:]
        while rest:
            assert rest[0] == "--ulps"
            moves.append((int(rest[1]), int(rest[2])))
            rest = rest[3:]
        bf16(sys.argv[2], sys.argv[3], moves)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
