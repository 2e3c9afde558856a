// hello: the demo's Go HTTP service. It serves on the address in $HELLO_ADDR, logs each
// request, and on SIGTERM stops accepting, finishes in-flight requests and exits 0 — what a
// well-behaved Go service under supd (or systemd) does.
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
)

func main() {
	addr := os.Getenv("HELLO_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	started := time.Now()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		log.Printf("%s %s from %s", r.Method, r.URL.Path, r.RemoteAddr)
		fmt.Fprintf(w, "hello from pid %d, up %s\n", os.Getpid(), time.Since(started).Round(time.Second))
	})
	// What supd's readiness and liveness probes ask (see the unit's [X-Supd] section). The
	// file /tmp/hello-unhealthy makes it answer 503, to watch a probe fail in `supctl status`.
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if _, err := os.Stat("/tmp/hello-unhealthy"); err == nil {
			http.Error(w, "unhealthy: /tmp/hello-unhealthy exists", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/crash", func(w http.ResponseWriter, r *http.Request) {
		log.Printf("crash requested: exiting with status 1")
		os.Exit(1)
	})
	srv := &http.Server{Addr: addr, Handler: mux}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		sig := <-stop
		log.Printf("%v received: draining", sig)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()

	log.Printf("listening on http://%s", addr)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatalf("serve: %v", err)
	}
	log.Printf("drained; bye")
}
