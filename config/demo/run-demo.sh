#!/bin/bash
# Installs what is missing, builds supd and the demo's Go service, and runs supd in the
# foreground on config/demo/units. Stop it with Ctrl-C (all services are stopped first).
set -euo pipefail
cd "$(dirname "$0")/../.."
packaging/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSUPD_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target supd supctl

demo="$PWD/build/demo"
mkdir -p "$demo/bin" "$demo/units"
(cd config/demo/hello && GO111MODULE=off GOCACHE="$demo/../go-cache" go build -o "$demo/bin/hello" .)
for unit in config/demo/units/*.service; do
  sed "s|@DEMO_BIN@|$demo/bin|g" "$unit" > "$demo/units/$(basename "$unit")"
done

export SUPD_SOCKET="$demo/supd.sock"
cat <<MSG
supd demo: units in $demo/units, logs in $demo/log. In another terminal:
  export SUPD_SOCKET=$SUPD_SOCKET
  build/supctl status
  curl http://127.0.0.1:8080/          # the Go service
  curl http://127.0.0.1:8080/crash     # it crashes; supd restarts it at once
  build/supctl status hello            # its probes; touch /tmp/hello-unhealthy: not ready,
                                       # then restarted by the liveness probe (rm it after)
  build/supctl start tick@fast && build/supctl status tick@fast
  curl -s http://127.0.0.1:9464/metrics | grep restarts   # Prometheus metrics
  build/supctl events                  # live events (Ctrl-C ends it); crash hello meanwhile
  build/supctl stop hello              # SIGTERM: it drains and exits 0
Ctrl-C here stops everything.
MSG
exec build/supd --units "$demo/units" --control-socket "$SUPD_SOCKET" \
  --log-dir "$demo/log" --state-dir "$demo/state" --metrics-listen 127.0.0.1:9464
