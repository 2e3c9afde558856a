#!/bin/sh
# Installs what building, testing and running supd needs on Debian 12, with apt-get.
# Idempotent: installs only what is missing, and says nothing when all is there.
#   packaging/install-deps.sh            what the build and the demo need
#   packaging/install-deps.sh --tests    and what only the tests need
set -eu

PKGS="cmake g++ make pkg-config
libboost1.81-dev nlohmann-json3-dev libspdlog-dev libsystemd-dev libcli11-dev
libgtest-dev libgmock-dev
clang clang-tidy libclang-rt-14-dev
golang-go golang-github-coreos-go-systemd-dev
util-linux procps psmisc curl python3 hey
scdoc"
# scdoc: the build makes the man pages (packaging/man/*.scd) with it.
# prometheus: promtool checks the exposition, and the integration tests scrape supd with a real
# Prometheus server (run by the tests on loopback). On a host with systemd the package also
# enables its own server on :9090, which is why the demo does not install it.
# groff-base: the test that the man pages render without warnings (man-db pulls it in, but a
# minimal image may have neither).
# tests/package/check-package.sh builds the Debian package with dpkg-buildpackage (dpkg-dev,
# debhelper, fakeroot, and build-essential, which dpkg-checkbuilddeps requires), and runs
# lintian on it; tests/package/check-container.sh parses packaging/examples/kubernetes.yaml
# (python3-yaml). tmux: the integration test of `supctl top` runs it on a pseudo-terminal of a
# set size, sends it keys and reads the screen.
if [ "${1:-}" = "--tests" ]; then
  PKGS="$PKGS prometheus groff-base build-essential debhelper dpkg-dev fakeroot lintian
python3-yaml tmux"
fi

missing=""
for p in $PKGS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "install-deps: installing:$missing"
$SUDO apt-get update -qq
# shellcheck disable=SC2086  # word splitting of the package list is intended
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
