#!/usr/bin/env bash
# Sets up, builds and runs every lpattn test (lit + gtest, which includes a
# fuzz smoke run), then the same suites under ASan + UBSan
# (scripts/test-sanitizers.sh, its own build in build-asan/), and prints one
# pass/fail summary. Exit status 0 only if every suite passed.
# LPATTN_SANITIZERS=0 skips the sanitizer build and run.
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
t_tests=$(date +%s)
status[sanitizers]=SKIPPED
if [ "${LPATTN_SANITIZERS:-1}" != 0 ]; then
  echo "== sanitizers (ASan + UBSan: lit, gtest, fuzz smoke) =="
  if bash scripts/test-sanitizers.sh; then status[sanitizers]=PASS; else status[sanitizers]=FAIL; fi
fi
end=$(date +%s)

echo
echo "== lpattn test summary =="
echo "setup $((t_setup - start)) s, build $((t_build - t_setup)) s, tests $((t_tests - t_build)) s, sanitizers $((end - t_tests)) s"
rc=0
for suite in lit gtest sanitizers; do
  echo "  $suite: ${status[$suite]}"
  [ "${status[$suite]}" = FAIL ] && rc=1
done
if [ $rc -eq 0 ]; then echo "ALL TESTS PASSED"; else echo "SOME TESTS FAILED"; fi
exit $rc
