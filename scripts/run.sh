#!/usr/bin/env bash
# The main job: set up, build, and run the example attention through
# lpattn-opt, printing the verified IR.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
BUILD_DIR=${LPATTN_BUILD_DIR:-build}
echo "== examples/attention.mlir through lpattn-opt =="
"$BUILD_DIR/bin/lpattn-opt" examples/attention.mlir
