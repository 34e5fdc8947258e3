#!/usr/bin/env bash
# Install what is needed, check formatting, build everything with the tests (warnings are
# errors) and run them with CTest. GUI tests run on Qt's offscreen platform: no display needed.
# Then the sanitizer build (scripts/sanitize.sh): the whole suite and the fuzz targets under
# AddressSanitizer and UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
bash scripts/check-format.sh
bash scripts/build.sh -DESS_BUILD_TESTS=ON -DESS_WERROR=ON
# One suite per core at a time, as scripts/sanitize.sh runs them (CI has 2 cores).
(cd build && QT_QPA_PLATFORM=offscreen ctest --output-on-failure --timeout 1200 -j "$(nproc)" "$@")
bash scripts/sanitize.sh
