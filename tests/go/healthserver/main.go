// Command healthserver is a Go HTTP service whose health a test controls, for supd's integration
// tests of StartupProbe=, ReadinessProbe= and LivenessProbe=.
//
// It serves on the sockets passed by socket activation (LISTEN_FDS/LISTEN_PID, fds from 3, read
// by hand: standard library only) or, without them, on -addr; -health-addr adds a listener of
// its own that serves /healthz only.
//
//	GET /        "hello from <pid>\n"
//	GET /pid     "<pid>"
//	GET /healthz what -health-file says, read again on every request: missing or "pass" →
//	             200 "ok"; "fail" → 503 "failing"; "hang" → no answer until the client gives up
//	             (the request's context is done); anything else → 500 naming the content.
//	             A "{pid}" in the file's name stands for the process's pid, so that a test can
//	             set the health of each instance of a service apart.
//
// -warmup sleeps before serving anything (connections wait in the listen backlog: a slow
// starting service); -notify then sends READY=1 and MAINPID= to $NOTIFY_SOCKET with a raw
// datagram. On SIGTERM or SIGINT it drains with http.Server.Shutdown and exits 0 ("drained"), or
// 1 if the drain times out. SIGABRT is deliberately left to Go's runtime, which prints every
// goroutine's stack to stderr and exits 2: that dump is what a liveness test looks for in the
// crash excerpt.
//
// What it does goes to stdout, one line each, so tests can follow it in the service's log:
// "pid N warming up for D", "listening on ADDR (...)", "ready", "health: STATE" (when the
// answer changes), "<SIG> received, draining", "drained".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// listenFdsStart is SD_LISTEN_FDS_START: the first fd passed by socket activation.
const listenFdsStart = 3

// activationListeners returns the listeners passed by socket activation, as sd_listen_fds(3)
// decides: LISTEN_PID must name this process. The variables are unset afterwards, so that a
// child does not take the fds for its own.
func activationListeners() ([]net.Listener, error) {
	defer os.Unsetenv("LISTEN_PID")
	defer os.Unsetenv("LISTEN_FDS")
	defer os.Unsetenv("LISTEN_FDNAMES")
	pid, err := strconv.Atoi(os.Getenv("LISTEN_PID"))
	if err != nil || pid != os.Getpid() {
		return nil, nil
	}
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err != nil || n <= 0 {
		return nil, nil
	}
	names := strings.Split(os.Getenv("LISTEN_FDNAMES"), ":")
	var listeners []net.Listener
	for i := 0; i < n; i++ {
		fd := listenFdsStart + i
		syscall.CloseOnExec(fd)
		name := "LISTEN_FD_" + strconv.Itoa(fd)
		if i < len(names) && names[i] != "" {
			name = names[i]
		}
		f := os.NewFile(uintptr(fd), name)
		l, err := net.FileListener(f)
		// FileListener dups the fd; ours is not needed any more either way.
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("fd %d (%s): %v", fd, name, err)
		}
		listeners = append(listeners, l)
	}
	return listeners, nil
}

// notify sends the assignments as one datagram to $NOTIFY_SOCKET (sd_notify's protocol).
// Failures are reported, not fatal: without a manager the service still serves.
func notify(lines ...string) {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		fmt.Println("NOTIFY_SOCKET not set; not notifying")
		return
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		fmt.Fprintf(os.Stderr, "healthserver: dial %s: %v\n", path, err)
		return
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(strings.Join(lines, "\n"))); err != nil {
		fmt.Fprintf(os.Stderr, "healthserver: send to %s: %v\n", path, err)
	}
}

// health answers /healthz from the file's current content and reports each change once.
type health struct {
	file string
	mu   sync.Mutex
	last string
}

func (h *health) read() string {
	if h.file == "" {
		return "pass"
	}
	data, err := os.ReadFile(h.file)
	if errors.Is(err, os.ErrNotExist) {
		return "pass"
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return strings.TrimSpace(string(data))
}

func (h *health) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	state := h.read()
	h.mu.Lock()
	if state != h.last {
		fmt.Printf("health: %s\n", state)
		h.last = state
	}
	h.mu.Unlock()
	switch state {
	case "pass":
		fmt.Fprint(w, "ok")
	case "fail":
		http.Error(w, "failing", http.StatusServiceUnavailable)
	case "hang":
		// A hung service: the prober must time out and give up; its close ends the context.
		<-r.Context().Done()
	default:
		http.Error(w, "health file says "+strconv.Quote(state), http.StatusInternalServerError)
	}
}

