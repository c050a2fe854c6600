#!/usr/bin/env bash
# The GPU check, on the GPU machine, from the repository root, in at most
# about 8 minutes (docs/gpu-check.md). Needs build/gpu-check/ from
# scripts/gpu-prepare.sh (run on the CPU machine; carried over), a C++17
# compiler (and CMake if there is one), python3, and a CUDA driver with an
# sm_90 GPU. It
#   1. builds the runtime and lpattn-gpu-run on their own (no LLVM):
#      cmake -S runtime -B build-rt, or plain g++ where there is no CMake;
#   2. runs lpattn-rt-info: no driver or no GPU ends the check here, with
#      the runtime's message and exit status 1 (it never waits for a GPU);
#   3. runs lpattn-gpu-run on every case and checks O against the CPU
#      emulation (tolerance of case.json) and the float64 reference;
#   3a. runs the debug artifacts (lpattn-compile --dump-p, one per FP8 type):
#      every code of the dumped P tile must be the RNE cast of its input
#      (check (a), the P cast bit for bit); the dumps are kept in
#      WORK/pdump/NAME/ (p_scaled.npy, p_codes.npy, p_dump.json) and copied
#      with --copy-to, for `lpattn-check-casts --p-dump DIR` on the CPU
#      machine;
#   4. runs the P-Cast sink sweep: MSE and collapse within 5 % of the CPU's;
#   4a. runs two cases through the Python package (lpattn.GPUArtifact on torch
#      CUDA tensors, scripts/gpu_python_check.py): O must be lpattn-gpu-run's
#      bit for bit (skipped where python3 has no torch with CUDA);
#   5. runs compute-sanitizer (memcheck, racecheck) on the smallest case;
#   6. runs the speed benchmark (bench/gpu_speed.py: lpattn vs PyTorch SDPA
#      flash and cuDNN);
#   7. writes bench/results/gpu-<gpu>-<date>.json and .md, prints a summary
#      table and exits 0 only if every check passed.
#
# Usage: scripts/gpu-check.sh [--cases DIR] [--rt-bin DIR] [--copy-to DIR]
#                             [--no-speed] [--no-sanitizer] [--no-python]
#                             [--only REGEX]
#   --cases DIR    the prepared cases (default build/gpu-check)
#   --rt-bin DIR   use lpattn-gpu-run and lpattn-rt-info from DIR (no build)
#   --copy-to DIR  also copy the result files there (e.g. a folder that is
#                  fetched back from the GPU machine)
#   --results DIR  where the report goes (default bench/results)
#   --work DIR     per-run outputs and logs (default build/gpu-check-results)
#   --only REGEX   only the cases, P dumps and sink variants whose name
#                  matches
# Environment: LPATTN_GPU_CHECK_SECONDS (time budget, default 470),
# LPATTN_CUDA_DRIVER (the driver library, as for the runtime).
set -uo pipefail
cd "$(dirname "$0")/.."

cases=build/gpu-check
rt_bin=""
copy_to=""
results=bench/results
work=build/gpu-check-results
speed=1
sanitizer=1
python_path=1
only=""
while [ $# -gt 0 ]; do
  case $1 in
    --cases) cases=$2; shift 2 ;;
    --rt-bin) rt_bin=$2; shift 2 ;;
    --copy-to) copy_to=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --no-speed) speed=0; shift ;;
    --no-sanitizer) sanitizer=0; shift ;;
    --no-python) python_path=0; shift ;;
    --only) only=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu-check: unknown argument '$1' (see --help)" >&2; exit 1 ;;
  esac
done

start=$(date +%s)
budget=${LPATTN_GPU_CHECK_SECONDS:-470}
left() { echo $((budget - ($(date +%s) - start))); }
say() { echo "gpu-check: $*"; }
die() { echo "gpu-check: error: $*" >&2; exit 1; }

[ -f "$cases/manifest.json" ] ||
  die "$cases/manifest.json does not exist: run 'bash scripts/gpu-prepare.sh' on the CPU machine and bring $cases along (it is under build/, which git ignores: carry it)"
