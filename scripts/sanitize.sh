#!/usr/bin/env bash
# Builds ./build-asan with clang, AddressSanitizer and UndefinedBehaviorSanitizer (any report is
# fatal) plus libFuzzer coverage, and runs there the whole test suite (all but the entries in
# SLOW below) and every fuzz target for ESS_FUZZ_SECONDS (default 30) each. See README "Bad input".
#   bash scripts/sanitize.sh            the set the test command runs
#   ESS_FUZZ_SECONDS=600 bash scripts/sanitize.sh   longer fuzzing
#   ESS_SANITIZE_ALL=1 bash scripts/sanitize.sh     the SLOW entries too
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -gline-tables-only -DNDEBUG" \
  -DCMAKE_CXX_COMPILER=clang++ -DESS_SANITIZE=ON -DESS_BUILD_FUZZERS=ON -DESS_BUILD_TESTS=ON -DESS_WERROR=ON \
  -DESS_FUZZ_SECONDS="${ESS_FUZZ_SECONDS:-30}" >/dev/null
# One compile per core: a LibTorch file takes about 1.5 GiB under ASan.
cmake --build build-asan -j "$(nproc)"
# Entries left out for time (README "Bad input"); each also runs in the normal build.
SLOW=()
exclude=()
if [[ -z "${ESS_SANITIZE_ALL:-}" && ${#SLOW[@]} -gt 0 ]]; then exclude=(-E "^($(IFS='|'; echo "${SLOW[*]}"))\$"); fi
cd build-asan
# Leaks are not checked (Qt and LibTorch keep caches for the life of the process); everything
# else ASan and UBSan find aborts the test. allocator_may_return_null: a size the machine cannot
# give is an error the program reports (tests check the message), not an ASan abort.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The unit suites in parallel, then the fuzz targets one at a time (each uses a core fully).
QT_QPA_PLATFORM=offscreen ctest --output-on-failure --timeout 1200 -j "$(nproc)" -LE fuzz "${exclude[@]}"
QT_QPA_PLATFORM=offscreen ctest --output-on-failure --timeout 1200 -L fuzz
# How long each fuzz target ran and how many inputs it tried (README "Bad input").
grep -E '^[0-9]+/[0-9]+ Test: fuzz_|^Done [0-9]+ runs' Testing/Temporary/LastTest.log | sed 's/^[0-9]*\/[0-9]* Test: /  /'
