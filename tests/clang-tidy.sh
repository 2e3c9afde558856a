#!/bin/bash
# clang-tidy (the checks in .clang-tidy) over lib/ and daemon/, with the compile commands of a
# build directory (default: build). Fails on any finding. Two files at a time, as CI has 2 cores.
#   tests/clang-tidy.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
# gcc's flags that clang does not know are not findings.
run-clang-tidy-14 -p "$build" -quiet -j"${SUPD_TIDY_JOBS:-2}" \
  -extra-arg=-Wno-unknown-warning-option "$PWD/(lib|daemon)/.*\.cc$" \
  > "$build/clang-tidy.log" 2>&1 || true
# run-clang-tidy exits 0 even with findings in some versions: look at the output.
if grep -E "(warning|error): " "$build/clang-tidy.log" | grep -v "^Error while processing" | grep -q .; then
  grep -E -A3 "(warning|error): " "$build/clang-tidy.log" | head -200
  echo "clang-tidy: findings above (full log: $build/clang-tidy.log)"
  exit 1
fi
echo "clang-tidy: no findings in $(grep -c '^clang-tidy' "$build/clang-tidy.log") files"
