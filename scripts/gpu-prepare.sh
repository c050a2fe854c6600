#!/usr/bin/env bash
# Prepares the GPU check on the CPU machine (docs/gpu-check.md): for every
# configuration of the check it writes build/gpu-check/<config>/ with the
# attention's MLIR (case.mlir), the CPU emulation's case files
# (`lpattn-run --save-case`: Q/K/V codes, o_cpu.npy, o_ref.npy, atol.npy,
# case.json) and the compiled artifact (`lpattn-compile case.mlir -o
# <config>/attn`: attn.cubin + attn.json), plus the P-Cast sink sweep, one
# debug artifact per FP8 type that dumps a P tile before and after its cast
# (`lpattn-compile --dump-p`, check (a)), the artifacts of the speed sweep
# (bench/gpu_speed.py), and a manifest.
# Everything it writes must travel to the GPU machine (at most 64 MiB with
# the source tree); it checks the size.
#
# Usage: scripts/gpu-prepare.sh [--out DIR] [--bin-dir DIR] [--only REGEX]
#                               [--no-compile] [--no-speed] [--keep-ptx]
#   --out DIR      where to write (default build/gpu-check; emptied first)
#   --bin-dir DIR  lpattn-run, lpattn-compile, lpattn-rt-info (build/bin)
#   --only REGEX   only the configurations whose name matches (grep -E)
#   --no-compile   the CPU cases only (no lpattn-compile needed)
#   --no-speed     no speed-sweep artifacts (--only matches names such as
#                  m-d128-e4m3-robust, pdump-d128-e5m2-robust, sinks-none,
#                  speed-d64-n1024-causal-plain)
#   --keep-ptx     keep the PTX beside each cubin (dropped by default: it
#                  is informational and large)
# Environment: LPATTN_COMPILE (the compiler, default BIN/lpattn-compile),
# LPATTN_GPU_BC (the KV tile Bc of every case and artifact, default 128),
# LPATTN_COMPILE_FLAGS (extra lpattn-compile arguments).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

out=build/gpu-check
bin=build/bin
only=""
compile=1
speed=1
keep_ptx=0
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$2; shift 2 ;;
    --bin-dir) bin=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --no-compile) compile=0; shift ;;
    --no-speed) speed=0; shift ;;
    --keep-ptx) keep_ptx=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu-prepare: unknown argument '$1' (see --help)" >&2; exit 1 ;;
  esac
done

die() { echo "gpu-prepare: error: $*" >&2; exit 1; }
run=$bin/lpattn-run
info=$bin/lpattn-rt-info
compiler=${LPATTN_COMPILE:-$bin/lpattn-compile}
bc=${LPATTN_GPU_BC:-128}
# tile-q 64: one consumer warpgroup's rows (lpattn-check-sm90); head dim 256
# uses Bc = 64 (its S, P and O must fit a consumer's registers).
br=64
bc_for() { if [ "$1" = 256 ]; then echo 64; else echo "$bc"; fi; }
head_dim_of() {
  local prev=""
  for a in "$@"; do
    [ "$prev" = --head-dim ] && { echo "$a"; return; }
    prev=$a
  done
  echo 128
}
read -r -a compile_flags <<<"${LPATTN_COMPILE_FLAGS:-}"

[ -x "$run" ] || die "$run does not exist: build the project first (bash scripts/build.sh)"
[ -x "$info" ] || die "$info does not exist: build the project first (bash scripts/build.sh)"
if [ $compile = 1 ] && [ ! -x "$compiler" ]; then
  die "$compiler does not exist: the sm_90a compiler ('lpattn-compile IN.mlir -o DIR/NAME', writing NAME.cubin, NAME.ptx and NAME.json) is not built in this checkout. Build it (bash scripts/build.sh) once it exists, point LPATTN_COMPILE at it, or run with --no-compile to write the CPU cases alone (they cannot be checked on a GPU without artifacts)."