command -v python3 >/dev/null || die "python3 is needed (manifest, report)"

rm -rf "$work"
mkdir -p "$work/runs"
status=$work/status.tsv
: >"$status"
# record KIND NAME STATUS DETAIL
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$status"; }

#===-------------------------------------------------------------------===#
# 1. The runtime and lpattn-gpu-run, without LLVM.
#===-------------------------------------------------------------------===#
if [ -n "$rt_bin" ]; then
  bindir=$rt_bin
else
  bindir=build-rt
  t0=$(date +%s)
  if command -v cmake >/dev/null && [ -z "${LPATTN_NO_CMAKE:-}" ]; then
    say "building the runtime: cmake -S runtime -B build-rt"
    { timeout 120 cmake -S runtime -B build-rt -DCMAKE_BUILD_TYPE=Release &&
      timeout 180 cmake --build build-rt -j "$(nproc)" --target lpattn-gpu-run lpattn-rt-info lpattn_rt
    } >"$work/build.log" 2>&1 ||
      { tail -30 "$work/build.log" >&2; die "the runtime did not build (log: $work/build.log)"; }
  else
    say "building the runtime with g++ (no CMake)"
    mkdir -p build-rt
    cxx=${CXX:-g++}
    flags=(-std=c++17 -O2 -fexceptions -Iruntime/include -Iruntime/lib
           -Iruntime/tools -Iinclude)
    lib=(runtime/lib/Descriptor.cpp runtime/lib/Json.cpp runtime/lib/Runtime.cpp
         lib/Numerics/Enums.cpp)
    { timeout 180 "$cxx" "${flags[@]}" "${lib[@]}" runtime/tools/NpyFile.cpp \
        runtime/tools/HostFormats.cpp runtime/tools/GpuCheck.cpp \
        runtime/tools/lpattn-gpu-run.cpp -ldl -o build-rt/lpattn-gpu-run &&
      timeout 120 "$cxx" "${flags[@]}" "${lib[@]}" runtime/tools/lpattn-rt-info.cpp \
        -ldl -o build-rt/lpattn-rt-info &&
      timeout 120 "$cxx" "${flags[@]}" -shared -fPIC "${lib[@]}" -ldl \
        -o build-rt/liblpattn_rt.so
    } >"$work/build.log" 2>&1 ||
      { tail -30 "$work/build.log" >&2; die "the runtime did not build with $cxx (log: $work/build.log)"; }
  fi
  say "runtime built in $(($(date +%s) - t0)) s"
fi
gpu_run=$bindir/lpattn-gpu-run
rt_info=$bindir/lpattn-rt-info
[ -x "$gpu_run" ] && [ -x "$rt_info" ] || die "no lpattn-gpu-run / lpattn-rt-info in $bindir"

#===-------------------------------------------------------------------===#
# 2. The driver and the GPU.
#===-------------------------------------------------------------------===#
if ! timeout 60 "$rt_info" >"$work/rt-info.txt" 2>&1; then
  cat "$work/rt-info.txt" >&2
  die "no usable GPU: lpattn-rt-info failed (above); nothing was checked"
fi
cat "$work/rt-info.txt"
gpu_name=$(sed -n 's/^  0: \([^,]*\),.*/\1/p' "$work/rt-info.txt")
gpu_arch=$(sed -n 's/^  0: [^,]*, \(sm_[0-9]*\),.*/\1/p' "$work/rt-info.txt")
slug=$(tr 'A-Z' 'a-z' <<<"${gpu_name:-gpu}" | sed 's/[^a-z0-9]\{1,\}/-/g; s/^-//; s/-$//')
day=$(date +%Y-%m-%d)
prefix=$results/gpu-$slug-$day
[ "$gpu_arch" = sm_90 ] ||
  say "warning: device 0 is ${gpu_arch:-unknown}; the artifacts are for sm_90a (H100/H200) and will be refused elsewhere"

# The manifest as lines: KIND NAME ARTIFACT DIR.
python3 - "$cases/manifest.json" >"$work/plan.tsv" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
for c in m["cases"]:
    print("case\t%s\t%s\t%s" % (c["name"], c["artifact"] or "-", c["dir"]))
