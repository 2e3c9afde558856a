// Command httpserver is a minimal Go HTTP service for supd's integration tests.
//
// It serves GET / with "hello from <pid>", and on SIGTERM or SIGINT drains with
// http.Server.Shutdown before exiting 0, printing what it does on stdout so tests
// can follow it in the service's log file: "<SIG> received, draining" for the first
// signal, "<SIG> received while draining" for any later one, then "drained".
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", os.Getenv("HTTP_ADDR"), "listen address, e.g. 127.0.0.1:8080 (default $HTTP_ADDR)")
	startupDelay := flag.Duration("startup-delay", 0, "sleep this long before listening")
	drainTimeout := flag.Duration("drain-timeout", 5*time.Second, "http.Server.Shutdown timeout")
	ignoreTerm := flag.Bool("ignore-term", false, "ignore SIGTERM (drain on SIGINT only)")
	flag.Parse()
	if *addr == "" {
		fmt.Fprintln(os.Stderr, "httpserver: -addr or HTTP_ADDR is required")
		os.Exit(64)
	}

	sigs := make(chan os.Signal, 4)
	if *ignoreTerm {
		signal.Ignore(syscall.SIGTERM)
		signal.Notify(sigs, syscall.SIGINT)
	} else {
		signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	}

	if *startupDelay > 0 {
		time.Sleep(*startupDelay)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "httpserver: listen: %v\n", err)
		os.Exit(1)
	}
	pid := os.Getpid()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %d\n", pid)
	})}
	fmt.Printf("listening on %s\n", ln.Addr())

	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()

	select {
	case sig := <-sigs:
		fmt.Printf("%s received, draining\n", sigName(sig))
		// Later signals are reported too, so tests can tell which came first.
		go func() {
			for sig := range sigs {
				fmt.Printf("%s received while draining\n", sigName(sig))
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), *drainTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			fmt.Printf("drain: %v\n", err)
			os.Exit(1)
		}
		fmt.Println("drained")
		os.Exit(0)
	case err := <-done:
		fmt.Fprintf(os.Stderr, "httpserver: serve: %v\n", err)
		os.Exit(1)
	}
}

func sigName(sig os.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	}
	return sig.String()
}