fi
command -v python3 >/dev/null || die "python3 is needed (descriptor checks, manifest)"

# Whether lpattn-compile can count collapsed P (the sink sweep compares the
# collapse fraction where the kernel counts it).
sink_flags=()
if [ $compile = 1 ] && "$compiler" --help 2>&1 | grep -q -- '--count-collapse'; then
  sink_flags=(--count-collapse=4)
fi

rm -rf "$out"
mkdir -p "$out"
list=$out/.entries
: >"$list"
failures=()
count=0

selected() { [ -z "$only" ] || grep -qE -- "$only" <<<"$1"; }

# compile DIR [FLAGS...]: DIR/case.mlir -> DIR/attn.{cubin,json}, checked
# without a driver (lpattn-rt-info) and against the case's KV tile (and,
# with --dump-p, for the P dump the descriptor must then declare).
compile() {
  local dir=$1
  shift
  [ $compile = 1 ] || return 0
  if ! "$compiler" "$dir/case.mlir" -o "$dir/attn" "${compile_flags[@]}" "$@" \
      >"$dir/compile.log" 2>&1; then
    failures+=("$dir: lpattn-compile failed (see $dir/compile.log): $(tail -1 "$dir/compile.log")")
    return 0
  fi
  if [ ! -f "$dir/attn.json" ] || [ ! -f "$dir/attn.cubin" ]; then
    failures+=("$dir: lpattn-compile wrote no attn.json + attn.cubin")
    return 0
  fi
  if ! "$info" "$dir/attn.json" >>"$dir/compile.log" 2>&1; then
    failures+=("$dir: the artifact fails its checks: $(tail -1 "$dir/compile.log")")
    return 0
  fi
  # The kernel's KV tile must be the one the CPU emulation used (the online
  # softmax and the P-Cast collapse depend on it); PTX dropped unless kept.
  local dir_bc
  dir_bc=$(cat "$dir/tile-kv" 2>/dev/null || echo "$bc")
  local dump_p=0
  for a in "$@"; do [ "$a" = --dump-p ] && dump_p=1; done
  if ! python3 - "$dir/attn.json" "$dir_bc" "$keep_ptx" "$dump_p" <<'EOF' >>"$dir/compile.log" 2>&1; then
import json, os, sys
path, bc, keep = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
dump_p = sys.argv[4] == "1"
with open(path) as f:
    d = json.load(f)
tiles = d.get("tiles")
if tiles is not None and tiles[1] != bc:
    sys.exit("the kernel's tiles are %s, but the case was emulated with Bc = %d "
             "(set LPATTN_GPU_BC=%d or make lpattn-compile honor the op's tiles)"
             % (tiles, bc, tiles[1]))
if dump_p != d["signature"].get("debug_p", False):
    sys.exit("compiled %s --dump-p, but the descriptor's signature.debug_p is %s"
             % ("with" if dump_p else "without",
                d["signature"].get("debug_p", False)))
if not keep and "ptx" in d:
    ptx = os.path.join(os.path.dirname(path), d["ptx"])
    if os.path.exists(ptx):
        os.remove(ptx)
    del d["ptx"]
    with open(path, "w") as f:
        json.dump(d, f, indent=2)
EOF
    failures+=("$dir: $(tail -1 "$dir/compile.log")")
  fi
}

# case NAME SEED LPATTN-RUN-OPTIONS...: a correctness case.
case_() {
  local name=$1 seed=$2
  shift 2
  selected "$name" || return 0
  local dir=$out/$name
  count=$((count + 1))
  echo "[$count] $name"
  mkdir -p "$dir"
  local case_bc
  case_bc=$(bc_for "$(head_dim_of "$@")")
  echo "$case_bc" >"$dir/tile-kv"
  "$run" --tile-q $br --tile-kv "$case_bc" --inputs random --seed "$seed" \
    --out-type bf16 --score-type f32 --acc-type f32 "$@" \
    --save-case "$dir" --json >"$dir/cpu.json" ||
    die "lpattn-run failed for $name"
  compile "$dir"
  printf 'case\t%s\t%s\n' "$name" "$dir" >>"$list"
}

