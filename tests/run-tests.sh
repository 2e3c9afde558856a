#!/bin/bash
# The whole test suite, as CI runs it: installs dependencies, builds, runs the unit and
# integration tests (clang-tidy beside them), builds the Debian package and checks it (and the
# container files), then the same tests again built with AddressSanitizer + UBSan (all but the
# load tests, see below), then the log writer's unit tests under ThreadSanitizer (the only code
# with a second thread), then the fuzz targets over their corpora.
# Integration tests that need root skip (with a message) when not run as root.
#
# Budget: 20 minutes from a fresh clone on 2 cores. Each stage prints how long it took. What
# keeps it there, without losing coverage:
# - Line tables only (-g1) instead of full debug info: enough for every backtrace and ASan
#   report, and 30% less compile CPU for lib/ (measured: 176 s with -g, 123 s with -g1).
# - clang-tidy runs beside the release tests, which mostly wait on timers and child programs.
# - Under ASan the unit tests run as one process, not one per test as ctest runs them: each
#   process costs ASan's start-up and LeakSanitizer's scan at exit (~0.3-1 s), for 430 tests.
# - The ASan stage skips the tests labelled "load" (tests/CMakeLists.txt says which and why):
#   the same paths repeated at volume, which the release stage runs.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-deps.sh --tests

jobs=$(nproc)
start=$SECONDS
stage_start=$SECONDS
cpu=0
cpu_start=0
times_file=$(mktemp)
trap 'rm -f "$times_file"' EXIT
# Sets $cpu: CPU seconds (user + system) used so far by the commands this script has waited for.
# `times` must run in this shell, not in a $(...) subshell, which has no children of its own.
read_cpu() {
  times >"$times_file"
  cpu=$(tail -1 "$times_file" | awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/);
                                       printf "%d", u[1] * 60 + u[2] + s[1] * 60 + s[2] }')
}
# Starts a stage; says how long the previous one took (wall and CPU: the machine has $jobs CPUs).
stage() {
  read_cpu
  echo "== $* (previous stage: $((SECONDS - stage_start)) s, CPU $((cpu - cpu_start)) s;" \
       "total: $((SECONDS - start)) s, load $(cut -d' ' -f1 /proc/loadavg))"
  stage_start=$SECONDS
  cpu_start=$cpu
}

stage "build (RelWithDebInfo, line tables only)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSUPD_BUILD_TESTS=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null
cmake --build build -j"$jobs"

stage "tests, with clang-tidy (lib/, daemon/) beside them"
tests/clang-tidy.sh build >build/clang-tidy.out 2>&1 &
tidy=$!
tests_ok=0
ctest --test-dir build --output-on-failure -j2 --timeout 180 || tests_ok=$?
tidy_ok=0
wait "$tidy" || tidy_ok=$?
cat build/clang-tidy.out
[ "$tests_ok" -eq 0 ] && [ "$tidy_ok" -eq 0 ] || exit 1

stage "Debian package (dpkg-buildpackage, contents, lintian) and the container files"
tests/package/check-package.sh
# Lints the Containerfile and the examples; builds the image only where podman or docker runs
# (it says "skipped: ..." otherwise, in about 2 s).
tests/package/check-container.sh

stage "build (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSUPD_SANITIZE=ON -DSUPD_BUILD_TESTS=ON \
  -DCMAKE_CXX_FLAGS_DEBUG="-g1" >/dev/null
cmake --build build-asan -j"$jobs"
stage "unit tests under ASan + UBSan (one process)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
build-asan/tests/supd_unit_tests --gtest_brief=1
stage "integration tests under ASan + UBSan, without the load tests (ctest -L integration -LE load)"
ctest --test-dir build-asan --output-on-failure -j2 --timeout 300 -L integration -LE load
unset ASAN_OPTIONS UBSAN_OPTIONS

stage "log writer tests under ThreadSanitizer (only lib/log and lib/base, tests/lib/log)"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSUPD_TSAN=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null
cmake --build build-tsan -j"$jobs"
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ctest --test-dir build-tsan --output-on-failure -j2 --timeout 300

stage "fuzz targets (clang): corpus regression and a short run each"
tests/fuzz/run-fuzz.sh
stage "done"
