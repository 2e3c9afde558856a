#!/bin/sh
# The man pages build with scdoc without a message, and groff renders them as man(1) does
# (preconv, the man macros, UTF-8) with every warning enabled (-ww) and none emitted.
# Usage: render_pages_test.sh packaging/man
set -u
man_dir=$1
for tool in scdoc groff; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "FAIL: $tool not found: install it with packaging/install-deps.sh (--tests for groff)"
    exit 1
  fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
for src in "$man_dir"/*.scd; do
  page=$(basename "$src" .scd)
  if ! scdoc <"$src" >"$tmp/$page" 2>"$tmp/scdoc.err" || [ -s "$tmp/scdoc.err" ]; then
    echo "FAIL: scdoc $src: $(cat "$tmp/scdoc.err")"
    failures=$((failures + 1))
    continue
  fi
  groff -k -man -Tutf8 -ww -z "$tmp/$page" 2>"$tmp/groff.err"
  if [ -s "$tmp/groff.err" ]; then
    echo "FAIL: groff warns about $page (from $src):"
    cat "$tmp/groff.err"
    failures=$((failures + 1))
    continue
  fi
  # A page that renders to almost nothing is not a page (an empty .scd would pass the above).
  lines=$(groff -k -man -Tutf8 "$tmp/$page" 2>/dev/null | grep -c .)
  if [ "$lines" -lt 20 ]; then
    echo "FAIL: $page renders to $lines lines"
    failures=$((failures + 1))
    continue
  fi
  echo "$page: ok ($lines lines)"
done
[ "$failures" -eq 0 ] || exit 1
