#!/usr/bin/env bash
# Installs every dependency of lpattn on a Debian 12 machine. Idempotent:
# when everything is present it only checks and returns in well under a
# second. Prints what it does.
set -euo pipefail

PACKAGES=(
  # LLVM/MLIR 22 (mlir-tblgen is in mlir-22-tools; FileCheck, not, lit in
  # llvm-22-tools), see shared/TOOLCHAIN.md.
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools clang-22
  # Build and test tools.
  cmake ninja-build g++ libgtest-dev python3
  # Plots of the numerics benchmarks (bench/); numpy also for the Python
  # package (python/) and its tests (test/python/).
  python3-numpy python3-matplotlib
  # pip install ./python (test/python/install.py).
  python3-pip python3-setuptools
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# LLVM 22 comes from bookworm-security; refresh the index once.
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: done"
