#!/usr/bin/env bash
# Installs the Debian packages ESS Explorer builds against (Debian 12 "bookworm").
# Runs apt-get through sudo when not root. Safe to run again: installed packages are kept.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  clang-format-14  # the pinned formatter that scripts/check-format.sh runs in the test command
  clang libclang-rt-14-dev  # the sanitizer and libFuzzer build of scripts/sanitize.sh (libFuzzer is in the runtime)
  qt6-base-dev qt6-base-dev-tools qt6-svg-dev libgl-dev
  libqcustomplot-dev
  libtorch-dev libeigen3-dev nlohmann-json3-dev libzip-dev
  libsentencepiece-dev  # reads tokenizer.model (Llama-2, Mistral) in a module of its own
  libicu-dev  # Unicode character classes and normalization forms of the tokenizers
  libopenblas0-pthread  # optimized, thread-safe BLAS/LAPACK behind LibTorch (Debian defaults to the reference one)
  poppler-utils librsvg2-bin  # pdffonts and rsvg-convert: the figure tests check exported PDF fonts and SVG rendering
  python3-dev pybind11-dev  # the Python module ess_explorer (python/)
  python3-numpy python3-pytest python3-pandas  # its tests (tests/python)
  python3-torch python3-matplotlib  # examples/ess_during_training.py, run by those tests
  slurmctld slurmd slurm-client munge  # a one-node Slurm cluster for the `ess sweep --slurm` test (tests/cli/slurm_sweep_test.sh)
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