e4m3=(--qk-type f8E4M3FN --v-type f8E4M3FN --p-type f8E4M3FN)
e5m2=(--qk-type f8E5M2 --v-type f8E5M2 --p-type f8E5M2)
declare -A safeguard=(
  [none]="--p-scale 1 --reverse=false"
  [robust]="--p-scale 256 --reverse=true"
  [biascorr]="--p-scale 256 --reverse=true --softmax bias_corrected"
)

# The matrix: head dims x formats x safeguards (B = 1, Hq = Hkv = 2,
# Nq = Nk = 256: two KV tiles).
seed=1
for d in 64 128 256; do
  for fmt in e4m3 e5m2; do
    for sg in none robust biascorr; do
      if [ $fmt = e4m3 ]; then types=("${e4m3[@]}"); else types=("${e5m2[@]}"); fi
      # shellcheck disable=SC2086
      case_ "m-d$d-$fmt-$sg" $seed "${types[@]}" ${safeguard[$sg]} \
        --heads 2 --nq 256 --nk 256 --head-dim $d
      seed=$((seed + 1))
    done
  done
done
# Causal, ragged N, Nq != Nk causal (bottom-right), GQA with descales.
rob=(--p-scale 256 --reverse=true)
case_ x-d128-e4m3-robust-causal 101 "${e4m3[@]}" "${rob[@]}" \
  --heads 2 --nq 512 --nk 512 --head-dim 128 --causal
case_ x-d128-e4m3-robust-n500 102 "${e4m3[@]}" "${rob[@]}" \
  --heads 2 --nq 500 --nk 500 --head-dim 128
case_ x-d128-e4m3-robust-causal-q320-k512 103 "${e4m3[@]}" "${rob[@]}" \
  --heads 2 --nq 320 --nk 512 --head-dim 128 --causal
case_ x-d128-e4m3-none-causal-n500 104 "${e4m3[@]}" --p-scale 1 --reverse=false \
  --heads 2 --nq 500 --nk 500 --head-dim 128 --causal
case_ x-d128-e4m3-robust-gqa-descale 105 "${e4m3[@]}" "${rob[@]}" \
  --heads 4 --kv-heads 2 --nq 256 --nk 256 --head-dim 128 \
  --q-descale 0.5 --k-descale 1.5 --v-descale 2
case_ x-d64-e5m2-robust-mqa-causal 106 "${e5m2[@]}" "${rob[@]}" \
  --heads 4 --kv-heads 1 --nq 384 --nk 384 --head-dim 64 --causal

# Check (a), the P cast bit for bit: one debug artifact per FP8 type
# (`lpattn-compile --dump-p`: the kernel also writes one P tile before and
# after its cast), compiled from the attention of m-d128-<fmt>-robust
# (P scale 256, so P * S spans the whole FP8 range). gpu-check.sh runs it
# on that case's inputs (O is checked too) and checks every code against
# the RNE cast of its input. A small artifact; no case files of its own.
for fmt in e4m3 e5m2; do
  name=pdump-d128-$fmt-robust
  selected "$name" || continue
  dir=$out/$name
  src=$out/m-d128-$fmt-robust
  count=$((count + 1))
  echo "[$count] $name"
  mkdir -p "$dir"
  bc_for 128 >"$dir/tile-kv"
  if [ -f "$src/case.mlir" ]; then
    cp "$src/case.mlir" "$dir/case.mlir"
  else
    if [ $fmt = e4m3 ]; then types=("${e4m3[@]}"); else types=("${e5m2[@]}"); fi
    # shellcheck disable=SC2086
    "$run" --tile-q $br --tile-kv "$(bc_for 128)" --out-type bf16 \
      --score-type f32 --acc-type f32 "${types[@]}" ${safeguard[robust]} \
      --heads 2 --nq 256 --nk 256 --head-dim 128 --print-mlir --no-run \
      >"$dir/case.mlir" || die "lpattn-run failed for $name"
  fi
  compile "$dir" --dump-p
  printf 'pdump\t%s\t%s\n' "$name" "$dir" >>"$list"
