#!/bin/bash
# Builds the Debian package from this checkout (packaging/build-deb.sh, in a temporary
# directory) and checks it without installing it into this system:
# - its file list (dpkg-deb -c): supd, supctl, the systemd unit, the init script, the empty
#   /etc/supd/units/, and the man pages and bash completion once packaging/man exists;
# - its maintainer scripts: the group is created, and an upgrade neither stops nor restarts supd;
# - lintian on the .changes (which covers the .deb): every tag is printed, an E: fails;
# - the binaries run: extracted with dpkg-deb -x, `supd --version` and `supctl --help`.
# KEEP=1 keeps the temporary directory (the build log, the .deb) and prints where it is.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
tmp=$(mktemp -d /tmp/supd-package.XXXXXX)
cleanup() {
  if [ "${KEEP:-}" = 1 ]; then echo "check-package: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

echo "check-package: building with dpkg-buildpackage -b -j$(nproc) in $tmp"
build_start=$SECONDS
# What this checks is the packaging, not the code generation: line tables only (-g1 after
# Debian's -g, as the release build of tests/run-tests.sh) and no -dbgsym package, which take
# a third of the compile time and a strip pass. Everything else is the package as built without
# these variables (flags, hardening, maintainer scripts, files).
export DEB_CXXFLAGS_APPEND="-g1 ${DEB_CXXFLAGS_APPEND:-}"
export DEB_BUILD_OPTIONS="noddebs ${DEB_BUILD_OPTIONS:-}"
if ! packaging/build-deb.sh "$tmp" >"$tmp/build.log" 2>&1; then
  tail -n 60 "$tmp/build.log"
  echo "FAIL: dpkg-buildpackage failed (the end of its log is above)"
  exit 1
fi
# CPU seconds (user + system) of the build's processes, as well as the wall time: on a shared
# machine the wall time says more about the other load than about the build.
# `times` must run in this shell, not in a $(...) subshell, which has no children of its own.
times >"$tmp/times"
cpu=$(tail -1 "$tmp/times" | awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/);
                                  printf "%d", u[1] * 60 + u[2] + s[1] * 60 + s[2] }')
echo "check-package: package built in $((SECONDS - build_start)) s (CPU $cpu s on $(nproc) CPUs," \
     "load $(cut -d' ' -f1 /proc/loadavg))"
