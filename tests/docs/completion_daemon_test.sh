#!/bin/bash
# The bash completion of supctl against a real supd: the unit names it offers are those of the
# daemon the command line's --socket names. supd runs on temporary directories with two units
# that are loaded, not started (nothing enables them), and is stopped with SIGTERM at the end.
# Usage: completion_daemon_test.sh SUPD SUPCTL packaging/completion/supctl
set -u
supd=$1 supctl=$2 completion=$3
tmp=$(mktemp -d)
pid=""
cleanup() {
    if [[ -n $pid ]]; then
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/units" "$tmp/bin"
printf '[Service]\nExecStart=/bin/sleep 1000\n' >"$tmp/units/docs-alpha.service"
printf '[Service]\nExecStart=/bin/sleep 1000\n' >"$tmp/units/docs-beta.service"
chmod 0644 "$tmp/units"/*.service
socket=$tmp/run/supd.sock
"$supd" --units "$tmp/units" --control-socket "$socket" --log-dir "$tmp/log" \
    --state-dir "$tmp/state" --log-level warn 2>"$tmp/supd.err" &
pid=$!

# Ready when it answers (requests wait until the units are loaded), within 10 s.
for _ in $(seq 100); do
    "$supctl" --socket "$socket" version >/dev/null 2>&1 && break
    sleep 0.1
done
if ! "$supctl" --socket "$socket" version >/dev/null 2>&1; then
    echo "FAIL: supd did not answer on $socket within 10 s; its log:"
    cat "$tmp/supd.err"
    exit 1
fi

# The completion calls `supctl` by the name on the command line: the one under test.
ln -s "$(realpath "$supctl")" "$tmp/bin/supctl"
export PATH="$tmp/bin:$PATH"
# shellcheck source=/dev/null
source "$completion"
COMP_WORDS=(supctl --socket "$socket" start docs-)
COMP_CWORD=4
_supctl
got=$(printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort | tr '\n' ' ')
if [[ $got != "docs-alpha.service docs-beta.service " ]]; then
    echo "FAIL: completing 'supctl --socket $socket start docs-' gave '$got'," \
        "expected 'docs-alpha.service docs-beta.service'"
    exit 1
fi
echo "completion against a real supd: ok ($got)"
