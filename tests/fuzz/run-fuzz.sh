#!/bin/bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each one.
#
#   tests/fuzz/run-fuzz.sh             CI: every corpus file once (regression), then a short
#                                      fuzzing smoke run per target (SUPD_FUZZ_SMOKE s, 10 s default)
#   tests/fuzz/run-fuzz.sh --long 600  10 minutes per target, one after the other; inputs that
#                                      find new coverage are added to tests/fuzz/corpus/<target>/
#                                      (review and commit them), crashes go to build-fuzz/findings/
#   SUPD_FUZZ_TARGETS="http_probe" ...  only the targets named (space-separated)
#
# A crash prints the reproducer's path; run the target on that file to reproduce it, fix the bug,
# and add the file to the target's corpus so that CI keeps checking it.
set -euo pipefail
cd "$(dirname "$0")/../.."

long=0
if [ "${1:-}" = "--long" ]; then
  long=${2:-600}
fi
smoke=${SUPD_FUZZ_SMOKE:-10}
build=${SUPD_FUZZ_BUILD:-build-fuzz}

echo "== build fuzz targets (clang, $build)"
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSUPD_FUZZ=ON \
  -DSUPD_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target supd_fuzz -j"$(nproc)"

findings="$build/findings"
mkdir -p "$findings"
# Longest input per target: a unit line or file, a units directory (several files, framed as
# tests/fuzz/units_dir_fuzz.cc says), a control request line, a notify datagram (NotifyServer
# drops anything over 4096 bytes), a value, an HTTP response (16 KiB of headers at most, then
# up to 2 KiB of body read for a failure's excerpt: a little more than both), a daemon-reexec
# state (a few services' worth: a real one has no other shapes, only more of them).
declare -A max_len=([unit_file]=16384 [units_dir]=32768 [control_request]=8192
                    [notify_message]=4096 [values]=512 [http_probe]=20000 [saved_state]=16384)
targets=(unit_file units_dir control_request notify_message values http_probe saved_state)
if [ -n "${SUPD_FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$SUPD_FUZZ_TARGETS"
fi
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/${t}_fuzz"
  corpus="tests/fuzz/corpus/$t"
  opts=(-max_len="${max_len[$t]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0
        -artifact_prefix="$findings/$t-")
  if [ "$long" -gt 0 ]; then
    echo "== fuzz $t for $long s (new inputs go to $corpus)"
    "$bin" "${opts[@]}" -max_total_time="$long" "$corpus"
    continue
  fi
  echo "== fuzz $t: regression over $(find "$corpus" -type f | wc -l) corpus files"
  "$bin" "${opts[@]}" -runs=0 "$corpus" 2>"$findings/$t.log" ||
    { tail -50 "$findings/$t.log"; exit 1; }
  echo "== fuzz $t: $smoke s smoke run"
  scratch=$(mktemp -d)
  "$bin" "${opts[@]}" -max_total_time="$smoke" "$scratch" "$corpus" 2>"$findings/$t.log" ||
    { tail -50 "$findings/$t.log"; rm -rf "$scratch"; exit 1; }
  grep -E "^(Done|#[0-9]+ +DONE)" "$findings/$t.log" | tail -1 || true
  rm -rf "$scratch"
done
