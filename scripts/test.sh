#!/usr/bin/env bash
# Sets up, builds and runs every lpattn test (lit + gtest), then prints one
# pass/fail summary. Exit status 0 only if every suite passed.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${LPATTN_BUILD_DIR:-build}

start=$(date +%s)
bash scripts/setup.sh || exit 1
t_setup=$(date +%s)
bash scripts/build.sh || { echo "== lpattn tests: BUILD FAILED =="; exit 1; }
t_build=$(date +%s)

declare -A status
echo "== lit =="
if /usr/lib/llvm-22/bin/lit -sv "$BUILD_DIR/test"; then status[lit]=PASS; else status[lit]=FAIL; fi
echo "== gtest =="
if ctest --test-dir "$BUILD_DIR" --output-on-failure; then status[gtest]=PASS; else status[gtest]=FAIL; fi
end=$(date +%s)

echo
echo "== lpattn test summary =="
echo "setup $((t_setup - start)) s, build $((t_build - t_setup)) s, tests $((end - t_build)) s"
rc=0
for suite in lit gtest; do
  echo "  $suite: ${status[$suite]}"
  [ "${status[$suite]}" = PASS ] || rc=1
done
if [ $rc -eq 0 ]; then echo "ALL TESTS PASSED"; else echo "SOME TESTS FAILED"; fi
exit $rc
