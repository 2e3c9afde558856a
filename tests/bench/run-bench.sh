#!/bin/bash
# Builds supd (release) and runs the benchmark. Figures in README.md come from this.
set -euo pipefail
cd "$(dirname "$0")/../.."
packaging/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSUPD_BUILD_TESTS=ON >/dev/null
cmake --build build -j"$(nproc)" --target supd supctl supd_go_programs bench_floor
exec python3 tests/bench/bench.py --build build "$@"