done

# The P-Cast sink sweep: 4 sinks Delta above N(0, 1) logits, jitter per
# row; every input FP8. One artifact per variant (the op does not depend
# on Delta), one case per Delta: the GPU's MSE and collapse fraction are
# compared with the CPU's (within 5 %). Two steps: the generator's inputs
# rounded to e4m3, then those codes as the inputs, so that o_ref is the
# float64 attention of what the kernel sees and the MSE isolates the
# attention's own roundings (the P cast, the collapse), as P-Cast's
# isolating setting does; with the unquantized reference the input
# rounding dominates and hides them.
for variant in none robust; do
  name=sinks-$variant
  selected "$name" || continue
  vdir=$out/$name
  mkdir -p "$vdir"
  if [ $variant = none ]; then flags=(--p-scale 1 --reverse=false); else flags=("${rob[@]}"); fi
  for delta in 0 4 6 8 10 12 14; do
    pdir=$vdir/delta-$(printf %02d $delta)
    count=$((count + 1))
    echo "[$count] $name delta $delta"
    mkdir -p "$pdir"
    common=(--tile-q $br --tile-kv "$bc" --sinks 4 "${e4m3[@]}" --out-type bf16
            "${flags[@]}")
    "$run" "${common[@]}" --inputs sinks --delta $delta --seed 7 --heads 1 \
      --nq 128 --nk 1024 --head-dim 64 --save-case "$pdir/generated" \
      >/dev/null || die "lpattn-run failed for $name delta $delta"
    "$run" "${common[@]}" --inputs npy --q-npy "$pdir/generated/q.npy" \
      --k-npy "$pdir/generated/k.npy" --v-npy "$pdir/generated/v.npy" \
      --save-case "$pdir" --json >"$pdir/cpu.json" ||
      die "lpattn-run failed for $name delta $delta (codes)"
    # Keep the generator's case.json (Delta, the realized sink excess, the
    # MSE against the unquantized inputs); its arrays are the codes above.
    find "$pdir/generated" -type f ! -name case.json -delete
  done
  cp "$vdir/delta-00/case.mlir" "$vdir/case.mlir"
  compile "$vdir" "${sink_flags[@]}"
  printf 'sinks\t%s\t%s\n' "$name" "$vdir" >>"$list"
done

# The speed sweep (bench/gpu_speed.py): 16k tokens per batch (B = 16384 /
# N), hidden 2048 (Hq = 2048 / D), robust (P scale 256, reverse) and plain
# (P scale 1, forward): artifacts only, nothing runs on the CPU.
if [ $speed = 1 ]; then
  for d in 64 128 256; do
    for n in 1024 2048 4096 8192 16384; do
      for mode in full causal; do
        for variant in robust plain; do
          name=speed-d$d-n$n-$mode-$variant
          selected "$name" || continue
          dir=$out/speed/d$d-n$n-$mode-$variant
          count=$((count + 1))
          echo "[$count] $name"
          mkdir -p "$dir"
          bc_for $d >"$dir/tile-kv"
          if [ $variant = robust ]; then flags=("${rob[@]}"); else flags=(--p-scale 1 --reverse=false); fi
          causal=()
          [ $mode = causal ] && causal=(--causal)
          "$run" --batch $((16384 / n)) --heads $((2048 / d)) --nq $n --nk $n \
            --head-dim $d --tile-q $br --tile-kv "$(bc_for $d)" "${e4m3[@]}" \
            --out-type bf16 "${flags[@]}" "${causal[@]}" --print-mlir --no-run \
            >"$dir/case.mlir" || die "lpattn-run failed for $name"
          printf '{"head_dim": %d, "seq_len": %d, "batch": %d, "heads": %d, "causal": %s, "variant": "%s"}\n' \
            $d $n $((16384 / n)) $((2048 / d)) \
            "$([ $mode = causal ] && echo true || echo false)" $variant \
            >"$dir/config.json"
          compile "$dir"
          printf 'speed\t%s\t%s\n' "$name" "$dir" >>"$list"
        done
      done
    done
  done
