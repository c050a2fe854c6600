"""Compares the memrefs two runs printed with printMemrefF32, block by block.

usage: compare-printed-memrefs.py EXPECTED ACTUAL TOL [TOL ...]

One absolute tolerance per printed memref. Prints one line per memref with
its largest difference and exits 1 if a memref differs in shape, has a NaN,
is all zeros, or differs by more than its tolerance.
"""
import math
import re
import sys

NUMBER = re.compile(r"[-+]?(?:nan|inf|\d+(?:\.\d*)?(?:e[-+]?\d+)?)", re.I)


def read_blocks(path):
    text = open(path).read()
    blocks = []
    for block in text.split("Unranked Memref")[1:]:
        sizes = re.search(r"sizes = \[([^\]]*)\]", block).group(1)
        data = block.split("data =", 1)[1]
        blocks.append((sizes, [float(x) for x in NUMBER.findall(data)]))
    return blocks


def main():
    expected, actual = read_blocks(sys.argv[1]), read_blocks(sys.argv[2])
    tolerances = [float(t) for t in sys.argv[3:]]
    if not (len(expected) == len(actual) == len(tolerances)):
        print(f"FAIL: {len(expected)} and {len(actual)} memrefs printed, "
              f"{len(tolerances)} tolerances given")
        return 1
    failed = False
    for index, ((e_sizes, e), (a_sizes, a), tol) in enumerate(
            zip(expected, actual, tolerances)):
        if e_sizes != a_sizes or len(e) != len(a):
            print(f"memref {index}: FAIL: sizes [{e_sizes}] vs [{a_sizes}]")
            failed = True
            continue
        if any(math.isnan(x) for x in e + a) or not any(e):
            print(f"memref {index}: FAIL: NaN or all zeros")
            failed = True
            continue
        worst = max(abs(x - y) for x, y in zip(e, a))
        verdict = "ok" if worst <= tol else "FAIL"
        failed |= worst > tol
        print(f"memref {index}: {verdict}: {len(e)} values, "
              f"max |difference| {worst:.3g} (tolerance {tol:g})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
