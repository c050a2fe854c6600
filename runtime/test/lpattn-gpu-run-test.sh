#!/usr/bin/env bash
# lpattn-gpu-run on a machine without a GPU (ctest, in the runtime's own
# build and in the project's): every failure is one clear message and a
# non-zero exit status, never a crash; the whole path runs on the tests'
# fake driver, whose "kernel" writes a given output.
# Usage: lpattn-gpu-run-test.sh LPATTN_GPU_RUN FAKE_DRIVER
set -uo pipefail
tool=$1
fake=$2
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# expect STATUS PATTERN CMD...: runs CMD, checks its exit status and that
# its output (stdout and stderr) contains the fixed string PATTERN.
expect() {
  local status=$1 pattern=$2
  shift 2
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" -ne "$status" ] || ! grep -qF -- "$pattern" <<<"$out"; then
    echo "FAIL: $* (exit $rc, expected $status)"
    echo "  expected to see: $pattern"
    sed 's/^/  | /' <<<"$out" | head -20
    failures=$((failures + 1))
  else
    echo "ok: $pattern"
  fi
}

# A synthetic case (random e4m3 codes, o_cpu = o_ref = 0) and the artifact
# lpattn-compile would write for it (a fake cubin).
"$python" "$here/fake_artifact.py" case "$work/case" --shape 1,2,1,256,256,64 \
  --descales || exit 1
"$python" "$here/fake_artifact.py" descriptor "$work/case" "$work/art/attn" ||
  exit 1
art=$work/art/attn.json

expect 0 "usage: lpattn-gpu-run NAME.json" "$tool" --help
expect 1 "lpattn-gpu-run: error: no descriptor given" "$tool"
expect 1 "lpattn-gpu-run: error: unknown option '--frobnicate'" \
  "$tool" "$art" --frobnicate
expect 1 "lpattn-gpu-run: error: --bench=0: expected an integer in [1, 1000000]" \
  "$tool" "$art" --bench 0

# No driver, a library without the driver's symbols.
expect 1 "lpattn-gpu-run: error: the CUDA driver: no CUDA driver: dlopen(/nonexistent/libcuda.so.1) failed" \
  env LPATTN_CUDA_DRIVER=/nonexistent/libcuda.so.1 "$tool" "$art" --inputs "$work/case"
expect 1 "no CUDA driver: symbol cuInit not found in libm.so.6" \
  env LPATTN_CUDA_DRIVER=libm.so.6 "$tool" "$art"

# A bad artifact, before any driver.
cp -r "$work/art" "$work/nocubin" && rm "$work/nocubin/attn.cubin"
expect 1 "lpattn-gpu-run: error: artifact $work/nocubin/attn.json: cubin: cannot open $work/nocubin/attn.cubin" \
  env LPATTN_CUDA_DRIVER=/nonexistent "$tool" "$work/nocubin/attn.json"

# Bad .npy files and a missing case file: one error naming the file, before
# the driver is opened.
bad() { rm -rf "$work/bad" && cp -r "$work/case" "$work/bad"; }
bad && head -c 300 "$work/case/q.npy" >"$work/bad/q.npy"
expect 1 "lpattn-gpu-run: error: $work/bad/q.npy: data too short: the shape needs 32768 bytes of '|u1' but the file has 172" \
  env LPATTN_CUDA_DRIVER=/nonexistent "$tool" "$art" --inputs "$work/bad"
bad && printf 'not numpy' >"$work/bad/k.npy"
expect 1 "$work/bad/k.npy: not a .npy file (bad magic" \
  env LPATTN_CUDA_DRIVER=/nonexistent "$tool" "$art" --inputs "$work/bad"
bad && cp "$work/case/o_cpu.npy" "$work/bad/q.npy"
expect 1 "$work/bad/q.npy: dtype '<f4' does not hold f8E4M3FN codes for kernel parameter \"q\" (expected '|u1')" \
  env LPATTN_CUDA_DRIVER=/nonexistent "$tool" "$art" --inputs "$work/bad"
