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
for prog in hello web; do
  (cd "config/demo/$prog" && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$demo/../go-cache" \
    go build -o "$demo/bin/$prog" .)
done
for unit in config/demo/units/*.service config/demo/units/*.socket; do
  sed "s|@DEMO_BIN@|$demo/bin|g" "$unit" > "$demo/units/$(basename "$unit")"
done

# Enabled as `supctl enable` (or systemctl enable) would: hello and web start with supd.
mkdir -p "$demo/units/multi-user.target.wants" "$demo/units/sockets.target.wants"
ln -sfn ../hello.service "$demo/units/multi-user.target.wants/hello.service"
ln -sfn ../web.service "$demo/units/multi-user.target.wants/web.service"
ln -sfn ../web.socket "$demo/units/sockets.target.wants/web.socket"

export SUPD_SOCKET="$demo/supd.sock"
cat <<MSG
supd demo: units in $demo/units, logs in $demo/log. In another terminal:
  export SUPD_SOCKET=$SUPD_SOCKET
  build/supctl top                     # live table of every unit (q quits; c/m/r/n sort)

The headline, a restart under full load that fails no request (web: Type=notify Go service
on a socket supd holds):
  hey -z 10s -c 32 http://127.0.0.1:8081/ > /tmp/hey.txt &   # 10 s of load, 32 at a time
  sleep 3; build/supctl restart web    # new instance beside the old; old drains after READY=1
  wait; grep -E '^ +\[|Error' /tmp/hey.txt   # only "[200] N responses": 0 failed

More:
  build/supctl list-units              # systemctl's table; also show web, is-active web
  curl http://127.0.0.1:8080/crash     # hello crashes; supd restarts it at once
  build/supctl status hello            # its probes; touch /tmp/hello-unhealthy: not ready,
                                       # then restarted by the liveness probe (rm it after)
  build/supctl start tick@fast && build/supctl logs tick@fast -o short
  curl -s http://127.0.0.1:9464/metrics | grep restarts   # Prometheus metrics
  build/supctl events                  # live events (Ctrl-C ends it); crash hello meanwhile
  build/supctl stop hello              # SIGTERM: it drains and exits 0
Ctrl-C here stops everything.
MSG
exec build/supd --units "$demo/units" --control-socket "$SUPD_SOCKET" \
  --log-dir "$demo/log" --state-dir "$demo/state" --metrics-listen 127.0.0.1:9464
