// web: the demo's socket-held, Type=notify Go service — the headline. supd (or systemd) holds
// its listening socket (web.socket) and passes it in (LISTEN_FDS); the service says READY=1
// when it serves, and on SIGTERM finishes in-flight requests and exits 0. Because the socket
// stays open in supd, `supctl restart web` under load starts the new instance on the same
// socket, waits for its READY=1, then stops the old one: no request is refused or lost.
//
// The same binary runs unchanged under systemd (go-systemd's activation and daemon packages,
// from Debian's golang-github-coreos-go-systemd-dev, GOPATH mode).
package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/activation"
	"github.com/coreos/go-systemd/daemon"
)

func main() {
	log.SetFlags(0) // supd stamps each line
	listeners, err := activation.Listeners()
	if err != nil || len(listeners) != 1 {
		log.Fatalf("want exactly one socket from supd or systemd (LISTEN_FDS): got %d, %v", len(listeners), err)
	}
	ln := listeners[0]
	started := time.Now()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "web: pid %d, up %s\n", os.Getpid(), time.Since(started).Round(time.Millisecond))
	})
	srv := &http.Server{Handler: mux}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan struct{})
	go func() {
		sig := <-stop
		log.Printf("%v: draining in-flight requests", sig)
		daemon.SdNotify(false, daemon.SdNotifyStopping)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		close(done)
	}()

	// A Go service warms up (caches, connections) before it is ready; READY=1 says when.
	time.Sleep(200 * time.Millisecond)
	sent, err := daemon.SdNotify(false, daemon.SdNotifyReady)
	log.Printf("serving on %s (pid %d); READY=1 sent=%v err=%v", ln.Addr(), os.Getpid(), sent, err)
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		log.Fatalf("serve: %v", err)
	}
	<-done
	log.Printf("drained; bye")
}