for p in m.get("pdump", []):
    print("pcast\t%s\t%s\t%s" % (p["name"], p["artifact"] or "-",
                                 p.get("inputs") or "-"))
for s in m["sinks"]:
    for p in s["points"]:
        print("sinks\t%s/delta-%02d\t%s\t%s" % (s["name"], round(p["delta"]),
                                             s["artifact"] or "-", p["dir"]))
EOF

#===-------------------------------------------------------------------===#
# 3, 3a, 4. The cases, the P dumps and the sink sweep.
#===-------------------------------------------------------------------===#
smallest=""
smallest_bytes=0
while IFS=$'\t' read -r kind name artifact dir; do
  [ -z "$only" ] || grep -qE -- "$only" <<<"$name" || continue
  out=$work/runs/$(tr '/' '_' <<<"$name")
  if [ "$artifact" = - ]; then
    record "$kind" "$name" "NOT COMPILED" "gpu-prepare.sh wrote no artifact"
    continue
  fi
  if [ "$(left)" -lt 150 ]; then
    record "$kind" "$name" "NOT RUN" "out of time"
    continue
  fi
  args=("$cases/$artifact" --json)
  if [ "$kind" = pcast ]; then
    # The debug artifact: on its case's inputs where prepared (O checked
    # too), else on random inputs; the dump comes back in WORK/pdump/.
    [ "$dir" = - ] || args+=(--inputs "$cases/$dir")
    mkdir -p "$work/pdump/$name"
    args+=(--p-dump "$work/pdump/$name")
  else
    args+=(--inputs "$cases/$dir")
  fi
  timeout 120 "$gpu_run" "${args[@]}" >"$out.json" 2>"$out.err"
  rc=$?
  case $rc in
    0) record "$kind" "$name" PASS "" ;;
    2) record "$kind" "$name" FAIL "$(python3 -c 'import json,sys; print("; ".join(json.load(open(sys.argv[1]))["results"][0]["failures"]))' "$out.json" 2>/dev/null)" ;;
    124) record "$kind" "$name" ERROR "timed out after 120 s" ;;
    *) record "$kind" "$name" ERROR "$(tail -1 "$out.err")" ;;
  esac
  printf '  %-45s %s\n' "$name" "$(tail -1 "$status" | cut -f3)"
  if [ "$kind" = case ]; then
    bytes=$(stat -c %s "$cases/$dir/q.npy" 2>/dev/null || echo 0)
    if [ -z "$smallest" ] || [ "$bytes" -lt "$smallest_bytes" ]; then
      printf -v smallest '%s\t%s\t%s' "$artifact" "$dir" "$name"
      smallest_bytes=$bytes
    fi
  fi
done <"$work/plan.tsv"

#===-------------------------------------------------------------------===#
# 4a. The Python path: lpattn.GPUArtifact (the runtime, no C API) on torch
#     CUDA tensors must give lpattn-gpu-run's O bit for bit, on two cases.
#===-------------------------------------------------------------------===#
if [ $python_path = 0 ]; then
  :
elif python3 -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
  rt_lib=$bindir/liblpattn_rt.so
  while IFS=$'\t' read -r kind name artifact dir; do
    case $name in m-d128-e4m3-robust|x-d128-e4m3-robust-gqa-descale) ;; *) continue ;; esac
    [ -z "$only" ] || grep -qE -- "$only" <<<"$name" || continue
    [ "$artifact" != - ] || continue
    if [ "$(left)" -lt 120 ]; then
      record python "$name" "NOT RUN" "out of time"
      continue
    fi
    log=$work/python-$name.txt
    { [ -f "$rt_lib" ] && export LPATTN_RUNTIME_LIBRARY=$rt_lib
      timeout 120 python3 scripts/gpu_python_check.py "$cases/$artifact" \
        "$cases/$dir" --gpu-run "$gpu_run" --work "$work/python/$name"
    } >"$log" 2>&1
    case $? in
      0) record python "$name" PASS "$(tail -1 "$log" | sed 's/.*: PASS: //')" ;;
      2) record python "$name" FAIL "$(tail -1 "$log")" ;;
      *) record python "$name" ERROR "$(tail -1 "$log")" ;;
    esac
    printf '  %-45s %s\n' "python $name" "$(tail -1 "$status" | cut -f3)"
  done <"$work/plan.tsv"