bad && rm "$work/bad/case.json"
expect 1 "$work/bad/case.json: cannot read: No such file or directory" \
  env LPATTN_CUDA_DRIVER=/nonexistent "$tool" "$art" --inputs "$work/bad"
bad && rm "$work/bad/o_ref.npy"
expect 1 "$work/bad/o_ref.npy: cannot read: No such file or directory" \
  env LPATTN_CUDA_DRIVER=/nonexistent "$tool" "$art" --inputs "$work/bad"

# Shape mismatches: a case of other shapes, a .npy of another shape.
"$python" "$here/fake_artifact.py" case "$work/other" --shape 1,2,1,128,256,64 \
  --descales || exit 1
expect 1 "case.json and $art disagree on the shape of q: the case has [1, 2, 128, 64], the kernel [1, 2, 256, 64]" \
  env LPATTN_CUDA_DRIVER=/nonexistent "$tool" "$art" --inputs "$work/other"
bad && cp "$work/other/q.npy" "$work/bad/q.npy"
expect 1 "$work/bad/q.npy: shape [1, 2, 128, 64] differs from kernel parameter \"q\"'s [1, 2, 256, 64] in the descriptor" \
  env LPATTN_CUDA_DRIVER=/nonexistent "$tool" "$art" --inputs "$work/bad"
bad && cp "$work/other/o_cpu.npy" "$work/bad/o_cpu.npy"
expect 1 "$work/bad/o_cpu.npy: shape [1, 2, 128, 64] differs from the result shape [1, 2, 256, 64]" \
  env LPATTN_CUDA_DRIVER=/nonexistent "$tool" "$art" --inputs "$work/bad"

# Numerics mismatches: the case must model the kernel.
bad && sed -i 's/"p_scale": 256/"p_scale": 1/' "$work/bad/case.json"
expect 1 "disagree on safeguards.p_scale: the case has 1, the kernel 256" \
  env LPATTN_CUDA_DRIVER=/nonexistent "$tool" "$art" --inputs "$work/bad"
"$python" "$here/fake_artifact.py" descriptor "$work/case" "$work/bc64/attn" \
  --bc 64 || exit 1
expect 1 "disagree on the KV tile size Bc (tiles[1]): the case has 128, the kernel 64" \
  env LPATTN_CUDA_DRIVER=/nonexistent "$tool" "$work/bc64/attn.json" --inputs "$work/case"

# On the fake driver. Its kernel writes nothing: O stays as filled (all-ones
# bytes, NaN), and every check fails (exit 2).
run_fake() { env LPATTN_CUDA_DRIVER="$fake" "$@"; }
expect 2 "check: FAIL: 32768 elements outside the tolerance of the CPU emulation" \
  run_fake "$tool" "$art" --inputs "$work/case"
expect 2 "check: FAIL: 32768 NaN and 0 Inf outputs (the CPU has 0 and 0)" \
  run_fake "$tool" "$art" --inputs "$work/case"
# With an output equal to the CPU's (bf16 zeros; o is parameter 6: q, k, v,
# q_ds, k_ds, v_ds, o), everything passes.
head -c $((32768 * 2)) /dev/zero >"$work/zeros.bin"
expect 0 "check: PASS" \
  run_fake env LPATTN_FAKE_CUDA_OUTPUT="6:$work/zeros.bin" "$tool" "$art" \
  --inputs "$work/case" --output-npy "$work/o.npy"
expect 0 '"passed": true' \
  run_fake env LPATTN_FAKE_CUDA_OUTPUT="6:$work/zeros.bin" "$tool" "$art" \
  --inputs "$work/case" --json
cmp -s <(tail -c $((32768 * 4)) "$work/o.npy") <(head -c $((32768 * 4)) /dev/zero) ||
  { echo "FAIL: --output-npy did not write O"; failures=$((failures + 1)); }
