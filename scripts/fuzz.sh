#!/usr/bin/env bash
# The long fuzz run of lpattn's tools (scripts/fuzz.py): by default 10,000
# mutated and generated inputs over lpattn-opt (parser, verifier, every pass
# pipeline) and lpattn-run (.mlir files, options, .npy headers and bodies),
# on the tools in build/ (LPATTN_FUZZ_BIN=build-asan/bin for the sanitizer
# build). Crashes and timeouts are kept in fuzz-findings/ with their input,
# command and stderr; exit status 1 if one was in lpattn's own code.
#
#   bash scripts/fuzz.sh                      # 10,000 inputs, seed 1
#   bash scripts/fuzz.sh --count 50000 --seed 7 --jobs 4
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${LPATTN_FUZZ_BIN:-build/bin}
[ -x "$BIN/lpattn-opt" ] || bash scripts/build.sh
# A stack trace (and, in build-asan, a sanitizer report) rather than
# lpattn-opt's one-line crash error: the driver tells project from upstream
# crashes by the frames.
export LPATTN_NO_CRASH_RECOVERY=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-allow_user_poisoning=0:detect_leaks=1}
exec python3 scripts/fuzz.py --bin "$BIN" --count 10000 --seed 1 --jobs 2 \
  --timeout 120 --out fuzz-findings "$@"
