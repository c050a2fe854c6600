#!/usr/bin/env python3
"""Writes a .npy file (or a deliberately broken one) for lpattn-run's tests.

No numpy needed: the header and data are written by hand, as
numpy/lib/format.py describes them. Values are a fixed pattern, so outputs
are reproducible.

  make_npy.py out.npy 1,2,16,8                  # '<f4', C order
  make_npy.py out.npy 1,2,16,8 --nan 3 --inf 5  # element 3 NaN, 5 +Inf
  make_npy.py out.npy 2,4 --add 1.5             # the pattern + 1.5 (> 0)
  make_npy.py out.npy 1,1,16,8 --mul 200        # the pattern * 200
  make_npy.py out.npy 1,2,16,8 --descr '<i4'    # wrong dtype
  make_npy.py out.npy 1,2,16,8 --fortran        # fortran_order True
  make_npy.py out.npy 1,2,16,8 --truncate 10    # drop the last 10 bytes
  make_npy.py out.npy 1,2,16,8 --pad 100000     # version 2.0, huge header
  make_npy.py out.npy 1,2,16,8 --header-length 4294967295  # lying length
"""

import argparse
import math
import struct


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("shape", help="comma-separated dims, e.g. 1,2,16,8")
    ap.add_argument("--descr", default="<f4")
    ap.add_argument("--fortran", action="store_true")
    ap.add_argument("--nan", type=int, action="append", default=[])
    ap.add_argument("--inf", type=int, action="append", default=[])
    ap.add_argument("--truncate", type=int, default=0)
    ap.add_argument("--add", type=float, default=0.0,
                    help="added to every value (descales: positive ones)")
    ap.add_argument("--mul", type=float, default=1.0,
                    help="every value (after --add) times this")
    ap.add_argument("--pad", type=int, default=0,
                    help="extra header spaces (forces format 2.0)")
    ap.add_argument("--header-length", type=int, default=None,
                    help="write this header length (format 2.0)")
    args = ap.parse_args()

    shape = [int(d) for d in args.shape.split(",") if d != ""]
    count = math.prod(shape)
    values = [(math.sin(0.37 * i + 0.1) + args.add) * args.mul
              for i in range(count)]
    for i in args.nan:
        values[i] = float("nan")
    for i in args.inf:
        values[i] = float("inf")

    dims = ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "")
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (
        args.descr, "True" if args.fortran else "False", dims)
    header += " " * args.pad
    version2 = args.pad > 0 or args.header_length is not None
    prefix = 6 + 2 + (4 if version2 else 2)
    header += " " * ((64 - (prefix + len(header) + 1) % 64) % 64) + "\n"
    length = len(header) if args.header_length is None else args.header_length
    out = b"\x93NUMPY" + (bytes([2, 0]) + struct.pack("<I", length)
                          if version2 else
                          bytes([1, 0]) + struct.pack("<H", length))
    out += header.encode("latin1")
    out += struct.pack("<%df" % count, *values)
    if args.truncate:
        out = out[:-args.truncate]
    with open(args.out, "wb") as f:
        f.write(out)


if __name__ == "__main__":
    main()