# One element off by 0.5 (far above 2 ulps of bf16 at 0 plus the atol of
# 0.01): one element outside.
{ printf '\x00\x3f'; head -c $((32767 * 2)) /dev/zero; } >"$work/off.bin"
expect 2 "1 of 32768 elements differ, 1 outside the tolerance" \
  run_fake env LPATTN_FAKE_CUDA_OUTPUT="6:$work/off.bin" "$tool" "$art" \
  --inputs "$work/case"

# Random inputs (no references: nothing to check) and the benchmark, whose
# events the fake driver times at 1.5 ms.
expect 0 "bench: 4 launches after 2 warm-up, 0.3750 ms each" \
  run_fake "$tool" "$art" --bench 4 --warmup 2
expect 0 '"tflops": ' run_fake "$tool" "$art" --bench 4 --json
mkdir -p "$work/saved"
expect 0 "random (seed 5)" run_fake "$tool" "$art" --seed 5 --save-inputs "$work/saved"
[ -s "$work/saved/q.npy" ] && [ -s "$work/saved/v.npy" ] ||
  { echo "FAIL: --save-inputs wrote no inputs"; failures=$((failures + 1)); }

# A debug artifact (lpattn-compile --dump-p): after o (parameter 6) the P
# dump p_scaled (7) and p_codes (8), [64, 128]. The fake kernel writes a
# P dump made by fake_artifact.py (its codes the RNE cast of its inputs),
# or one with a code off by one, or none.
"$python" "$here/fake_artifact.py" descriptor "$work/case" "$work/dbg/attn" \
  --dump-p || exit 1
"$python" "$here/fake_artifact.py" pdump "$work/pgood" --keys 128 || exit 1
"$python" "$here/fake_artifact.py" pdump "$work/pbad" --keys 128 --flip 5,100 ||
  exit 1
dbg=$work/dbg/attn.json
pgood="6:$work/zeros.bin,7:$work/pgood/p_scaled.bin,8:$work/pgood/p_codes.bin"
pbad="6:$work/zeros.bin,7:$work/pbad/p_scaled.bin,8:$work/pbad/p_codes.bin"
expect 0 "8192 of 8192 entries checked against the RNE cast of P * S to f8E4M3FN (satfinite), 0 mismatches, 0 unwritten: ok" \
  run_fake env LPATTN_FAKE_CUDA_OUTPUT="$pgood" "$tool" "$dbg" --inputs "$work/case"
expect 2 "mismatch: row 5, key 100: P * S = " \
  run_fake env LPATTN_FAKE_CUDA_OUTPUT="$pbad" "$tool" "$dbg" --inputs "$work/case"
expect 2 "check: FAIL: P cast: 1 of 8192 codes differ from the RNE cast of P * S (first: row 5, key 100)" \
  run_fake env LPATTN_FAKE_CUDA_OUTPUT="$pbad" "$tool" "$dbg"
expect 2 "check: FAIL: P cast: 8192 of 8192 P dump entries unwritten" \
  run_fake env LPATTN_FAKE_CUDA_OUTPUT="6:$work/zeros.bin" "$tool" "$dbg" --inputs "$work/case"
mkdir -p "$work/pdump"
expect 0 '"p_dump": {"p": "f8E4M3FN", "satfinite": true, "shape": [64, 128], "entries": 8192, "checked": 8192, "mismatches": 0, "unwritten": 0' \
  run_fake env LPATTN_FAKE_CUDA_OUTPUT="$pgood" "$tool" "$dbg" --json --p-dump "$work/pdump"
cmp -s "$work/pdump/p_codes.npy" "$work/pgood/p_codes.npy" &&
  cmp -s "$work/pdump/p_scaled.npy" "$work/pgood/p_scaled.npy" ||
  { echo "FAIL: --p-dump did not write the dump as downloaded"; failures=$((failures + 1)); }
expect 1 "is not a debug artifact with a P dump (signature.debug_p; compile it with lpattn-compile --dump-p)" \
  run_fake "$tool" "$art" --p-dump "$work/pdump"

if [ "$failures" -ne 0 ]; then
  echo "$failures lpattn-gpu-run test(s) failed"
  exit 1
fi
echo "lpattn-gpu-run: all tests passed"