func main() {
	addr := flag.String("addr", "", "listen address without socket activation, e.g. 127.0.0.1:8080")
	healthAddr := flag.String("health-addr", "", "an own listener serving /healthz only (never socket-activated)")
	healthFile := flag.String("health-file", "", "/healthz answers what this file says: pass (or missing), fail, hang; {pid} in it is the pid")
	warmup := flag.Duration("warmup", 0, "sleep this long before serving anything")
	sendNotify := flag.Bool("notify", false, "after the warm-up, send READY=1 and MAINPID= to $NOTIFY_SOCKET")
	drainTimeout := flag.Duration("drain-timeout", 5*time.Second, "http.Server.Shutdown timeout")
	flag.Parse()
	pid := os.Getpid()

	// Registered first: a SIGTERM during the warm-up ends the process cleanly too. SIGABRT is
	// not caught (see the package comment).
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)

	listeners, err := activationListeners()
	if err != nil {
		fmt.Fprintf(os.Stderr, "healthserver: socket activation: %v\n", err)
		os.Exit(1)
	}
	how := "socket activation"
	if len(listeners) == 0 {
		if *addr == "" {
			fmt.Fprintln(os.Stderr, "healthserver: no sockets passed (LISTEN_FDS) and no -addr")
			os.Exit(64)
		}
		l, err := net.Listen("tcp", *addr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "healthserver: listen %s: %v\n", *addr, err)
			os.Exit(1)
		}
		listeners, how = []net.Listener{l}, "-addr"
	}
	var healthListener net.Listener
	if *healthAddr != "" {
		healthListener, err = net.Listen("tcp", *healthAddr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "healthserver: listen %s: %v\n", *healthAddr, err)
			os.Exit(1)
		}
	}

	if *warmup > 0 {
		// Bound but not accepting: connections wait in the backlog meanwhile.
		fmt.Printf("pid %d warming up for %v\n", pid, *warmup)
		select {
		case <-time.After(*warmup):
		case sig := <-sigs:
			fmt.Printf("%s received while warming up, exiting\n", sigName(sig))
			os.Exit(0)
		}
	}

	h := &health{file: strings.ReplaceAll(*healthFile, "{pid}", strconv.Itoa(pid))}
	mux := http.NewServeMux()
	mux.Handle("/healthz", h)
	mux.HandleFunc("/pid", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, pid)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %d\n", pid)
	})
	srv := &http.Server{Handler: mux}
	healthMux := http.NewServeMux()
	healthMux.Handle("/healthz", h)
	healthSrv := &http.Server{Handler: healthMux}

	done := make(chan error, len(listeners)+1)
	for _, l := range listeners {
		fmt.Printf("listening on %s (%s)\n", l.Addr(), how)
		go func(l net.Listener) { done <- srv.Serve(l) }(l)
	}
	if healthListener != nil {
		fmt.Printf("listening on %s (health only)\n", healthListener.Addr())
		go func() { done <- healthSrv.Serve(healthListener) }()
	}
	if *sendNotify {
		notify("READY=1", "MAINPID="+strconv.Itoa(pid))
	}
	fmt.Println("ready")

	select {
	case sig := <-sigs:
		fmt.Printf("%s received, draining\n", sigName(sig))
		ctx, cancel := context.WithTimeout(context.Background(), *drainTimeout)
		defer cancel()
		// Both at once: a hanging /healthz on one must not hold the other's drain.
		errs := make(chan error, 2)
		go func() { errs <- srv.Shutdown(ctx) }()
		go func() { errs <- healthSrv.Shutdown(ctx) }()
		failed := false
		for i := 0; i < 2; i++ {
			if err := <-errs; err != nil {
				fmt.Printf("drain: %v\n", err)
				failed = true
			}
		}
		if failed {
			os.Exit(1)
		}
		fmt.Println("drained")
		os.Exit(0)
	case err := <-done:
		fmt.Fprintf(os.Stderr, "healthserver: serve: %v\n", err)
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
