#!/usr/bin/env bash
# Installs every dependency of lpattn on a Debian 12 machine: Debian's
# packages, then the host-side CUDA tools from PyPI in their own venv.
# Idempotent: when everything is present it only checks and returns in well
# under a second. Prints what it does.
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
  # The venv of the CUDA tools below.
  python3-venv
)

# Debian's packages.
install_packages() {
  local missing=() pkg
  for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done

  if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all ${#PACKAGES[@]} packages present"
    return 0
  fi

  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo=sudo
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # LLVM 22 comes from bookworm-security; refresh the index once.
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# The CUDA tools no Debian package has, from PyPI into a venv of Debian's
# python3 (which stays untouched): cuobjdump and nvdisasm, to read the SASS
# of a cubin without a GPU (scripts/check-sass.py, test/Target/NVIDIA), and
# the CUTLASS/CuTe headers, the oracle of unittests/Target/NVIDIA. CMake,
# lit and check-sass.py look for it at the same place. Exact versions: the
# tests parse the disassembler's text and compare with CuTe's layouts.
TOOLS_VENV=${LPATTN_TOOLS_VENV:-$HOME/.cache/lpattn/cuda-tools}
TOOLS_PACKAGES=(nvidia-cuda-cuobjdump==13.5.37 nvidia-cuda-nvdisasm==13.5.37
                nvidia-cutlass==4.2.0.0)

install_cuda_tools() {
  # The stamp names what was installed, so a change of versions reinstalls.
  local stamp="$TOOLS_VENV/lpattn-packages.txt"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${TOOLS_PACKAGES[*]}" ]; then
    echo "setup: CUDA tools present in $TOOLS_VENV"
    return 0
  fi
  echo "setup: installing ${TOOLS_PACKAGES[*]} into $TOOLS_VENV"
  local python=/usr/bin/python3
  [ -x "$python" ] || python=python3
  [ -x "$TOOLS_VENV/bin/python" ] || "$python" -m venv "$TOOLS_VENV"
  # --no-deps: nvidia-cutlass's Python dependencies (cuda-python, scipy, ...)
  # are for its code generator; only its headers are used.
  "$TOOLS_VENV/bin/python" -m pip install -q --disable-pip-version-check \
    --no-deps "${TOOLS_PACKAGES[@]}"
  echo "${TOOLS_PACKAGES[*]}" > "$stamp"
}

install_packages
install_cuda_tools
echo "setup: done"
