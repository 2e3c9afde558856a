#!/bin/bash
# Checks packaging/container/Containerfile. Without a container engine, what can be checked
# from the files alone (always run):
# - every COPY source of the build context exists in the repository and is not excluded by
#   .dockerignore (an allowlist: `*`, then `!path` for what the build needs);
# - the exec forms (ENTRYPOINT, CMD, HEALTHCHECK) are JSON arrays, and the prog they run
#   are installed into /out by the build stage;
# - the demo unit still has what the build stage's sed rewrites (@DEMO_BIN@, the listen address),
#   and EXPOSE names its port and the metrics port of CMD;
# - packaging/examples/kubernetes.yaml parses (python3-yaml) and its grace period is longer than
#   supd's --stop-timeout; nomad.hcl (no HCL parser here) has the matching kill_timeout.
# With podman or docker (`podman info` / `docker info` succeed): builds the image, runs it, waits
# until `supctl is-system-running` says running, and stops it: the container must exit 0 within
# the 30 s a `docker stop -t 30` allows. Otherwise that part prints "skipped: ..." and the
# script still exits 0.
set -euo pipefail
cd "$(dirname "$0")/../.."
file=packaging/container/Containerfile
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# --- from the files ------------------------------------------------------------------------
# Instructions with their continuation lines joined, comments dropped.
instructions=$(sed -e '/^[[:space:]]*#/d' "$file" | sed -e ':a' -e '/\\$/{N;s/\\\n/ /;ba}')
allowed=$(sed -n 's/^!//p' .dockerignore)
grep -qx '\*' .dockerignore || fail ".dockerignore does not start from '*' (an allowlist)"
while read -r -a words; do
  [ "${words[0]:-}" = COPY ] || continue
  args=("${words[@]:1}")
  [[ "${args[0]}" == --from=* ]] && continue
  while [[ "${args[0]}" == --* ]]; do args=("${args[@]:1}"); done
  unset 'args[${#args[@]}-1]'   # the destination
  for src in "${args[@]}"; do
    [ -e "$src" ] || fail "COPY source $src does not exist in the repository"
    ok=0
    for a in $allowed; do
      if [ "$src" = "$a" ] || [[ "$src" == "$a"/* ]]; then ok=1; fi
    done
    [ "$ok" = 1 ] || fail "COPY source $src is excluded from the build context by .dockerignore"
  done
done <<<"$instructions"

while read -r keyword rest; do
  case "$keyword" in
    ENTRYPOINT|CMD) json=$rest ;;
    HEALTHCHECK) json=${rest#*CMD } ;;
    *) continue ;;
  esac
  if ! prog=$(python3 -c 'import json, sys; a = json.loads(sys.argv[1]); assert isinstance(a, list); print(a[0])' "$json" 2>/dev/null); then
    fail "$keyword is not an exec-form JSON array: $json"
    continue
  fi
  if [ "$keyword" != CMD ]; then
    grep -q "/out$prog\b" "$file" || fail "$keyword runs $prog, which the build stage does not install into /out"
  fi
done <<<"$instructions"

grep -q '^FROM debian:12-slim AS build$' "$file" || fail "the build stage is not FROM debian:12-slim"
[ "$(grep -c '^FROM debian:12-slim' "$file")" = 2 ] || fail "the runtime stage is not FROM debian:12-slim"
unit=config/demo/units/hello.service
grep -q '^ExecStart=@DEMO_BIN@/hello$' "$unit" || fail "$unit: no ExecStart=@DEMO_BIN@/hello for the Containerfile's sed"
grep -q '^Environment=HELLO_ADDR=127.0.0.1:8080$' "$unit" || fail "$unit: no HELLO_ADDR=127.0.0.1:8080 for the Containerfile's sed"
metrics_port=$(sed -n 's/^CMD .*"--metrics-listen", *"[^"]*:\([0-9]*\)".*/\1/p' "$file")
expose=$(sed -n 's/^EXPOSE //p' "$file")
for port in 8080 "$metrics_port"; do
  [[ " $expose " == *" $port "* ]] || fail "EXPOSE ($expose) lacks port $port"
done
# The orchestrator examples are not run here; the Kubernetes one must at least parse, name the
# objects it promises, and give supd longer than its --stop-timeout.
if python3 -c 'import yaml' 2>/dev/null; then
  python3 - packaging/examples/kubernetes.yaml <<'PY' || fail "packaging/examples/kubernetes.yaml (above)"
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
kinds = sorted(d["kind"] for d in docs)
assert kinds == ["ConfigMap", "Deployment"], kinds
pod = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]
args = pod["containers"][0]["args"]
stop = args[args.index("--stop-timeout") + 1]
assert stop.endswith("s") and int(stop[:-1]) < pod["terminationGracePeriodSeconds"], (stop, pod)
print("check-container: kubernetes.yaml parses: %s; --stop-timeout %s < grace %d s"
      % (", ".join(kinds), stop, pod["terminationGracePeriodSeconds"]))
PY
else
  echo "check-container: python3 yaml missing: kubernetes.yaml not parsed (install python3-yaml)"
fi
if ! grep -q 'kill_timeout = "30s"' packaging/examples/nomad.hcl ||
   ! grep -q '"--stop-timeout", "25s"' packaging/examples/nomad.hcl; then
  fail "packaging/examples/nomad.hcl: kill_timeout 30s and --stop-timeout 25s do not both appear"
fi

if [ "$failures" -ne 0 ]; then
  echo "check-container: $failures check(s) of the files failed"
  exit 1
fi
echo "check-container: the Containerfile's sources, exec forms and ports, and the examples, are consistent"

# --- with an engine ------------------------------------------------------------------------
engine=""
why=""
for e in podman docker; do
  if ! command -v "$e" >/dev/null; then
    why="$why $e: not installed;"
  elif out=$("$e" info 2>&1); then
    engine=$e
    break
  else
    why="$why $e info: $(tail -n 1 <<<"$out");"
  fi
done
if [ -z "$engine" ]; then
  echo "skipped: no container engine (${why# })"
  exit 0
fi

tag="supd-check:$$"
name="supd-check-$$"
cleanup() {
  "$engine" rm -f "$name" >/dev/null 2>&1 || true
  "$engine" rmi "$tag" >/dev/null 2>&1 || true
}
trap cleanup EXIT
start=$SECONDS
"$engine" build -f "$file" -t "$tag" .
echo "check-container: image built with $engine in $((SECONDS - start)) s"
"$engine" run -d --name "$name" "$tag" >/dev/null
state=""
for _ in $(seq 1 60); do
  state=$("$engine" exec "$name" supctl is-system-running 2>&1) && break
  sleep 1
done
[ "$state" = running ] || fail "is-system-running says '$state' after 60 s"
"$engine" exec "$name" supctl status hello.service || fail "supctl status hello.service failed"
stop_start=$SECONDS
"$engine" stop -t 30 "$name" >/dev/null
code=$("$engine" inspect -f '{{.State.ExitCode}}' "$name")
echo "check-container: stopped in $((SECONDS - stop_start)) s, exit status $code"
[ "$code" = 0 ] || { "$engine" logs "$name" | tail -n 30; fail "the container exited $code after SIGTERM"; }
[ "$failures" -eq 0 ] || exit 1
echo "check-container: ok ($engine)"
