#!/usr/bin/env bash
# The main job: install what is needed, build, and open ESS Explorer on the bundled demo
# checkpoint (or on the file or folder given as the first argument).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
bash scripts/build.sh -DESS_BUILD_TESTS=OFF
exec ./build/app/ess-explorer "$@"