else
  record python - SKIPPED "no torch with a CUDA device in python3"
fi

#===-------------------------------------------------------------------===#
# 5. compute-sanitizer on the smallest case.
#===-------------------------------------------------------------------===#
sanitizer_bin=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)
if [ $sanitizer = 0 ]; then
  :
elif [ -z "$smallest" ]; then
  record sanitizer - "NOT RUN" "no case ran"
elif [ -z "$sanitizer_bin" ]; then
  record sanitizer - SKIPPED "compute-sanitizer is not installed"
else
  IFS=$'\t' read -r artifact dir name <<<"$smallest"
  for tool in memcheck racecheck; do
    if [ "$(left)" -lt 100 ]; then
      record sanitizer "$tool $name" "NOT RUN" "out of time"
      continue
    fi
    say "compute-sanitizer --tool $tool on $name"
    timeout 240 "$sanitizer_bin" --tool "$tool" --error-exitcode 99 \
      --print-limit 20 "$gpu_run" "$cases/$artifact" --inputs "$cases/$dir" \
      >"$work/sanitizer-$tool.txt" 2>&1
    rc=$?
    # lpattn-gpu-run's own exit status 2 (a numerics check) is the case
    # check's business; the sanitizer reports through 99.
    case $rc in
      0|2) record sanitizer "$tool $name" PASS "$(grep -m1 'ERROR SUMMARY' "$work/sanitizer-$tool.txt" | sed 's/^========= //')" ;;
      124) record sanitizer "$tool $name" ERROR "timed out after 240 s" ;;
      *) record sanitizer "$tool $name" FAIL "$(grep -m1 -E 'ERROR SUMMARY|Error' "$work/sanitizer-$tool.txt" | sed 's/^========= //')" ;;
    esac
  done
fi

#===-------------------------------------------------------------------===#
# 6. Speed.
#===-------------------------------------------------------------------===#
if [ $speed = 1 ]; then
  t=$(( $(left) - 20 ))
  if [ $t -lt 60 ]; then
    record speed - "NOT RUN" "out of time"
  else
    say "speed benchmark (at most $t s)"
    timeout "$t" python3 bench/gpu_speed.py --manifest "$cases/manifest.json" \
      --gpu-run "$gpu_run" --out "$prefix-speed" --deadline "$((t - 10))" \
      >"$work/speed.txt" 2>&1
    rc=$?
    tail -40 "$work/speed.txt"
    case $rc in
      0) record speed - PASS "$prefix-speed.md" ;;
      124) record speed - ERROR "timed out after $t s" ;;
      *) record speed - ERROR "$(tail -1 "$work/speed.txt")" ;;
    esac
  fi
fi

#===-------------------------------------------------------------------===#
# 7. Report.
#===-------------------------------------------------------------------===#
mkdir -p "$results"
python3 scripts/gpu_check_report.py --work "$work" --cases "$cases" \
  --prefix "$prefix" --gpu "${gpu_name:-unknown}" --arch "${gpu_arch:-unknown}" \
  --seconds "$(($(date +%s) - start))"
rc=$?
if [ -n "$copy_to" ]; then
  mkdir -p "$copy_to"
  tar -czf "$copy_to/gpu-check-runs.tar.gz" -C "$work" . 2>/dev/null
  [ -d "$work/pdump" ] && cp -r "$work/pdump" "$copy_to/"
  for f in "$prefix.json" "$prefix.md" "$prefix-speed.json" "$prefix-speed.md" "$prefix-speed.png"; do
    [ -f "$f" ] && cp "$f" "$copy_to/"
  done
  say "results copied to $copy_to"
fi
exit $rc