version=$(sed -n 's/^project(supd VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
arch=$(dpkg --print-architecture)
deb="$tmp/supd_${version}_${arch}.deb"
changes="$tmp/supd_${version}_${arch}.changes"
for f in "$deb" "$changes"; do
  [ -f "$f" ] || { echo "FAIL: dpkg-buildpackage made no $(basename "$f")"; ls "$tmp"; exit 1; }
done

# --- contents ------------------------------------------------------------------------------
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$tmp/contents"
expect=(/usr/sbin/supd /usr/bin/supctl /etc/init.d/supd /etc/supd/units/ /etc/default/supd
        /etc/logrotate.d/supd /usr/share/doc/supd/README.Debian)
# debhelper 13 on Debian 12 installs units under /lib/systemd/system; later ones under /usr/lib.
if grep -qx '/usr/lib/systemd/system/supd.service' "$tmp/contents"; then
  expect+=(/usr/lib/systemd/system/supd.service)
else
  expect+=(/lib/systemd/system/supd.service)
fi
if [ -f packaging/man/CMakeLists.txt ]; then
  expect+=(/usr/share/man/man8/supd.8.gz /usr/share/man/man1/supctl.1.gz
           /usr/share/man/man5/supd.unit.5.gz /usr/share/bash-completion/completions/supctl)
else
  echo "check-package: packaging/man does not exist here: man pages and completion not expected"
fi
for path in "${expect[@]}"; do
  grep -qxF "$path" "$tmp/contents" || fail "the package lacks $path"
done
echo "check-package: the package holds $(grep -c '[^/]$' "$tmp/contents") files:"
grep '[^/]$' "$tmp/contents" | sed 's/^/  /'

# --- maintainer scripts ----------------------------------------------------------------------
dpkg-deb -e "$deb" "$tmp/control"
# The group before debhelper's part starts supd, which looks the group up when it starts.
group_line=$(grep -n 'addgroup --system --quiet supd' "$tmp/control/postinst" | cut -d: -f1)
start_line=$(grep -n -E 'invoke-rc.d .* start|deb-systemd-invoke start' "$tmp/control/postinst" |
             head -n 1 | cut -d: -f1)
if [ -z "$group_line" ]; then
  fail "postinst does not create the group supd"
elif [ -z "$start_line" ] || [ "$group_line" -gt "$start_line" ]; then
  fail "postinst starts supd (line ${start_line:-none}) before creating the group (line $group_line)"
fi
for script in postinst prerm postrm preinst; do
  [ -f "$tmp/control/$script" ] || continue
  sh -n "$tmp/control/$script" || fail "$script: sh -n fails"
done
# debhelper's snippets for an upgrade that neither stops nor restarts: prerm stops only on
# "remove", and postinst has no restart (a restart would stop every supervised service).
if grep -n 'restart' "$tmp/control/postinst"; then
  fail "postinst restarts supd on upgrade (the lines above)"
fi
# An upgrade re-executes a running supd (daemon-reexec) after debhelper's part, and a failure of
# it does not fail the upgrade.
debhelper_end=$(grep -n 'End automatically added section' "$tmp/control/postinst" | tail -n 1 |
                cut -d: -f1)
reexec_line=$(grep -n -E '^[[:space:]]*supctl .*daemon-reexec[[:space:]]*\|\|' \
              "$tmp/control/postinst" | head -n 1 | cut -d: -f1)
if [ -z "$reexec_line" ]; then
  fail "postinst does not call supctl daemon-reexec (with || for its failure) on upgrade"
elif [ -n "$debhelper_end" ] && [ "$reexec_line" -lt "$debhelper_end" ]; then
  fail "postinst calls daemon-reexec (line $reexec_line) before debhelper's part (line $debhelper_end)"
fi
# Each stop must be inside an `if` whose condition is `"$1" = remove` (debhelper's snippets
# are one `if` each).
awk '/^[[:space:]]*if / { cond = $0 }
     / stop/ && cond !~ /"\$1" = "?remove"?/ { bad = 1; print FILENAME ":" FNR ": " $0 }
     END { exit bad }' "$tmp/control/prerm" || fail "prerm stops supd on upgrade (the lines above)"

# --- lintian -----------------------------------------------------------------------------
echo "check-package: lintian (every tag; E: fails)"
lintian --display-info --pedantic "$changes" >"$tmp/lintian.out" 2>&1 || true
sed 's/^/  /' "$tmp/lintian.out"
if grep -q '^E: ' "$tmp/lintian.out"; then fail "lintian reports errors (E: above)"; fi

# --- the binaries run ----------------------------------------------------------------------
dpkg-deb -x "$deb" "$tmp/root"
if out=$("$tmp/root/usr/sbin/supd" --version 2>&1); then
  [ "$out" = "supd $version" ] || fail "supd --version says '$out', expected 'supd $version'"
else
  fail "usr/sbin/supd --version failed: $out"
fi
if out=$("$tmp/root/usr/bin/supctl" --help 2>&1); then
  grep -q 'status' <<<"$out" || fail "supctl --help names no verb 'status': $out"
else
  fail "usr/bin/supctl --help failed: $out"
fi
sh -n "$tmp/root/etc/init.d/supd" || fail "etc/init.d/supd: sh -n fails"
echo "check-package: libraries of the extracted supd:"
ldd "$tmp/root/usr/sbin/supd" | sed 's/^/  /'

cd "$repo"
if [ "$failures" -ne 0 ]; then
  echo "check-package: $failures check(s) failed"
  exit 1
fi
echo "check-package: ok (supd_${version}_${arch}.deb; all checks $((SECONDS - build_start)) s)"
