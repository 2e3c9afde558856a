// activated: an HTTP server on the sockets supd (or systemd) passes it, through Debian's
// coreos/go-systemd activation package: exactly what a Go service written for systemd does.
//
// GET / answers "hello from <pid>"; on SIGTERM it stops accepting, finishes in-flight requests
// and exits 0. -fds PATH writes what it was given: LISTEN_FDNAMES and its open fds.
// -ready-when PATH holds the start-up (before serving and before READY=1) until PATH exists, so
// that a test can keep a start or an overlap restart in progress for as long as it needs.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/activation"
	"github.com/coreos/go-systemd/daemon"
)

func main() {
	fdsOut := flag.String("fds", "", "write LISTEN_* and /proc/self/fd here")
	startup := flag.Duration("startup-delay", 0, "sleep this long before serving")
	readyWhen := flag.String("ready-when", "", "before serving and READY=1, wait until this file exists")
	flag.Parse()

	if *fdsOut != "" {
		var fds []string
		entries, _ := os.ReadDir("/proc/self/fd")
		for _, e := range entries {
			fds = append(fds, e.Name())
		}
		sort.Strings(fds)
		text := fmt.Sprintf("LISTEN_FDS=%s\nLISTEN_PID=%s\nLISTEN_FDNAMES=%s\nPID=%d\nFDS=%s\n",
			os.Getenv("LISTEN_FDS"), os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDNAMES"),
			os.Getpid(), strings.Join(fds, ","))
		os.WriteFile(*fdsOut, []byte(text), 0644)
	}
	time.Sleep(*startup)
	if *readyWhen != "" {
		if _, err := os.Stat(*readyWhen); err != nil {
			// Tests wait for this line: from here on this instance provably is not ready.
			log.Printf("pid %d waiting for %s before serving", os.Getpid(), *readyWhen)
			for {
				if _, err := os.Stat(*readyWhen); err == nil {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			log.Printf("pid %d: %s is there, serving", os.Getpid(), *readyWhen)
		}
	}

	named, err := activation.ListenersWithNames()
	if err != nil {
		log.Fatalf("activation: %v", err)
	}
	if len(named) == 0 {
		log.Fatalf("no sockets passed (LISTEN_FDS=%q)", os.Getenv("LISTEN_FDS"))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %d\n", os.Getpid())
	})
	srv := &http.Server{Handler: mux}
	for name, ls := range named {
		for _, l := range ls {
			log.Printf("serving %s on %s", name, l.Addr())
			go srv.Serve(l)
		}
	}
	daemon.SdNotify(false, daemon.SdNotifyReady)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	sig := <-stop
	log.Printf("%v received, draining", sig)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	log.Printf("drained")
}
