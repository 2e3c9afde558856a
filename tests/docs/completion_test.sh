#!/bin/bash
# The bash completion of supctl (packaging/completion/supctl): sourced in bash, asked as bash asks
# it (COMP_WORDS, COMP_CWORD, then _supctl), its COMPREPLY checked. Unit names come from a fake
# supctl on PATH that prints a fixed `list --json` answer and records how it was called.
# Usage: completion_test.sh packaging/completion/supctl
set -u
export LC_ALL=C  # sort's order
completion=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# shellcheck source=/dev/null
source "$completion"

# complete WORD... : the sorted, space-separated COMPREPLY for the line whose last word is being
# completed (an empty last word: after a space).
complete_line() {
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    _supctl
    printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//'
}

# expect DESCRIPTION EXPECTED WORD...: COMPREPLY is exactly EXPECTED (sorted, space-separated).
expect() {
    local what=$1 want=$2
    shift 2
    local got
    got=$(complete_line "$@")
    if [[ $got != "$want" ]]; then
        echo "FAIL: $what: completing '$*' gave '$got', expected '$want'"
        failures=$((failures + 1))
    fi
}

# expect_has DESCRIPTION WORD-THAT-MUST-BE-OFFERED WORD...
expect_has() {
    local what=$1 want=$2
    shift 2
    local got
    got=" $(complete_line "$@") "
    if [[ $got != *" $want "* ]]; then
        echo "FAIL: $what: completing '$*' gave '$got', without '$want'"
        failures=$((failures + 1))
    fi
}

globals="--help --no-block --no-color --no-pager --socket --timeout"
expect "commands by prefix" "start status stop" supctl st
expect "commands by prefix" "is-active is-enabled is-failed is-system-running" supctl is-
expect "the value of --socket is not the command" "daemon-reexec daemon-reload" supctl --socket /x dae
expect "restart's options and the global ones" "--hard $globals" supctl restart --
expect "logs' options and the global ones" \
    "--follow --help --json --lines --no-block --no-color --no-pager --output --since --socket --stream --timeout" \
    supctl logs --
expect "logs' short and long options" \
    "--follow --help --json --lines --no-block --no-color --no-pager --output --since --socket --stream --timeout -f -n -o" \
    supctl logs -
expect "logs' options" "--follow" supctl logs --f
expect "is-system-running's options" "--quiet" supctl is-system-running --q
expect "is-system-running's options" "--wait" supctl is-system-running --w
expect "global options before the command" "$globals" supctl --
expect "--stream's values" "err out" supctl logs --stream ""
expect "--kill-whom's values" "all main" supctl kill --kill-whom ""
expect "logs -o's modes" "short short-iso short-precise" supctl logs -o sh
expect "top --sort's keys" "cpu memory name restarts" supctl top --sort ""
expect "show -p's properties" "MainPID MemoryCurrent" supctl show web -p M
expect "list-units' options" "--all" supctl list-units --a
expect_has "signals after kill -s" SIGTERM supctl kill -s ""
expect_has "signals after kill -s" SIGKILL supctl kill -s ""
expect "signals by prefix after kill --signal" "SIGHUP" supctl kill --signal SIGHU

# Files for check.
mkdir -p "$tmp/units" && touch "$tmp/units/web.service" "$tmp/units/web.socket"
expect "files for check" "$tmp/units/web.service $tmp/units/web.socket" \
    supctl check "$tmp/units/web."

# Unit names from a fake supctl: the status objects as `list --json` prints them (a socket's fd
# name, nested deeper, is not a unit).
mkdir -p "$tmp/bin"
cat >"$tmp/bin/supctl" <<'FAKE'
#!/bin/sh
echo "$@" >"$FAKE_LOG"
echo "SUPD_SOCKET=${SUPD_SOCKET:-}" >>"$FAKE_LOG"
case "$FAKE_MODE" in
  down) echo "supctl: supd is not reachable: connect /run/supd/supd.sock: No such file or directory" >&2; exit 3 ;;
  slow) exec sleep 5 ;;
esac
cat <<'JSON'
[
  {
    "name": "web.service",
    "state": "running"
  },
  {
    "name": "worker@3.service",
    "state": "stopped"
  },
  {
    "listening": [
      {
        "listen": "127.0.0.1:8080",
        "name": "web-http"
      }
    ],
    "name": "web.socket",
    "unit_type": "socket"
  }
]
JSON
FAKE
chmod +x "$tmp/bin/supctl"
export PATH="$tmp/bin:$PATH" FAKE_LOG="$tmp/fake.log" FAKE_MODE=ok

expect "unit names for start" "web.service web.socket worker@3.service" supctl start ""
expect "unit names by prefix" "web.service web.socket" supctl status we
expect "unit names after options" "worker@3.service" supctl --no-block restart --hard wo
if [[ $(head -1 "$FAKE_LOG") != "list --json" ]]; then
    echo "FAIL: the fake supctl was called as '$(head -1 "$FAKE_LOG")', expected 'list --json'"
    failures=$((failures + 1))
fi
expect "unit names from the socket on the line" "web.service" supctl --socket /s/supd.sock stop web.se
if [[ $(head -1 "$FAKE_LOG") != "--socket /s/supd.sock list --json" ]]; then
    echo "FAIL: --socket on the line not passed on: the fake got '$(head -1 "$FAKE_LOG")'"
    failures=$((failures + 1))
fi
expect "unit names from --socket=PATH" "web.service" supctl --socket=/t/supd.sock stop web.se
if [[ $(head -1 "$FAKE_LOG") != "--socket /t/supd.sock list --json" ]]; then
    echo "FAIL: --socket=PATH not passed on: the fake got '$(head -1 "$FAKE_LOG")'"
    failures=$((failures + 1))
fi
SUPD_SOCKET=/e/supd.sock expect "unit names with SUPD_SOCKET" "web.service" supctl cat web.se
if [[ $(sed -n 2p "$FAKE_LOG") != "SUPD_SOCKET=/e/supd.sock" ]]; then
    echo "FAIL: SUPD_SOCKET did not reach supctl: the fake saw '$(sed -n 2p "$FAKE_LOG")'"
    failures=$((failures + 1))
fi
expect "no unit names for commands without units" "" supctl daemon-reload ""

# supd down: nothing offered, nothing printed.
FAKE_MODE=down
out=$( { complete_line supctl start w; } 2>&1)
if [[ -n $out ]]; then
    echo "FAIL: with supd down, completing printed '$out' (expected nothing, no unit names)"
    failures=$((failures + 1))
fi
# supd not answering: given up after the limit, nothing offered.
FAKE_MODE=slow
start=$(date +%s%N)
out=$( { complete_line supctl start w; } 2>&1)
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
if [[ -n $out || $elapsed_ms -gt 2500 ]]; then
    echo "FAIL: with supd not answering, completing took ${elapsed_ms} ms and printed '$out'"
    failures=$((failures + 1))
fi

if ((failures > 0)); then
    echo "$failures completion check(s) failed"
    exit 1
fi
echo "completion: all checks passed"
