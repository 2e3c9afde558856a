// Command chain is one link of a chain of services that need each other, for supd's tests and
// benchmark of dependencies (Requires=, After=, BindsTo=, targets).
//
// At start it checks that the service it needs answers (one GET on -needs, 1 s deadline) and
// exits 1 if it does not: a unit started before the unit it is After= is *ready* fails at once,
// whatever the timing. Then it waits -ready-delay (so that a manager that takes "spawned" for
// "ready" starts the next link while this one cannot answer yet), listens on -listen, appends
// "start NAME" to -order-file and only then sends READY=1 (-notify): a unit ordered after it
// always finds its line already written.
//
// On SIGTERM it stops answering at once (closes its listener), waits -stop-delay, and checks
// once more that the service it needs still answers: a unit must stop before the units it is
// After=, so a manager that stops them in parallel leaves this check failing every time
// (the needed one closed its listener -stop-delay ago). It appends "stop NAME" — or
// "stop NAME (needs ADDR: not answering)" when that check failed — and exits 0.
//
// Everything it does is logged to stderr as "chain NAME[PID]: ...". Standard library only;
// the notify datagram is written by hand, like the notifier test program's.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

var name = "chain"

func logf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "chain %s[%d]: "+format+"\n",
		append([]interface{}{name, os.Getpid()}, args...)...)
}

// envOr is the environment variable `key` when set, else `def`: each flag can come from the
// environment (CHAIN_LISTEN, CHAIN_NEEDS, ...), as a unit's Environment= would give it.
func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

func envDuration(key string) time.Duration {
	v := os.Getenv(key)
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		logf("%s=%q: %v", key, v, err)
		os.Exit(64)
	}
	return d
}

// answers tells whether http://addr/ answers 200 within 1 s.
func answers(addr string) bool {
	client := http.Client{Timeout: time.Second}
	resp, err := client.Get("http://" + addr + "/")
	if err != nil {
		logf("GET http://%s/: %v", addr, err)
		return false
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		logf("GET http://%s/: status %d", addr, resp.StatusCode)
		return false
	}
	return true
}

// appendLine appends `line` to `path` in one write(2) (O_APPEND: lines of several processes
// never interleave).
func appendLine(path, line string) {
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0644)
	if err != nil {
		logf("open %s: %v", path, err)
		os.Exit(1)
	}
	defer f.Close()
	if _, err := f.Write([]byte(line + "\n")); err != nil {
		logf("append to %s: %v", path, err)
		os.Exit(1)
	}
}

// notifyReady sends READY=1 as one datagram to $NOTIFY_SOCKET ("@name" is an abstract socket:
// Go's net package turns the '@' into the NUL byte).
func notifyReady() {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		logf("-notify: NOTIFY_SOCKET is not set")
		os.Exit(1)
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		logf("dial %s: %v", path, err)
		os.Exit(1)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("READY=1")); err != nil {
		logf("send READY=1 to %s: %v", path, err)
		os.Exit(1)
	}
	logf("sent READY=1")
}

func main() {
	listen := flag.String("listen", envOr("CHAIN_LISTEN", ""), "address to serve GET / on (127.0.0.1:PORT); $CHAIN_LISTEN")
	needs := flag.String("needs", envOr("CHAIN_NEEDS", ""), "address of the service this one needs; $CHAIN_NEEDS")
	orderFile := flag.String("order-file", envOr("CHAIN_ORDER_FILE", ""), "file to append \"start NAME\"/\"stop NAME\" to; $CHAIN_ORDER_FILE")
	flag.StringVar(&name, "name", envOr("CHAIN_NAME", "chain"), "name in the order file and the log; $CHAIN_NAME")
	notify := flag.Bool("notify", os.Getenv("CHAIN_NOTIFY") != "", "send READY=1 once listening; $CHAIN_NOTIFY")
	readyDelay := flag.Duration("ready-delay", envDuration("CHAIN_READY_DELAY"), "wait this long before listening; $CHAIN_READY_DELAY")
	stopDelay := flag.Duration("stop-delay", envDuration("CHAIN_STOP_DELAY"), "on SIGTERM, wait this long (not answering) before checking -needs again and exiting; $CHAIN_STOP_DELAY")
	flag.Parse()
	if flag.NArg() != 0 {
		logf("unexpected arguments %q", flag.Args())
		os.Exit(64)
	}

	// Installed first: a SIGTERM during the start-up is not lost (it ends the process once
	// the start-up is done, with its stop line).
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)

	logf("starting (listen %q, needs %q, ready-delay %s)", *listen, *needs, *readyDelay)
	if *needs != "" {
		if !answers(*needs) {
			logf("needs %s: not answering", *needs)
			os.Exit(1)
		}
		logf("needs %s: answering", *needs)
	}
	time.Sleep(*readyDelay)

	var srv *http.Server
	if *listen != "" {
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			logf("listen %s: %v", *listen, err)
			os.Exit(1)
		}
		srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s %d\n", name, os.Getpid())
		})}
		go srv.Serve(ln)
		logf("listening on %s", ln.Addr())
	}
	appendLine(*orderFile, "start "+name)
	if *notify {
		notifyReady()
	}

	sig := <-sigs
	logf("%s received", sig)
	if srv != nil {
		srv.Close()
	}
	time.Sleep(*stopDelay)
	line := "stop " + name
	if *needs != "" && !answers(*needs) {
		logf("needs %s: not answering while stopping", *needs)
		line += " (needs " + *needs + ": not answering)"
	}
	appendLine(*orderFile, line)
	logf("stopped")
	os.Exit(0)
}
