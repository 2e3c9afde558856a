#!/bin/bash
# Builds the Debian package supd_VERSION_ARCH.deb from this checkout, outside it:
#   packaging/build-deb.sh OUTDIR
# copies the files git tracks (as they are in the working tree) to OUTDIR/supd-VERSION, puts
# packaging/debian there as debian/, and runs `dpkg-buildpackage -us -uc -b` in it: the .deb,
# .changes and .buildinfo land in OUTDIR. The checkout itself gets no build files. Needs
# debhelper and the build dependencies (packaging/install-deps.sh --tests installs them).
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
mkdir -p "$1"
out=$(cd "$1" && pwd)
version=$(sed -n 's/^project(supd VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
changelog_version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
if [ "$version" != "$changelog_version" ]; then
  echo "build-deb: CMakeLists.txt says version $version, packaging/debian/changelog" \
       "$changelog_version: add a changelog entry" >&2
  exit 1
fi

src="$out/supd-$version"
rm -rf "$src"
mkdir -p "$src"
# The tracked files as they are now (a file deleted but not yet committed is left out), not
# `git archive HEAD`, so that uncommitted changes are what gets built.
git ls-files -z | while IFS= read -r -d '' f; do
  if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
done | tar --null -T - -cf - | tar -xf - -C "$src"
cp -r "$src/packaging/debian" "$src/debian"

cd "$src"
# nocheck: no test suite inside the package build (rules configures with SUPD_BUILD_TESTS=OFF).
DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -us -uc -b -j"$(nproc)"
