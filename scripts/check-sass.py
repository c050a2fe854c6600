#!/usr/bin/env python3
"""Checks that a compiled sm_90a attention kernel runs on the FP8 tensor cores.

  check-sass.py KERNEL.cubin --expect-qgmma e4m3|e5m2 [--ptxas-log LOG]
                [--expect-register-a] [--max-wait-per-product [N]]

Reads the SASS (cuobjdump -sass, which needs nvdisasm on PATH) and checks:

  qgmma      there are QGMMA (wgmma) instructions, each F32 += A x B with both
             operands of the expected FP8 type (QGMMA.64xNx32.F32.E4M3.E4M3)
  no hmma    no HMMA at all: on sm_90a, mma.sync with FP8 operands is
             emulated by F2FP.*.UNPACK_B (FP8 -> f16) feeding HMMA
  register-a (--expect-register-a) at least one QGMMA takes A from registers
             (`QGMMA ... R<n>, gdesc[...]`, P in the P.V product) and at least
             one takes both operands as descriptors (`gdesc[...]`, Q.K^T)
  batching   the k32 slices of one product are issued back to back, with
             one wait (WARPGROUP.DEPBAR) after them: a product of more than
             one QGMMA that waits after every one of them fails (the tensor
             cores idle between slices); --max-wait-per-product N also fails a
             product whose QGMMAs are split by more than N - 1 waits
  ptxas      (--ptxas-log, the output of ptxas -v) 0 bytes spill stores and
             loads in every function; no wgmma that ptxas serialized, and no
             wait ptxas injected because a register of an in-flight QGMMA is
             used (the SASS alone cannot tell such a wait from the kernel's)

A product is a chain of QGMMAs that accumulate into the same registers: it
starts at a QGMMA whose accumulator input is RZ (a fresh product) or whose
registers another instruction touched since the last QGMMA on them (the
accumulator was read or rescaled), or that differs in shape or A operand.

Prints a summary; exit 0 if every check passed, 1 with a FAIL line per
failed check, 2 if the tools or inputs are missing. The tools: cuobjdump and
nvdisasm in $LPATTN_CUDA_TOOLS if set, else in the venv scripts/setup.sh
installs (${LPATTN_TOOLS_VENV:-~/.cache/lpattn/cuda-tools}), else on PATH.
--find-tools prints their directory (exit 0) or why not (exit 2).
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

PROG = "check-sass"


def cannot_check(message):
    sys.stdout.flush()
    print(f"{PROG}: cannot check: {message}", file=sys.stderr)
    sys.exit(2)


# ===----------------------------------------------------------------------===#
# Tools
# ===----------------------------------------------------------------------===#

TOOLS = ("cuobjdump", "nvdisasm")


def has_tools(directory):
    return all(os.access(os.path.join(directory, tool), os.X_OK)
               for tool in TOOLS)


def find_tools():
    """The directory with cuobjdump and nvdisasm, or (None, why)."""
    explicit = os.environ.get("LPATTN_CUDA_TOOLS")
    if explicit:
        # Asked for these: no fallback that would hide a wrong setting.
        if has_tools(explicit):
            return explicit, None
        return None, (f"LPATTN_CUDA_TOOLS={explicit} has no "
                      f"{' and '.join(TOOLS)}")
    venv = os.environ.get("LPATTN_TOOLS_VENV") or os.path.join(
        os.path.expanduser("~"), ".cache", "lpattn", "cuda-tools")
    for directory in sorted(glob.glob(os.path.join(
            venv, "lib", "python3*", "site-packages", "nvidia", "cu*", "bin"))):
        if has_tools(directory):
            return directory, None
    on_path = [shutil.which(tool) for tool in TOOLS]
    if all(on_path) and os.path.dirname(on_path[0]) == os.path.dirname(
            on_path[1]):
        return os.path.dirname(on_path[0]), None
    return None, (f"no {' and '.join(TOOLS)} in the tools venv {venv} "
                  f"(run scripts/setup.sh) nor on PATH")


def disassemble(cubin, tools):
    env = dict(os.environ)
    # cuobjdump -sass runs nvdisasm, found on PATH.
    env["PATH"] = tools + os.pathsep + env.get("PATH", "")
    result = subprocess.run([os.path.join(tools, "cuobjdump"), "-sass", cubin],
                            env=env, capture_output=True, text=True)
    if result.returncode != 0:
        cannot_check(f"cuobjdump -sass {cubin} failed: "
                     f"{(result.stderr or result.stdout).strip()}")
    return result.stdout


# ===----------------------------------------------------------------------===#
# SASS
# ===----------------------------------------------------------------------===#

FUNCTION_RE = re.compile(r"^\s*Function\s*:\s*(\S+)")
# `/*0070*/  @!P0 QGMMA.64x64x32.F32.E4M3.E4M3 R24, gdesc[UR8], RZ, !UPT ;`
INSTRUCTION_RE = re.compile(
    r"^\s*/\*[0-9a-f]{4,}\*/\s+(?:@!?U?P[T0-9]+\s+)?([A-Z][A-Za-z0-9_.]*)"
    r"\s*([^;]*);")
REGISTER_RE = re.compile(r"(?<![\w.])R(\d+)(?:\.(64|128))?\b")
QGMMA_RE = re.compile(r"QGMMA\.(\d+)x(\d+)x(\d+)\.(\w+)\.(\w+)\.(\w+)")


class Instruction:
    def __init__(self, opcode, operands):
        self.opcode = opcode
        self.operands = [op.strip() for op in operands.split(",")
                         if op.strip()]

    def registers(self):
        """The R registers the instruction names (vector widths included)."""
        width = 4 if ".128" in self.opcode else (
            2 if ".64" in self.opcode else 1)
        touched = set()
        for operand in self.operands:
            for match in REGISTER_RE.finditer(operand):
                first = int(match.group(1))
                count = {"64": 2, "128": 4}.get(match.group(2), width)
                touched.update(range(first, first + count))
        return touched


class Qgmma:
    def __init__(self, instruction, index):
        match = QGMMA_RE.match(instruction.opcode)
        m, n, k, self.dtype, self.atype, self.btype = match.groups()
        self.shape = f"{m}x{n}x{k}"
        self.index = index
        ops = instruction.operands
        self.dest = int(ops[0][1:]) if re.fullmatch(r"R\d+", ops[0]) else None
        # Register A: `Rd, Ra, gdesc[..], Rc`; both descriptors:
        # `Rd, gdesc[..], Rc`.
        self.register_a = len(ops) > 1 and bool(re.fullmatch(r"R\d+", ops[1]))
        c_operand = ops[3] if self.register_a else ops[2]
        self.fresh = c_operand == "RZ"
        # f32 accumulators take N/2 registers a thread, f16 ones N/4.
        count = int(n) // 2 if self.dtype == "F32" else int(n) // 4
        self.accumulator = (set(range(self.dest, self.dest + count))
                            if self.dest is not None else set())
        self.text = f"{instruction.opcode} {', '.join(ops)}"

    def form(self):
        return "R x gdesc" if self.register_a else "gdesc x gdesc"


class Product:
    def __init__(self, first):
        self.qgmmas = [first]
        self.batches = []  # QGMMAs issued between two waits, in order

    def describe(self):
        q = self.qgmmas[0]
        return (f"R{q.dest} {q.shape} {q.dtype}.{q.atype}.{q.btype} "
                f"({q.form()})")


class Function:
    def __init__(self, name):
        self.name = name
        self.qgmmas = []
        self.products = []
        self.hmma = []
        self.unpack = []
        self.waits = 0
        self.arrives = 0


def parse_sass(text):
    """Functions with their QGMMAs grouped into products and batches."""
    functions = []
    function = None
    open_products = []  # products whose accumulator is still untouched
    batch = {}  # product -> QGMMAs since the last wait

    def close_batch():
        for product, qgmmas in batch.items():
            product.batches.append(len(qgmmas))
        batch.clear()

    for line in text.splitlines():
        header = FUNCTION_RE.match(line)
        if header:
            if function:
                close_batch()
            function = Function(header.group(1))
            functions.append(function)
            open_products = []
            continue
        match = INSTRUCTION_RE.match(line)
        if not match or function is None:
            continue
        instruction = Instruction(match.group(1), match.group(2))
        opcode = instruction.opcode
        if opcode.startswith("WARPGROUP.DEPBAR"):
            function.waits += 1
            close_batch()
            continue
        if opcode.startswith("WARPGROUP.ARRIVE"):
            function.arrives += 1
            continue
        if opcode.startswith("HMMA"):
            function.hmma.append(opcode)
        if opcode.startswith("F2FP") and "UNPACK_B" in opcode:
            function.unpack.append(opcode)
        if QGMMA_RE.match(opcode):
            q = Qgmma(instruction, len(function.qgmmas))
            function.qgmmas.append(q)
            product = None
            if not q.fresh:
                for candidate in open_products:
                    last = candidate.qgmmas[-1]
                    if (last.dest == q.dest and last.shape == q.shape
                            and last.register_a == q.register_a):
                        product = candidate
                        break
            if product is None:
                product = Product(q)
                function.products.append(product)
            else:
                product.qgmmas.append(q)
            # A product on these registers ends here.
            open_products = [p for p in open_products
                             if p is product or not
                             (p.qgmmas[-1].accumulator & q.accumulator)]
            if product not in open_products:
                open_products.append(product)
            batch.setdefault(product, []).append(q)
            continue
        # Any other instruction on an accumulator ends that product.
        touched = instruction.registers()
        if touched:
            open_products = [p for p in open_products
                             if not (p.qgmmas[-1].accumulator & touched)]
    if function:
        close_batch()
    return functions


# ===----------------------------------------------------------------------===#
# ptxas -v log
# ===----------------------------------------------------------------------===#

PROPERTIES_RE = re.compile(r"Function properties for (\S+)")
SPILLS_RE = re.compile(
    r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill "
    r"loads")
REGISTERS_RE = re.compile(r"Used (\d+) registers")
NOTE_RE = re.compile(r"\b(wgmma|warpgroup)\.")


def parse_ptxas_log(text):
    """{function: (stack, spill stores, spill loads, registers)}, notes."""
    functions = {}
    current = None
    notes = []
    for line in text.splitlines():
        properties = PROPERTIES_RE.search(line)
        if properties:
            current = properties.group(1)
            functions[current] = [None, None, None, None]
            continue
        spills = SPILLS_RE.search(line)
        if spills and current:
            functions[current][:3] = [int(g) for g in spills.groups()]
            continue
        registers = REGISTERS_RE.search(line)
        if registers and current:
            functions[current][3] = int(registers.group(1))
            continue
        # (C7515) "Potential Performance Loss: wgmma.mma_async instructions
        # are serialized ...", (C7517/C7519) waits and arrives ptxas added.
        if NOTE_RE.search(line):
            notes.append(line.split(":", 1)[-1].strip())
    return functions, notes


# ===----------------------------------------------------------------------===#
# Checks
# ===----------------------------------------------------------------------===#


def main():
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cubin", nargs="?")
    parser.add_argument("--expect-qgmma", choices=["e4m3", "e5m2"],
                        help="the FP8 type of both wgmma operands")
    parser.add_argument("--ptxas-log", help="the output of ptxas -v")
    parser.add_argument("--expect-register-a", action="store_true",
                        help="a QGMMA with A in registers and one without")
    parser.add_argument("--max-wait-per-product", type=int, nargs="?",
                        const=1, metavar="N",
                        help="at most N waits split a product (default 1)")
    parser.add_argument("--find-tools", action="store_true",
                        help="print the tools' directory and exit")
    args = parser.parse_args()

    tools, why = find_tools()
    if args.find_tools:
        if not tools:
            cannot_check(why)
        print(tools)
        return 0
    if not args.cubin or not args.expect_qgmma:
        parser.error("KERNEL.cubin and --expect-qgmma are required")
    if not tools:
        cannot_check(why)
    for path in [args.cubin] + ([args.ptxas_log] if args.ptxas_log else []):
        if not os.path.isfile(path):
            cannot_check(f"no file {path}")

    functions = parse_sass(disassemble(args.cubin, tools))
    failures = []
    fp8 = args.expect_qgmma.upper()

    print(f"{PROG}: {args.cubin}")
    qgmmas = [q for f in functions for q in f.qgmmas]
    for f in functions:
        register_a = sum(q.register_a for q in f.qgmmas)
        print(f"  {f.name}: {len(f.qgmmas)} QGMMA ({len(f.qgmmas) - register_a}"
              f" gdesc x gdesc, {register_a} R x gdesc), {f.waits} waits, "
              f"{f.arrives} arrives, {len(f.hmma)} HMMA")
        for i, product in enumerate(f.products):
            print(f"    product {i}: {product.describe()}: "
                  f"{len(product.qgmmas)} QGMMA in {len(product.batches)} "
                  f"batch(es) {product.batches}")

    # qgmma
    if not qgmmas:
        failures.append("no QGMMA: the kernel does not use wgmma")
    for q in qgmmas:
        if (q.dtype, q.atype, q.btype) != ("F32", fp8, fp8):
            failures.append(f"{q.text}: expected F32.{fp8}.{fp8}")

    # no hmma
    hmma = [f for f in functions if f.hmma]
    for f in hmma:
        failures.append(
            f"{f.name}: {len(f.hmma)} HMMA ({len(f.unpack)} F2FP.*.UNPACK_B): "
            f"FP8 emulated on the f16 tensor cores (mma.sync), not wgmma")

    # register-a
    if args.expect_register_a:
        if not any(q.register_a for q in qgmmas):
            failures.append("no QGMMA with A in registers "
                            "(QGMMA ... R<n>, gdesc[...])")
        if not any(not q.register_a for q in qgmmas):
            failures.append("no QGMMA with both operands in shared memory "
                            "(QGMMA ... gdesc[...])")

    # batching
    for f in functions:
        for i, product in enumerate(f.products):
            slices, batches = len(product.qgmmas), len(product.batches)
            if slices < 2:
                continue
            if batches == slices:
                failures.append(
                    f"{f.name} product {i} ({product.describe()}): each of "
                    f"its {slices} QGMMAs waits for the previous one")
            elif (args.max_wait_per_product is not None
                  and batches > args.max_wait_per_product):
                failures.append(
                    f"{f.name} product {i} ({product.describe()}): "
                    f"{slices} QGMMAs in {batches} batches {product.batches}, "
                    f"a wait after each: more than --max-wait-per-product "
                    f"{args.max_wait_per_product}")

    # ptxas
    if args.ptxas_log:
        with open(args.ptxas_log, errors="replace") as log:
            properties, notes = parse_ptxas_log(log.read())
        if not properties:
            failures.append(f"{args.ptxas_log}: no function properties "
                            f"(not the output of ptxas -v?)")
        for name, (stack, stores, loads, registers) in properties.items():
            print(f"  ptxas {name}: {registers} registers, {stack} B stack, "
                  f"{stores} B spill stores, {loads} B spill loads")
            if stores is None or loads is None:
                failures.append(f"{name}: no spill statistics in the log")
            elif stores or loads:
                failures.append(f"{name}: {stores} bytes spill stores, "
                                f"{loads} bytes spill loads")
        for note in notes:
            print(f"  ptxas note: {note}")
            if "serialized" in note or "wait is injected" in note:
                failures.append(f"ptxas: {note}")

    for failure in failures:
        print(f"FAIL: {failure}")
    if failures:
        sys.stdout.flush()  # the summary first, also when piped
        print(f"{PROG}: {len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print(f"{PROG}: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
