#!/bin/bash
# The whole test suite, as CI runs it: installs dependencies, builds, runs the unit and
# integration tests, then the same again built with AddressSanitizer + UBSan, then the log
# writer's unit tests under ThreadSanitizer (the only code with a second thread), then the fuzz
# targets over their corpora. clang-tidy runs after the first build.
# Integration tests that need root skip (with a message) when not run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-deps.sh

jobs=$(nproc)

echo "== build (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSUPD_BUILD_TESTS=ON >/dev/null
cmake --build build -j"$jobs"
echo "== clang-tidy (lib/, daemon/)"
tests/clang-tidy.sh build
echo "== tests"
ctest --test-dir build --output-on-failure -j2 --timeout 180

echo "== build (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSUPD_SANITIZE=ON -DSUPD_BUILD_TESTS=ON >/dev/null
cmake --build build-asan -j"$jobs"
echo "== tests under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j2 --timeout 300

echo "== log writer tests under ThreadSanitizer (only lib/log and lib/base, tests/lib/log)"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSUPD_TSAN=ON >/dev/null
cmake --build build-tsan -j"$jobs"
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ctest --test-dir build-tsan --output-on-failure -j2 --timeout 300

echo "== fuzz targets (clang): corpus regression and a short run each"
tests/fuzz/run-fuzz.sh