fi

# The manifest gpu-check.sh and gpu_speed.py read.
python3 - "$out" "$list" "$bc" "$compile" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" <<'EOF'
import json, os, sys, time
out, listing, bc, compiled, commit = sys.argv[1:6]
entries = {"case": [], "sinks": [], "speed": [], "pdump": []}
rel = lambda p: os.path.relpath(p, out)
for line in open(listing):
    kind, name, path = line.rstrip("\n").split("\t")
    art = os.path.join(path, "attn.json")
    e = {"name": name, "dir": rel(path),
         "artifact": rel(art) if os.path.exists(art) else None}
    if kind == "sinks":
        points = []
        for sub in sorted(os.listdir(path)):
            if sub.startswith("delta-"):
                with open(os.path.join(path, sub, "case.json")) as f:
                    case = json.load(f)
                points.append({"delta": int(sub[len("delta-"):]),
                               "dir": rel(os.path.join(path, sub)),
                               "mse": case["cpu"]["mse"],
                               "collapse_fraction": case["cpu"]["collapse_fraction"]})
        e["points"] = points
    if kind == "pdump":
        # The inputs of the case it was compiled from, where that was
        # prepared too (else gpu-check.sh runs it on random inputs).
        inputs = os.path.join(out, name.replace("pdump-", "m-", 1))
        e["inputs"] = (rel(inputs) if os.path.exists(
            os.path.join(inputs, "case.json")) else None)
        e["p"] = "f8E4M3FN" if "-e4m3-" in name else "f8E5M2"
    if kind == "speed":
        with open(os.path.join(path, "config.json")) as f:
            e.update(json.load(f))
    entries[kind].append(e)
manifest = {"format": "lpattn-gpu-check", "version": 1,
            "created": time.strftime("%Y-%m-%d %H:%M:%S"), "commit": commit,
            "tiles": [64, int(bc)], "compiled": compiled == "1",
            "cases": entries["case"], "sinks": entries["sinks"],
            "pdump": entries["pdump"], "speed": entries["speed"]}
with open(os.path.join(out, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1)
EOF
rm -f "$list"

# What travels: this directory (carried) plus the source tree.
bytes_out=$(du -sb "$out" | cut -f1)
bytes_tree=$(cd "$root" && { git ls-files -co --exclude-standard -z | xargs -0 -r du -cb -- 2>/dev/null || true; } | tail -1 | cut -f1)
limit=$((64 * 1024 * 1024))
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo "gpu-prepare: $count configurations in $out: $(mib "$bytes_out"); with the source tree ($(mib "${bytes_tree:-0}")) $(mib $((bytes_out + ${bytes_tree:-0}))) of the 64 MiB that may travel"
if [ $((bytes_out + ${bytes_tree:-0})) -gt $limit ]; then
  du -sb "$out"/* "$out"/speed/* 2>/dev/null | sort -rn | head -8 >&2
  die "too large to travel to the GPU machine (64 MiB with the source tree): drop configurations (--only, --no-speed) or PTX"
fi
if [ ${#failures[@]} -gt 0 ]; then
  printf 'gpu-prepare: FAILED: %s\n' "${failures[@]}" >&2
  die "${#failures[@]} artifact(s) missing or wrong; the cases are written, the check would skip these"
fi
if [ $compile = 0 ]; then
  echo "gpu-prepare: --no-compile: cases only, no artifacts (gpu-check.sh needs them)"
fi
echo "gpu-prepare: done. On the GPU machine, from the repository root: bash scripts/gpu-check.sh"
